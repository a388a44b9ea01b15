/* JSON-RPC envelope checks and the method table. */
#include <stdio.h>
#include <string.h>

#include "mcp.h"

static const char *const supported_versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
};

void mcp__error(struct server *s, const char *id, size_t id_len, int code, const char *msg,
		const char *limit_name, uint64_t limit_value)
{
	struct jw w;
	jw__init(&w, s->resp, s->resp_cap - 1);
	jw__obj(&w);
	jw__kstr(&w, "jsonrpc", "2.0");
	jw__key(&w, "id");
	if (id)
		jw__raw(&w, id, id_len);
	else
		jw__null(&w);
	jw__key(&w, "error");
	jw__obj(&w);
	jw__kint(&w, "code", code);
	jw__kstr(&w, "message", msg);
	if (limit_name) {
		jw__key(&w, "data");
		jw__obj(&w);
		jw__kstr(&w, "limit", limit_name);
		jw__kuint(&w, "value", limit_value);
		jw__obj_end(&w);
	}
	jw__obj_end(&w);
	jw__obj_end(&w);
	s->n_errors++;
	mcp__write_line(s, s->resp, w.len);
}

static void req_error(struct server *s, const struct mcp_req *r, int code, const char *msg)
{
	mcp__error(s, r->id, r->id_len, code, msg, NULL, 0);
}

void mcp__result_begin(struct server *s, struct jw *w, const struct mcp_req *r)
{
	jw__init(w, s->resp, s->resp_cap - 1);
	jw__obj(w);
	jw__kstr(w, "jsonrpc", "2.0");
	jw__key(w, "id");
	jw__raw(w, r->id, r->id_len);
	jw__key(w, "result");
}

void mcp__result_end(struct server *s, struct jw *w, const struct mcp_req *r)
{
	jw__obj_end(w);
	if (w->overflow) {
		mcp__error(s, r->id, r->id_len, MCP_INTERNAL_ERROR,
			   "reply larger than response_bytes; raise --limit response_bytes=N",
			   "response_bytes", limits[LIM_RESPONSE_BYTES]);
		return;
	}
	mcp__write_line(s, s->resp, w->len);
}

static void empty_result(struct server *s, const struct mcp_req *r)
{
	struct jw w;
	mcp__result_begin(s, &w, r);
	jw__obj(&w);
	jw__obj_end(&w);
	mcp__result_end(s, &w, r);
}

static const char *negotiate(const struct jdoc *d, int tok)
{
	for (unsigned k = 0; k < sizeof(supported_versions) / sizeof(supported_versions[0]); k++)
		if (jdoc__str_eq(d, tok, supported_versions[k]))
			return supported_versions[k];
	return MCP_LATEST_VERSION;   /* the client decides whether to go on */
}

static void m_initialize(struct server *s, const struct mcp_req *r)
{
	const struct jdoc *d = r->doc;
	int pv = jdoc__get(d, r->params, "protocolVersion");
	if (!jdoc__is_str(d, pv)) {
		req_error(s, r, MCP_INVALID_PARAMS, "initialize needs params.protocolVersion (a string)");
		return;
	}
	const char *v = negotiate(d, pv);
	snprintf(s->protocol, sizeof(s->protocol), "%s", v);
	int ci = jdoc__get(d, r->params, "clientInfo");
	int cn = jdoc__get(d, ci, "name");
	if (jdoc__is_str(d, cn) && jdoc__str(d, cn, s->client_name, sizeof(s->client_name), NULL))
		snprintf(s->client_name, sizeof(s->client_name), "(name too long)");

	struct jw w;
	mcp__result_begin(s, &w, r);
	jw__obj(&w);
	jw__kstr(&w, "protocolVersion", v);
	jw__key(&w, "capabilities");
	jw__obj(&w);
	jw__key(&w, "tools");
	jw__obj(&w);
	jw__kbool(&w, "listChanged", false);
	jw__obj_end(&w);
	jw__key(&w, "logging");
	jw__obj(&w);
	jw__obj_end(&w);
	jw__obj_end(&w);
	jw__key(&w, "serverInfo");
	jw__obj(&w);
	jw__kstr(&w, "name", "ebpf-mcp");
	jw__kstr(&w, "title", "eBPF for agents and operators");
	jw__kstr(&w, "version", EBPF_MCP_VERSION);
	jw__obj_end(&w);
	jw__kstr(&w, "instructions",
		 "Inspect and drive eBPF on this host. Start with `info` (kernel, BTF, mounts, "
		 "capabilities, profile and limits), then the list_* tools and get_btf_types to "
		 "discover hooks and types, and inspect_state for what is loaded. Every answer "
		 "comes from the running kernel; errors carry a category, a code and a hint.");
	jw__obj_end(&w);
	s->initialized = true;
	mcp__result_end(s, &w, r);
}

