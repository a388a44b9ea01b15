/* trace_exec: program executions (filename, argv) and how the processes
 * started while tracing ended (exit status or signal), as events. */
#include "trace_exec.h"
#include "trace_exec.skel.h"
#include "tracer_run.h"

static void write_argv(struct jw *w, const struct trace_exec_exec *e)
{
	uint32_t n = e->args_bytes < TRACE_EXEC_ARGS_BYTES ? e->args_bytes : TRACE_EXEC_ARGS_BYTES;
	jw__key(w, "argv");
	jw__arr(w);
	/* NUL-separated strings; the last may lack its NUL when cut */
	for (uint32_t at = 0; at < n;) {
		size_t len = strnlen(e->args + at, n - at);
		jw__strn(w, e->args + at, len);
		at += (uint32_t)len + 1;
	}
	jw__arr_end(w);
}

struct head {
	const char *kind;
	uint64_t ts, cgroup_id;
	uint32_t pid, ppid, uid;
	const char *comm;
};

static void write_head(struct tracer *t, struct jw *w, const struct head *h)
{
	jw__kstr(w, "kind", h->kind);
	jw__kuint(w, "ts_ns", h->ts);
	jw__kuint(w, "pid", h->pid);
	jw__kuint(w, "ppid", h->ppid);
	jw__kuint(w, "uid", h->uid);
	tracer__kcomm(w, "comm", h->comm);
	tracer__kcgroup(t, w, h->cgroup_id, h->pid);
}

static int write_exit(struct tracer *t, struct jw *w, const struct trace_exec_exit *x)
{
	const struct head h = { "exit", x->ts_ns, x->cgroup_id, x->pid, x->ppid, x->uid, x->comm };
	jw__obj(w);
	write_head(t, w, &h);
	/* a wait status: exit code in bits 8-15, else the signal in 0-6, 0x80 core */
	if (x->exit_code & 0x7f) {
		jw__kint(w, "signal", x->exit_code & 0x7f);
		jw__kbool(w, "core_dumped", x->exit_code & 0x80);
	} else {
		jw__kint(w, "exit_code", (x->exit_code >> 8) & 0xff);
	}
	jw__kuint(w, "runtime_ns", x->runtime_ns);
	jw__obj_end(w);
	return 0;
}

static int event(struct tracer *t, struct jw *w, const void *data, size_t size)
{
	const struct trace_exec_exec *e = data;
	if (size >= sizeof(struct trace_exec_exit) && e->kind == TRACE_EXEC_KIND_EXIT)
		return write_exit(t, w, data);
	if (size < sizeof(*e) || e->kind != TRACE_EXEC_KIND_EXEC)
		return 1;
	const struct head h = { "exec", e->ts_ns, e->cgroup_id, e->pid, e->ppid, e->uid, e->comm };
	jw__obj(w);
	write_head(t, w, &h);
	jw__key(w, "filename");
	jw__strn(w, e->filename, strnlen(e->filename, sizeof(e->filename)));
	write_argv(w, e);
	jw__kuint(w, "argc", e->argc);
	jw__kbool(w, "args_truncated", e->args_truncated);
	jw__kbool(w, "args_unreadable", e->args_unreadable);
	jw__obj_end(w);
	return 0;
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	(void)ctx;
	jw__kuint(w, "exits_untracked", ((struct trace_exec_bpf *)t->skel)->bss->exits_untracked);
	return 0;
}

static uint64_t ring_dropped(struct tracer *t)
{
	return ((struct trace_exec_bpf *)t->skel)->bss->events_dropped;
}

static const struct tracer_ops ops = { .event = event, .report = report, .ring_dropped = ring_dropped };

static int run_trace_exec(struct tool_ctx *ctx)
{
	struct tracer *t = tracer__begin(ctx, "trace_exec", &ops);
	if (!t)
		return -1;
	struct trace_exec_bpf *s = trace_exec_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	s->rodata->targ_ppid = (uint32_t)tool__arg_int(ctx, "ppid", 0);
	s->rodata->targ_uid = tool__arg_int(ctx, "uid", -1);
	return tracer__start(ctx, t, s, s->skeleton, s->maps.events);
}

const struct tool tool_trace_exec = {
	.name = "trace_exec",
	.schema = SCHEMA_trace_exec,
	.run = run_trace_exec,
};
