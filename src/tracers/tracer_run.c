/* The built-in tracers' common run (see tracer_run.h). */
#define _GNU_SOURCE   /* qsort_r (musl declares it anyway; glibc only with this) */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/magic.h>

#include "../core/clock.h"
#include "../kern/tracepoint.h"
#include "../sys/metrics.h"
#include "../sys/sysfs.h"
#include "../tools/vlog.h"
#include "abi_names.h"
#include "cgpath.h"
#include "tcp_states.h"
#include "tracer_run.h"

#define REPORT_RESERVE_MIN (16 * 1024)   /* reply envelope + members around the events */
#define RING_BATCH 8192                  /* records per wake-up: the loop keeps time and answers */
#define PEEK_BATCHES 64                  /* RING_BATCHes one background read takes at most */

/* ---- the job ---------------------------------------------------------------- */

static void detach(struct tracer *t)
{
	if (t->sk)
		bpf_object__detach_skeleton(t->sk);
	if (t->detach_extra)
		t->detach_extra(t);
}

static void release(void *p)
{
	struct tracer *t = p;
	detach(t);
	ring_buffer__free(t->rb);
	if (t->sk)
		bpf_object__destroy_skeleton(t->sk);   /* closes programs, maps, links */
	free(t->skel);
	evlist__free(&t->ev);
	if (t->ops->free_priv)
		t->ops->free_priv(t->priv);
	cgpath__free(t->cg);
	free(t);
}

static int on_ring(void *p, void *data, size_t size)
{
	struct tracer *t = p;
	struct jw *w = evlist__begin(&t->ev);
	if (!w)
		return 0;   /* counted as dropped (full) */
	if (t->ops->event(t, w, data, size)) {
		t->skipped++;
		return 0;
	}
	evlist__commit(&t->ev);
	return 0;
}

static int on_notice(void *p, void *data, size_t size)
{
	struct tracer *t = p;
	t->notice(t, data, size);
	return 0;   /* a failed notice is the tracer's to count: the others still come */
}

static int ready(void *p, int fd, struct tool_ctx *ctx)
{
	(void)fd, (void)ctx;
	struct tracer *t = p;
	/* bounded: a producer that keeps up would hold the loop past the
	 * duration, the deadline and every other request */
	ring_buffer__consume_n(t->rb, RING_BATCH);
	/* in the background a full list waits for the next read */
	return t->ev.stop && !t->samples_only && !t->background ? 1 : 0;
}

static int tick(void *p, struct tool_ctx *ctx)
{
	struct tracer *t = p;
	char msg[96];
	if (t->ring)
		snprintf(msg, sizeof(msg), "%s: %llu events", t->name, (unsigned long long)t->ev.count);
	else
		snprintf(msg, sizeof(msg), "%s: aggregating in the kernel", t->name);
	/* progress is elapsed ms: it must grow at every notification */
	tool__progress(ctx, (now_ns() - t->t0_ns) / 1000000 + 1, t->o.duration_ms, msg);
	return 0;
}

/* The events of this window (a background trace's since its last read) and
 * what was dropped meanwhile. */
static void write_events(struct tracer *t, struct jw *w)
{
	jw__key(w, "events");
	evlist__write(&t->ev, w);
	jw__kuint(w, "count", t->ev.count);
	jw__key(w, "dropped");
	jw__obj(w);
	uint64_t kernel = (t->ops->ring_dropped ? t->ops->ring_dropped(t) : 0) - t->kernel_seen;
	metrics__events(t->ev.count, kernel + t->ev.drop_full + t->ev.drop_big);
	jw__kuint(w, "kernel", kernel);
	jw__kuint(w, "full", t->ev.drop_full);
	jw__kuint(w, "too_big", t->ev.drop_big);
	jw__obj_end(w);
}

static int finish(void *p, struct tool_ctx *ctx, enum job_stop why)
{
	struct tracer *t = p;
	uint64_t ran_ms = (now_ns() - t->t0_ns) / 1000000;
	detach(t);   /* the maps stop changing before they are read */
	if (t->rb)
		ring_buffer__consume(t->rb);   /* what arrived since the last wake-up */
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__kstr(w, "tracer", t->name);
	if (t->ring)
		write_events(t, w);
	if (t->ops->report && t->ops->report(t, w, ctx))
		return -1;
	const char *stop = t->samples_only ? NULL : t->ev.stop;
	jw__kstr(w, "stopped_by", stop ? stop : why == JOB_STOP_DEADLINE ? "deadline" : "duration");
	jw__kuint(w, "duration_ms", ran_ms);
	jw__obj_end(w);
	return 0;
}

