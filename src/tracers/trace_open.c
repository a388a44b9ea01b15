/* trace_open: open, openat and openat2 calls with path, flags and result,
 * as events. */
#include "trace_open.h"
#include "trace_open.skel.h"
#include "tracer_run.h"

static int event(struct tracer *t, struct jw *w, const void *data, size_t size)
{
	static const char *const sys[] = { [TRACE_OPEN_SYS_OPEN] = "open", [TRACE_OPEN_SYS_OPENAT] = "openat",
					   [TRACE_OPEN_SYS_OPENAT2] = "openat2" };
	const struct trace_open_event *e = data;
	if (size < sizeof(*e) || e->syscall < TRACE_OPEN_SYS_OPEN || e->syscall > TRACE_OPEN_SYS_OPENAT2)
		return 1;
	jw__obj(w);
	jw__kuint(w, "ts_ns", e->ts_ns);
	jw__kuint(w, "pid", e->tgid);
	jw__kuint(w, "tid", e->tid);
	tracer__kcomm(w, "comm", e->comm);
	tracer__kcgroup(t, w, e->cgroup_id, e->tgid);
	jw__kstr(w, "syscall", sys[e->syscall]);
	jw__key(w, "path");
	jw__strn(w, e->path, strnlen(e->path, sizeof(e->path)));
	jw__kbool(w, "path_truncated", e->path_truncated);
	jw__kbool(w, "path_unreadable", e->path_unreadable);
	jw__kint(w, "dfd", e->dfd);
	tracer__kopen_flags(w, "flags", e->flags);
	jw__kuint(w, "flags_value", e->flags);
	jw__kuint(w, "mode", e->mode);
	if (e->ret >= 0) {
		jw__kint(w, "fd", e->ret);
	} else {
		tracer__kerrno(w, -e->ret);
	}
	jw__kuint(w, "latency_ns", e->latency_ns);
	jw__obj_end(w);
	return 0;
}

static uint64_t ring_dropped(struct tracer *t)
{
	return ((struct trace_open_bpf *)t->skel)->bss->events_dropped;
}

static const struct tracer_ops ops = { .event = event, .ring_dropped = ring_dropped };

static int run_trace_open(struct tool_ctx *ctx)
{
	struct tracer *t = tracer__begin(ctx, "trace_open", &ops);
	if (!t)
		return -1;
	struct trace_open_bpf *s = trace_open_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	s->rodata->targ_failed_only = tool__arg_bool(ctx, "failed_only", false);
	t->needs_tracefs = true;
	return tracer__start(ctx, t, s, s->skeleton, s->maps.events);
}

const struct tool tool_trace_open = {
	.name = "trace_open",
	.schema = SCHEMA_trace_open,
	.run = run_trace_open,
};
