/* Test fixture: run one built-in tracer from its embedded skeleton and
 * print what it saw as JSON.
 *
 *   tracer_smoke NAME [--duration-ms N] [--tgid N] [--tid N] [--comm S]
 *                [--cgroup-id N] [--ppid N] [--uid N] [--port N] [--failed-only]
 *                [--freq HZ] [--include-idle] [--per-process] [--dev MAJ:MIN]
 *                [--per-disk] [--max-events N] [--min-block-us N]
 *
 * Opens the skeleton, writes the filters into .rodata, loads and attaches,
 * prints {"ready":true} and runs until stdin closes or the duration ends,
 * then detaches, drains the ring buffer, reads the maps and prints one JSON
 * object. Raw values only (addresses, syscall numbers, dev_t): the tests
 * decode them against independent sources (/proc/kallsyms, unistd_64.h,
 * /sys/block). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "block_io_latency.h"
#include "offcpu_profile.h"
#include "profile_cpu.h"
#include "runq_latency.h"
#include "syscall_stats.h"
#include "trace_errors.h"
#include "trace_exec.h"
#include "trace_open.h"
#include "trace_tcp.h"

#include "block_io_latency.skel.h"
#include "offcpu_profile.skel.h"
#include "profile_cpu.skel.h"
#include "runq_latency.skel.h"
#include "syscall_stats.skel.h"
#include "trace_errors.skel.h"
#include "trace_exec.skel.h"
#include "trace_open.skel.h"
#include "trace_tcp.skel.h"

#define EVENTS_MAX_DEFAULT 4096
#define CPUS_MAX 1024
#define POLL_SLICE_MS 100

struct opts {
	long duration_ms, tgid, tid, cgroup_id, ppid, uid, port, freq, max_events, min_block_us;
	unsigned dev;
	const char *comm;
	bool failed_only, include_idle, per_process, per_disk;
};

/* What one tracer run holds; a union would save nothing worth the casts. */
struct run {
	struct opts o;
	struct trace_errors_bpf *errors;
	struct trace_exec_bpf *exec;
	struct trace_open_bpf *open;
	struct trace_tcp_bpf *tcp;
	struct syscall_stats_bpf *stats;
	struct profile_cpu_bpf *profile;
	struct runq_latency_bpf *runq;
	struct block_io_latency_bpf *bio;
	struct offcpu_profile_bpf *offcpu;
	struct bpf_link *perf_links[CPUS_MAX];
	int perf_fds[CPUS_MAX], ncpus;
	struct ring_buffer *rb;
	FILE *ev;        /* event objects, joined by commas, printed at the end */
	char *ev_buf;
	size_t ev_len;
	long events, events_not_printed;
};

/* ---- JSON output --------------------------------------------------------- */

/* A JSON string from at most n bytes (stops at NUL); every byte outside
 * printable ASCII is escaped, so the output is valid whatever the kernel sent. */
static void json_str(FILE *f, const char *s, size_t n)
{
	fputc('"', f);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_slots(FILE *f, const __u64 *slots)
{
	fputc('[', f);
	for (int i = 0; i < TRACER_HIST_SLOTS; i++)
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)slots[i]);
	fputc(']', f);
}

/* Starts one event object, or returns NULL past --max-events (counted). */
static FILE *event_begin(struct run *r)
{
	if (r->events >= r->o.max_events) {
		r->events_not_printed++;
		return NULL;
	}
	if (r->events++)
		fputc(',', r->ev);
	return r->ev;
}

/* ---- ring buffer records --------------------------------------------------- */

static int on_error_sample(void *ctx, void *data, size_t size)
{
	const struct trace_errors_sample *s = data;
	FILE *f = event_begin(ctx);
	if (!f || size < sizeof(*s))
		return 0;
	fprintf(f, "{\"ts_ns\":%llu,\"tgid\":%u,\"tid\":%u,\"nr\":%d,\"errno\":%d,\"comm\":",
		(unsigned long long)s->ts_ns, s->tgid, s->tid, s->nr, s->err);
	json_str(f, s->comm, sizeof(s->comm));
	fputc('}', f);
	return 0;
}