/* ---- in the background ------------------------------------------------------ */

/* What the ring holds now, bounded: a producer that keeps up cannot hold a
 * read (what is left comes with the next one). */
static void drain_live(struct tracer *t)
{
	for (unsigned i = 0; i < PEEK_BATCHES; i++)
		if (ring_buffer__consume_n(t->rb, RING_BATCH) < RING_BATCH)
			break;
}

/* The next read starts an empty window. */
static void next_window(struct tracer *t)
{
	t->events_before += t->ev.count;
	if (t->ops->ring_dropped)
		t->kernel_seen = t->ops->ring_dropped(t);
	evlist__reset(&t->ev);
}

/* A background read (end: the last): the events since the last read and
 * the report so far, from the maps as they are (end: detached first, as in
 * finish). */
static int peek(void *p, struct tool_ctx *ctx, bool end, enum job_stop why)
{
	struct tracer *t = p;
	struct jw *w = ctx->out;
	uint64_t ran_ms = (now_ns() - t->t0_ns) / 1000000;
	if (end)
		detach(t);
	if (t->rb && end)
		ring_buffer__consume(t->rb);
	else if (t->rb)
		drain_live(t);
	jw__kstr(w, "tracer", t->name);
	if (t->ring)
		write_events(t, w);
	if (t->ops->report && t->ops->report(t, w, ctx))
		return -1;
	if (end)
		jw__kstr(w, "stopped_by", why == JOB_STOP_REQUEST ? "trace_stop" : "duration");
	jw__kuint(w, "duration_ms", ran_ms);
	next_window(t);
	return 0;
}

static uint64_t events(void *p)
{
	struct tracer *t = p;
	return t->events_before + t->ev.count;
}

static const struct job_ops tracer_job = { .ready = ready, .tick = tick, .finish = finish, .release = release,
					   .peek = peek, .events = events };

/* ---- starting ---------------------------------------------------------------- */

static int read_opts(struct tool_ctx *ctx, struct tracer *t)
{
	struct tracer_opts *o = &t->o;
	const char *comm = tool__arg_str(ctx, "comm"), *cg = tool__arg_str(ctx, "cgroup");
	o->pid = (uint32_t)tool__arg_int(ctx, "pid", 0);
	o->tid = (uint32_t)tool__arg_int(ctx, "tid", 0);
	int64_t dflt = t->ops->max_events_default ? (int64_t)t->ops->max_events_default : 1000;
	o->max_events = (uint64_t)tool__arg_int(ctx, "max_events", dflt);
	o->limit = (uint64_t)tool__arg_int(ctx, "limit", 20);
	if (comm)
		strncpy(o->comm, comm, sizeof(o->comm) - 1);   /* the schema caps it at 15 */
	if (tool__duration_ms(ctx, TRACER_DURATION_DEFAULT_MS, &o->duration_ms) < 0)
		return -1;
	if (o->max_events > limits[LIM_STREAM_EVENTS])
		return tool__fail_limit(ctx, LIM_STREAM_EVENTS, "max_events %llu is over the stream_events cap",
					(unsigned long long)o->max_events);
	if (o->limit > limits[LIM_LIST_ITEMS])
		return tool__fail_limit(ctx, LIM_LIST_ITEMS, "limit %llu is over the list_items cap",
					(unsigned long long)o->limit);
	return cg ? tracer__cgroup_id(ctx, cg, &o->cgroup_id) : 0;
}

struct tracer *tracer__begin(struct tool_ctx *ctx, const char *name, const struct tracer_ops *ops)
{
	char why[64];
	snprintf(why, sizeof(why), "the %s tracer", name);
	if (tool__need_cap(ctx, CAP_BPF, why) || tool__need_cap(ctx, CAP_PERFMON, why))
		return NULL;
	struct tracer *t = calloc(1, sizeof(*t));
	if (!t) {
		tool__fail_errno(ctx, -ENOMEM, "tracer state");
		return NULL;
	}
	t->name = name, t->ops = ops;
	if (read_opts(ctx, t)) {
		free(t);
		return NULL;
	}
	t->heap_mark = tool__heap_mark();
	return t;
}

