/* stream_events: records from a ring buffer or perf event array, as a job.
 *
 * The call opens the map and libbpf's consumer, then hands itself to the
 * event loop (tool__defer) with the consumer's epoll fd. Each wake-up
 * consumes what is there: records are filtered, rate-capped, decoded (BTF
 * struct or hex) into a JSON array kept in the job's own buffer, sized so
 * the reply (text copy + structuredContent) fits response_bytes. The reply
 * is written when the duration, max_events, a full buffer or the call
 * deadline ends it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../kern/btf_cache.h"
#include "../kern/btf_json.h"
#include "../kern/owned.h"
#include "../core/clock.h"
#include "../sys/metrics.h"
#include "evlist.h"
#include "tool.h"

#define PERF_PAGES        64            /* perf buffer pages per CPU (256 KiB) */
#define REPLY_RESERVE     (16 * 1024)   /* reply envelope + the fields around events */
#define MAP_ID_SCAN       65536         /* programs walked looking for the struct's BTF */
#define RING_BATCH        8192          /* ring records per wake-up: the loop keeps time and answers */
#define PERF_RECORD_MAX   65536         /* a perf record's size is a u16: the most one write can need */

struct field {
	bool on;
	uint32_t off, size;       /* bytes in the record */
};

struct stream {
	int fd;
	struct bpf_map_info info;
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	struct btf_view btf;
	char btf_from[32];
	char struct_name[256];
	uint32_t type_id;
	size_t type_size;
	struct field f_pid, f_tid, f_comm;
	uint64_t want_pid, want_tid;
	char want_comm[16];
	int want_cpu;             /* -1: any */
	uint64_t max_events, lost, filtered, drop_rate;
	/* Perf buffers: one that may have been too full for some record
	 * since the last pass may have dropped one, which the kernel reports
	 * only with the next record it writes there; until a record written
	 * after that pass is read, the loss is unknown. */
	size_t n_bufs;
	bool *unreported;          /* per buffer: may have dropped, not settled */
	uint64_t *mark;            /* per buffer: data_head when that was seen */
	uint64_t t0_ns, window_ns, window_count, duration_ms;
	struct evlist ev;
};

static void release(void *p)
{
	struct stream *st = p;
	ring_buffer__free(st->rb);
	perf_buffer__free(st->pb);
	free(st->unreported);
	free(st->mark);
	if (st->fd >= 0)
		close(st->fd);
	btf_cache__close(&st->btf);
	evlist__free(&st->ev);
	free(st);
}

static bool field_ok(const struct stream *st, const struct field *f, const void *data, size_t size)
{
	return f->off + f->size <= size && st && data;
}

static uint64_t read_uint(const void *p, uint32_t size)
{
	uint64_t v = 0;
	memcpy(&v, p, size > 8 ? 8 : size);   /* little-endian hosts */
	return size == 4 ? (uint32_t)v : v;
}

/* Whether a record passes pid/tid/comm/cpu. */
static bool wanted(const struct stream *st, int cpu, const uint8_t *d, size_t size)
{
	if (st->want_cpu >= 0 && cpu != st->want_cpu)
		return false;
	if (st->f_pid.on && (!field_ok(st, &st->f_pid, d, size) || read_uint(d + st->f_pid.off, st->f_pid.size) != st->want_pid))
		return false;
	if (st->f_tid.on && (!field_ok(st, &st->f_tid, d, size) || read_uint(d + st->f_tid.off, st->f_tid.size) != st->want_tid))
		return false;
	if (st->f_comm.on) {
		if (!field_ok(st, &st->f_comm, d, size))
			return false;
		return !strncmp((const char *)d + st->f_comm.off, st->want_comm, st->f_comm.size);
	}
	return true;
}

/* Over events_per_second in the current one-second window? */
static bool over_rate(struct stream *st)
{
	uint64_t now = now_ns();
	if (now - st->window_ns >= 1000000000ull)
		st->window_ns = now, st->window_count = 0;
	return ++st->window_count > limits[LIM_EVENTS_PER_SECOND];
}

