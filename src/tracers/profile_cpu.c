/* profile_cpu: sample every CPU with a cpu-clock perf event and count
 * (process, kernel stack, user stack) in the kernel; at the end the stacks
 * are symbolized (kernel from /proc/kallsyms, user from the processes'
 * ELF files) and returned largest first, with the hottest functions. A
 * process's memory map is read when the kernel first announces it (see
 * stackprof.h), so one that exits before the end keeps its names.
 *
 * The skeleton has no attach point of its own: one perf event per possible
 * CPU (offline ones skipped) carries the program, opened by attach_extra
 * and closed by detach_extra. The kernel keys counts by thread; rows that
 * differ only by thread are merged into one stack per process (stackprof__rows). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include "../sys/sysfs.h"
#include "profile_cpu.h"
#include "profile_cpu.skel.h"
#include "stackprof.h"
#include "tracer_run.h"

#define PROFILE_CPU_CPUS_MAX     1024   /* perf events (and as many links) per run */
#define PROFILE_CPU_FREQ_DEFAULT 99

/* ---- the perf events and the symbolizer (t->priv) --------------------------------- */

struct events {
	struct stackprof st;
	uint32_t freq;
	int n;                                    /* slots in use: CPUs 0..n-1 */
	int opened;                               /* online CPUs sampled */
	int fds[PROFILE_CPU_CPUS_MAX];
	struct bpf_link *links[PROFILE_CPU_CPUS_MAX];
};

static int perf_failed(struct tool_ctx *ctx, const struct events *ev, int cpu, int err)
{
	int64_t paranoid = -1;
	sysfs__read_int("/proc/sys/kernel/perf_event_paranoid", &paranoid);
	if (err == EACCES || err == EPERM)
		tool__fail(ctx, ERR_PERF_EVENT_DENIED,
			   "perf_event_open(cpu-clock) on CPU %d: %s. Sampling every CPU needs CAP_PERFMON "
			   "(or CAP_SYS_ADMIN), or kernel.perf_event_paranoid at 0 or below (it is %lld)",
			   cpu, strerror(err), (long long)paranoid);
	else if (err == ENOENT || err == EOPNOTSUPP)
		tool__fail(ctx, ERR_NO_CPU_CLOCK,
			   "this kernel has no cpu-clock software perf event (perf_event_open on CPU %d: %s); "
			   "profiling needs CONFIG_PERF_EVENTS", cpu, strerror(err));
	else
		tool__fail_errno(ctx, -err, "perf_event_open(cpu-clock, %" PRIu32 " Hz) on CPU %d", ev->freq, cpu);
	jw__kint(&ctx->err->ctx, "cpu", cpu);
	if (err == EACCES || err == EPERM || err == ENOENT || err == EOPNOTSUPP)
		jw__kint(&ctx->err->ctx, "errno", err);
	return -1;
}

static int open_events(struct tracer *t, struct tool_ctx *ctx)
{
	struct events *ev = t->priv;
	struct profile_cpu_bpf *s = t->skel;
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		.freq = 1,
		.sample_freq = ev->freq,
	};
	int cpus = libbpf_num_possible_cpus();
	if (cpus < 0 && tool__need_mount(ctx, "sysfs", "profile_cpu (the CPU list in /sys/devices/system/cpu)"))
		return -1;
	if (cpus < 0)
		return tool__fail_errno(ctx, cpus, "counting the possible CPUs");
	if (cpus > PROFILE_CPU_CPUS_MAX)
		return tool__fail(ctx, ERR_TOO_MANY_CPUS,
				  "this machine has %d possible CPUs; profile_cpu samples at most %d", cpus,
				  PROFILE_CPU_CPUS_MAX);
	for (int cpu = 0; cpu < cpus; cpu++) {
		int fd = (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0 && errno == ENODEV)
			continue;   /* possible but offline */
		if (fd < 0)
			return perf_failed(ctx, ev, cpu, errno);
		ev->fds[cpu] = fd;
		ev->n = cpu + 1;
		ev->links[cpu] = bpf_program__attach_perf_event(s->progs.profile_cpu_sample, fd);
		if (!ev->links[cpu])
			return tool__fail_errno(ctx, -errno, "attaching the sampler to CPU %d's cpu-clock event", cpu);
		ev->opened++;
	}
	return 0;
}