int tracer__open_failed(struct tool_ctx *ctx, struct tracer *t)
{
	int err = -errno;
	uint64_t mark = t->heap_mark;
	release(t);
	if (tool__fail_heap(ctx, mark, "opening the embedded tracer"))
		return -1;
	return tool__fail_errno(ctx, err ? err : -ENOMEM, "opening the embedded tracer");
}

int tracer__abandon(struct tracer *t)
{
	release(t);
	return -1;
}

/* Classic tracepoints' ids are read from tracefs (tracepoint__attach). */
static int check_tracefs(struct tool_ctx *ctx, struct tracer *t)
{
	char dir[LIMIT_PATH_BYTES];
	int rc = t->needs_tracefs ? sysfs__tracefs_dir(dir, sizeof(dir)) : 0;
	if (!rc)
		return 0;
	if (rc == -EACCES)
		return tool__tracefs_denied(ctx, t->name);
	tool__fail(ctx, ERR_TRACEFS_MISSING,
		   "%s attaches classic tracepoints, which need tracefs at /sys/kernel/tracing "
		   "(mount -t tracefs tracefs /sys/kernel/tracing) or under debugfs at /sys/kernel/debug",
		   t->name);
	jw__kstr(&ctx->err->ctx, "tracer", t->name);
	return -1;
}

/* A tracer is CO-RE: one object for every kernel. A kernel whose verifier
 * still refuses a program gets the verifier's own words, not a bare errno
 * (EACCES would read as a missing capability). libbpf retries a failed
 * load with a log into the program's buffer; programs that load leave
 * theirs empty, so the one with text is the one refused. */
static int load(struct tool_ctx *ctx, struct tracer *t)
{
	size_t cap = limits[LIM_VERIFIER_LOG_BYTES];
	struct bpf_program *p;
	bpf_object__for_each_program(p, *t->sk->obj) {
		char *log = arena__alloc(ctx->scratch, cap);
		if (!log)
			break;   /* no buffer: the error is the bare errno */
		log[0] = 0;
		bpf_program__set_log_buf(p, log, cap);
	}
	uint64_t mark = tool__heap_mark();
	int err = bpf_object__load_skeleton(t->sk);
	if (!err)
		return 0;
	char what[64];
	snprintf(what, sizeof(what), "loading the %s tracer", t->name);
	if (tool__fail_heap(ctx, mark, what))
		return -1;
	/* libbpf says only ESRCH when a CO-RE tracer finds no kernel BTF */
	char owner[64];
	snprintf(owner, sizeof(owner), "the %s tracer", t->name);
	if (tool__need_btf(ctx, owner))
		return -1;
	bpf_object__for_each_program(p, *t->sk->obj) {
		size_t n = 0;
		const char *log = bpf_program__log_buf(p, &n);
		if (log && n && log[0])
			return vlog__reject(ctx, owner, bpf_program__name(p), log, err);
	}
	return tool__fail_errno(ctx, err, "loading the %s tracer into the kernel", t->name);
}

static int load_attach(struct tool_ctx *ctx, struct tracer *t)
{
	int err = load(ctx, t);
	if (err)
		return err;
	if (check_tracefs(ctx, t))
		return -1;
	uint64_t mark = tool__heap_mark();
	err = tracepoint__attach_skeleton(t->sk);
	if (!err)
		err = bpf_object__attach_skeleton(t->sk);
	if (err && tool__fail_heap(ctx, mark, "attaching the tracer"))
		return -1;
	if (err)
		return tool__fail_errno(ctx, err, "attaching the %s tracer", t->name);
	return t->attach_extra ? t->attach_extra(t, ctx) : 0;
}