static void exec_args(FILE *f, const struct trace_exec_exec *e)
{
	fputs("\"args\":[", f);
	for (__u32 at = 0, n = 0; at < e->args_bytes; n++) {
		size_t len = strnlen(e->args + at, e->args_bytes - at);
		fprintf(f, "%s", n ? "," : "");
		json_str(f, e->args + at, len);
		at += len + 1;
	}
	fputc(']', f);
}

static int on_exec_event(void *ctx, void *data, size_t size)
{
	const struct trace_exec_exec *e = data;
	const struct trace_exec_exit *x = data;
	FILE *f = event_begin(ctx);
	if (!f)
		return 0;
	if (x->kind == TRACE_EXEC_KIND_EXIT && size >= sizeof(*x)) {
		fprintf(f, "{\"kind\":\"exit\",\"pid\":%u,\"ppid\":%u,\"uid\":%u,\"ts_ns\":%llu,"
			"\"runtime_ns\":%llu,\"exit_code\":%d,\"comm\":", x->pid, x->ppid, x->uid,
			(unsigned long long)x->ts_ns, (unsigned long long)x->runtime_ns, x->exit_code);
		json_str(f, x->comm, sizeof(x->comm));
		fputc('}', f);
		return 0;
	}
	if (size < sizeof(*e)) {
		fputs("{\"kind\":\"short\"}", f);
		return 0;
	}
	fprintf(f, "{\"kind\":\"exec\",\"pid\":%u,\"ppid\":%u,\"uid\":%u,\"ts_ns\":%llu,\"argc\":%u,"
		"\"args_bytes\":%u,\"args_truncated\":%s,\"args_unreadable\":%s,\"comm\":", e->pid,
		e->ppid, e->uid, (unsigned long long)e->ts_ns, e->argc, e->args_bytes,
		e->args_truncated ? "true" : "false", e->args_unreadable ? "true" : "false");
	json_str(f, e->comm, sizeof(e->comm));
	fputs(",\"filename\":", f);
	json_str(f, e->filename, sizeof(e->filename));
	fputc(',', f);
	exec_args(f, e);
	fputc('}', f);
	return 0;
}

static int on_open_event(void *ctx, void *data, size_t size)
{
	static const char *const sys[] = { "?", "open", "openat", "openat2" };
	const struct trace_open_event *e = data;
	FILE *f = event_begin(ctx);
	if (!f || size < sizeof(*e))
		return 0;
	fprintf(f, "{\"ts_ns\":%llu,\"latency_ns\":%llu,\"tgid\":%u,\"tid\":%u,\"syscall\":\"%s\","
		"\"dfd\":%d,\"flags\":%llu,\"mode\":%llu,\"ret\":%d,\"path_truncated\":%s,"
		"\"path_unreadable\":%s,\"comm\":", (unsigned long long)e->ts_ns,
		(unsigned long long)e->latency_ns, e->tgid, e->tid, sys[e->syscall <= 3 ? e->syscall : 0],
		e->dfd, (unsigned long long)e->flags, (unsigned long long)e->mode, e->ret,
		e->path_truncated ? "true" : "false", e->path_unreadable ? "true" : "false");
	json_str(f, e->comm, sizeof(e->comm));
	fputs(",\"path\":", f);
	json_str(f, e->path, sizeof(e->path));
	fputc('}', f);
	return 0;
}

