/* trace_errors: failing syscalls (return -1..-4095) per process, syscall
 * and errno, counted in the kernel, with a sample of each failure.
 *
 * The counts come from the `counts` hash (every failure that passed the
 * filters, unless the map filled: keys_dropped); samples arrive through the
 * ring buffer while the tracer runs, up to max_events. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "trace_errors.h"
#include "trace_errors.skel.h"
#include "tracer_run.h"

static int sample(struct tracer *t, struct jw *w, const void *data, size_t size)
{
	const struct trace_errors_sample *s = data;
	if (size < sizeof(*s))
		return 1;
	jw__obj(w);
	jw__kuint(w, "ts_ns", s->ts_ns);
	jw__kuint(w, "pid", s->tgid);
	jw__kuint(w, "tid", s->tid);
	tracer__kcomm(w, "comm", s->comm);
	tracer__kcgroup(t, w, s->cgroup_id, s->tgid);
	tracer__ksyscall(w, "syscall", s->nr);
	tracer__kerrno(w, s->err);
	jw__obj_end(w);
	return 0;
}

#define ROW_VAL TRACER_ROW_VAL(sizeof(struct trace_errors_key))

static void write_row(struct jw *w, const char *row)
{
	const struct trace_errors_key *k = (const void *)row;
	const struct trace_errors_value *v = (const void *)(row + ROW_VAL);
	jw__obj(w);
	jw__kuint(w, "pid", k->tgid);
	tracer__kcomm(w, "comm", v->comm);
	tracer__ksyscall(w, "syscall", k->nr);
	tracer__kerrno(w, k->err);
	jw__kuint(w, "count", v->count);
	jw__kuint(w, "first_ns", v->first_ns);
	jw__kuint(w, "last_ns", v->last_ns);
	jw__obj_end(w);
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	struct trace_errors_bpf *s = t->skel;
	size_t n, row, stride;
	char *rows = tracer__read_map(s->maps.counts, &n, &row, &stride);
	if (!rows && n)
		return tool__fail_errno(ctx, -ENOMEM, "reading the counts");
	size_t count_at = ROW_VAL + offsetof(struct trace_errors_value, count);
	tracer__sort_rows(rows, n, row, count_at);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += *(const uint64_t *)(rows + i * row + count_at);
	jw__key(w, "errors");
	jw__arr(w);
	for (size_t i = 0; i < n && i < t->o.limit; i++)
		write_row(w, rows + i * row);
	jw__arr_end(w);
	jw__kuint(w, "rows", n);
	jw__kbool(w, "truncated", n > t->o.limit);
	jw__kuint(w, "failures", total);
	jw__kuint(w, "keys_dropped", s->bss->keys_dropped);
	free(rows);
	return 0;
}

static uint64_t ring_dropped(struct tracer *t)
{
	return ((struct trace_errors_bpf *)t->skel)->bss->samples_dropped;
}

static const struct tracer_ops ops = { .max_events_default = 100, .event = sample, .report = report, .ring_dropped = ring_dropped };

static int run_trace_errors(struct tool_ctx *ctx)
{
	struct tracer *t = tracer__begin(ctx, "trace_errors", &ops);
	if (!t)
		return -1;
	struct trace_errors_bpf *s = trace_errors_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	t->samples_only = true;   /* the counts go on after max_events samples */
	return tracer__start(ctx, t, s, s->skeleton, s->maps.samples);
}

const struct tool tool_trace_errors = {
	.name = "trace_errors",
	.schema = SCHEMA_trace_errors,
	.run = run_trace_errors,
};