static int open_ring(struct tool_ctx *ctx, struct tracer *t)
{
	size_t resp = ctx->env->reply_bytes, reserve = resp / 4;
	if (reserve < REPORT_RESERVE_MIN)
		reserve = REPORT_RESERVE_MIN;
	t->rb = ring_buffer__new(bpf_map__fd(t->ring), on_ring, t, NULL);
	if (!t->rb)
		return tool__fail_errno(ctx, -errno, "opening the %s ring buffer", t->name);
	/* the reply holds the events twice (text + structuredContent) */
	if (evlist__init(&t->ev, (resp - reserve) / 2, t->o.max_events))
		return tool__fail_errno(ctx, -ENOMEM, "event buffers");
	return 0;
}

/* On the event ring's epoll set when there is one: the job watches one fd. */
static int open_notices(struct tool_ctx *ctx, struct tracer *t)
{
	int fd = bpf_map__fd(t->notices);
	int err = t->rb ? ring_buffer__add(t->rb, fd, on_notice, t) : 0;
	if (!t->rb && !(t->rb = ring_buffer__new(fd, on_notice, t, NULL)))
		err = -errno;
	return err ? tool__fail_errno(ctx, err, "opening the %s notice ring buffer", t->name) : 0;
}

int tracer__start(struct tool_ctx *ctx, struct tracer *t, void *skel, struct bpf_object_skeleton *sk,
		  struct bpf_map *ring)
{
	t->skel = skel, t->sk = sk, t->ring = ring;
	t->background = tool__in_background(ctx);
	int err = t->load_attach ? t->load_attach(t, ctx) : load_attach(ctx, t);
	if (err || (t->ring && open_ring(ctx, t)) || (t->notices && open_notices(ctx, t))) {
		release(t);
		return -1;
	}
	t->t0_ns = now_ns();
	int fd = t->rb ? ring_buffer__epoll_fd(t->rb) : -1;
	return tool__defer(ctx, &tracer_job, t, &fd, t->rb ? 1 : 0, t->o.duration_ms);
}

/* ---- output helpers ------------------------------------------------------------ */

void tracer__kcomm(struct jw *w, const char *key, const char *comm)
{
	jw__key(w, key);
	jw__strn(w, comm, strnlen(comm, TRACER_COMM_BYTES));
}

const char *tracer__syscall_name(long nr)
{
	size_t n = sizeof(abi_syscall_names) / sizeof(abi_syscall_names[0]);
	return nr >= 0 && (size_t)nr < n ? abi_syscall_names[nr] : NULL;
}

const char *tracer__errno_name(long err)
{
	/* Kernel-internal codes (include/linux/errno.h, not UAPI): a syscall
	 * interrupted by a signal exits with one of these, and the exit
	 * tracepoint sees it before the restart or the conversion to EINTR. */
	static const char *const internal[] = { "ERESTARTSYS", "ERESTARTNOINTR", "ERESTARTNOHAND",
						"ENOIOCTLCMD", "ERESTART_RESTARTBLOCK" };
	size_t n = sizeof(abi_errno_names) / sizeof(abi_errno_names[0]);
	if (err >= 512 && err < 512 + (long)(sizeof(internal) / sizeof(internal[0])))
		return internal[err - 512];
	return err > 0 && (size_t)err < n ? abi_errno_names[err] : NULL;
}

const char *tracer__eth_protocol(unsigned value)
{
	for (size_t i = 0; i < sizeof(abi_eth_protocols) / sizeof(abi_eth_protocols[0]); i++)
		if (abi_eth_protocols[i].value == value)
			return abi_eth_protocols[i].name;
	return NULL;
}

void tracer__ksyscall(struct jw *w, const char *key, long nr)
{
	const char *s = tracer__syscall_name(nr);
	jw__key(w, key);
	if (s)
		jw__str(w, s);
	else
		jw__strf(w, "syscall_%ld", nr);
}

void tracer__kerrno(struct jw *w, int err)
{
	const char *name = tracer__errno_name(err);
	jw__key(w, "errno");
	if (name)
		jw__str(w, name);
	else
		jw__strf(w, "E%d", err);
	jw__kint(w, "errno_value", err);
}

