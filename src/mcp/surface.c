/* Resources, prompts, completion and subscriptions on the wire.
 *
 * What they say comes from src/tools/resources.c and prompts.c; this file
 * frames requests and replies for both eras. Static lists (templates,
 * prompts, a prompt's text) are answered on the loop; what reads the
 * kernel (resources/list, resources/read, completion) runs on a worker like
 * a tool call, in the session's order.
 *
 * Subscriptions: a legacy session names URIs with resources/subscribe; a
 * modern client opens subscriptions/listen, a request that stays open (its
 * reply comes only when the server ends it) and whose notifications carry
 * its id. Either way each watched URI is read again every WATCH_POLL_MS on
 * a worker, and a notifications/resources/updated goes out when what a
 * resources/read would return has changed (a map's first page, a program's
 * run counts, a link's target).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

#include "../assert.h"
#include "../core/clock.h"
#include "../kern/owned.h"
#include "../tools/surface.h"

#define WATCH_POLL_MS  1000   /* how often watched resources are read again */
#define LISTENS_MAX    8      /* subscriptions/listen requests open at once per session */

struct watch {
	char uri[URI_BYTES];
	char sub[LIMIT_ID_BYTES];     /* the listen's id (raw JSON), "" for resources/subscribe */
	size_t sub_len;
	uint64_t hash;
	bool primed;                  /* hash holds a first reading */
	bool changed;                 /* the last poll saw a change: notify */
};

struct watchset {
	struct session *s;
	struct watch *w;              /* limits[LIM_WATCHES] of them */
	unsigned n;
	struct {
		char id[LIMIT_ID_BYTES];
		size_t len;
		uint64_t route;       /* its transport's exchange (HTTP) */
		uint8_t method;       /* subscriptions/listen's index (metrics) */
	} listen[LISTENS_MAX];
	unsigned n_listen;
	struct loop_timer timer;
	struct bio_task poll;
	bool polling;                 /* a poll is on a worker, reading snap */
	struct watch *snap;           /* the watches as the poll found them */
	unsigned n_snap;
};

/* ---- static lists (loop) --------------------------------------------------------- */

void surface__templates_list(struct session *s, const struct mcp_req *r)
{
	struct jw w;
	session__result_begin(s, &w, r);
	jw__obj(&w);
	jw__key(&w, "resourceTemplates");
	jw__arr(&w);
	for (unsigned i = 0; i < resource_template_count; i++) {
		const struct resource_template *t = &resource_templates[i];
		jw__obj(&w);
		jw__kstr(&w, "uriTemplate", t->uri_template);
		jw__kstr(&w, "name", t->name);
		jw__kstr(&w, "title", t->title);
		jw__kstr(&w, "description", t->description);
		jw__kstr(&w, "mimeType", t->mime);
		jw__obj_end(&w);
	}
	jw__arr_end(&w);
	session__result_close(s, &w, r, MCP_TTL_STATIC_MS, true);
}

void surface__prompts_list(struct session *s, const struct mcp_req *r)
{
	struct jw w;
	session__result_begin(s, &w, r);
	jw__obj(&w);
	jw__key(&w, "prompts");
	jw__arr(&w);
	for (unsigned i = 0; i < prompt_count; i++) {
		const struct prompt *p = &prompts[i];
		jw__obj(&w);
		jw__kstr(&w, "name", p->name);
		jw__kstr(&w, "title", p->title);
		jw__kstr(&w, "description", p->description);
		jw__key(&w, "arguments");
		jw__arr(&w);
		for (unsigned k = 0; k < p->n_args; k++) {
			jw__obj(&w);
			jw__kstr(&w, "name", p->args[k].name);
			jw__kstr(&w, "description", p->args[k].description);
			jw__kbool(&w, "required", p->args[k].required);
			jw__obj_end(&w);
		}
		jw__arr_end(&w);
		jw__obj_end(&w);
	}
	jw__arr_end(&w);
	session__result_close(s, &w, r, MCP_TTL_STATIC_MS, true);
}

struct prompt_args {
	const struct jdoc *d;
	int obj;
	char buf[PROMPT_ARGS_MAX][128];
	unsigned used;
	bool bad;                     /* a value that is not a string, or too long */
};

