/* tools/list and tools/call: the bridge between JSON-RPC and tool handlers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kern/session.h"
#include "../sys/audit.h"
#include "mcp.h"
#include "schema.h"

bool server__tool_allowed(const struct server *s, const struct tool *t)
{
	if (sch_tools[t->schema].profile > s->opt.profile)
		return false;
	for (unsigned k = 0; k < s->opt.n_deny; k++)
		if (!strcmp(s->opt.deny[k], t->name))
			return false;
	if (!s->opt.n_allow)
		return true;
	for (unsigned k = 0; k < s->opt.n_allow; k++)
		if (!strcmp(s->opt.allow[k], t->name))
			return true;
	return false;
}

/* Cursor: the decimal index of the next visible tool, as a string. */
static int parse_cursor(const struct jdoc *d, int tok, unsigned *start)
{
	char buf[16];
	if (tok < 0 || jdoc__is_null(d, tok)) {
		*start = 0;
		return 0;
	}
	if (jdoc__str(d, tok, buf, sizeof(buf), NULL) || !buf[0])
		return -1;
	char *end;
	unsigned long v = strtoul(buf, &end, 10);
	if (*end || v > tool_count)
		return -1;
	*start = (unsigned)v;
	return 0;
}

void mcp__tools_list(struct server *s, const struct mcp_req *r)
{
	unsigned start;
	if (parse_cursor(r->doc, jdoc__get(r->doc, r->params, "cursor"), &start)) {
		mcp__error(s, r->id, r->id_len, MCP_INVALID_PARAMS, "invalid cursor: pass back nextCursor unchanged", NULL, 0);
		return;
	}
	struct jw w;
	mcp__result_begin(s, &w, r);
	jw__obj(&w);
	jw__key(&w, "tools");
	jw__arr(&w);
	unsigned i = start, shown = 0;
	for (; i < tool_count && shown < limits[LIM_TOOLS_PAGE]; i++) {
		const struct tool *t = tool_table[i];
		if (!server__tool_allowed(s, t))
			continue;
		const struct sch_tool *st = &sch_tools[t->schema];
		jw__raw(&w, st->descriptor, st->descriptor_len);
		shown++;
	}
	jw__arr_end(&w);
	while (i < tool_count && !server__tool_allowed(s, tool_table[i]))
		i++;
	if (i < tool_count) {
		char cur[16];
		snprintf(cur, sizeof(cur), "%u", i);
		jw__kstr(&w, "nextCursor", cur);
	}
	jw__obj_end(&w);
	mcp__result_end(s, &w, r);
}

/* ---- results ----------------------------------------------------------- */

static void write_error_object(struct jw *w, const struct tool_err *e)
{
	jw__obj(w);
	jw__key(w, "error");
	jw__obj(w);
	jw__kstr(w, "category", tool__cat_name(e->cat));
	jw__kstr(w, "code", e->code);
	jw__kstr(w, "message", e->msg);
	jw__kbool(w, "recoverable", e->recoverable);
	jw__key(w, "context");
	jw__obj(w);
	if (e->ctx.len && !e->ctx.overflow)
		jw__raw(w, e->ctx.buf, e->ctx.len);
	jw__obj_end(w);
	jw__obj_end(w);
	jw__obj_end(w);
}

/* The context writer holds object members only; its first member must not
 * get a leading comma, so it runs at depth 1 with no items. */
static void err_reset(struct tool_err *e)
{
	e->set = false;
	jw__init_members(&e->ctx, e->ctx_buf, sizeof(e->ctx_buf));
}

/* Sends the CallToolResult; -1 (nothing sent) if it overflows the reply. */
static int send_result(struct server *s, const struct mcp_req *r, const char *sc, size_t n, bool is_error)
{
	struct jw w;
	mcp__result_begin(s, &w, r);
	jw__obj(&w);
	jw__key(&w, "content");
	jw__arr(&w);
	jw__obj(&w);
	jw__kstr(&w, "type", "text");
	jw__key(&w, "text");
	jw__strn(&w, sc, n);
	jw__obj_end(&w);
	jw__arr_end(&w);
	jw__key(&w, "structuredContent");
	jw__raw(&w, sc, n);
	jw__kbool(&w, "isError", is_error);
	jw__obj_end(&w);
	if (w.overflow)
		return -1;
	mcp__result_end(s, &w, r);
	return 0;
}

