/* tools/call: checked on the loop, run on a worker, answered from there.
 *
 * The loop looks the tool up and copies the request (line and tokens: the
 * session's input buffer moves on) into a call, which a worker runs: schema
 * check, the handler, and the CallToolResult built in the worker's buffers
 * and appended to the session's output. A handler that defers (a stream, a
 * tracer) leaves a job spec the loop installs when the call comes back.
 * A cancelled call's reply is dropped: the decision is taken under the
 * session's output lock, so a reply is either sent whole or not at all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mcp.h"

#include "../assert.h"
#include "../sys/metrics.h"
#include "../core/clock.h"
#include "../kern/owned.h"
#include "../sys/audit.h"
#include "../json/schema.h"

struct call {
	struct bio_task task;
	struct session *s;
	const struct tool *tool;       /* a tools/call, or NULL for fn */
	call_fn fn;                    /* another request run on a worker (resources, completion) */
	struct owner *owner;           /* a modern request's: its identity's objects, else the session's */
	struct jdoc doc;               /* over the copy below */
	struct mcp_req req;
	int args;
	struct tool_facts facts;
	const char *token;             /* raw JSON of _meta.progressToken, or NULL */
	size_t token_len;
	uint64_t deadline_ns;
	struct host_ref ref;
	bool pending;                  /* the handler deferred: spec holds the job */
	struct job_spec spec;
	bool answered;                 /* its reply was sent (not an error, not cancelled) */
	struct bgtrace *bg_started;    /* trace_start: the trace, installed once the call is back */
	struct bgtrace *bg_spent;      /* trace_read/trace_stop: a trace whose handle it spent */
#ifdef EBPF_MCP_FAULTS
	int64_t fail_alloc;            /* _meta FAULT_META_KEY: the handler's allocation to fail, -1 none */
#endif
	/* the request line, then its tokens */
};

static bool validate_output;   /* set before the workers start */

/* ---- worker buffers ------------------------------------------------------------ */