static const char *prompt_arg(void *p, const char *name)
{
	struct prompt_args *a = p;
	int t = a->obj >= 0 ? jdoc__get(a->d, a->obj, name) : -1;
	if (t < 0 || a->used == PROMPT_ARGS_MAX)
		return NULL;
	if (!jdoc__is_str(a->d, t) || jdoc__str(a->d, t, a->buf[a->used], sizeof(a->buf[0]), NULL)) {
		a->bad = true;
		return NULL;
	}
	return a->buf[a->used++];
}

void surface__prompts_get(struct session *s, const struct mcp_req *r)
{
	char name[64], why[256], *text = s->srv->resp + s->srv->resp_cap / 2;
	const struct jdoc *d = r->doc;
	int nt = jdoc__get(d, r->params, "name");
	const struct prompt *p = NULL;
	if (jdoc__is_str(d, nt) && !jdoc__str(d, nt, name, sizeof(name), NULL))
		p = prompts__find(name);
	if (!p)
		return session__error(s, r, MCP_INVALID_PARAMS, "prompts/get needs params.name, one of prompts/list's "
				      "names", NULL, 0);
	struct prompt_args a = { .d = d, .obj = jdoc__get(d, r->params, "arguments") };
	/* the text is rendered into the reply buffer's far half, then copied in escaped */
	if (prompts__render(p, prompt_arg, &a, text, s->srv->resp_cap / 4, why, sizeof(why)) || a.bad)
		return session__error(s, r, MCP_INVALID_PARAMS, a.bad ? "prompt arguments are strings of at most 127 bytes"
								   : why, NULL, 0);
	struct jw w;
	session__result_begin(s, &w, r);
	jw__obj(&w);
	jw__kstr(&w, "description", p->description);
	jw__key(&w, "messages");
	jw__arr(&w);
	jw__obj(&w);
	jw__kstr(&w, "role", "user");
	jw__key(&w, "content");
	jw__obj(&w);
	jw__kstr(&w, "type", "text");
	jw__kstr(&w, "text", text);
	jw__obj_end(&w);
	jw__obj_end(&w);
	jw__arr_end(&w);
	session__result_close(s, &w, r, MCP_TTL_NONE, false);
}

/* ---- on workers ------------------------------------------------------------------ */

static size_t error_line(struct worker *w, const struct mcp_req *r, int code, const struct tool_err *e)
{
	struct jw o;
	jw__init(&o, w->resp, w->cap - 1);
	jw__obj(&o);
	jw__kstr(&o, "jsonrpc", "2.0");
	jw__key(&o, "id");
	jw__raw(&o, r->id, r->id_len);
	jw__key(&o, "error");
	jw__obj(&o);
	jw__kint(&o, "code", code);
	jw__kstr(&o, "message", e->msg);
	jw__key(&o, "data");
	jw__obj(&o);
	jw__kstr(&o, "category", tool__cat_name(e->cat));
	jw__kstr(&o, "code", e->code);
	if (e->ctx.len && !e->ctx.overflow)
		jw__raw(&o, e->ctx.buf, e->ctx.len);
	jw__obj_end(&o);
	jw__obj_end(&o);
	jw__obj_end(&o);
	return o.len;
}

static void fail(struct session *s, struct worker *w, const struct mcp_req *r, int code, struct tool_ctx *ctx)
{
	if (!ctx->err->set)
		tool__fail(ctx, ERR_INTERNAL, "failed without a reason");
	call__reply(s, w, r, error_line(w, r, code, ctx->err));
}

/* Ends a reply built on w->resp; one that does not fit is an error. */
static void finish(struct session *s, struct worker *w, const struct mcp_req *r, struct jw *o, int64_t ttl,
		   struct tool_ctx *ctx)
{
	rpc__result_extras(o, r->modern, ttl, false);
	jw__obj_end(o);
	jw__obj_end(o);
	if (!o->overflow)
		return call__reply(s, w, r, o->len);
	call__err(w);
	tool__fail_limit(ctx, LIM_RESPONSE_BYTES, "the reply does not fit response_bytes; raise --limit response_bytes=N");
	fail(s, w, r, MCP_INTERNAL_ERROR, ctx);
}

/* A string param of at most cap-1 bytes, or NULL. */
static const char *param_str(struct tool_ctx *ctx, int obj, const char *key, size_t cap)
{
	int t = obj >= 0 ? jdoc__get(ctx->doc, obj, key) : -1;
	char *buf = jdoc__is_str(ctx->doc, t) ? arena__alloc(ctx->scratch, cap) : NULL;
	return buf && !jdoc__str(ctx->doc, t, buf, cap, NULL) ? buf : NULL;
}