static int on_tcp_event(void *ctx, void *data, size_t size)
{
	static const char *const kinds[] = { "state", "connect", "accept" };
	const struct trace_tcp_event *e = data;
	char sa[INET6_ADDRSTRLEN] = "?", da[INET6_ADDRSTRLEN] = "?";
	FILE *f = event_begin(ctx);
	if (!f || size < sizeof(*e))
		return 0;
	int af = e->family == 2 ? AF_INET : AF_INET6;
	inet_ntop(af, e->saddr, sa, sizeof(sa));
	inet_ntop(af, e->daddr, da, sizeof(da));
	fprintf(f, "{\"ts_ns\":%llu,\"skaddr\":\"0x%llx\",\"kind\":\"%s\",\"pid\":%u,\"tid\":%u,"
		"\"oldstate\":%u,\"newstate\":%u,\"family\":%u,\"saddr\":\"%s\",\"sport\":%u,"
		"\"daddr\":\"%s\",\"dport\":%u,\"comm\":", (unsigned long long)e->ts_ns,
		(unsigned long long)e->skaddr, kinds[e->kind <= 2 ? e->kind : 0], e->pid, e->tid,
		e->oldstate, e->newstate, e->family, sa, e->sport, da, e->dport);
	json_str(f, e->comm, sizeof(e->comm));
	fputc('}', f);
	return 0;
}

/* ---- filters and setup ---------------------------------------------------- */

#define SET_FILTERS(rodata, o) do {                                              \
	(rodata)->targ_tgid = (o)->tgid;                                        \
	(rodata)->targ_tid = (o)->tid;                                          \
	(rodata)->targ_cgroup_id = (o)->cgroup_id;                              \
	if ((o)->comm)                                                          \
		strncpy((rodata)->targ_comm, (o)->comm, sizeof((rodata)->targ_comm) - 1); \
} while (0)

/* open -> set .rodata -> load -> attach, for any skeleton type. */
#define OPEN_LOAD_ATTACH(r, field, type, setup) ({                              \
	int err_ = -ENOMEM;                                                     \
	(r)->field = type##__open();                                            \
	if ((r)->field) {                                                       \
		setup;                                                          \
		err_ = type##__load((r)->field);                                \
		if (!err_)                                                      \
			err_ = type##__attach((r)->field);                      \
	}                                                                       \
	err_;                                                                   \
})

static int ring_setup(struct run *r, struct bpf_map *map, ring_buffer_sample_fn fn)
{
	r->rb = ring_buffer__new(bpf_map__fd(map), fn, r, NULL);
	return r->rb ? 0 : -errno;
}

static int profile_attach(struct run *r)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = r->o.freq,
	};
	int cpus = libbpf_num_possible_cpus();
	r->ncpus = cpus < CPUS_MAX ? cpus : CPUS_MAX;
	for (int cpu = 0; cpu < r->ncpus; cpu++) {
		r->perf_fds[cpu] = syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (r->perf_fds[cpu] < 0) {
			if (errno == ENODEV)   /* possible but offline */
				continue;
			return -errno;
		}
		r->perf_links[cpu] = bpf_program__attach_perf_event(r->profile->progs.profile_cpu_sample,
								    r->perf_fds[cpu]);
		if (!r->perf_links[cpu])
			return -errno;
	}
	return 0;
}