static void write_event(struct stream *st, struct jw *w, int cpu, const void *data, size_t size)
{
	jw__obj(w);
	if (cpu >= 0)
		jw__kuint(w, "cpu", (uint64_t)cpu);
	jw__kuint(w, "size", size);
	if (st->type_id && size >= st->type_size) {
		jw__key(w, "data");
		if (btf_json__write(w, st->btf.btf, st->type_id, data, st->type_size))
			w->overflow = true;   /* undecodable: reported as too_big below */
	} else {
		jw__key(w, "hex");
		btf_json__write_hex(w, data, size);
	}
	jw__obj_end(w);
}

/* One record. Once the stream has decided to stop, what is still in the
 * batch being consumed (at most RING_BATCH records, or one pass over each
 * perf buffer) is consumed and counted as dropped, so the report is complete. */
static int on_record(struct stream *st, int cpu, const void *data, size_t size)
{
	if (st->ev.stop) {
		st->ev.drop_full++;   /* consumed, counted, not returned */
		return 0;
	}
	if (!wanted(st, cpu, data, size)) {
		st->filtered++;
		return 0;
	}
	if (over_rate(st)) {
		st->drop_rate++;
		return 0;
	}
	write_event(st, evlist__begin(&st->ev), cpu, data, size);
	evlist__commit(&st->ev);
	return 0;
}

static int rb_cb(void *ctx, void *data, size_t size)
{
	return on_record(ctx, -1, data, size);
}

static void pb_cb(void *ctx, int cpu, void *data, __u32 size)
{
	on_record(ctx, cpu, data, size);
}

static void pb_lost(void *ctx, int cpu, __u64 cnt)
{
	(void)cpu;
	((struct stream *)ctx)->lost += cnt;
}

/* One pass over every perf buffer. The consumer moves data_tail only at
 * the end of a pass, so until then the kernel finds room against the old
 * tail: a record was dropped during or before this pass only if head -
 * old tail came within the largest record of the buffer's size. A record
 * read that was written after such a moment settles the buffer: the
 * kernel writes its loss record before the next record it manages to
 * write, so that loss has been counted. */
static void perf_consume(struct stream *st)
{
	for (size_t i = 0; i < st->n_bufs; i++) {
		void *base;
		size_t size;
		if (perf_buffer__buffer(st->pb, (int)i, &base, &size))
			continue;   /* an offline CPU's slot: no buffer */
		struct perf_event_mmap_page *h = base;
		uint64_t tail0 = __atomic_load_n(&h->data_tail, __ATOMIC_ACQUIRE);
		perf_buffer__consume_buffer(st->pb, i);
		uint64_t tail1 = __atomic_load_n(&h->data_tail, __ATOMIC_ACQUIRE);
		uint64_t head = __atomic_load_n(&h->data_head, __ATOMIC_ACQUIRE);
		uint64_t data = h->data_size ? h->data_size : size;
		if (st->unreported[i] && tail1 > st->mark[i])
			st->unreported[i] = false;
		if (head - tail0 + PERF_RECORD_MAX > data)
			st->unreported[i] = true, st->mark[i] = head;
	}
}

static bool lost_unknown(const struct stream *st)
{
	for (size_t i = 0; i < st->n_bufs; i++)
		if (st->unreported[i])
			return true;
	return false;
}

/* A bounded batch: ring_buffer__consume keeps going for as long as a
 * producer keeps up with it, past duration_ms and the call deadline, with
 * every other request waiting. A perf buffer pass is bounded by its size. */
static void consume(struct stream *st)
{
	if (st->rb)
		ring_buffer__consume_n(st->rb, RING_BATCH);
	else
		perf_consume(st);
}

static int ready(void *p, int fd, struct tool_ctx *ctx)
{
	(void)fd, (void)ctx;
	struct stream *st = p;
	consume(st);
	return st->ev.stop ? 1 : 0;
}