static void run_list(struct session *s, struct worker *w, const struct mcp_req *r, struct tool_ctx *ctx)
{
	char next[64];
	struct jw o;
	const char *cursor = param_str(ctx, r->params, "cursor", 64);
	jw__init(&o, w->resp, w->cap - 1);
	rpc__result_begin(&o, r->id, r->id_len);
	jw__obj(&o);
	jw__key(&o, "resources");
	jw__arr(&o);
	if (resources__list(ctx, &o, cursor, next, sizeof(next)))
		return fail(s, w, r, MCP_INVALID_PARAMS, ctx);
	jw__arr_end(&o);
	if (*next)
		jw__kstr(&o, "nextCursor", next);
	finish(s, w, r, &o, 0, ctx);   /* what is loaded changes any time: fresh each call */
}

static void run_read(struct session *s, struct worker *w, const struct mcp_req *r, struct tool_ctx *ctx)
{
	const char *uri = param_str(ctx, r->params, "uri", URI_BYTES), *text, *mime;
	size_t len;
	struct jw o;
	if (!uri) {
		tool__fail(ctx, ERR_NO_SUCH_RESOURCE, "resources/read needs params.uri, a string under %d bytes", URI_BYTES);
		return fail(s, w, r, MCP_INVALID_PARAMS, ctx);
	}
	int rc = resources__read(ctx, uri, &text, &len, &mime);
	if (rc)
		return fail(s, w, r, rc > 0 ? MCP_INVALID_PARAMS : MCP_INTERNAL_ERROR, ctx);
	jw__init(&o, w->resp, w->cap - 1);
	rpc__result_begin(&o, r->id, r->id_len);
	jw__obj(&o);
	jw__key(&o, "contents");
	jw__arr(&o);
	jw__obj(&o);
	jw__kstr(&o, "uri", uri);
	jw__kstr(&o, "mimeType", mime);
	jw__key(&o, "text");
	jw__strn(&o, text, len);
	jw__obj_end(&o);
	jw__arr_end(&o);
	finish(s, w, r, &o, 0, ctx);
}

static void run_complete(struct session *s, struct worker *w, const struct mcp_req *r, struct tool_ctx *ctx)
{
	int ref = jdoc__get(ctx->doc, r->params, "ref"), arg = jdoc__get(ctx->doc, r->params, "argument");
	int cx = jdoc__get(ctx->doc, r->params, "context");
	const char *type = param_str(ctx, ref, "type", 32), *name = param_str(ctx, arg, "name", 64);
	const char *value = param_str(ctx, arg, "value", 256);
	bool prompt = type && !strcmp(type, "ref/prompt");
	const char *target = param_str(ctx, ref, prompt ? "name" : "uri", URI_BYTES);
	uint64_t total = 0;
	struct jw o;
	if (!type || !target || !name || !value || (!prompt && strcmp(type, "ref/resource"))) {
		tool__fail(ctx, ERR_NO_SUCH_ARGUMENT, "completion/complete needs ref {type: ref/resource, uri} or "
			   "{type: ref/prompt, name} and argument {name, value}");
		return fail(s, w, r, MCP_INVALID_PARAMS, ctx);
	}
	jw__init(&o, w->resp, w->cap - 1);
	rpc__result_begin(&o, r->id, r->id_len);
	jw__obj(&o);
	jw__key(&o, "completion");
	jw__obj(&o);
	jw__key(&o, "values");
	jw__arr(&o);
	int args = cx >= 0 ? jdoc__get(ctx->doc, cx, "arguments") : -1;
	if (resources__complete(ctx, prompt ? NULL : target, prompt ? target : NULL, name, value, args, &o, &total))
		return fail(s, w, r, MCP_INVALID_PARAMS, ctx);
	jw__arr_end(&o);
	jw__kuint(&o, "total", total);
	jw__kbool(&o, "hasMore", total > COMPLETION_VALUES);
	jw__obj_end(&o);
	finish(s, w, r, &o, MCP_TTL_NONE, ctx);
}

void surface__resources_list(struct session *s, const struct mcp_req *r)
{
	call__start_fn(s, r, run_list);
}

void surface__resources_read(struct session *s, const struct mcp_req *r)
{
	call__start_fn(s, r, run_read);
}

void surface__complete(struct session *s, const struct mcp_req *r)
{
	call__start_fn(s, r, run_complete);
}

/* ---- subscriptions ------------------------------------------------------------------ */