static int tracer_start(struct run *r, const char *name)
{
	const struct opts *o = &r->o;
	if (!strcmp(name, "trace_errors")) {
		int err = OPEN_LOAD_ATTACH(r, errors, trace_errors_bpf, SET_FILTERS(r->errors->rodata, o));
		return err ? err : ring_setup(r, r->errors->maps.samples, on_error_sample);
	}
	if (!strcmp(name, "trace_exec")) {
		int err = OPEN_LOAD_ATTACH(r, exec, trace_exec_bpf, ({
			SET_FILTERS(r->exec->rodata, o);
			r->exec->rodata->targ_ppid = o->ppid;
			r->exec->rodata->targ_uid = o->uid; }));
		return err ? err : ring_setup(r, r->exec->maps.events, on_exec_event);
	}
	if (!strcmp(name, "trace_open")) {
		int err = OPEN_LOAD_ATTACH(r, open, trace_open_bpf, ({
			SET_FILTERS(r->open->rodata, o);
			r->open->rodata->targ_failed_only = o->failed_only; }));
		return err ? err : ring_setup(r, r->open->maps.events, on_open_event);
	}
	if (!strcmp(name, "trace_tcp")) {
		int err = OPEN_LOAD_ATTACH(r, tcp, trace_tcp_bpf, ({
			SET_FILTERS(r->tcp->rodata, o);
			r->tcp->rodata->targ_port = o->port; }));
		return err ? err : ring_setup(r, r->tcp->maps.events, on_tcp_event);
	}
	if (!strcmp(name, "syscall_stats"))
		return OPEN_LOAD_ATTACH(r, stats, syscall_stats_bpf, SET_FILTERS(r->stats->rodata, o));
	if (!strcmp(name, "profile_cpu")) {
		r->profile = profile_cpu_bpf__open();
		if (!r->profile)
			return -errno;
		SET_FILTERS(r->profile->rodata, o);
		r->profile->rodata->targ_include_idle = o->include_idle;
		int err = profile_cpu_bpf__load(r->profile);
		return err ? err : profile_attach(r);
	}
	if (!strcmp(name, "runq_latency"))
		return OPEN_LOAD_ATTACH(r, runq, runq_latency_bpf, ({
			SET_FILTERS(r->runq->rodata, o);
			r->runq->rodata->targ_per_process = o->per_process; }));
	if (!strcmp(name, "offcpu_profile"))
		return OPEN_LOAD_ATTACH(r, offcpu, offcpu_profile_bpf, ({
			SET_FILTERS(r->offcpu->rodata, o);
			r->offcpu->rodata->targ_min_block_ns = (__u64)o->min_block_us * 1000; }));
	if (!strcmp(name, "block_io_latency"))
		return OPEN_LOAD_ATTACH(r, bio, block_io_latency_bpf, ({
			r->bio->rodata->targ_dev = o->dev;
			r->bio->rodata->targ_per_disk = o->per_disk; }));
	return -ENOENT;
}

/* Links go first so that the maps stop changing while they are read. */
static void tracer_detach(struct run *r)
{
	if (r->errors)
		trace_errors_bpf__detach(r->errors);
	if (r->exec)
		trace_exec_bpf__detach(r->exec);
	if (r->open)
		trace_open_bpf__detach(r->open);
	if (r->tcp)
		trace_tcp_bpf__detach(r->tcp);
	if (r->stats)
		syscall_stats_bpf__detach(r->stats);
	if (r->runq)
		runq_latency_bpf__detach(r->runq);
	if (r->bio)
		block_io_latency_bpf__detach(r->bio);
	if (r->offcpu)
		offcpu_profile_bpf__detach(r->offcpu);
	for (int cpu = 0; cpu < r->ncpus; cpu++) {
		bpf_link__destroy(r->perf_links[cpu]);
		r->perf_links[cpu] = NULL;
		if (r->perf_fds[cpu] >= 0)
			close(r->perf_fds[cpu]);
		r->perf_fds[cpu] = -1;
	}
}

static void tracer_destroy(struct run *r)
{
	ring_buffer__free(r->rb);
	trace_errors_bpf__destroy(r->errors);
	trace_exec_bpf__destroy(r->exec);
	trace_open_bpf__destroy(r->open);
	trace_tcp_bpf__destroy(r->tcp);
	syscall_stats_bpf__destroy(r->stats);
	profile_cpu_bpf__destroy(r->profile);
	runq_latency_bpf__destroy(r->runq);
	block_io_latency_bpf__destroy(r->bio);
	offcpu_profile_bpf__destroy(r->offcpu);
}

/* ---- map dumps -------------------------------------------------------------- */

/* Calls fn for each key of a hash map, at most max_entries times. */
static void each_key(struct bpf_map *map, void *key, void *next,
		     void (*fn)(struct run *, const void *key, int *n), struct run *r)
{
	int fd = bpf_map__fd(map), n = 0;
	size_t ks = bpf_map__key_size(map);
	__u32 bound = bpf_map__max_entries(map);
	void *prev = NULL;
	for (__u32 i = 0; i < bound && !bpf_map_get_next_key(fd, prev, next); i++) {
		memcpy(key, next, ks);
		fn(r, key, &n);
		prev = key;
	}
}