/* Runs when the duration ends and again at release: leaves nothing to redo. */
static void close_events(struct tracer *t)
{
	struct events *ev = t->priv;
	for (int cpu = 0; ev && cpu < ev->n; cpu++) {
		if (ev->links[cpu])
			bpf_link__destroy(ev->links[cpu]);   /* closes the perf event too */
		else if (ev->fds[cpu] >= 0)
			close(ev->fds[cpu]);
		ev->links[cpu] = NULL;
		ev->fds[cpu] = -1;
	}
}

/* ---- rows: the kernel's counts (samples) ------------------------------------------ */

static uint64_t add_samples(struct stackprof_row *row, const void *value)
{
	uint64_t c;
	memcpy(&c, value, sizeof(c));
	row->weight += c;
	row->count += c;
	return c;
}

/* ---- functions: samples by innermost frame ------------------------------------------- */

struct func {
	const char *name;
	const char *mod;    /* kernel module, or NULL */
	bool kernel;
	uint64_t count;
};

/* Where a sample was running: the innermost kernel frame if it was in the
 * kernel, else the innermost user frame. */
static struct func leaf(struct stackprof *st, const struct stackprof_row *p)
{
	struct stackprof_side sd;
	stackprof__kernel(st, p->kid, 1, &sd);
	if (sd.n)
		return (struct func){ .name = sd.f[0].name ? sd.f[0].name : "[unknown]",
				      .mod = sd.f[0].name ? sd.f[0].mod : NULL, .kernel = true, .count = p->count };
	if (sd.lost)
		return (struct func){ .name = "[kernel stack lost]", .kernel = true, .count = p->count };
	stackprof__user(st, p->tgid, p->uid, 1, &sd);
	if (sd.n)
		return (struct func){ .name = sd.f[0].name ? sd.f[0].name : sd.f[0].mod ? sd.f[0].mod : "[unknown]",
				      .count = p->count };
	return (struct func){ .name = sd.lost ? "[user stack lost]" : "[no stack]", .count = p->count };
}

static int by_func(const void *a, const void *b)
{
	const struct func *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (!c)
		c = strcmp(x->mod ? x->mod : "", y->mod ? y->mod : "");
	return c ? c : (int)x->kernel - (int)y->kernel;
}

static int by_func_count(const void *a, const void *b)
{
	const struct func *x = a, *y = b;
	return x->count != y->count ? (x->count < y->count ? 1 : -1) : by_func(a, b);
}

/* Fills fn (room for n) with each function's samples, most first; returns
 * how many functions. */
static size_t functions(struct stackprof *st, const struct stackprof_row *ps, size_t n, struct func *fn)
{
	size_t nf = 0;
	for (size_t i = 0; i < n; i++)
		fn[i] = leaf(st, &ps[i]);
	qsort(fn, n, sizeof(*fn), by_func);
	for (size_t i = 0; i < n; i++) {
		if (nf && !by_func(&fn[nf - 1], &fn[i]))
			fn[nf - 1].count += fn[i].count;
		else
			fn[nf++] = fn[i];
	}
	qsort(fn, nf, sizeof(*fn), by_func_count);
	return nf;
}