static void m_ping(struct server *s, const struct mcp_req *r) { empty_result(s, r); }

static void m_set_level(struct server *s, const struct mcp_req *r)
{
	int lvl = mcp__level_of(r->doc, jdoc__get(r->doc, r->params, "level"));
	if (lvl < 0) {
		req_error(s, r, MCP_INVALID_PARAMS,
			  "params.level must be one of debug, info, notice, warning, error, critical, alert, emergency");
		return;
	}
	s->log_level = (enum log_level)lvl;
	s->log_level_set = true;
	empty_result(s, r);
}

static void n_initialized(struct server *s, const struct mcp_req *r) { (void)r; s->initialized = true; }

static void n_cancelled(struct server *s, const struct mcp_req *r)
{
	/* A call running over time stops at once, without a reply (MCP); any
	 * other request has already been answered, so there is nothing to stop. */
	int rid = jdoc__get(r->doc, r->params, "requestId");
	if (rid < 0)
		return;
	const jsmntok_t *t = &r->doc->t[rid];
	bool str = jdoc__is_str(r->doc, rid);
	const char *id = r->doc->js + t->start - str;
	size_t len = (size_t)(t->end - t->start) + 2 * str;
	if (!job__cancel(s, id, len))
		server__log(s, LOG_DEBUG, "cancel for %.*s: no such call running", (int)len, id);
}

struct method {
	const char *name;
	void (*fn)(struct server *s, const struct mcp_req *r);
	bool notification;    /* expects no id and gets no reply */
};

static const struct method methods[] = {
	{ "initialize", m_initialize, false },
	{ "ping", m_ping, false },
	{ "tools/list", mcp__tools_list, false },
	{ "tools/call", mcp__tools_call, false },
	{ "logging/setLevel", m_set_level, false },
	{ "notifications/initialized", n_initialized, true },
	{ "notifications/cancelled", n_cancelled, true },
};