static void dump_error_key(struct run *r, const void *k, int *n)
{
	const struct trace_errors_key *key = k;
	struct trace_errors_value v;
	if (bpf_map_lookup_elem(bpf_map__fd(r->errors->maps.counts), key, &v))
		return;
	printf("%s{\"tgid\":%u,\"nr\":%d,\"errno\":%d,\"count\":%llu,\"first_ns\":%llu,"
	       "\"last_ns\":%llu,\"comm\":", (*n)++ ? "," : "", key->tgid, key->nr, key->err,
	       (unsigned long long)v.count, (unsigned long long)v.first_ns,
	       (unsigned long long)v.last_ns);
	json_str(stdout, v.comm, sizeof(v.comm));
	putchar('}');
}

static void dump_errors(struct run *r)
{
	struct trace_errors_key key, next;
	printf(",\"counts\":[");
	each_key(r->errors->maps.counts, &key, &next, dump_error_key, r);
	printf("],\"keys_dropped\":%llu,\"samples_dropped\":%llu",
	       (unsigned long long)r->errors->bss->keys_dropped,
	       (unsigned long long)r->errors->bss->samples_dropped);
}

static void dump_stats_key(struct run *r, const void *k, int *n)
{
	const struct syscall_stats_key *key = k;
	int cpus = libbpf_num_possible_cpus();
	struct syscall_stats_value v[cpus], sum = { .min_ns = ~0ULL };
	if (bpf_map_lookup_elem(bpf_map__fd(r->stats->maps.stats), key, v))
		return;
	for (int c = 0; c < cpus; c++) {
		if (!v[c].count)
			continue;
		sum.count += v[c].count;
		sum.errors += v[c].errors;
		sum.sum_ns += v[c].sum_ns;
		sum.min_ns = v[c].min_ns < sum.min_ns ? v[c].min_ns : sum.min_ns;
		sum.max_ns = v[c].max_ns > sum.max_ns ? v[c].max_ns : sum.max_ns;
		memcpy(sum.comm, v[c].comm, sizeof(sum.comm));
	}
	printf("%s{\"tgid\":%u,\"nr\":%u,\"count\":%llu,\"errors\":%llu,\"sum_ns\":%llu,"
	       "\"min_ns\":%llu,\"max_ns\":%llu,\"comm\":", (*n)++ ? "," : "", key->tgid, key->nr,
	       (unsigned long long)sum.count, (unsigned long long)sum.errors,
	       (unsigned long long)sum.sum_ns, (unsigned long long)sum.min_ns,
	       (unsigned long long)sum.max_ns);
	json_str(stdout, sum.comm, sizeof(sum.comm));
	putchar('}');
}

static void dump_stats(struct run *r)
{
	struct syscall_stats_key key, next;
	struct syscall_stats_hist h;
	printf(",\"stats\":[");
	each_key(r->stats->maps.stats, &key, &next, dump_stats_key, r);
	printf("],\"hists\":[");
	for (__u32 nr = 0, n = 0; nr < SYSCALL_STATS_NR_MAX; nr++) {
		if (bpf_map_lookup_elem(bpf_map__fd(r->stats->maps.hists), &nr, &h))
			continue;
		__u64 total = 0;
		for (int i = 0; i < TRACER_HIST_SLOTS; i++)
			total += h.slots[i];
		if (!total)
			continue;
		printf("%s{\"nr\":%u,\"count\":%llu,\"slots\":", n++ ? "," : "", nr,
		       (unsigned long long)total);
		json_slots(stdout, h.slots);
		putchar('}');
	}
	printf("],\"keys_dropped\":%llu", (unsigned long long)r->stats->bss->keys_dropped);
}

static void dump_profile_key(struct run *r, const void *k, int *n)
{
	const struct stacks_key *key = k;
	__u64 count;
	if (bpf_map_lookup_elem(bpf_map__fd(r->profile->maps.counts), key, &count))
		return;
	printf("%s{\"tgid\":%u,\"tid\":%u,\"kstack_id\":%d,\"ustack_id\":%d,\"count\":%llu,\"comm\":",
	       (*n)++ ? "," : "", key->tgid, key->tid, key->kstack_id, key->ustack_id,
	       (unsigned long long)count);
	json_str(stdout, key->comm, sizeof(key->comm));
	putchar('}');
}

