/* runq_latency: how long runnable tasks waited for a CPU, as log2
 * histograms aggregated in the kernel (one, or one per process). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "runq_latency.h"
#include "runq_latency.skel.h"
#include "tracer_run.h"

#define ROW_VAL TRACER_ROW_VAL(sizeof(uint32_t))

static const struct runq_latency_hist *hist_of(const char *row)
{
	return (const void *)(row + ROW_VAL);
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	struct runq_latency_bpf *s = t->skel;
	bool per_process = s->rodata->targ_per_process;
	size_t n, row, stride;
	char *rows = tracer__read_map(s->maps.hists, &n, &row, &stride);
	if (!rows && n)
		return tool__fail_errno(ctx, -ENOMEM, "reading the histograms");
	tracer__sort_rows(rows, n, row, ROW_VAL + offsetof(struct runq_latency_hist, count));
	jw__key(w, "histograms");
	jw__arr(w);
	for (size_t i = 0; i < n && i < t->o.limit; i++) {
		const struct runq_latency_hist *h = hist_of(rows + i * row);
		jw__obj(w);
		if (per_process) {
			jw__kuint(w, "pid", *(const uint32_t *)(rows + i * row));
			tracer__kcomm(w, "comm", h->comm);
		}
		tracer__hist(w, h->slots, h->sum_ns, h->max_ns);
		jw__obj_end(w);
	}
	jw__arr_end(w);
	jw__kuint(w, "rows", n);
	jw__kbool(w, "truncated", n > t->o.limit);
	jw__kuint(w, "hists_dropped", s->bss->hists_dropped);
	free(rows);
	return 0;
}

static const struct tracer_ops ops = { .report = report };

static int run_runq_latency(struct tool_ctx *ctx)
{
	struct tracer *t = tracer__begin(ctx, "runq_latency", &ops);
	if (!t)
		return -1;
	struct runq_latency_bpf *s = runq_latency_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	s->rodata->targ_per_process = tool__arg_bool(ctx, "per_process", false);
	return tracer__start(ctx, t, s, s->skeleton, NULL);
}

const struct tool tool_runq_latency = {
	.name = "runq_latency",
	.schema = SCHEMA_runq_latency,
	.run = run_runq_latency,
};