static void *map_buf(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void *call__worker_init(unsigned i)
{
	(void)i;
	struct worker *w = map_buf(sizeof(*w));
	if (!w)
		return NULL;
	w->cap = limits[LIM_RESPONSE_BYTES] + 1;
	w->sc = map_buf(w->cap);
	w->resp = map_buf(w->cap);
	w->err = map_buf(sizeof(*w->err));
	if (validate_output) {
		/* every JSON token takes at least 2 bytes ("0,"); reserved, not touched */
		w->vtok_cap = (unsigned)(w->cap / 2);
		w->vtok = map_buf(sizeof(jsmntok_t) * w->vtok_cap);
	}
	if (!w->sc || !w->resp || !w->err || (validate_output && !w->vtok) ||
	    arena__init(&w->scratch, limits[LIM_SCRATCH_BYTES]))
		return NULL;
	return w;
}

/* The context writer holds object members only. */
struct tool_err *call__err(struct worker *w)
{
	struct tool_err *e = w->err;
	e->set = false;
	jw__init_members(&e->ctx, e->ctx_buf, sizeof(e->ctx_buf));
	return e;
}

void call__ctx(struct tool_ctx *ctx, struct session *s, struct worker *w, struct jw *out)
{
	jw__init(out, w->sc, w->cap - 1);
	*ctx = (struct tool_ctx){ .env = &s->env, .host = &call__host, .objs = s->objs, .out = out,
				  .scratch = &w->scratch, .err = call__err(w), .args = -1 };
	tool__ctx_begin(ctx);
}

/* ---- the answer ------------------------------------------------------------------ */

/* Appends w->resp[0..len) unless the call was cancelled meanwhile. */
static bool send_unless(struct session *s, struct worker *w, const struct mcp_req *r, size_t len, const bool *cancelled)
{
	pthread_mutex_lock(&s->out_lock);
	bool drop = cancelled && *cancelled;
	pthread_mutex_unlock(&s->out_lock);
	/* a cancel landing here finds the reply already queued: the client
	 * sent it after the call had ended, which MCP allows */
	if (!drop)
		session__reply(s, r, w->resp, len);
	return !drop;
}

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

/* The CallToolResult line in w->resp; 0, or -1 when it does not fit. */
static int build_result(struct worker *w, const struct mcp_req *r, const char *sc, size_t n, bool is_error,
			size_t *len)
{
	struct jw o;
	jw__init(&o, w->resp, w->cap - 1);
	rpc__result_begin(&o, r->id, r->id_len);
	jw__obj(&o);
	jw__key(&o, "content");
	jw__arr(&o);
	jw__obj(&o);
	jw__kstr(&o, "type", "text");
	jw__key(&o, "text");
	jw__strn(&o, sc, n);
	jw__obj_end(&o);
	jw__arr_end(&o);
	jw__key(&o, "structuredContent");
	jw__raw(&o, sc, n);
	jw__kbool(&o, "isError", is_error);
	rpc__result_extras(&o, r->modern, MCP_TTL_NONE, false);
	jw__obj_end(&o);
	jw__obj_end(&o);
	*len = o.len;
	return o.overflow ? -1 : 0;
}

static size_t rpc_error_line(struct worker *w, const struct mcp_req *r, int code, const char *msg,
			     const char *limit, uint64_t value)
{
	struct jw o;
	jw__init(&o, w->resp, w->cap - 1);
	rpc__error(&o, r->id, r->id_len, code, msg, limit, value);
	return o.len;
}

/* A tool error result (or, if even that overflows, a JSON-RPC error). */
static size_t error_line(struct session *s, struct worker *w, const struct mcp_req *r, struct tool_err *e)
{
	struct jw o;
	size_t len;
	jw__init(&o, w->sc, w->cap - 1);
	write_error_object(&o, e);
	__atomic_add_fetch(&s->n_errors, 1, __ATOMIC_RELAXED);
	session__log(s, LOG_INFO, "tool error %s: %s", e->code, e->msg);
	if (build_result(w, r, w->sc, o.len, true, &len))
		len = rpc_error_line(w, r, MCP_INTERNAL_ERROR, "error result larger than response_bytes", "response_bytes",
				     limits[LIM_RESPONSE_BYTES]);
	return len;
}

static size_t too_big(struct session *s, struct worker *w, const struct mcp_req *r, struct tool_ctx *ctx, size_t got)
{
	call__err(w);
	tool__fail_limit(ctx, LIM_RESPONSE_BYTES,
			 "the result (%s%zu bytes, twice: structuredContent and its text copy) does not fit "
			 "response_bytes; narrow the query (limit, offset, pattern) or raise --limit response_bytes=N",
			 got >= w->cap - 1 ? "over " : "", got);
	return error_line(s, w, r, ctx->err);
}

static int self_check(struct session *s, struct worker *w, const struct tool *t, size_t n)
{
	struct jdoc d;
	struct json_perr pe;
	struct sch_err se;
	if (jdoc__parse(&d, w->sc, n, w->vtok, w->vtok_cap, 1024, &pe)) {
		session__log(s, LOG_ERROR, "%s produced invalid JSON at %zu: %s", t->name, pe.offset, pe.what);
		return -1;
	}
	if (schema__validate(&d, 0, sch_tools[t->schema].output, &se)) {
		session__log(s, LOG_ERROR, "%s output fails its outputSchema at %s: %s", t->name, se.pointer, se.msg);
		return -1;
	}
	return 0;
}

/* Builds the reply for rc/ctx into w->resp; returns its length and sets
 * *code to the error code answered (NULL on success). */
static size_t answer_line(struct session *s, struct worker *w, const struct mcp_req *r, struct tool_ctx *ctx,
			  struct jw *out, int rc, const char **code)
{
	struct tool_err *err = ctx->err;
	const struct tool *t = ctx->tool;
	size_t len;
	*code = NULL;
	if (rc || err->set) {
		if (!err->set)
			tool__fail(ctx, ERR_INTERNAL, "%s failed without a reason", t->name);
		*code = err->code;
		return error_line(s, w, r, err);
	}
	if (out->overflow) {
		len = too_big(s, w, r, ctx, out->len);
		*code = err->code;
		return len;
	}
	if (s->env.cfg->validate_output && self_check(s, w, t, out->len)) {
		*code = "OUTPUT_SCHEMA";
		return rpc_error_line(w, r, MCP_INTERNAL_ERROR, "tool output failed its outputSchema (see stderr)", NULL, 0);
	}
	if (build_result(w, r, w->sc, out->len, false, &len)) {
		len = too_big(s, w, r, ctx, out->len);
		*code = err->code;
		return len;
	}
	session__log(s, LOG_DEBUG, "%s: %.3f ms, %zu bytes", t->name, (double)(now_ns() - r->t0_ns) / 1e6, out->len);
	return len;
}

const char *call__answer(struct session *s, struct worker *w, const struct mcp_req *r, struct tool_ctx *ctx,
			 struct jw *out, int rc)
{
	const char *code;
	size_t len = answer_line(s, w, r, ctx, out, rc, &code);
	const struct host_ref *ref = ctx->host_data;
	return send_unless(s, w, r, len, &ref->cancelled) ? code : "CANCELLED";
}

/* ---- the host: what handlers call back ---------------------------------------------- */

/* trace_start's tracer deferred: a background trace, not a job. */
static int defer_background(struct tool_ctx *ctx, struct session *s, struct call *c, const struct job_ops *ops,
			    void *st, const int *fds, unsigned n_fds, uint64_t duration_ms)
{
	struct job_spec spec = { .ops = ops, .st = st, .n_fds = n_fds, .duration_ms = duration_ms };
	int fail = 0;
	if (n_fds > JOB_MAX_FDS)
		fail = tool__fail(ctx, ERR_INTERNAL, "a job watches at most %d descriptors", JOB_MAX_FDS);
	else if (!ops->peek)
		fail = tool__fail(ctx, ERR_INTERNAL, "%s cannot run in the background", ctx->tool->name);
	if (!fail) {
		memcpy(spec.fds, fds, n_fds * sizeof(int));
		fail = bgtrace__create(s->srv, ctx, __atomic_load_n(&s->n_jobs, __ATOMIC_RELAXED), &spec, &c->bg_started);
	}
	if (fail) {
		ops->release(st);
		return -1;
	}
	return TOOL_PENDING;
}

static int host_defer(struct tool_ctx *ctx, const struct job_ops *ops, void *st, const int *fds, unsigned n_fds,
		      uint64_t duration_ms)
{
	struct session *s = session__current;
	struct call *c = ((struct host_ref *)ctx->host_data)->call;
	ASSERT(!ctx->is_job && c);
	if (ctx->bg)
		return defer_background(ctx, s, c, ops, st, fds, n_fds, duration_ms);
	unsigned running = __atomic_load_n(&s->n_jobs, __ATOMIC_RELAXED);
	unsigned traces = bgtrace__count(s->srv, ctx->facts->owner_id);
	int fail = 0;
	if (running + traces >= limits[LIM_JOBS] || running >= JOB_SLOTS)
		fail = tool__fail_limit(ctx, LIM_JOBS, "the jobs limit (%llu) is reached: %u calls are running over time "
					"(streams, tracers) in this session and its caller holds %u background traces; "
					"wait for a call to end or cancel it, or trace_stop a trace",
					(unsigned long long)limits[LIM_JOBS], running, traces);
	else if (n_fds > JOB_MAX_FDS)
		fail = tool__fail(ctx, ERR_INTERNAL, "a job watches at most %d descriptors",
				  JOB_MAX_FDS);
	if (fail) {
		ops->release(st);
		return -1;
	}
	c->spec = (struct job_spec){ .ops = ops, .st = st, .n_fds = n_fds, .duration_ms = duration_ms };
	memcpy(c->spec.fds, fds, n_fds * sizeof(int));
	c->pending = true;
	return TOOL_PENDING;
}

static void host_progress(struct tool_ctx *ctx, uint64_t progress, uint64_t total, const char *message)
{
	char line[LIMIT_ID_BYTES + LIMIT_ERROR_MSG_BYTES + 256];
	struct jw w;
	jw__init(&w, line, sizeof(line));
	jw__obj(&w);
	jw__kstr(&w, "jsonrpc", "2.0");
	jw__kstr(&w, "method", "notifications/progress");
	jw__key(&w, "params");
	jw__obj(&w);
	jw__key(&w, "progressToken");
	jw__raw(&w, ctx->progress_token, ctx->progress_token_len);
	jw__kuint(&w, "progress", progress);
	if (total)
		jw__kuint(&w, "total", total);
	if (message)
		jw__kstr(&w, "message", message);
	jw__obj_end(&w);
	jw__obj_end(&w);
	if (!w.overflow)
		session__send(session__current, session__route, line, w.len, OUT_NOTE);
}

static int host_trace_read(struct tool_ctx *ctx, const char *handle, bool stop)
{
	struct call *c = ((struct host_ref *)ctx->host_data)->call;
	ASSERT(c && !c->bg_spent);
	return bgtrace__read(c->s->srv, ctx, handle, stop, &c->bg_spent);
}

static void host_trace_list(struct tool_ctx *ctx, struct jw *w)
{
	bgtrace__list(session__current->srv, ctx, w);
}

static int host_trace_room(struct tool_ctx *ctx)
{
	struct session *s = session__current;
	return bgtrace__room(s->srv, ctx, __atomic_load_n(&s->n_jobs, __ATOMIC_RELAXED));
}

const struct tool_host call__host = { .defer = host_defer, .progress = host_progress, .trace_read = host_trace_read,
				      .trace_list = host_trace_list, .trace_room = host_trace_room };

/* ---- running a call ----------------------------------------------------------------- */

static void audit(struct session *s, const struct call *c, const struct owned *objs, const char *code)
{
	struct audit_call ac = { .session = s->id, .who = &s->env.who, .objs = objs, .tool = c->tool->name,
				 .ok = !code, .code = code, .duration_ns = now_ns() - c->req.t0_ns };
	metrics__tool(c->tool->schema, code, ac.duration_ns);
	if (c->args >= 0) {
		ac.args = c->doc.js + c->doc.t[c->args].start;
		ac.args_len = (size_t)(c->doc.t[c->args].end - c->doc.t[c->args].start);
	}
	audit__call(&ac);
}

/* A call's context on worker w: its session, registry, clocks, token. */
static void call_ctx(struct call *c, struct worker *w, struct tool_ctx *ctx, struct jw *out, struct owned *objs)
{
	call__ctx(ctx, c->s, w, out);
	ctx->objs = objs;
	ctx->host_data = &c->ref;
	ctx->facts = &c->facts;
	ctx->doc = &c->doc, ctx->tool = c->tool;
	ctx->deadline_ns = c->deadline_ns;
	ctx->req_id = c->req.id, ctx->req_id_len = c->req.id_len, ctx->t0_ns = c->req.t0_ns;
	ctx->progress_token = c->token, ctx->progress_token_len = c->token_len;
}

/* ---- fault injection (test builds only) ---------------------------------------------
 *
 * build/test/ebpf-mcp-faults (-DEBPF_MCP_FAULTS) takes _meta FAULT_META_KEY,
 * an integer n, on tools/call: the handler's nth heap allocation fails with
 * ENOMEM (0 counts them, none fails), and stderr gets one line saying
 * whether it did and how many the handler made. The tests walk every
 * allocation of a tool path with it. bin/ebpf-mcp has none of this: the
 * key means nothing there, so no client can make the product fail. */
#ifdef EBPF_MCP_FAULTS
#include <unistd.h>
#include "../mem/heap.h"
#define FAULT_META_KEY "ebpf-mcp/failAlloc"

static void fault_parse(struct call *c)
{
	const struct jdoc *d = &c->doc;
	int meta = jdoc__get(d, c->req.params, "_meta");
	int tok = meta >= 0 ? jdoc__get(d, meta, FAULT_META_KEY) : -1;
	int64_t n;
	c->fail_alloc = tok >= 0 && !jdoc__is_str(d, tok) && !jdoc__int(d, tok, &n) && n >= 0 ? n : -1;
}

static void fault_arm(const struct call *c)
{
	if (c->fail_alloc >= 0)
		heap__fault_arm((uint64_t)c->fail_alloc);
}

/* One write, so the line is whole among other stderr lines. */
static void fault_report(const struct call *c)
{
	if (c->fail_alloc < 0)
		return;
	uint64_t seen;
	bool fired = heap__fault_disarm(&seen);
	char line[160];
	int n = snprintf(line, sizeof(line), "fault: %s nth=%lld fired=%d allocations=%llu\n", c->tool->name,
			 (long long)c->fail_alloc, fired, (unsigned long long)seen);
	if (n > 0 && write(2, line, (size_t)n) < 0)
		return;   /* nothing to do about a closed stderr */
}
#else
static void fault_parse(struct call *c) { (void)c; }
static void fault_arm(const struct call *c) { (void)c; }
static void fault_report(const struct call *c) { (void)c; }
#endif

/* tools/call: the schema check, the handler, the answer (or a job). */
static void run_tool(struct call *c, struct worker *w, struct tool_ctx *ctx, struct jw *out)
{
	static const char empty[] = "{}";
	jsmntok_t etok[1] = { { .type = JSMN_OBJECT, .start = 0, .end = 2, .size = 0, .parent = -1 } };
	struct jdoc ed = { .js = empty, .len = 2, .t = etok, .n = 1 };
	struct sch_err se;
	const struct jdoc *ad = c->args >= 0 ? &c->doc : &ed;   /* missing arguments validate as {} */
	int rc;
	ctx->args = c->args;
	if (schema__validate_args(ad, c->args >= 0 ? c->args : 0, sch_tools[c->tool->schema].input,
				  limits[LIM_STRING_BYTES], &se)) {
		rc = tool__fail(ctx, ERR_SCHEMA, "argument %s: %s", se.pointer[0] ? se.pointer : "(root)", se.msg);
		jw__kstr(&ctx->err->ctx, "pointer", se.pointer);
	} else {
		fault_arm(c);
		rc = c->tool->run(ctx);
		fault_report(c);
	}
	if (!(rc == TOOL_PENDING && !ctx->err->set)) {
		const char *code = call__answer(c->s, w, &c->req, ctx, out, rc);
		c->answered = !code;
		audit(c->s, c, ctx->objs, code);
	}
}

static void run(struct bio_task *t, void *wd)
{
	struct call *c = (struct call *)t;
	struct worker *w = wd;
	struct session *s = c->s;
	struct owned *objs = c->owner ? owner__lock(c->owner) : s->objs;
	struct jw out;
	struct tool_ctx ctx;
	session__current = s;
	session__request_log = c->req.modern ? c->req.log_level : SESSION_LOG_LEGACY;
	session__route = c->req.route;
	owned__journal_reset(objs);
	call_ctx(c, w, &ctx, &out, objs);
	if (c->fn)
		c->fn(s, w, &c->req, &ctx);
	else
		run_tool(c, w, &ctx, &out);
	arena__reset(&w->scratch);
	if (c->owner)
		owner__unlock(c->owner);
	session__current = NULL;
	session__request_log = SESSION_LOG_LEGACY;
	session__route = 0;
}

static void done(struct bio_task *t)
{
	struct call *c = (struct call *)t;
	struct session *s = c->s;
	ASSERT(s->running == c);
	s->running = NULL;
	if (c->pending) {
		const char *stop = c->ref.cancelled ? "CANCELLED" : s->state == SESS_CLOSING ? "SHUTDOWN"
							       : s->state == SESS_DRAINING && !session__jobs_outlive_input(s) ? "EOF" : NULL;
		if (stop) {
			audit(s, c, NULL, stop);
			job__release_later(s->srv, c->spec.ops, c->spec.st);
		} else {
			job__install(s, &c->spec, c->tool, &c->req, c->token, c->token_len, c->deadline_ns, c->doc.js,
				     c->args >= 0 ? &c->doc.t[c->args] : NULL);
		}
	}
	if (c->bg_started) {
		/* a handle the client never saw (cancelled, failed) must not run on */
		if (c->answered && !c->ref.cancelled && s->state != SESS_CLOSING)
			bgtrace__install(c->bg_started);
		else
			bgtrace__discard(c->bg_started);
	}
	if (c->bg_spent)
		bgtrace__call_done(c->bg_spent);
	if (c->owner)
		owner__leave(c->owner);
	free(c);
	session__pump(s);
}

void call__reply(struct session *s, struct worker *w, const struct mcp_req *r, size_t len)
{
	const struct host_ref *ref = &((struct call *)((char *)r - offsetof(struct call, req)))->ref;
	send_unless(s, w, r, len, &ref->cancelled);
}

bool call__cancel(struct session *s, const char *id, size_t id_len)
{
	struct call *c = s->running;
	if (!c || (id && (c->req.id_len != id_len || memcmp(c->req.id, id, id_len))))
		return false;
	pthread_mutex_lock(&s->out_lock);
	c->ref.cancelled = true;
	pthread_mutex_unlock(&s->out_lock);
	return true;
}

/* ---- starting a call (loop) ---------------------------------------------------------- */

/* A call refused before it ran still gets its audit line (what a peer
 * tried beyond its profile is what a shared server should record). */
static void audit_refused(struct session *s, const struct mcp_req *r, const char *tool, const char *code)
{
	int args = jdoc__get(r->doc, r->params, "arguments");
	struct audit_call ac = { .session = s->id, .who = &s->env.who, .objs = NULL, .tool = tool, .ok = false,
				 .code = code, .duration_ns = now_ns() - r->t0_ns };
	if (args >= 0) {
		ac.args = r->doc->js + r->doc->t[args].start;
		ac.args_len = (size_t)(r->doc->t[args].end - r->doc->t[args].start);
	}
	audit__call(&ac);
}

static const struct tool *lookup(struct session *s, const struct mcp_req *r, int name_tok)
{
	const struct jdoc *d = r->doc;
	char name[LIMIT_TOOL_NAME_BYTES];
	if (!jdoc__is_str(d, name_tok)) {
		session__error(s, r, MCP_INVALID_PARAMS, "tools/call needs params.name (a string)", NULL, 0);
		audit_refused(s, r, "", "NO_TOOL_NAME");
		return NULL;
	}
	const struct tool *t = NULL;
	size_t len;
	if (!jdoc__str(d, name_tok, name, sizeof(name), &len))
		t = tool__find(name, len);
	if (!t || !tool__allowed(&s->env, t)) {
		char msg[LIMIT_TOOL_NAME_BYTES + 128];
		int n = d->t[name_tok].end - d->t[name_tok].start;
		snprintf(msg, sizeof(msg), "unknown tool '%.*s' (not in this server's %s profile; see tools/list)",
			 n > 63 ? 63 : n, d->js + d->t[name_tok].start, config__profile_name(s->env.profile));
		session__error(s, r, MCP_INVALID_PARAMS, msg, NULL, 0);
		/* the name as sent, cut to what a tool name may be */
		if (jdoc__str(d, name_tok, name, sizeof(name), NULL))
			snprintf(name, sizeof(name), "%.*s", n > 63 ? 63 : n, d->js + d->t[name_tok].start);
		audit_refused(s, r, name, t ? "TOOL_NOT_OFFERED" : "UNKNOWN_TOOL");
		return NULL;
	}
	return t;
}

/* A copy of the request that outlives the input buffer. */
static struct call *copy_request(const struct mcp_req *r)
{
	const struct jdoc *d = r->doc;
	size_t toks = (size_t)d->n * sizeof(jsmntok_t);
	struct call *c = malloc(sizeof(*c) + toks + d->len + 1);
	if (!c)
		return NULL;
	*c = (struct call){ .args = -1 };
	jsmntok_t *t = (jsmntok_t *)(c + 1);
	char *js = (char *)t + toks;
	memcpy(t, d->t, toks);
	memcpy(js, d->js, d->len);
	js[d->len] = 0;
	c->doc = (struct jdoc){ .js = js, .len = d->len, .t = t, .n = d->n };
	c->req = *r;
	c->req.doc = &c->doc;
	c->req.id = js + (r->id - d->js);
	return c;
}

static void progress_token(struct call *c)
{
	const struct jdoc *d = &c->doc;
	int meta = jdoc__get(d, c->req.params, "_meta");
	int tok = meta >= 0 ? jdoc__get(d, meta, "progressToken") : -1;
	int64_t num;
	if (tok >= 0 && (jdoc__is_str(d, tok) || !jdoc__int(d, tok, &num)))   /* string or integer */
		rpc__raw(d, tok, &c->token, &c->token_len);
	if (c->token_len > LIMIT_ID_BYTES)
		c->token = NULL, c->token_len = 0;
}

/* A call for r made ready to run (the caller submits it): the request
 * copied, a modern request's owner entered. NULL after answering why not. */
static struct call *submit(struct session *s, const struct mcp_req *r, const struct tool *t, call_fn fn)
{
	struct call *c = copy_request(r);
	struct owner *o = c && r->modern ? owner__enter(s->srv, &s->env.who) : NULL;
	if (!c || (r->modern && !o)) {
		free(c);
		session__error(s, r, MCP_INTERNAL_ERROR, "no heap left to hold the request; raise --limit heap_bytes=N",
			       "heap_bytes", limits[LIM_HEAP_BYTES]);
		return NULL;
	}
	c->task = (struct bio_task){ .run = run, .done = done };
	c->s = s, c->tool = t, c->fn = fn, c->owner = o;
	c->ref.call = c;
	c->deadline_ns = r->t0_ns + limits[LIM_CALL_MS] * NS_PER_MS;
	progress_token(c);
	session__facts(s, &c->facts);
	if (r->modern)
		c->facts.protocol = MCP_MODERN_VERSION;
	c->facts.owner = o ? "identity" : "session";
	c->facts.owner_id = o ? owner__id(o) : s->id;
	c->facts.lease_ms = o ? limits[LIM_LEASE_MS] : 0;
	s->running = c;
	return c;
}

void call__start(struct session *s, const struct mcp_req *r)
{
	const struct jdoc *d = r->doc;
	const struct tool *t = lookup(s, r, jdoc__get(d, r->params, "name"));
	if (!t)
		return;
	int args = jdoc__get(d, r->params, "arguments");
	if (args >= 0 && !jdoc__is_obj(d, args) && !jdoc__is_null(d, args)) {
		session__error(s, r, MCP_INVALID_PARAMS, "params.arguments must be an object", NULL, 0);
		audit_refused(s, r, t->name, "ARGUMENTS_NOT_OBJECT");
		return;
	}
	struct call *c = submit(s, r, t, NULL);
	if (!c)
		return;
	s->n_tool_calls++;
	c->args = args >= 0 && jdoc__is_obj(d, args) ? args : -1;
	fault_parse(c);
	bio__submit(&c->task);
}

void call__start_fn(struct session *s, const struct mcp_req *r, call_fn fn)
{
	struct call *c = submit(s, r, NULL, fn);
	if (c)
		bio__submit(&c->task);
}

void call__set_validate(bool on)
{
	validate_output = on;
}