static void send_tool_error(struct server *s, const struct mcp_req *r, struct tool_err *e)
{
	struct jw w;
	jw__init(&w, s->sc, s->resp_cap - 1);
	write_error_object(&w, e);
	s->n_errors++;
	server__log(s, LOG_INFO, "tool error %s: %s", e->code, e->msg);
	if (send_result(s, r, s->sc, w.len, true))
		mcp__error(s, r->id, r->id_len, MCP_INTERNAL_ERROR, "error result larger than response_bytes",
			   "response_bytes", limits[LIM_RESPONSE_BYTES]);
}

static void too_big(struct server *s, const struct mcp_req *r, struct tool_ctx *ctx, size_t got)
{
	err_reset(ctx->err);
	tool__fail_limit(ctx, LIM_RESPONSE_BYTES,
			 "the result (%s%zu bytes, twice: structuredContent and its text copy) does not fit "
			 "response_bytes; narrow the query (limit, offset, pattern) or raise --limit response_bytes=N",
			 got >= s->resp_cap - 1 ? "over " : "", got);
	send_tool_error(s, r, ctx->err);
}

static int self_check(struct server *s, const struct tool *t, const char *sc, size_t n)
{
	struct jdoc d;
	struct json_perr pe;
	struct sch_err se;
	if (jdoc__parse(&d, sc, n, s->vtok, s->vtok_cap, 1024, &pe)) {
		server__log(s, LOG_ERROR, "%s produced invalid JSON at %zu: %s", t->name, pe.offset, pe.what);
		return -1;
	}
	if (schema__validate(&d, 0, sch_tools[t->schema].output, &se)) {
		server__log(s, LOG_ERROR, "%s output fails its outputSchema at %s: %s", t->name, se.pointer, se.msg);
		return -1;
	}
	return 0;
}

static const struct tool *lookup(struct server *s, const struct mcp_req *r, int name_tok)
{
	const struct jdoc *d = r->doc;
	char name[LIMIT_TOOL_NAME_BYTES];
	if (!jdoc__is_str(d, name_tok)) {
		mcp__error(s, r->id, r->id_len, MCP_INVALID_PARAMS, "tools/call needs params.name (a string)", NULL, 0);
		return NULL;
	}
	const struct tool *t = NULL;
	size_t len;
	if (!jdoc__str(d, name_tok, name, sizeof(name), &len))
		t = tool__find(name, len);
	if (!t || !server__tool_allowed(s, t)) {
		char msg[LIMIT_TOOL_NAME_BYTES + 128];
		snprintf(msg, sizeof(msg), "unknown tool '%.*s' (not in this server's %s profile; see tools/list)",
			 (int)(d->t[name_tok].end - d->t[name_tok].start) > 63 ? 63 : d->t[name_tok].end - d->t[name_tok].start,
			 d->js + d->t[name_tok].start, server__profile_name(s->opt.profile));
		mcp__error(s, r->id, r->id_len, MCP_INVALID_PARAMS, msg, NULL, 0);
		return NULL;
	}
	return t;
}

struct tool_err *mcp__tool_err(void)
{
	static struct tool_err err;   /* 72 KiB: kept off the stack */
	err_reset(&err);
	return &err;
}

const char *mcp__tool_answer(struct server *s, const struct mcp_req *r, struct tool_ctx *ctx, struct jw *out,
			     int rc)
{
	struct tool_err *err = ctx->err;
	const struct tool *t = ctx->tool;
	if (rc || err->set) {
		if (!err->set)
			tool__fail(ctx, ERR_INTERNAL, "%s failed without a reason", t->name);
		send_tool_error(s, r, err);
		return err->code;
	}
	if (out->overflow) {
		too_big(s, r, ctx, out->len);
		return err->code;
	}
	if (s->opt.validate_output && self_check(s, t, s->sc, out->len)) {
		mcp__error(s, r->id, r->id_len, MCP_INTERNAL_ERROR, "tool output failed its outputSchema (see stderr)", NULL, 0);
		return "OUTPUT_SCHEMA";
	}
	if (send_result(s, r, s->sc, out->len, false)) {
		too_big(s, r, ctx, out->len);
		return err->code;
	}
	server__log(s, LOG_DEBUG, "%s: %.3f ms, %zu bytes", t->name,
		    (double)(now_ns() - r->t0_ns) / 1e6, out->len);
	return NULL;
}