void tracer__ktcp_state(struct jw *w, const char *key, unsigned state)
{
	static const char *const names[] = {
		[TCP_STATE_ESTABLISHED] = "ESTABLISHED", [TCP_STATE_SYN_SENT] = "SYN_SENT",
		[TCP_STATE_SYN_RECV] = "SYN_RECV",       [TCP_STATE_FIN_WAIT1] = "FIN_WAIT1",
		[TCP_STATE_FIN_WAIT2] = "FIN_WAIT2",     [TCP_STATE_TIME_WAIT] = "TIME_WAIT",
		[TCP_STATE_CLOSE] = "CLOSE",             [TCP_STATE_CLOSE_WAIT] = "CLOSE_WAIT",
		[TCP_STATE_LAST_ACK] = "LAST_ACK",       [TCP_STATE_LISTEN] = "LISTEN",
		[TCP_STATE_CLOSING] = "CLOSING",         [TCP_STATE_NEW_SYN_RECV] = "NEW_SYN_RECV",
		[TCP_STATE_BOUND_INACTIVE] = "BOUND_INACTIVE",
	};
	jw__key(w, key);
	if (state < sizeof(names) / sizeof(names[0]) && names[state])
		jw__str(w, names[state]);
	else
		jw__strf(w, "STATE_%u", state);
}

void tracer__kaddr(struct jw *w, const char *key, int af, const uint8_t *addr)
{
	char s[INET6_ADDRSTRLEN] = "?";
	inet_ntop(af, addr, s, sizeof(s));
	jw__kstr(w, key, s);
}