static int tick(void *p, struct tool_ctx *ctx)
{
	struct stream *st = p;
	char msg[96];
	/* progress is elapsed time (it must grow at every notification; the
	 * event count may not) */
	snprintf(msg, sizeof(msg), "%llu events, %llu lost", (unsigned long long)st->ev.count,
		 (unsigned long long)st->lost);
	tool__progress(ctx, (now_ns() - st->t0_ns) / 1000000 + 1, st->duration_ms, msg);
	return 0;
}

static int finish(void *p, struct tool_ctx *ctx, enum job_stop why)
{
	struct stream *st = p;
	if (!st->ev.stop)
		consume(st);   /* what arrived since the last wake-up */
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__key(w, "map");
	jw__obj(w);
	jw__kuint(w, "id", st->info.id);
	jw__kstr(w, "name", st->info.name);
	jw__kstr(w, "type", st->rb ? "ringbuf" : "perf_event_array");
	jw__obj_end(w);
	if (st->type_id) {
		jw__key(w, "struct");
		jw__obj(w);
		jw__kstr(w, "name", st->struct_name);
		jw__kuint(w, "size", st->type_size);
		jw__kstr(w, "btf", st->btf_from);
		jw__obj_end(w);
	}
	jw__key(w, "events");
	evlist__write(&st->ev, w);
	jw__kuint(w, "count", st->ev.count);
	jw__kuint(w, "lost", st->lost);
	jw__kbool(w, "lost_unknown", st->pb && lost_unknown(st));
	metrics__events(st->ev.count, st->lost + st->drop_rate + st->ev.drop_full + st->ev.drop_big);
	jw__key(w, "dropped");
	jw__obj(w);
	jw__kuint(w, "rate", st->drop_rate);
	jw__kuint(w, "full", st->ev.drop_full);
	jw__kuint(w, "too_big", st->ev.drop_big);
	jw__obj_end(w);
	jw__kuint(w, "filtered", st->filtered);
	jw__kstr(w, "stopped_by", st->ev.stop ? st->ev.stop : why == JOB_STOP_DEADLINE ? "deadline" : "duration");
	jw__kuint(w, "duration_ms", (now_ns() - st->t0_ns) / 1000000);
	jw__obj_end(w);
	return 0;
}

static const struct job_ops stream_ops = { .ready = ready, .tick = tick, .finish = finish, .release = release };