static struct watchset *watchset(struct session *s)
{
	struct watchset *ws = s->watches;
	if (ws)
		return ws;
	ws = calloc(1, sizeof(*ws));
	if (ws && !(ws->w = calloc(limits[LIM_WATCHES], sizeof(*ws->w)))) {
		free(ws);
		ws = NULL;
	}
	if (ws)
		ws->s = s, s->watches = ws;
	return ws;
}

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
	return h;
}

/* The route of the listen with id sub (its stream), 0 for none. */
static uint64_t listen_route(const struct watchset *ws, const char *sub, size_t len)
{
	for (unsigned i = 0; len && i < ws->n_listen; i++)
		if (ws->listen[i].len == len && !memcmp(ws->listen[i].id, sub, len))
			return ws->listen[i].route;
	return 0;
}

/* resources/updated for watch i, on its listen's stream or plain. */
static void updated(struct session *s, const struct watch *wt)
{
	char line[URI_BYTES + LIMIT_ID_BYTES + 256];
	struct jw o;
	jw__init(&o, line, sizeof(line));
	jw__obj(&o);
	jw__kstr(&o, "jsonrpc", "2.0");
	jw__kstr(&o, "method", "notifications/resources/updated");
	jw__key(&o, "params");
	jw__obj(&o);
	if (wt->sub_len) {
		jw__key(&o, "_meta");
		jw__obj(&o);
		jw__key(&o, MCP_META_SUB_ID);
		jw__raw(&o, wt->sub, wt->sub_len);
		jw__obj_end(&o);
	}
	jw__kstr(&o, "uri", wt->uri);
	jw__obj_end(&o);
	jw__obj_end(&o);
	if (!o.overflow)
		session__send(s, listen_route(s->watches, wt->sub, wt->sub_len), line, o.len, OUT_NOTE);
}

/* On a worker: reads every watched URI of the snapshot and marks what
 * changed. The loop keeps the live table (subscribe, unsubscribe, cancel
 * need not wait) and merges the readings back, sending the notifications
 * itself, so a listen cancelled meanwhile gets none. */
static void poll_run(struct bio_task *t, void *wd)
{
	struct watchset *ws = (struct watchset *)((char *)t - offsetof(struct watchset, poll));
	struct worker *w = wd;
	struct owned *none = owned__new();   /* nothing is "owned" by a poll: the session's registry stays its calls' */
	for (unsigned i = 0; none && i < ws->n_snap; i++) {
		struct jw out;
		struct tool_ctx ctx;
		const char *text, *mime;
		size_t len;
		call__ctx(&ctx, ws->s, w, &out);
		ctx.objs = none;
		ctx.deadline_ns = now_ns() + limits[LIM_CALL_MS] * NS_PER_MS;   /* a tool's walks check it */
		struct watch *wt = &ws->snap[i];
		uint64_t h = resources__read(&ctx, wt->uri, &text, &len, &mime) ? 0 : fnv1a(text, len);
		wt->changed = wt->primed && h != wt->hash;
		wt->hash = h, wt->primed = true;
		arena__reset(&w->scratch);
	}
	owned__free(none);
}

static void arm(struct watchset *ws);

static struct watch *find(struct watchset *ws, const struct watch *like)
{
	for (unsigned i = 0; i < ws->n; i++)
		if (!strcmp(ws->w[i].uri, like->uri) && ws->w[i].sub_len == like->sub_len &&
		    !memcmp(ws->w[i].sub, like->sub, like->sub_len))
			return &ws->w[i];
	return NULL;
}

static void poll_done(struct bio_task *t)
{
	struct watchset *ws = (struct watchset *)((char *)t - offsetof(struct watchset, poll));
	ws->polling = false;
	for (unsigned i = 0; i < ws->n_snap; i++) {
		struct watch *wt = find(ws, &ws->snap[i]);   /* gone if unsubscribed meanwhile */
		if (!wt)
			continue;
		wt->hash = ws->snap[i].hash, wt->primed = true;
		if (ws->snap[i].changed && ws->s->state != SESS_CLOSING)
			updated(ws->s, wt);
	}
	free(ws->snap);
	ws->snap = NULL, ws->n_snap = 0;
	arm(ws);
	session__pump(ws->s);   /* writes the notifications; ends a session that was waiting */
}