static const struct method *find_method(const struct jdoc *d, int tok)
{
	for (unsigned k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
		if (jdoc__str_eq(d, tok, methods[k].name))
			return &methods[k];
	return NULL;
}

/* Text that is not JSON is -32700; JSON over a size cap is -32600 (the
 * request is refused, not unreadable) and data names the cap. */
static void parse_error(struct server *s, const struct json_perr *e)
{
	char msg[256];
	if (e->kind == JSON_E_TOKENS) {
		snprintf(msg, sizeof(msg), "request has more than json_tokens (%llu) JSON tokens; "
			 "raise --limit json_tokens=N (max %llu)", (unsigned long long)limits[LIM_JSON_TOKENS],
			 (unsigned long long)limit_defs[LIM_JSON_TOKENS].max);
		mcp__error(s, NULL, 0, MCP_INVALID_REQUEST, msg, "json_tokens", limits[LIM_JSON_TOKENS]);
	} else if (e->kind == JSON_E_DEPTH) {
		snprintf(msg, sizeof(msg), "request nests deeper than json_depth (%llu) at byte %zu",
			 (unsigned long long)limits[LIM_JSON_DEPTH], e->offset);
		mcp__error(s, NULL, 0, MCP_INVALID_REQUEST, msg, "json_depth", limits[LIM_JSON_DEPTH]);
	} else {
		snprintf(msg, sizeof(msg), "parse error at byte %zu: %s", e->offset, e->what);
		mcp__error(s, NULL, 0, MCP_PARSE_ERROR, msg, NULL, 0);
	}
}

/* Checks the envelope; returns the method's token or -1 (reply sent). */
static int check_envelope(struct server *s, const struct jdoc *d, struct mcp_req *r)
{
	if (jdoc__is_arr(d, 0)) {
		mcp__error(s, NULL, 0, MCP_INVALID_REQUEST, "batches are not supported: send one request per line", NULL, 0);
		return -1;
	}
	int id = jdoc__get(d, 0, "id");
	if (id >= 0 && (jdoc__is_str(d, id) || jdoc__is_num(d, id))) {
		size_t raw = (size_t)(d->t[id].end - d->t[id].start);
		bool str = jdoc__is_str(d, id);
		if (raw + 2 <= LIMIT_ID_BYTES) {
			r->id = d->js + d->t[id].start - (str ? 1 : 0);
			r->id_len = raw + (str ? 2 : 0);
		}
	}
	if (!jdoc__is_obj(d, 0)) {
		mcp__error(s, NULL, 0, MCP_INVALID_REQUEST, "a request must be a JSON object", NULL, 0);
		return -1;
	}
	int method = jdoc__get(d, 0, "method");
	if (id < 0 && method < 0)
		return -1;       /* a response or junk without id: nothing to answer */
	if (id >= 0 && !jdoc__is_str(d, id) && !jdoc__is_num(d, id)) {
		mcp__error(s, NULL, 0, MCP_INVALID_REQUEST, "id must be a string or an integer (not null, a boolean, an array or an object)", NULL, 0);
		return -1;
	}
	if (id >= 0 && !r->id) {
		mcp__error(s, NULL, 0, MCP_INVALID_REQUEST,
			   "id longer than 254 bytes", "id_bytes", LIMIT_ID_BYTES);
		return -1;
	}
	if (!jdoc__str_eq(d, jdoc__get(d, 0, "jsonrpc"), "2.0")) {
		if (id >= 0)
			req_error(s, r, MCP_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
		return -1;
	}
	if (!jdoc__is_str(d, method)) {
		if (id >= 0 && jdoc__get(d, 0, "result") < 0 && jdoc__get(d, 0, "error") < 0)
			req_error(s, r, MCP_INVALID_REQUEST, "method must be a string");
		return -1;
	}
	r->params = jdoc__get(d, 0, "params");
	if (r->params >= 0 && !jdoc__is_obj(d, r->params)) {
		if (id >= 0)
			req_error(s, r, MCP_INVALID_PARAMS, "params must be an object");
		return -1;
	}
	return method;
}

void server__handle_line(struct server *s, char *line, size_t len)
{
	struct jdoc d;
	struct json_perr e;
	struct mcp_req r = { .doc = &d, .params = -1, .t0_ns = now_ns() };

	if (len && line[len - 1] == '\r')
		len--;
	size_t k = 0;
	while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
		k++;
	if (k == len)
		return;          /* blank lines are allowed between messages */
	s->n_requests++;
	if (jdoc__parse(&d, line, len, s->tok, s->tok_cap, (unsigned)limits[LIM_JSON_DEPTH], &e)) {
		parse_error(s, &e);
		return;
	}
	int mt = check_envelope(s, &d, &r);
	if (mt < 0)
		return;
	const struct method *m = find_method(&d, mt);
	if (!r.id) {
		if (m && m->notification)
			m->fn(s, &r);
		return;          /* notifications are never answered */
	}
	if (!m || m->notification) {
		char msg[160];
		snprintf(msg, sizeof(msg), "method not found: %.*s", (int)(d.t[mt].end - d.t[mt].start) > 100 ? 100 :
			 (int)(d.t[mt].end - d.t[mt].start), d.js + d.t[mt].start);
		req_error(s, &r, MCP_METHOD_NOT_FOUND, msg);
		return;
	}
	m->fn(s, &r);
	arena__reset(&s->scratch);
}