static int open_map(struct tool_ctx *ctx, struct stream *st)
{
	int id = tool__arg(ctx, "map_id"), handle = tool__arg(ctx, "handle");
	const char *pin = tool__arg_str(ctx, "pin_path"), *name = tool__arg_str(ctx, "map");
	if ((id >= 0) + !!pin + (handle >= 0) != 1 || (handle >= 0) != !!name)
		return tool__fail(ctx, ERR_MAP_REQUIRED,
				  "name the map with exactly one of map_id, pin_path, or handle together with map");
	if (id >= 0) {
		st->fd = bpf_map_get_fd_by_id((uint32_t)tool__arg_int(ctx, "map_id", 0));
	} else if (pin) {
		st->fd = bpf_obj_get(pin);
	} else {
		struct bpf_object *obj = owned__object(ctx->objs, (uint32_t)tool__arg_int(ctx, "handle", 0));
		struct bpf_map *m = obj ? bpf_object__find_map_by_name(obj, name) : NULL;
		if (!m)
			return tool__fail(ctx, ERR_NO_SUCH_MAP,
					  "no map '%s' in an object loaded under that handle in this session", name);
		st->fd = fcntl(bpf_map__fd(m), F_DUPFD_CLOEXEC, 0);
	}
	if (st->fd < 0)
		return tool__fail_errno(ctx, -errno, "opening the map");
	__u32 len = sizeof(st->info);
	if (bpf_map_get_info_by_fd(st->fd, &st->info, &len))
		return tool__fail(ctx, ERR_NOT_A_MAP, "that pin is not a BPF map");
	if (st->info.type != BPF_MAP_TYPE_RINGBUF && st->info.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return tool__fail(ctx, ERR_NOT_A_STREAM_MAP,
				  "map %u (%s) is a %s, not a ring buffer or perf event array; read it with map_dump",
				  st->info.id, st->info.name, libbpf_bpf_map_type_str(st->info.type) ?: "?");
	return 0;
}

/* Looks name up in view; on success st takes the view. */
static bool take_struct(struct stream *st, struct btf_view *v, const char *from)
{
	int id = v->btf ? btf__find_by_name_kind(v->btf, st->struct_name, BTF_KIND_STRUCT) : -1;
	const char *why;
	long size = id > 0 ? btf__resolve_size(v->btf, (uint32_t)id) : -1;
	if (id <= 0 || size <= 0 || btf_json__check(v->btf, (uint32_t)id, (size_t)size, &why)) {
		btf_cache__close(v);
		return false;
	}
	st->btf = *v, st->type_id = (uint32_t)id, st->type_size = (size_t)size;
	snprintf(st->btf_from, sizeof(st->btf_from), "%s", from);
	return true;
}

/* BTF of a program that uses the map, the first that names the struct. */
static bool struct_from_programs(struct stream *st)
{
	uint32_t id = 0;
	for (unsigned n = 0; n < MAP_ID_SCAN && !bpf_prog_get_next_id(id, &id); n++) {
		int fd = bpf_prog_get_fd_by_id(id);
		__u32 maps[64], len;
		struct bpf_prog_info pi = { .nr_map_ids = 64, .map_ids = (uintptr_t)maps };
		len = sizeof(pi);
		bool uses = false;
		if (fd >= 0 && !bpf_prog_get_info_by_fd(fd, &pi, &len))
			for (unsigned i = 0; i < pi.nr_map_ids && i < 64; i++)
				uses |= maps[i] == st->info.id;
		if (fd >= 0)
			close(fd);
		char from[32];
		struct btf_view v = { 0 };
		snprintf(from, sizeof(from), "program %u", id);
		if (uses && pi.btf_id && !btf_cache__by_id(pi.btf_id, &v) && take_struct(st, &v, from))
			return true;
	}
	return false;
}

static int find_struct(struct tool_ctx *ctx, struct stream *st, const char *name)
{
	struct btf_view v = { 0 };
	snprintf(st->struct_name, sizeof(st->struct_name), "%s", name);
	if (st->info.btf_id && !btf_cache__by_id(st->info.btf_id, &v) && take_struct(st, &v, "map"))
		return 0;
	if (struct_from_programs(st))
		return 0;
	if (!btf_cache__vmlinux(&v) && take_struct(st, &v, "vmlinux"))
		return 0;
	tool__fail(ctx, ERR_NO_SUCH_STRUCT,
		   "no decodable struct '%s' in the map's BTF, the BTF of the programs using it, or vmlinux", name);
	jw__kstr(&ctx->err->ctx, "pointer", "/struct");
	return -1;
}

/* A top-level member of the struct: byte offset and size, no bitfield. */
static int member(struct tool_ctx *ctx, struct stream *st, const char *name, bool text, struct field *f)
{
	if (!st->type_id)
		return tool__fail(ctx, ERR_FILTER_NEEDS_STRUCT,
				  "filtering on %s needs `struct`: the record's layout comes from BTF", name);
	const struct btf_type *t = btf__type_by_id(st->btf.btf, st->type_id);
	const struct btf_member *m = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(st->btf.btf, m->name_off), name))
			continue;
		long size = btf__resolve_size(st->btf.btf, m->type);
		uint32_t bits = btf_member_bit_offset(t, i);
		bool ok = size > 0 && bits % 8 == 0 && !btf_member_bitfield_size(t, i) &&
			  (text ? size <= 256 : (size == 4 || size == 8));
		if (!ok)
			break;
		*f = (struct field){ .on = true, .off = bits / 8, .size = (uint32_t)size };
		return 0;
	}
	tool__fail(ctx, ERR_FILTER_FIELD_MISSING,
		   "struct %s has no %s member %s to filter on", st->struct_name, text ? "char-array" : "4- or 8-byte integer",
		   name);
	jw__key(&ctx->err->ctx, "pointer");
	jw__strf(&ctx->err->ctx, "/%s", name);
	return -1;
}