static void on_poll(void *data)
{
	struct watchset *ws = data;
	if (ws->polling || !ws->n || ws->s->state == SESS_CLOSING)
		return;
	if (!(ws->snap = malloc(ws->n * sizeof(*ws->snap))))
		return arm(ws);   /* the heap refused: try at the next tick */
	memcpy(ws->snap, ws->w, ws->n * sizeof(*ws->snap));
	ws->n_snap = ws->n;
	ws->polling = true;
	ws->poll = (struct bio_task){ .run = poll_run, .done = poll_done };
	bio__submit(&ws->poll);
}

static void arm(struct watchset *ws)
{
	struct loop *l = &ws->s->srv->loop;
	if (ws->n && !ws->polling && ws->s->state != SESS_CLOSING)
		loop__timer_at(l, &ws->timer, now_ns() + WATCH_POLL_MS * NS_PER_MS, on_poll, ws);
	else if (!ws->n)
		loop__timer_stop(l, &ws->timer);
}

/* Adds a watch of uri (for listen sub, or plain); -1 at the watches cap. */
static int add_watch(struct watchset *ws, const char *uri, const char *sub, size_t sub_len)
{
	for (unsigned i = 0; i < ws->n; i++)
		if (!strcmp(ws->w[i].uri, uri) && ws->w[i].sub_len == sub_len && !memcmp(ws->w[i].sub, sub, sub_len))
			return 0;
	if (ws->n == limits[LIM_WATCHES])
		return -1;
	struct watch *wt = &ws->w[ws->n++];
	*wt = (struct watch){ .sub_len = sub_len };
	snprintf(wt->uri, sizeof(wt->uri), "%s", uri);
	memcpy(wt->sub, sub, sub_len);
	return 0;
}

/* Removes the watches of uri (NULL: any) on sub. */
static unsigned drop_watches(struct watchset *ws, const char *uri, const char *sub, size_t sub_len)
{
	unsigned kept = 0, dropped = 0;
	for (unsigned i = 0; i < ws->n; i++) {
		bool match = (!uri || !strcmp(ws->w[i].uri, uri)) && ws->w[i].sub_len == sub_len &&
			     !memcmp(ws->w[i].sub, sub, sub_len);
		if (match)
			dropped++;
		else
			ws->w[kept++] = ws->w[i];
	}
	ws->n = kept;
	return dropped;
}

static const char *uri_param(struct session *s, const struct mcp_req *r, char *uri)
{
	int t = jdoc__get(r->doc, r->params, "uri");
	if (!jdoc__is_str(r->doc, t) || jdoc__str(r->doc, t, uri, URI_BYTES, NULL)) {
		session__error(s, r, MCP_INVALID_PARAMS, "params.uri must be a resource URI under 512 bytes", NULL, 0);
		return NULL;
	}
	return uri;
}

static void empty_result(struct session *s, const struct mcp_req *r)
{
	struct jw w;
	session__result_begin(s, &w, r);
	jw__obj(&w);
	session__result_close(s, &w, r, MCP_TTL_NONE, false);
}

void surface__subscribe(struct session *s, const struct mcp_req *r)
{
	char uri[URI_BYTES];
	struct watchset *ws;
	if (!uri_param(s, r, uri))
		return;
	if (!(ws = watchset(s)) || add_watch(ws, uri, "", 0))
		return session__error(s, r, MCP_INVALID_PARAMS, "this session watches as many resources as it may; "
				      "unsubscribe one or raise --limit watches=N", "watches", limits[LIM_WATCHES]);
	arm(ws);
	empty_result(s, r);
}

void surface__unsubscribe(struct session *s, const struct mcp_req *r)
{
	char uri[URI_BYTES];
	if (!uri_param(s, r, uri))
		return;
	if (s->watches) {
		drop_watches(s->watches, uri, "", 0);
		arm(s->watches);
	}
	empty_result(s, r);
}

static void acknowledge(struct session *s, const struct mcp_req *r, int subs)
{
	struct jw w;
	jw__init(&w, s->srv->resp, s->srv->resp_cap - 1);
	jw__obj(&w);
	jw__kstr(&w, "jsonrpc", "2.0");
	jw__kstr(&w, "method", "notifications/subscriptions/acknowledged");
	jw__key(&w, "params");
	jw__obj(&w);
	jw__key(&w, "_meta");
	jw__obj(&w);
	jw__key(&w, MCP_META_SUB_ID);
	jw__raw(&w, r->id, r->id_len);
	jw__obj_end(&w);
	jw__key(&w, "notifications");
	jw__obj(&w);
	if (subs >= 0) {
		/* honoured: resource updates; this server's tools, prompts and
		 * resource list do not change, so those are left out */
		jw__key(&w, "resourceSubscriptions");
		jw__raw(&w, r->doc->js + r->doc->t[subs].start, (size_t)(r->doc->t[subs].end - r->doc->t[subs].start));
	}
	jw__obj_end(&w);
	jw__obj_end(&w);
	jw__obj_end(&w);
	session__send(s, r->route, s->srv->resp, w.len, OUT_EVENT);
}

