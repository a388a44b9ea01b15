/* trace_start, trace_read, trace_stop: a built-in tracer run in the
 * background, watched for as long as its duration (up to the trace_ms
 * limit) by a client whose calls must stay short.
 *
 * trace_start checks `arguments` against the tracer's own inputSchema and
 * runs the tracer's handler with ctx->bg set: its tool__defer() then makes
 * a background trace (the host's, src/mcp/bgtrace.c) instead of a job, and
 * the call answers with its handle. Any tool built on the tracers' common
 * run (src/tracers/tracer_run.c) can run so; tool__is_tracer() knows them
 * by the report their outputSchema describes, so a new tracer needs nothing
 * here. trace_read and trace_stop hand the handle to the host, which checks
 * that it is the caller's and writes the report.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../json/schema.h"
#include "tool.h"

/* The tracers this caller may start, as an array value. */
static void tracer_names(struct tool_ctx *ctx, struct jw *w)
{
	jw__arr(w);
	for (unsigned k = 0; k < tool_count; k++)
		if (tool__is_tracer(tool_table[k]) && tool__allowed(ctx->env, tool_table[k]))
			jw__str(w, tool_table[k]->name);
	jw__arr_end(w);
}

static const struct tool *find_tracer(struct tool_ctx *ctx, const char *name)
{
	const struct tool *t = tool__find(name, strlen(name));
	if (t && tool__is_tracer(t) && tool__allowed(ctx->env, t))
		return t;
	if (t && tool__is_tracer(t))
		tool__fail(ctx, ERR_NOT_OFFERED, "the tracer %s is not offered to this caller (its profile, "
			   "--allow-tools or --deny-tools); context.tracers lists those it may start", name);
	else
		tool__fail(ctx, ERR_NOT_A_TRACER, "'%s' is not a built-in tracer; trace_start runs one of those in "
			   "context.tracers", name);
	jw__kstr(&ctx->err->ctx, "pointer", "/tracer");
	jw__key(&ctx->err->ctx, "tracers");
	tracer_names(ctx, &ctx->err->ctx);
	return NULL;
}

/* `arguments` against the tracer's inputSchema, as tools/call checks a
 * call's (missing arguments validate as {}). */
static int check_args(struct tool_ctx *ctx, const struct tool *t, int args)
{
	static const char empty[] = "{}";
	jsmntok_t etok[1] = { { .type = JSMN_OBJECT, .start = 0, .end = 2, .size = 0, .parent = -1 } };
	struct jdoc ed = { .js = empty, .len = 2, .t = etok, .n = 1 };
	struct sch_err se;
	const struct jdoc *d = args >= 0 ? ctx->doc : &ed;
	if (!schema__validate_args(d, args >= 0 ? args : 0, sch_tools[t->schema].input, limits[LIM_STRING_BYTES], &se))
		return 0;
	tool__fail(ctx, ERR_SCHEMA, "argument /arguments%s of %s: %s", se.pointer, t->name, se.msg);
	jw__key(&ctx->err->ctx, "pointer");
	jw__strf(&ctx->err->ctx, "/arguments%s", se.pointer);
	return -1;
}

static void write_started(struct jw *w, uint64_t real_ns)
{
	time_t s = (time_t)(real_ns / 1000000000ull);
	struct tm tm;
	char date[40];
	gmtime_r(&s, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	jw__key(w, "started");
	jw__strf(w, "%s.%03uZ", date, (unsigned)(real_ns % 1000000000ull / 1000000));
}

static void write_handle(struct tool_ctx *ctx, const struct tool *t, const struct tool_bg *bg)
{
	const struct tool_facts *f = ctx->facts;
	bool identity = f && f->owner && !strcmp(f->owner, "identity");
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__kstr(w, "handle", bg->handle);
	jw__kstr(w, "tracer", t->name);
	jw__kuint(w, "duration_ms", bg->duration_ms);
	write_started(w, bg->started_real_ns);
	jw__kstr(w, "owner", identity ? "identity" : "session");
	jw__kuint(w, "owner_id", f ? f->owner_id : 0);
	jw__key(w, "lease_ms");
	if (identity && f->lease_ms)
		jw__uint(w, f->lease_ms);
	else
		jw__null(w);
	jw__obj_end(w);
}

static int run_trace_start(struct tool_ctx *ctx)
{
	const char *name = tool__arg_str(ctx, "tracer");
	const struct tool *t = name ? find_tracer(ctx, name) : NULL;
	if (!t)
		return -1;
	int args = tool__arg(ctx, "arguments");
	/* the jobs limit before anything is loaded (the start checks it again) */
	if (check_args(ctx, t, args) || tool__trace_room(ctx))
		return -1;
	/* the tracer's handler reads its own arguments and defers into ctx->bg */
	struct tool_bg bg = { 0 };
	const struct tool *self = ctx->tool;
	int self_args = ctx->args;
	ctx->bg = &bg, ctx->tool = t, ctx->args = args;
	int rc = t->run(ctx);
	ctx->bg = NULL, ctx->tool = self, ctx->args = self_args;
	if (rc != TOOL_PENDING)
		return rc < 0 ? rc : tool__fail(ctx, ERR_INTERNAL, "%s answered without starting a trace", t->name);
	write_handle(ctx, t, &bg);
	return 0;
}

static int run_trace_read(struct tool_ctx *ctx)
{
	const char *handle = tool__arg_str(ctx, "handle");
	return tool__trace_read(ctx, handle ? handle : "", false);
}

static int run_trace_stop(struct tool_ctx *ctx)
{
	const char *handle = tool__arg_str(ctx, "handle");
	return tool__trace_read(ctx, handle ? handle : "", true);
}

const struct tool tool_trace_start = {
	.name = "trace_start",
	.schema = SCHEMA_trace_start,
	.run = run_trace_start,
};

const struct tool tool_trace_read = {
	.name = "trace_read",
	.schema = SCHEMA_trace_read,
	.run = run_trace_read,
};

const struct tool tool_trace_stop = {
	.name = "trace_stop",
	.schema = SCHEMA_trace_stop,
	.run = run_trace_stop,
};