void tracer__kopen_flags(struct jw *w, const char *key, uint64_t flags)
{
	static const char *const modes[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	jw__key(w, key);
	jw__arr(w);
	jw__str(w, modes[flags & 3]);
	flags &= ~3ull;
	for (size_t i = 0; i < sizeof(abi_open_flags) / sizeof(abi_open_flags[0]); i++)
		if (flags & abi_open_flags[i].bit) {
			jw__str(w, abi_open_flags[i].name);
			flags &= ~(uint64_t)abi_open_flags[i].bit;
		}
	if (flags)
		jw__strf(w, "0x%llx", (unsigned long long)flags);
	jw__arr_end(w);
}

/* The upper edge of the bucket holding the q-th quantile (q in 1/1000),
 * never above the largest value seen. */
static uint64_t quantile(const __u64 *slots, uint64_t count, unsigned q, uint64_t max_ns)
{
	uint64_t rank = (count * q + 999) / 1000, seen = 0;
	for (unsigned k = 0; k < TRACER_HIST_SLOTS; k++) {
		seen += slots[k];
		if (seen >= rank && seen) {
			uint64_t edge = 2ull << k;
			return max_ns && edge > max_ns ? max_ns : edge;
		}
	}
	return max_ns;
}

void tracer__hist(struct jw *w, const __u64 *slots, uint64_t sum_ns, uint64_t max_ns)
{
	uint64_t count = 0;
	for (unsigned k = 0; k < TRACER_HIST_SLOTS; k++)
		count += slots[k];
	jw__kuint(w, "count", count);
	jw__kuint(w, "avg_ns", count ? sum_ns / count : 0);
	jw__kuint(w, "max_ns", max_ns);
	jw__kuint(w, "p50_ns", count ? quantile(slots, count, 500, max_ns) : 0);
	jw__kuint(w, "p90_ns", count ? quantile(slots, count, 900, max_ns) : 0);
	jw__kuint(w, "p99_ns", count ? quantile(slots, count, 990, max_ns) : 0);
	jw__key(w, "buckets");
	jw__arr(w);
	for (unsigned k = 0; k < TRACER_HIST_SLOTS; k++) {
		if (!slots[k])
			continue;
		jw__obj(w);
		jw__kuint(w, "from_ns", k ? 1ull << k : 0);
		jw__kuint(w, "to_ns", 2ull << k);
		jw__kuint(w, "count", slots[k]);
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

/* 0 and the inode when `full` is a cgroup v2 directory, 1 when it is
 * something else, -errno when it cannot be looked at. */
static int cgroup_dir(const char *full, uint64_t *ino)
{
	struct statfs fs;
	struct stat st;
	if (stat(full, &st) || statfs(full, &fs))
		return -errno;
	if (fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode))
		return 1;
	*ino = st.st_ino;
	return 0;
}

int tracer__cgroup_id(struct tool_ctx *ctx, const char *path, uint64_t *id)
{
	char root[256], full[4352], under[4352];
	bool mounted = !sysfs__mount_point("cgroup2", root, sizeof(root));
	if (path[0] != '/' && !mounted)
		return tool__fail(ctx, ERR_NO_CGROUP2,
				  "no cgroup v2 hierarchy is mounted; give `cgroup` as an absolute path");
	snprintf(full, sizeof(full), "%s%s%s", path[0] == '/' ? "" : root, path[0] == '/' ? "" : "/", path);
	int r = cgroup_dir(full, id);
	/* "/a/b" as /proc/<pid>/cgroup and the events write it: under the mount */
	under[0] = 0;
	if (r && path[0] == '/' && mounted) {
		snprintf(under, sizeof(under), "%s%s", root, path);
		if (!cgroup_dir(under, id))
			return 0;
	}
	if (!r)
		return 0;
	if (r == -ENOENT || r == -ENOTDIR)
		tool__fail(ctx, ERR_NO_SUCH_CGROUP, "no cgroup directory %s%s%s%s", full, under[0] ? " (nor " : "",
			   under, under[0] ? " under the cgroup2 mount)" : "");
	else if (r < 0)
		tool__fail_errno(ctx, r, "cgroup %s", full);
	else
		tool__fail(ctx, ERR_NOT_A_CGROUP,
			   "%s is not a cgroup v2 directory (filters match cgroup v2 ids only)", full);
	jw__kstr(&ctx->err->ctx, "pointer", "/cgroup");
	return -1;
}

void tracer__kcgroup(struct tracer *t, struct jw *w, uint64_t id, uint32_t pid)
{
	if (!id)
		return;
	jw__kuint(w, "cgroup_id", id);
	if (!t->cg && !(t->cg = cgpath__new())) {
		jw__kstr(w, "cgroup_unresolved", cgpath__miss_name(CGPATH_NO_MEMORY));
		return;
	}
	struct cgpath_info cg;
	cgpath__resolve(t->cg, id, pid, &cg);
	if (!cg.path) {
		jw__kstr(w, "cgroup_unresolved", cgpath__miss_name(cg.miss));
		return;
	}
	jw__kstr(w, "cgroup", cg.path);
	if (cg.container_id)
		jw__kstr(w, "container_id", cg.container_id);
	if (cg.pod_uid)
		jw__kstr(w, "pod_uid", cg.pod_uid);
}

void *tracer__read_map(struct bpf_map *map, size_t *n, size_t *row_size, size_t *val_stride)
{
	size_t ks = bpf_map__key_size(map), vs = bpf_map__value_size(map), max = bpf_map__max_entries(map);
	enum bpf_map_type type = bpf_map__type(map);
	bool percpu = type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY;
	int cpus = percpu ? libbpf_num_possible_cpus() : 1, fd = bpf_map__fd(map);
	*val_stride = percpu ? (vs + 7) & ~(size_t)7 : vs;
	*row_size = TRACER_ROW_VAL(ks) + *val_stride * (size_t)(cpus > 0 ? cpus : 1);
	*row_size = (*row_size + 7) & ~(size_t)7;
	*n = 0;
	char *rows = malloc(*row_size * (max ? max : 1));
	if (!rows)
		return NULL;
	const void *prev = NULL;
	/* bounded: a map being written could otherwise keep the walk going */
	for (size_t i = 0; i < 2 * max + 1 && *n < max; i++) {
		char *row = rows + *n * *row_size;
		if (bpf_map_get_next_key(fd, prev, row))
			break;
		prev = row;   /* the kernel copies prev in before writing the next key */
		if (!bpf_map_lookup_elem(fd, row, row + TRACER_ROW_VAL(ks)))
			(*n)++;   /* else deleted meanwhile: step past it */
	}
	return rows;
}

/* arg: the byte offset of the key (reports of several sessions sort at
 * once on different workers, so it travels with the call) */
static int by_u64_desc(const void *a, const void *b, void *arg)
{
	size_t off = *(const size_t *)arg;
	uint64_t x, y;
	memcpy(&x, (const char *)a + off, sizeof(x));
	memcpy(&y, (const char *)b + off, sizeof(y));
	return x < y ? 1 : x > y ? -1 : 0;
}

void tracer__sort_rows(void *rows, size_t n, size_t row_size, size_t off)
{
	if (rows && n > 1)
		qsort_r(rows, n, row_size, by_u64_desc, &off);
}