/* Every stored stack, innermost frame first (the map holds only stacks some
 * counted sample referred to, or collided with). */
static void dump_stacks(struct bpf_map *map)
{
	int fd = bpf_map__fd(map), n = 0;
	__u32 id, next, *prev = NULL;
	stacks_ips st;
	printf(",\"stacks\":{");
	for (int i = 0; i < STACKS_MAX && !bpf_map_get_next_key(fd, prev, &next); i++) {
		id = next;
		prev = &id;
		if (bpf_map_lookup_elem(fd, &id, st))
			continue;
		printf("%s\"%u\":[", n++ ? "," : "", id);
		for (int d = 0; d < STACKS_DEPTH && st[d]; d++)
			printf("%s\"0x%llx\"", d ? "," : "", (unsigned long long)st[d]);
		putchar(']');
	}
	putchar('}');
}

static void dump_profile(struct run *r)
{
	struct stacks_key key, next;
	printf(",\"freq\":%ld,\"cpus\":%d,\"counts\":[", r->o.freq, r->ncpus);
	each_key(r->profile->maps.counts, &key, &next, dump_profile_key, r);
	putchar(']');
	dump_stacks(r->profile->maps.stacks);
	printf(",\"samples\":%llu,\"samples_idle\":%llu,\"samples_filtered\":%llu,"
	       "\"keys_dropped\":%llu,\"stack_collisions\":%llu,\"stacks_full\":%llu",
	       (unsigned long long)r->profile->bss->samples,
	       (unsigned long long)r->profile->bss->samples_idle,
	       (unsigned long long)r->profile->bss->samples_filtered,
	       (unsigned long long)r->profile->bss->keys_dropped,
	       (unsigned long long)r->profile->bss->stack_collisions,
	       (unsigned long long)r->profile->bss->stacks_full);
}

static void dump_offcpu_key(struct run *r, const void *k, int *n)
{
	const struct stacks_key *key = k;
	struct offcpu_profile_val v;
	if (bpf_map_lookup_elem(bpf_map__fd(r->offcpu->maps.sums), key, &v))
		return;
	printf("%s{\"tgid\":%u,\"tid\":%u,\"kstack_id\":%d,\"ustack_id\":%d,\"total_ns\":%llu,"
	       "\"count\":%llu,\"max_ns\":%llu,\"states\":%u,\"comm\":", (*n)++ ? "," : "", key->tgid,
	       key->tid, key->kstack_id, key->ustack_id, (unsigned long long)v.total_ns,
	       (unsigned long long)v.count, (unsigned long long)v.max_ns, v.states);
	json_str(stdout, key->comm, sizeof(key->comm));
	putchar('}');
}

static void dump_offcpu(struct run *r)
{
	struct stacks_key key, next;
	const struct offcpu_profile_bpf *s = r->offcpu;
	printf(",\"sums\":[");
	each_key(r->offcpu->maps.sums, &key, &next, dump_offcpu_key, r);
	putchar(']');
	dump_stacks(r->offcpu->maps.stacks);
	printf(",\"switches\":%llu,\"blocked\":%llu,\"blocked_filtered\":%llu,\"blocks\":%llu,"
	       "\"blocks_short\":%llu,\"starts_dropped\":%llu,\"keys_dropped\":%llu,"
	       "\"stack_collisions\":%llu,\"stacks_full\":%llu",
	       (unsigned long long)s->bss->switches, (unsigned long long)s->bss->blocked,
	       (unsigned long long)s->bss->blocked_filtered, (unsigned long long)s->bss->blocks,
	       (unsigned long long)s->bss->blocks_short, (unsigned long long)s->bss->starts_dropped,
	       (unsigned long long)s->bss->keys_dropped, (unsigned long long)s->bss->stack_collisions,
	       (unsigned long long)s->bss->stacks_full);
}

