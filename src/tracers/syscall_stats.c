/* syscall_stats: syscall counts and latency, aggregated in the kernel per
 * (process, syscall) in a per-CPU hash, with a log2 histogram per syscall.
 * The report sums the CPUs, then folds the rows per syscall. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "syscall_stats.h"
#include "syscall_stats.skel.h"
#include "tracer_run.h"

/* One (process, syscall) row or one syscall's total, summed over CPUs. */
struct agg {
	uint32_t tgid, nr;
	uint64_t count, errors, sum_ns, min_ns, max_ns;
	char comm[TRACER_COMM_BYTES];
};

static void fold(struct agg *into, const struct agg *v)
{
	into->count += v->count;
	into->errors += v->errors;
	into->sum_ns += v->sum_ns;
	if (v->min_ns < into->min_ns)
		into->min_ns = v->min_ns;
	if (v->max_ns > into->max_ns)
		into->max_ns = v->max_ns;
}

/* The map's rows with their CPUs summed; *n rows. */
static struct agg *read_rows(struct syscall_stats_bpf *s, size_t *n)
{
	size_t row, stride, cpus = (size_t)libbpf_num_possible_cpus();
	char *raw = tracer__read_map(s->maps.stats, n, &row, &stride);
	struct agg *out = calloc(*n ? *n : 1, sizeof(*out));
	if (!raw || !out) {
		free(raw);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < *n; i++) {
		const char *r = raw + i * row;
		const struct syscall_stats_key *k = (const void *)r;
		out[i] = (struct agg){ .tgid = k->tgid, .nr = k->nr, .min_ns = ~0ull };
		for (size_t c = 0; c < cpus; c++) {
			const struct syscall_stats_value *v =
				(const void *)(r + TRACER_ROW_VAL(sizeof(*k)) + c * stride);
			if (!v->count)
				continue;
			struct agg one = { .count = v->count, .errors = v->errors, .sum_ns = v->sum_ns,
					   .min_ns = v->min_ns, .max_ns = v->max_ns };
			fold(&out[i], &one);
			memcpy(out[i].comm, v->comm, sizeof(out[i].comm));
		}
	}
	free(raw);
	return out;
}

/* Per syscall: the rows folded by number (at most SYSCALL_STATS_NR_MAX). */
static size_t per_syscall(const struct agg *rows, size_t n, struct agg *out)
{
	size_t m = 0;
	int at[SYSCALL_STATS_NR_MAX];
	memset(at, -1, sizeof(at));
	for (size_t i = 0; i < n; i++) {
		uint32_t nr = rows[i].nr;
		if (nr >= SYSCALL_STATS_NR_MAX)
			continue;   /* the kernel keeps no histogram for it either */
		if (at[nr] < 0) {
			at[nr] = (int)m;
			out[m++] = (struct agg){ .nr = nr, .min_ns = ~0ull };
		}
		fold(&out[at[nr]], &rows[i]);
	}
	return m;
}

static void write_syscall(struct jw *w, struct syscall_stats_bpf *s, const struct agg *a)
{
	struct syscall_stats_hist h = { 0 };
	bpf_map_lookup_elem(bpf_map__fd(s->maps.hists), &a->nr, &h);
	jw__obj(w);
	tracer__ksyscall(w, "syscall", a->nr);
	jw__kuint(w, "nr", a->nr);
	jw__kuint(w, "errors", a->errors);
	jw__kuint(w, "total_ns", a->sum_ns);
	jw__kuint(w, "min_ns", a->count ? a->min_ns : 0);
	tracer__hist(w, h.slots, a->sum_ns, a->max_ns);
	jw__obj_end(w);
}

static void write_process(struct jw *w, const struct agg *a)
{
	jw__obj(w);
	jw__kuint(w, "pid", a->tgid);
	tracer__kcomm(w, "comm", a->comm);
	tracer__ksyscall(w, "syscall", a->nr);
	jw__kuint(w, "nr", a->nr);
	jw__kuint(w, "count", a->count);
	jw__kuint(w, "errors", a->errors);
	jw__kuint(w, "total_ns", a->sum_ns);
	jw__kuint(w, "avg_ns", a->count ? a->sum_ns / a->count : 0);
	jw__kuint(w, "min_ns", a->count ? a->min_ns : 0);
	jw__kuint(w, "max_ns", a->max_ns);
	jw__obj_end(w);
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	struct syscall_stats_bpf *s = t->skel;
	size_t n, limit = t->o.limit;
	struct agg *rows = read_rows(s, &n);
	struct agg *sys = calloc(SYSCALL_STATS_NR_MAX, sizeof(*sys));
	if (!rows || !sys) {
		free(rows);
		free(sys);
		return tool__fail_errno(ctx, -ENOMEM, "reading the syscall counts");
	}
	size_t m = per_syscall(rows, n, sys);
	uint64_t calls = 0;
	for (size_t i = 0; i < m; i++)
		calls += sys[i].count;
	tracer__sort_rows(rows, n, sizeof(*rows), offsetof(struct agg, count));
	tracer__sort_rows(sys, m, sizeof(*sys), offsetof(struct agg, count));
	jw__key(w, "syscalls");
	jw__arr(w);
	for (size_t i = 0; i < m && i < limit; i++)
		write_syscall(w, s, &sys[i]);
	jw__arr_end(w);
	jw__key(w, "processes");
	jw__arr(w);
	for (size_t i = 0; i < n && i < limit; i++)
		write_process(w, &rows[i]);
	jw__arr_end(w);
	jw__kuint(w, "syscalls_total", m);
	jw__kuint(w, "rows", n);
	jw__kbool(w, "truncated", n > limit || m > limit);
	jw__kuint(w, "calls", calls);
	jw__kuint(w, "keys_dropped", s->bss->keys_dropped);
	free(rows);
	free(sys);
	return 0;
}

static const struct tracer_ops ops = { .report = report };

static int run_syscall_stats(struct tool_ctx *ctx)
{
	struct tracer *t = tracer__begin(ctx, "syscall_stats", &ops);
	if (!t)
		return -1;
	struct syscall_stats_bpf *s = syscall_stats_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	return tracer__start(ctx, t, s, s->skeleton, NULL);
}

const struct tool tool_syscall_stats = {
	.name = "syscall_stats",
	.schema = SCHEMA_syscall_stats,
	.run = run_syscall_stats,
};