static void write_functions(struct jw *w, const struct func *fn, size_t nf, uint64_t limit, uint64_t total,
			    struct sbuf *b)
{
	jw__key(w, "functions");
	jw__arr(w);
	for (size_t i = 0; i < nf && i < limit; i++) {
		char pct[32];
		b->len = 0;
		stackprof__frame_name(b, &(struct stackprof_frame){ .name = fn[i].name, .mod = fn[i].mod }, fn[i].kernel);
		jw__obj(w);
		jw__key(w, "function");
		if (!b->oom)
			jw__strn(w, b->p, b->len);
		jw__kuint(w, "count", fn[i].count);
		jw__key(w, "percent");
		jw__raw(w, pct, (size_t)snprintf(pct, sizeof(pct), "%.2f", total ? 100.0 * (double)fn[i].count / (double)total : 0.0));
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

/* ---- the report ----------------------------------------------------------------------------- */

static void write_counters(struct jw *w, const struct tracer *t, uint64_t total)
{
	const struct profile_cpu_bpf *s = t->skel;
	const struct events *ev = t->priv;
	jw__kuint(w, "samples", s->bss->samples);
	jw__kuint(w, "samples_counted", total);
	jw__kuint(w, "samples_idle", s->bss->samples_idle);
	jw__kuint(w, "samples_filtered", s->bss->samples_filtered);
	jw__kuint(w, "keys_dropped", s->bss->keys_dropped);
	jw__kuint(w, "stacks_lost", s->bss->stack_collisions + s->bss->stacks_full);
	jw__kuint(w, "procs_mapped", ev->st.pinned);
	jw__kuint(w, "procs_gone", ev->st.pin_failed);
	jw__kuint(w, "notices_lost", s->bss->notices_lost);
	jw__kuint(w, "frequency_hz", ev->freq);
	jw__kuint(w, "cpus", (uint64_t)ev->opened);
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	struct profile_cpu_bpf *s = t->skel;
	struct events *ev = t->priv;
	size_t n, nf = 0;
	uint64_t total;
	int err;
	struct stackprof_row *ps = stackprof__rows(s->maps.counts, add_samples, &n, &total, &err);
	struct func *fn = n ? malloc(n * sizeof(*fn)) : NULL;
	struct sbuf b = { 0 };
	if (!err && n && !fn)
		err = -ENOMEM;
	if (!err) {
		ev->st.fd = bpf_map__fd(s->maps.stacks);
		nf = functions(&ev->st, ps, n, fn);
		jw__key(w, "stacks");
		jw__arr(w);
		for (size_t i = 0; i < n && i < t->o.limit; i++) {
			jw__obj(w);
			jw__kuint(w, "count", ps[i].count);
			stackprof__write_row(w, &ev->st, &ps[i], ps[i].count, &b);
			jw__obj_end(w);
		}
		jw__arr_end(w);
		write_functions(w, fn, nf, t->o.limit, total, &b);
		jw__kuint(w, "rows", n);
		jw__kbool(w, "truncated", n > t->o.limit || nf > t->o.limit);
		write_counters(w, t, total);
		err = b.oom ? -ENOMEM : 0;
	}
	free(b.p);
	free(fn);
	free(ps);
	return err ? tool__fail_errno(ctx, err, "symbolizing the sampled stacks") : 0;
}

/* ---- the call ------------------------------------------------------------------------------ */

static int on_notice(struct tracer *t, const void *data, size_t size)
{
	struct events *ev = t->priv;
	return stackprof__notice(&ev->st, data, size);
}

static void free_events(void *priv)
{
	struct events *ev = priv;
	if (ev)
		stackprof__fini(&ev->st);
	free(ev);
}

static const struct tracer_ops ops = { .report = report, .free_priv = free_events };

/* The kernel refuses (EINVAL) a frequency over this; it lowers the value
 * itself when sampling interrupts take too long. */
static int check_freq(struct tool_ctx *ctx, uint32_t freq)
{
	int64_t max = 0;
	if (sysfs__read_int("/proc/sys/kernel/perf_event_max_sample_rate", &max) || max <= 0 || freq <= (uint64_t)max)
		return 0;
	tool__fail(ctx, ERR_FREQUENCY_TOO_HIGH,
		   "frequency_hz %" PRIu32 " is over kernel.perf_event_max_sample_rate (%lld); ask for %lld or less",
		   freq, (long long)max, (long long)max);
	jw__kstr(&ctx->err->ctx, "pointer", "/frequency_hz");
	jw__kint(&ctx->err->ctx, "max", max);
	return -1;
}

static int run_profile_cpu(struct tool_ctx *ctx)
{
	uint32_t freq = (uint32_t)tool__arg_int(ctx, "frequency_hz", PROFILE_CPU_FREQ_DEFAULT);
	if (check_freq(ctx, freq))
		return -1;
	struct tracer *t = tracer__begin(ctx, "profile_cpu", &ops);
	if (!t)
		return -1;
	struct events *ev = calloc(1, sizeof(*ev));
	if (!ev || stackprof__init(&ev->st)) {
		free_events(ev);
		errno = ENOMEM;
		return tracer__open_failed(ctx, t);
	}
	ev->freq = freq;
	for (int cpu = 0; cpu < PROFILE_CPU_CPUS_MAX; cpu++)
		ev->fds[cpu] = -1;
	t->priv = ev;
	t->attach_extra = open_events;
	t->detach_extra = close_events;
	struct profile_cpu_bpf *s = profile_cpu_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	s->rodata->targ_include_idle = tool__arg_bool(ctx, "include_idle", false);
	t->notices = s->maps.procs_ring;
	t->notice = on_notice;
	return tracer__start(ctx, t, s, s->skeleton, NULL);
}

const struct tool tool_profile_cpu = {
	.name = "profile_cpu",
	.schema = SCHEMA_profile_cpu,
	.run = run_profile_cpu,
};
