/* profile_cpu: sample every CPU with a cpu-clock perf event and count
 * (process, kernel stack, user stack) in the kernel; at the end the stacks
 * are symbolized (kernel from /proc/kallsyms, user from the processes'
 * ELF files) and returned largest first, with the hottest functions.
 *
 * The skeleton has no attach point of its own: one perf event per possible
 * CPU (offline ones skipped) carries the program, opened by attach_extra
 * and closed by detach_extra. The kernel keys counts by thread; rows that
 * differ only by thread are merged here into one stack per process. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/perf_event.h>

#include "../sys/sysfs.h"
#include "ksyms.h"
#include "profile_cpu.h"
#include "profile_cpu.skel.h"
#include "tracer_run.h"
#include "usyms.h"

#define PROFILE_CPU_CPUS_MAX     1024   /* perf events (and as many links) per run */
#define PROFILE_CPU_FREQ_DEFAULT 99
#define PROFILE_CPU_NO_STACK     (-EFAULT)   /* bpf_get_stackid: no stack of that kind */
#define PROFILE_CPU_MSG_BYTES    192

/* ---- the perf events (t->priv) ------------------------------------------------ */

struct events {
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

/* ---- rows: the kernel's counts merged per process ------------------------------ */

struct pstack {
	uint32_t tgid;
	int32_t kid, uid;                 /* stack ids, or -errno */
	uint64_t count;
	uint64_t top;                     /* the busiest thread's count: its comm is kept */
	char comm[TRACER_COMM_BYTES];
};

#define ROW_VAL TRACER_ROW_VAL(sizeof(struct profile_cpu_key))

static const struct profile_cpu_key *row_key(const char *rows, size_t row, size_t i)
{
	return (const void *)(rows + i * row);
}

static uint64_t row_count(const char *rows, size_t row, size_t i)
{
	return *(const uint64_t *)(rows + i * row + ROW_VAL);
}

static int by_stack(const void *a, const void *b)
{
	const struct profile_cpu_key *x = a, *y = b;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	if (x->kstack_id != y->kstack_id)
		return x->kstack_id < y->kstack_id ? -1 : 1;
	return x->ustack_id < y->ustack_id ? -1 : x->ustack_id > y->ustack_id;
}

static int by_count(const void *a, const void *b)
{
	const struct pstack *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	return by_stack(&(struct profile_cpu_key){ .tgid = x->tgid, .kstack_id = x->kid, .ustack_id = x->uid },
			&(struct profile_cpu_key){ .tgid = y->tgid, .kstack_id = y->kid, .ustack_id = y->uid });
}

/* The counts map as one row per (process, kernel stack, user stack), most
 * samples first; *total is every sample counted. NULL with *n 0 when empty. */
static struct pstack *read_stacks(struct bpf_map *counts, size_t *n, uint64_t *total, int *err)
{
	size_t rows_n, row, stride;
	char *rows = tracer__read_map(counts, &rows_n, &row, &stride);
	struct pstack *out = rows_n ? calloc(rows_n, sizeof(*out)) : NULL;
	*n = 0, *total = 0, *err = 0;
	if ((!rows || !out) && rows_n) {
		free(rows);
		free(out);
		*err = -ENOMEM;
		return NULL;
	}
	qsort(rows, rows_n, row, by_stack);
	for (size_t i = 0; i < rows_n; i++) {
		const struct profile_cpu_key *k = row_key(rows, row, i);
		uint64_t c = row_count(rows, row, i);
		struct pstack *p = *n ? &out[*n - 1] : NULL;
		if (!p || by_stack(k, &(struct profile_cpu_key){ .tgid = p->tgid, .kstack_id = p->kid,
								  .ustack_id = p->uid })) {
			p = &out[(*n)++];
			*p = (struct pstack){ .tgid = k->tgid, .kid = k->kstack_id, .uid = k->ustack_id };
		}
		p->count += c;
		*total += c;
		if (c > p->top) {
			p->top = c;
			memcpy(p->comm, k->comm, sizeof(p->comm));
		}
	}
	free(rows);
	qsort(out, *n, sizeof(*out), by_count);
	return out;
}

/* ---- symbolizing ------------------------------------------------------------------ */

struct frame {
	uint64_t addr;
	const char *name;   /* function, or NULL */
	const char *mod;    /* kernel module or user file, or NULL */
	uint64_t off;       /* from name, else from mod */
};

struct side {                         /* the kernel or the user half of a sample */
	struct frame f[PROFILE_CPU_STACK_DEPTH];
	unsigned n;
	bool lost;                        /* the sample had such a stack but it was not stored */
	const char *error;
	char msg[PROFILE_CPU_MSG_BYTES];
};

struct syms {
	int fd;                           /* the stacks map */
	struct ksyms *k;
	bool k_tried;
	const char *k_problem;            /* why kernel frames stay addresses */
	char k_msg[PROFILE_CPU_MSG_BYTES];
	struct usyms *u;
	uint64_t max_lines;
};

static void load_ksyms(struct syms *sy)
{
	sy->k_tried = true;
	int err = ksyms__load(&sy->k, sy->max_lines);
	if (err == -E2BIG)
		snprintf(sy->k_msg, sizeof(sy->k_msg), "kernel frames not symbolized: /proc/kallsyms has more "
			 "than %" PRIu64 " lines (the scan_items limit)", sy->max_lines);
	else if (err)
		snprintf(sy->k_msg, sizeof(sy->k_msg), "kernel frames not symbolized: reading /proc/kallsyms: %s",
			 strerror(-err));
	else if (ksyms__hidden(sy->k))
		snprintf(sy->k_msg, sizeof(sy->k_msg), "kernel frames not symbolized: /proc/kallsyms shows zero "
			 "addresses (kernel.kptr_restrict, or no CAP_SYSLOG)");
	if (err || ksyms__hidden(sy->k))
		sy->k_problem = sy->k_msg;
}

/* Reads stack id (or explains a negative one); 0 when there is a stack. */
static int read_ips(struct syms *sy, int32_t id, __u64 *ips, struct side *sd)
{
	sd->n = 0, sd->lost = false, sd->error = NULL;
	if (id == PROFILE_CPU_NO_STACK)
		return -1;
	if (id < 0) {
		const char *e = tracer__errno_name(-id);
		char num[24];
		if (!e)
			snprintf(num, sizeof(num), "errno %d", -id), e = num;
		snprintf(sd->msg, sizeof(sd->msg), "stack not stored (%s%s): counted in stacks_lost", e,
			 id == -EEXIST ? ": its hash bucket held another stack" : "");
		sd->lost = true;
		sd->error = sd->msg;
		return -1;
	}
	if (bpf_map_lookup_elem(sy->fd, &id, ips)) {
		snprintf(sd->msg, sizeof(sd->msg), "stack %d is not in the stack map: %s", id, strerror(errno));
		sd->lost = true;
		sd->error = sd->msg;
		return -1;
	}
	return 0;
}

/* The first `max` frames of a kernel stack. */
static void kernel_side(struct syms *sy, int32_t id, unsigned max, struct side *sd)
{
	profile_cpu_stack ips;
	unsigned missing = 0;
	if (read_ips(sy, id, ips, sd))
		return;
	if (!sy->k_tried)
		load_ksyms(sy);
	for (unsigned i = 0; i < PROFILE_CPU_STACK_DEPTH && i < max && ips[i]; i++) {
		struct frame *f = &sd->f[sd->n++];
		*f = (struct frame){ .addr = ips[i] };
		/* Looked up as is, unlike user return addresses: past an interrupt
		 * or exception frame the unwinder gives the interrupted address,
		 * which may be a function's first byte. A call ending a function
		 * returns into the padding before the next one, which ksyms leaves
		 * to the caller. */
		if (!sy->k_problem && !ksyms__find(sy->k, ips[i], &f->name, &f->mod, &f->off))
			missing++;
	}
	if (sd->n && sy->k_problem) {
		sd->error = sy->k_problem;
	} else if (missing) {
		snprintf(sd->msg, sizeof(sd->msg), "%u frame(s) not in /proc/kallsyms at the end of the run: code "
			 "unloaded since (a BPF program or a module)", missing);
		sd->error = sd->msg;
	}
}

static void user_side(struct syms *sy, uint32_t tgid, int32_t id, unsigned max, struct side *sd)
{
	profile_cpu_stack ips;
	const char *problem = NULL;
	if (read_ips(sy, id, ips, sd))
		return;
	struct uproc *p = usyms__proc(sy->u, tgid, &problem);
	for (unsigned i = 0; i < PROFILE_CPU_STACK_DEPTH && i < max && ips[i]; i++) {
		struct frame *f = &sd->f[sd->n++];
		struct usym s = { 0 };
		const char *why = p ? usyms__find(sy->u, p, ips[i], i > 0, &s) : problem;
		*f = (struct frame){ .addr = ips[i], .name = s.name, .mod = s.module, .off = s.off };
		if (why && !sd->error)
			sd->error = why;
	}
}

/* ---- text --------------------------------------------------------------------------- */

struct sbuf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *q = realloc(b->p, cap);
		if (!q) {
			b->oom = true;
			return;
		}
		b->p = q, b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_hex(struct sbuf *b, const char *prefix, uint64_t v)
{
	char x[24];
	sb_str(b, prefix);
	sb_put(b, x, (size_t)snprintf(x, sizeof(x), "0x%" PRIx64, v));
}

/* A frame without its offset: "func", "func [module]" in the kernel, the
 * file when the function is unknown, or "[unknown]". */
static void sb_name(struct sbuf *b, const struct frame *f, bool kernel)
{
	if (!f->name) {
		sb_str(b, !kernel && f->mod ? f->mod : "[unknown]");
		return;
	}
	sb_str(b, f->name);
	if (kernel && f->mod) {
		sb_str(b, " [");
		sb_str(b, f->mod);
		sb_str(b, "]");
	}
}

/* A frame as shown in kernel[] and user[]: "func+0xoff" ("func+0xoff [mod]"
 * for a kernel module), "file+0xoff", or the bare address. */
static void write_frame(struct jw *w, struct sbuf *b, const struct frame *f, bool kernel)
{
	b->len = 0;
	if (f->name || (!kernel && f->mod)) {
		sb_str(b, f->name ? f->name : f->mod);
		sb_hex(b, "+", f->off);
		if (kernel && f->mod) {
			sb_str(b, " [");
			sb_str(b, f->mod);
			sb_str(b, "]");
		}
	} else {
		sb_hex(b, "", f->addr);
	}
	if (!b->oom)
		jw__strn(w, b->p, b->len);
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
static struct func leaf(struct syms *sy, const struct pstack *p)
{
	struct side sd;
	kernel_side(sy, p->kid, 1, &sd);
	if (sd.n)
		return (struct func){ .name = sd.f[0].name ? sd.f[0].name : "[unknown]",
				      .mod = sd.f[0].name ? sd.f[0].mod : NULL, .kernel = true, .count = p->count };
	if (sd.lost)
		return (struct func){ .name = "[kernel stack lost]", .kernel = true, .count = p->count };
	user_side(sy, p->tgid, p->uid, 1, &sd);
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
static size_t functions(struct syms *sy, const struct pstack *ps, size_t n, struct func *fn)
{
	size_t nf = 0;
	for (size_t i = 0; i < n; i++)
		fn[i] = leaf(sy, &ps[i]);
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
		sb_name(b, &(struct frame){ .name = fn[i].name, .mod = fn[i].mod }, fn[i].kernel);
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

/* ---- stacks ---------------------------------------------------------------------------- */

/* comm;outermost user;...;innermost user;outermost kernel;...;innermost
 * kernel, without offsets (the flame graph order). */
static void folded(struct sbuf *b, const struct pstack *p, const struct side *k, const struct side *u)
{
	b->len = 0;
	sb_put(b, p->comm, strnlen(p->comm, sizeof(p->comm)));
	for (unsigned i = u->n; i-- > 0;) {
		sb_str(b, ";");
		sb_name(b, &u->f[i], false);
	}
	if (u->lost)
		sb_str(b, ";[user stack lost]");
	for (unsigned i = k->n; i-- > 0;) {
		sb_str(b, ";");
		sb_name(b, &k->f[i], true);
	}
	if (k->lost)
		sb_str(b, ";[kernel stack lost]");
}

static void write_side(struct jw *w, const char *key, const struct side *sd, bool kernel, struct sbuf *b)
{
	jw__key(w, key);
	jw__arr(w);
	for (unsigned i = 0; i < sd->n; i++)
		write_frame(w, b, &sd->f[i], kernel);
	jw__arr_end(w);
}

static void write_stack(struct jw *w, struct syms *sy, const struct pstack *p, struct sbuf *b)
{
	struct side k, u;
	kernel_side(sy, p->kid, PROFILE_CPU_STACK_DEPTH, &k);
	user_side(sy, p->tgid, p->uid, PROFILE_CPU_STACK_DEPTH, &u);
	jw__obj(w);
	jw__kuint(w, "count", p->count);
	jw__kuint(w, "pid", p->tgid);
	tracer__kcomm(w, "comm", p->comm);
	folded(b, p, &k, &u);
	jw__key(w, "folded");
	if (!b->oom)
		jw__strn(w, b->p, b->len);
	write_side(w, "kernel", &k, true, b);
	write_side(w, "user", &u, false, b);
	if (k.error)
		jw__kstr(w, "kernel_error", k.error);
	if (u.error)
		jw__kstr(w, "user_error", u.error);
	jw__obj_end(w);
}

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
	jw__kuint(w, "frequency_hz", ev->freq);
	jw__kuint(w, "cpus", (uint64_t)ev->opened);
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	struct profile_cpu_bpf *s = t->skel;
	size_t n, nf = 0;
	uint64_t total;
	int err;
	struct pstack *ps = read_stacks(s->maps.counts, &n, &total, &err);
	struct syms sy = { .fd = bpf_map__fd(s->maps.stacks), .u = usyms__new(), .max_lines = limits[LIM_SCAN_ITEMS] };
	struct func *fn = n ? malloc(n * sizeof(*fn)) : NULL;
	struct sbuf b = { 0 };
	if (!err && (!sy.u || (n && !fn)))
		err = -ENOMEM;
	if (!err) {
		nf = functions(&sy, ps, n, fn);
		jw__key(w, "stacks");
		jw__arr(w);
		for (size_t i = 0; i < n && i < t->o.limit; i++)
			write_stack(w, &sy, &ps[i], &b);
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
	ksyms__free(sy.k);
	usyms__free(sy.u);
	return err ? tool__fail_errno(ctx, err, "symbolizing the sampled stacks") : 0;
}

/* ---- the call ------------------------------------------------------------------------------ */

static void free_events(void *priv)
{
	free(priv);
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
	if (!ev) {
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
	return tracer__start(ctx, t, s, s->skeleton, NULL);
}

const struct tool tool_profile_cpu = {
	.name = "profile_cpu",
	.schema = SCHEMA_profile_cpu,
	.run = run_profile_cpu,
};