static int read_filters(struct tool_ctx *ctx, struct stream *st)
{
	const char *comm = tool__arg_str(ctx, "comm");
	st->want_cpu = (int)tool__arg_int(ctx, "cpu", -1);
	if (st->want_cpu >= 0 && st->info.type != BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		return tool__fail(ctx, ERR_CPU_FILTER_NEEDS_PERF,
				  "a ring buffer does not say which CPU wrote a record; cpu filters perf event arrays");
	if (tool__arg(ctx, "pid") >= 0 && member(ctx, st, "pid", false, &st->f_pid))
		return -1;
	if (tool__arg(ctx, "tid") >= 0 && member(ctx, st, "tid", false, &st->f_tid))
		return -1;
	if (comm && member(ctx, st, "comm", true, &st->f_comm))
		return -1;
	st->want_pid = (uint64_t)tool__arg_int(ctx, "pid", 0);
	st->want_tid = (uint64_t)tool__arg_int(ctx, "tid", 0);
	if (comm)
		snprintf(st->want_comm, sizeof(st->want_comm), "%s", comm);
	return 0;
}

static int open_consumer(struct tool_ctx *ctx, struct stream *st)
{
	if (st->info.type == BPF_MAP_TYPE_RINGBUF)
		st->rb = ring_buffer__new(st->fd, rb_cb, st, NULL);
	else
		st->pb = perf_buffer__new(st->fd, PERF_PAGES, pb_cb, pb_lost, st, NULL);
	if (!st->rb && !st->pb)
		return tool__fail_errno(ctx, -errno, "opening the %s consumer", st->rb ? "ring buffer" : "perf buffer");
	if (st->pb) {
		st->n_bufs = perf_buffer__buffer_cnt(st->pb);
		st->unreported = calloc(st->n_bufs ? st->n_bufs : 1, sizeof(bool));
		st->mark = calloc(st->n_bufs ? st->n_bufs : 1, sizeof(uint64_t));
		if (!st->unreported || !st->mark)
			return tool__fail_errno(ctx, -ENOMEM, "perf buffer state");
	}
	/* the reply holds the events twice (structuredContent + its escaped
	 * text copy): the list keeps the sum of both under 2 * cap */
	if (evlist__init(&st->ev, (ctx->env->reply_bytes - REPLY_RESERVE) / 2, st->max_events))
		return tool__fail_errno(ctx, -ENOMEM, "event buffers");
	return 0;
}

static int run_stream_events(struct tool_ctx *ctx)
{
	struct stream *st = calloc(1, sizeof(*st));
	if (!st)
		return tool__fail_errno(ctx, -ENOMEM, "stream state");
	st->fd = -1;
	st->t0_ns = st->window_ns = now_ns();
	st->max_events = (uint64_t)tool__arg_int(ctx, "max_events", 1000);
	const char *sname = tool__arg_str(ctx, "struct");
	int rc = st->max_events > limits[LIM_STREAM_EVENTS]
			 ? tool__fail_limit(ctx, LIM_STREAM_EVENTS, "max_events %llu is over the stream_events cap",
					    (unsigned long long)st->max_events)
			 : tool__duration_ms(ctx, 1000, &st->duration_ms);
	if (!rc)
		rc = open_map(ctx, st);
	if (!rc && sname)
		rc = find_struct(ctx, st, sname);
	if (!rc)
		rc = read_filters(ctx, st);
	if (!rc)
		rc = open_consumer(ctx, st);
	if (rc) {
		release(st);
		return -1;
	}
	int fd = st->rb ? ring_buffer__epoll_fd(st->rb) : perf_buffer__epoll_fd(st->pb);
	return tool__defer(ctx, &stream_ops, st, &fd, 1, st->duration_ms);
}

const struct tool tool_stream_events = {
	.name = "stream_events",
	.schema = SCHEMA_stream_events,
	.run = run_stream_events,
};