static void dump_runq_key(struct run *r, const void *k, int *n)
{
	struct runq_latency_hist h;
	if (bpf_map_lookup_elem(bpf_map__fd(r->runq->maps.hists), k, &h))
		return;
	printf("%s{\"key\":%u,\"count\":%llu,\"sum_ns\":%llu,\"max_ns\":%llu,\"comm\":",
	       (*n)++ ? "," : "", *(const __u32 *)k, (unsigned long long)h.count,
	       (unsigned long long)h.sum_ns, (unsigned long long)h.max_ns);
	json_str(stdout, h.comm, sizeof(h.comm));
	printf(",\"slots\":");
	json_slots(stdout, h.slots);
	putchar('}');
}

static void dump_runq(struct run *r)
{
	__u32 key, next;
	printf(",\"hists\":[");
	each_key(r->runq->maps.hists, &key, &next, dump_runq_key, r);
	printf("],\"hists_dropped\":%llu", (unsigned long long)r->runq->bss->hists_dropped);
}

static void dump_bio_key(struct run *r, const void *k, int *n)
{
	const struct block_io_latency_key *key = k;
	struct block_io_latency_hist h;
	if (bpf_map_lookup_elem(bpf_map__fd(r->bio->maps.hists), key, &h))
		return;
	printf("%s{\"dev\":\"%u:%u\",\"op\":%u,\"count\":%llu,\"sum_ns\":%llu,\"max_ns\":%llu,"
	       "\"bytes\":%llu,\"slots\":", (*n)++ ? "," : "", key->dev >> BLOCK_IO_LATENCY_MINOR_BITS,
	       key->dev & ((1u << BLOCK_IO_LATENCY_MINOR_BITS) - 1), key->op,
	       (unsigned long long)h.count, (unsigned long long)h.sum_ns,
	       (unsigned long long)h.max_ns, (unsigned long long)h.bytes);
	json_slots(stdout, h.slots);
	putchar('}');
}

static void dump_bio(struct run *r)
{
	struct block_io_latency_key key, next;
	printf(",\"hists\":[");
	each_key(r->bio->maps.hists, &key, &next, dump_bio_key, r);
	printf("],\"hists_dropped\":%llu,\"unmatched\":%llu",
	       (unsigned long long)r->bio->bss->hists_dropped,
	       (unsigned long long)r->bio->bss->unmatched);
}

static unsigned long long ring_drops(const struct run *r)
{
	if (r->errors)
		return r->errors->bss->samples_dropped;
	if (r->exec)
		return r->exec->bss->events_dropped;
	if (r->open)
		return r->open->bss->events_dropped;
	return r->tcp ? r->tcp->bss->events_dropped : 0;
}

static void print_result(struct run *r, const char *name, long ran_ms)
{
	printf("{\"tracer\":\"%s\",\"ran_ms\":%ld", name, ran_ms);
	if (r->rb) {
		printf(",\"events\":[%.*s],\"events_count\":%ld,\"events_not_printed\":%ld,"
		       "\"events_dropped\":%llu", (int)r->ev_len, r->ev_buf, r->events,
		       r->events_not_printed, ring_drops(r));
		if (r->exec)
			printf(",\"exits_untracked\":%llu",
			       (unsigned long long)r->exec->bss->exits_untracked);
	}
	if (r->errors)
		dump_errors(r);
	if (r->stats)
		dump_stats(r);
	if (r->profile)
		dump_profile(r);
	if (r->runq)
		dump_runq(r);
	if (r->bio)
		dump_bio(r);
	if (r->offcpu)
		dump_offcpu(r);
	printf("}\n");
}