void surface__listen(struct session *s, const struct mcp_req *r)
{
	const struct jdoc *d = r->doc;
	int nt = jdoc__get(d, r->params, "notifications"), subs = nt >= 0 ? jdoc__get(d, nt, "resourceSubscriptions") : -1;
	struct watchset *ws;
	if (!jdoc__is_obj(d, nt) || (subs >= 0 && !jdoc__is_arr(d, subs)))
		return session__error(s, r, MCP_INVALID_PARAMS, "subscriptions/listen needs params.notifications {...}, "
				      "resourceSubscriptions an array of URIs", NULL, 0);
	if (!(ws = watchset(s)) || ws->n_listen == LISTENS_MAX || (subs >= 0 && ws->n + (unsigned)d->t[subs].size > limits[LIM_WATCHES]))
		return session__error(s, r, MCP_INVALID_PARAMS, "this session has as many subscriptions as it may; end "
				      "one or raise --limit watches=N", "watches", limits[LIM_WATCHES]);
	for (int i = 0, e; subs >= 0 && (e = jdoc__elem(d, subs, i)) >= 0; i++) {
		char uri[URI_BYTES];
		if (!jdoc__is_str(d, e) || jdoc__str(d, e, uri, sizeof(uri), NULL))
			return session__error(s, r, MCP_INVALID_PARAMS, "resourceSubscriptions holds URIs under 512 bytes",
					      NULL, 0);
	}
	for (int i = 0, e; subs >= 0 && (e = jdoc__elem(d, subs, i)) >= 0; i++) {
		char uri[URI_BYTES];
		jdoc__str(d, e, uri, sizeof(uri), NULL);
		add_watch(ws, uri, r->id, r->id_len);
	}
	memcpy(ws->listen[ws->n_listen].id, r->id, r->id_len);
	ws->listen[ws->n_listen].route = r->route;
	ws->listen[ws->n_listen].method = r->method;
	ws->listen[ws->n_listen++].len = r->id_len;
	acknowledge(s, r, subs);
	arm(ws);
}

bool surface__cancel(struct session *s, const char *id, size_t id_len)
{
	struct watchset *ws = s->watches;
	for (unsigned i = 0; ws && i < ws->n_listen; i++) {
		if (ws->listen[i].len != id_len || memcmp(ws->listen[i].id, id, id_len))
			continue;
		ws->listen[i] = ws->listen[--ws->n_listen];
		drop_watches(ws, NULL, id, id_len);
		arm(ws);
		return true;
	}
	return false;
}

bool surface__busy(const struct session *s)
{
	return s->watches && s->watches->polling;
}

void surface__end(struct session *s, bool graceful)
{
	struct watchset *ws = s->watches;
	if (!ws)
		return;
	for (unsigned i = 0; graceful && i < ws->n_listen; i++) {
		/* the listen's reply: the subscription ended on the server's side */
		struct jw w;
		struct mcp_req r = { .id = ws->listen[i].id, .id_len = ws->listen[i].len, .modern = true,
				     .route = ws->listen[i].route, .method = ws->listen[i].method };
		jw__init(&w, s->srv->resp, s->srv->resp_cap - 1);
		rpc__result_begin(&w, r.id, r.id_len);
		jw__obj(&w);
		jw__kstr(&w, "resultType", "complete");
		jw__key(&w, "_meta");
		jw__obj(&w);
		jw__key(&w, MCP_META_SUB_ID);
		jw__raw(&w, r.id, r.id_len);
		jw__obj_end(&w);
		jw__obj_end(&w);
		jw__obj_end(&w);
		session__reply(s, &r, s->srv->resp, w.len);
	}
	ws->n_listen = 0;
	loop__timer_stop(&s->srv->loop, &ws->timer);
	if (ws->polling)
		return;   /* freed when the poll is done (surface__busy keeps the session) */
	free(ws->snap);
	free(ws->w);
	free(ws);
	s->watches = NULL;
}