static const char pending[] = "PENDING";

/* Runs one call and answers it; returns NULL on success, the error code
 * that was answered (for the audit log), or `pending` for a job. */
static const char *run_call(struct server *s, const struct mcp_req *r, const struct tool *t, int args)
{
	const struct jdoc *d = r->doc;
	struct tool_err *err = mcp__tool_err();
	struct jw out;
	jw__init(&out, s->sc, s->resp_cap - 1);
	struct tool_ctx ctx = {
		.srv = s, .doc = d, .args = args, .out = &out, .scratch = &s->scratch, .err = err,
		.deadline_ns = r->t0_ns + limits[LIM_CALL_MS] * 1000000ull, .job = -1, .tool = t,
		.req_id = r->id, .req_id_len = r->id_len, .t0_ns = r->t0_ns,
	};
	int meta = jdoc__get(d, r->params, "_meta");
	int tok = meta >= 0 ? jdoc__get(d, meta, "progressToken") : -1;
	int64_t num;
	if (tok >= 0 && (jdoc__is_str(d, tok) || !jdoc__int(d, tok, &num))) {   /* string or integer */
		ctx.progress_token = d->js + d->t[tok].start - (jdoc__is_str(d, tok) ? 1 : 0);
		ctx.progress_token_len = (size_t)(d->t[tok].end - d->t[tok].start) + (jdoc__is_str(d, tok) ? 2 : 0);
	}

	struct sch_err se;
	static const char empty[] = "{}";
	struct jdoc ed;
	jsmntok_t etok[1] = { { .type = JSMN_OBJECT, .start = 0, .end = 2, .size = 0, .parent = -1 } };
	const struct jdoc *ad = d;
	int at = args;
	if (args < 0) {
		ed = (struct jdoc){ .js = empty, .len = 2, .t = etok, .n = 1 };
		ad = &ed, at = 0;   /* missing arguments validate as {} */
	}
	if (schema__validate_args(ad, at, sch_tools[t->schema].input, limits[LIM_STRING_BYTES], &se)) {
		tool__fail(&ctx, ERR_SCHEMA, "argument %s: %s",
			   se.pointer[0] ? se.pointer : "(root)", se.msg);
		jw__kstr(&err->ctx, "pointer", se.pointer);
		send_tool_error(s, r, err);
		return err->code;
	}
	int rc = t->run(&ctx);
	if (rc == TOOL_PENDING && !err->set)
		return pending;
	return mcp__tool_answer(s, r, &ctx, &out, rc);
}

void mcp__tools_call(struct server *s, const struct mcp_req *r)
{
	const struct jdoc *d = r->doc;
	const struct tool *t = lookup(s, r, jdoc__get(d, r->params, "name"));
	if (!t)
		return;
	int args = jdoc__get(d, r->params, "arguments");
	if (args >= 0 && !jdoc__is_obj(d, args) && !jdoc__is_null(d, args)) {
		mcp__error(s, r->id, r->id_len, MCP_INVALID_PARAMS, "params.arguments must be an object", NULL, 0);
		return;
	}
	if (args >= 0 && !jdoc__is_obj(d, args))
		args = -1;
	s->n_tool_calls++;
	session__journal_reset();
	const char *code = run_call(s, r, t, args);
	if (code == pending)
		return;   /* audited when the job ends */
	struct audit_call ac = {
		.session = s->session_id, .tool = t->name, .ok = !code, .code = code,
		.duration_ns = now_ns() - r->t0_ns,
	};
	if (args >= 0) {
		ac.args = d->js + d->t[args].start;
		ac.args_len = (size_t)(d->t[args].end - d->t[args].start);
	}
	audit__call(&ac);
}