/* ---- main ----------------------------------------------------------------------- */

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until stdin closes or the duration ends, draining the ring buffer. */
static void run_until_stop(struct run *r)
{
	long end = mono_ms() + r->o.duration_ms;
	for (long now = mono_ms(); now < end; now = mono_ms()) {
		struct pollfd p[2] = { { .fd = 0, .events = POLLIN } };
		int np = 1;
		if (r->rb) {
			p[1] = (struct pollfd){ .fd = ring_buffer__epoll_fd(r->rb), .events = POLLIN };
			np = 2;
		}
		long left = end - now;
		if (poll(p, np, left < POLL_SLICE_MS ? left : POLL_SLICE_MS) < 0 && errno != EINTR)
			return;
		if (r->rb)
			ring_buffer__consume(r->rb);
		char buf[256];
		if ((p[0].revents & (POLLIN | POLLHUP)) && read(0, buf, sizeof(buf)) <= 0)
			return;
	}
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "duration-ms", 1, 0, 'd' }, { "tgid", 1, 0, 'p' }, { "tid", 1, 0, 't' },
		{ "comm", 1, 0, 'c' }, { "cgroup-id", 1, 0, 'g' }, { "ppid", 1, 0, 'P' },
		{ "uid", 1, 0, 'u' }, { "port", 1, 0, 'o' }, { "failed-only", 0, 0, 'f' },
		{ "freq", 1, 0, 'F' }, { "include-idle", 0, 0, 'i' }, { "per-process", 0, 0, 'r' },
		{ "dev", 1, 0, 'D' }, { "per-disk", 0, 0, 'k' }, { "max-events", 1, 0, 'm' },
		{ "min-block-us", 1, 0, 'b' },
		{ 0, 0, 0, 0 },
	};
	unsigned maj, min;
	*o = (struct opts){ .duration_ms = 10000, .uid = -1, .freq = 99,
			    .max_events = EVENTS_MAX_DEFAULT };
	for (int c; (c = getopt_long(argc, argv, "", lo, NULL)) != -1;) {
		switch (c) {
		case 'd': o->duration_ms = atol(optarg); break;
		case 'p': o->tgid = atol(optarg); break;
		case 't': o->tid = atol(optarg); break;
		case 'c': o->comm = optarg; break;
		case 'g': o->cgroup_id = strtoull(optarg, NULL, 0); break;
		case 'P': o->ppid = atol(optarg); break;
		case 'u': o->uid = atol(optarg); break;
		case 'o': o->port = atol(optarg); break;
		case 'f': o->failed_only = true; break;
		case 'F': o->freq = atol(optarg); break;
		case 'i': o->include_idle = true; break;
		case 'r': o->per_process = true; break;
		case 'k': o->per_disk = true; break;
		case 'm': o->max_events = atol(optarg); break;
		case 'b': o->min_block_us = atol(optarg); break;
		case 'D':
			if (sscanf(optarg, "%u:%u", &maj, &min) != 2)
				return -1;
			o->dev = maj << BLOCK_IO_LATENCY_MINOR_BITS | min;
			break;
		default: return -1;
		}
	}
	return optind == argc - 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct run r;
	if (parse_opts(argc, argv, &r.o)) {
		fprintf(stderr, "usage: tracer_smoke [options] NAME (see the source)\n");
		return 2;
	}
	const char *name = argv[argc - 1];
	for (int cpu = 0; cpu < CPUS_MAX; cpu++)
		r.perf_fds[cpu] = -1;
	r.ev = open_memstream(&r.ev_buf, &r.ev_len);
	int err = r.ev ? tracer_start(&r, name) : -ENOMEM;
	if (err) {
		fprintf(stderr, "%s: %s\n", name, strerror(-err));
		tracer_destroy(&r);
		if (r.ev)
			fclose(r.ev);
		free(r.ev_buf);
		return 1;
	}
	printf("{\"ready\":true}\n");
	fflush(stdout);
	long t0 = mono_ms();
	run_until_stop(&r);
	long ran_ms = mono_ms() - t0;
	tracer_detach(&r);
	if (r.rb)
		ring_buffer__consume(r.rb);
	fclose(r.ev);
	print_result(&r, name, ran_ms);
	tracer_destroy(&r);
	free(r.ev_buf);
	return 0;
}
