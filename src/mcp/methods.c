/* The JSON-RPC envelope and the method table (on the loop thread). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcp.h"

#include "../assert.h"
#include "../core/clock.h"
#include "../json/schema.h"

/* Legacy revisions initialize accepts; the modern one is MCP_MODERN_VERSION. */
static const char *const supported_versions[] = {
	"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05",
};
#define N_LEGACY (sizeof(supported_versions) / sizeof(supported_versions[0]))

static const char instructions[] =
	"Inspect and drive eBPF on this host. Start with `info` (kernel, BTF, mounts, capabilities, profile and "
	"limits), then the list_* tools and get_btf_types to discover hooks and types, and inspect_state for what "
	"is loaded. Resources name what is loaded now (bpf://prog/{id}, bpf://map/{id}, bpf://link/{id}), kernel "
	"types (btf://vmlinux/{type}), tracepoint formats and this server's limits and policy; prompts are "
	"investigation playbooks. Every answer comes from the running kernel; errors carry a category, a code "
	"and a hint.";

static void req_error(struct session *s, const struct mcp_req *r, int code, const char *msg)
{
	session__error(s, r, code, msg, NULL, 0);
}

static void empty_result(struct session *s, const struct mcp_req *r)
{
	struct jw w;
	session__result_begin(s, &w, r);
	jw__obj(&w);
	jw__obj_end(&w);
	session__result_end(s, &w, r);
}

static const char *negotiate(const struct jdoc *d, int tok)
{
	for (unsigned k = 0; k < sizeof(supported_versions) / sizeof(supported_versions[0]); k++)
		if (jdoc__str_eq(d, tok, supported_versions[k]))
			return supported_versions[k];
	return MCP_LATEST_VERSION;   /* the client decides whether to go on */
}

static void write_capabilities(struct jw *w)
{
	jw__key(w, "capabilities");
	jw__obj(w);
	jw__key(w, "tools");
	jw__obj(w);
	jw__kbool(w, "listChanged", false);
	jw__obj_end(w);
	jw__key(w, "resources");
	jw__obj(w);
	jw__kbool(w, "subscribe", true);
	jw__kbool(w, "listChanged", false);
	jw__obj_end(w);
	jw__key(w, "prompts");
	jw__obj(w);
	jw__kbool(w, "listChanged", false);
	jw__obj_end(w);
	jw__key(w, "completions");
	jw__obj(w);
	jw__obj_end(w);
	jw__key(w, "logging");
	jw__obj(w);
	jw__obj_end(w);
	/* MCP Apps: tools name ui:// resources in their _meta (json/schema.h) */
	jw__key(w, "extensions");
	jw__obj(w);
	jw__key(w, "io.modelcontextprotocol/ui");
	jw__obj(w);
	jw__key(w, "mimeTypes");
	jw__arr(w);
	jw__str(w, SCH_APP_MIME);
	jw__arr_end(w);
	jw__obj_end(w);
	jw__obj_end(w);
	jw__obj_end(w);
}

static void write_versions(struct jw *w)
{
	jw__arr(w);
	jw__str(w, MCP_MODERN_VERSION);
	for (unsigned k = 0; k < N_LEGACY; k++)
		jw__str(w, supported_versions[k]);
	jw__arr_end(w);
}

/* server/discover (2026-07-28): what initialize tells a legacy client, for
 * any client, before or instead of anything else. */
static void m_discover(struct session *s, const struct mcp_req *r)
{
	struct mcp_req mr = *r;
	struct jw w;
	mr.modern = true;   /* a modern method: its result has the modern shape */
	session__result_begin(s, &w, &mr);
	jw__obj(&w);
	jw__key(&w, "supportedVersions");
	write_versions(&w);
	write_capabilities(&w);
	jw__kstr(&w, "instructions", instructions);
	session__result_close(s, &w, &mr, MCP_TTL_STATIC_MS, true);
}

static void m_initialize(struct session *s, const struct mcp_req *r)
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
	session__result_begin(s, &w, r);
	jw__obj(&w);
	jw__kstr(&w, "protocolVersion", v);
	write_capabilities(&w);
	jw__key(&w, "serverInfo");
	jw__obj(&w);
	jw__kstr(&w, "name", "ebpf-mcp");
	jw__kstr(&w, "title", "eBPF for agents and operators");
	jw__kstr(&w, "version", EBPF_MCP_VERSION);
	jw__obj_end(&w);
	jw__kstr(&w, "instructions", instructions);
	jw__obj_end(&w);
	s->initialized = true;
	session__result_end(s, &w, r);
}

static void m_ping(struct session *s, const struct mcp_req *r)
{
	empty_result(s, r);
}

static int level_of(const struct jdoc *d, int tok)
{
	for (int k = 0; k < 8; k++)
		if (jdoc__str_eq(d, tok, config__level_name((enum log_level)k)))
			return k;
	return -1;
}

static void m_set_level(struct session *s, const struct mcp_req *r)
{
	int lvl = level_of(r->doc, jdoc__get(r->doc, r->params, "level"));
	if (lvl < 0) {
		req_error(s, r, MCP_INVALID_PARAMS,
			  "params.level must be one of debug, info, notice, warning, error, critical, alert, emergency");
		return;
	}
	__atomic_store_n(&s->log_level, lvl, __ATOMIC_RELAXED);
	empty_result(s, r);
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

static void m_tools_list(struct session *s, const struct mcp_req *r)
{
	unsigned start;
	if (parse_cursor(r->doc, jdoc__get(r->doc, r->params, "cursor"), &start)) {
		req_error(s, r, MCP_INVALID_PARAMS, "invalid cursor: pass back nextCursor unchanged");
		return;
	}
	struct jw w;
	session__result_begin(s, &w, r);
	jw__obj(&w);
	jw__key(&w, "tools");
	jw__arr(&w);
	unsigned i = start, shown = 0;
	for (; i < tool_count && shown < limits[LIM_TOOLS_PAGE]; i++) {
		const struct tool *t = tool_table[i];
		ASSERT(t->schema < SCHEMA__COUNT);
		if (!tool__allowed(&s->env, t))
			continue;
		const struct sch_tool *st = &sch_tools[t->schema];
		jw__raw(&w, st->descriptor, st->descriptor_len);
		shown++;
	}
	jw__arr_end(&w);
	while (i < tool_count && !tool__allowed(&s->env, tool_table[i]))
		i++;
	if (i < tool_count) {
		char cur[16];
		snprintf(cur, sizeof(cur), "%u", i);
		jw__kstr(&w, "nextCursor", cur);
	}
	/* the same list for the life of the process, per profile: private */
	session__result_close(s, &w, r, MCP_TTL_STATIC_MS, false);
}

static void n_initialized(struct session *s, const struct mcp_req *r)
{
	(void)r;
	s->initialized = true;
}

bool methods__cancel(struct session *s, const char *id, size_t len)
{
	return call__cancel(s, id, len) || job__cancel(s, id, len, "CANCELLED") || surface__cancel(s, id, len);
}

/* Stops the call or job answering the request named; false when none runs. */
static bool cancel(struct session *s, const struct mcp_req *r, bool quiet)
{
	int rid = jdoc__get(r->doc, r->params, "requestId");
	if (rid < 0 || (!jdoc__is_str(r->doc, rid) && !jdoc__is_num(r->doc, rid)))
		return false;
	const char *id;
	size_t len;
	rpc__raw(r->doc, rid, &id, &len);
	if (methods__cancel(s, id, len))
		return true;
	if (!quiet)
		session__log(s, LOG_DEBUG, "cancel for %.*s: no such call running", (int)len, id);
	return false;
}

/* A call (or one running over time) stops at once, without a reply (MCP);
 * any other request has already been answered: nothing to stop. */
static void n_cancelled(struct session *s, const struct mcp_req *r)
{
	cancel(s, r, false);
}

enum {
	M_NOTE = 1,       /* a notification: no id, no reply */
	M_LEGACY = 2,     /* part of 2025-11-25 and older */
	M_MODERN = 4,     /* part of 2026-07-28 */
	M_BOTH = M_LEGACY | M_MODERN,
};

struct method {
	const char *name;
	void (*fn)(struct session *s, const struct mcp_req *r);
	unsigned flags;
};

/* 2026-07-28 removed initialize, ping, logging/setLevel and
 * resources/(un)subscribe (subscriptions/listen replaces it). */
static const struct method methods[] = {
	{ "initialize", m_initialize, M_LEGACY },
	{ "server/discover", m_discover, M_BOTH },
	{ "ping", m_ping, M_LEGACY },
	{ "tools/list", m_tools_list, M_BOTH },
	{ "tools/call", call__start, M_BOTH },
	{ "resources/list", surface__resources_list, M_BOTH },
	{ "resources/templates/list", surface__templates_list, M_BOTH },
	{ "resources/read", surface__resources_read, M_BOTH },
	{ "resources/subscribe", surface__subscribe, M_LEGACY },
	{ "resources/unsubscribe", surface__unsubscribe, M_LEGACY },
	{ "subscriptions/listen", surface__listen, M_MODERN },
	{ "prompts/list", surface__prompts_list, M_BOTH },
	{ "prompts/get", surface__prompts_get, M_BOTH },
	{ "completion/complete", surface__complete, M_BOTH },
	{ "logging/setLevel", m_set_level, M_LEGACY },
	{ "notifications/initialized", n_initialized, M_LEGACY | M_NOTE },
	{ "notifications/cancelled", n_cancelled, M_BOTH | M_NOTE },
};

_Static_assert(sizeof(methods) / sizeof(methods[0]) < METHOD_OTHER, "method indexes fit mcp_req.method");

const char *methods__name(unsigned i)
{
	return i < sizeof(methods) / sizeof(methods[0]) ? methods[i].name : NULL;
}

static const struct method *find_method(const struct jdoc *d, int tok)
{
	for (unsigned k = 0; k < sizeof(methods) / sizeof(methods[0]); k++)
		if (jdoc__str_eq(d, tok, methods[k].name))
			return &methods[k];
	return NULL;
}

/* -32022 with the versions spoken and the one asked for. */
static void unsupported_version(struct session *s, const struct mcp_req *r, const struct jdoc *d, int pv)
{
	char asked[64];
	struct jw w;
	if (!jdoc__is_str(d, pv) || jdoc__str(d, pv, asked, sizeof(asked), NULL))
		snprintf(asked, sizeof(asked), "%s", jdoc__is_str(d, pv) ? "(over 63 bytes)" : "(not a string)");
	jw__init(&w, s->srv->resp, s->srv->resp_cap - 1);
	jw__obj(&w);
	jw__kstr(&w, "jsonrpc", "2.0");
	jw__key(&w, "id");
	jw__raw(&w, r->id, r->id_len);
	jw__key(&w, "error");
	jw__obj(&w);
	jw__kint(&w, "code", MCP_UNSUPPORTED_VERSION);
	jw__kstr(&w, "message", "Unsupported protocol version");
	jw__key(&w, "data");
	jw__obj(&w);
	jw__key(&w, "supported");
	write_versions(&w);
	jw__kstr(&w, "requested", asked);
	jw__obj_end(&w);
	jw__obj_end(&w);
	jw__obj_end(&w);
	s->n_errors++;
	session__reply(s, r, s->srv->resp, w.len);
}

/* Text that is not JSON is -32700; JSON over a size cap is -32600 (the
 * request is refused, not unreadable) and data names the cap. */
static void parse_error(struct session *s, const struct json_perr *e)
{
	char msg[256];
	if (e->kind == JSON_E_TOKENS) {
		snprintf(msg, sizeof(msg), "request has more than json_tokens (%llu) JSON tokens; "
			 "raise --limit json_tokens=N (max %llu)", (unsigned long long)limits[LIM_JSON_TOKENS],
			 (unsigned long long)limit_defs[LIM_JSON_TOKENS].max);
		session__error(s, NULL, MCP_INVALID_REQUEST, msg, "json_tokens", limits[LIM_JSON_TOKENS]);
	} else if (e->kind == JSON_E_DEPTH) {
		snprintf(msg, sizeof(msg), "request nests deeper than json_depth (%llu) at byte %zu",
			 (unsigned long long)limits[LIM_JSON_DEPTH], e->offset);
		session__error(s, NULL, MCP_INVALID_REQUEST, msg, "json_depth", limits[LIM_JSON_DEPTH]);
	} else {
		snprintf(msg, sizeof(msg), "parse error at byte %zu: %s", e->offset, e->what);
		session__error(s, NULL, MCP_PARSE_ERROR, msg, NULL, 0);
	}
}

/* The id, when it is a string or a number that fits LIMIT_ID_BYTES. */
static void take_id(const struct jdoc *d, int id, struct mcp_req *r)
{
	if (id < 0 || (!jdoc__is_str(d, id) && !jdoc__is_num(d, id)))
		return;
	const char *p;
	size_t n;
	rpc__raw(d, id, &p, &n);
	/* the bound counts quotes even for a number: at most 254 bytes inside */
	if ((size_t)(d->t[id].end - d->t[id].start) + 2 <= LIMIT_ID_BYTES)
		r->id = p, r->id_len = n;
}

/* Checks the envelope; returns the method's token or -1 (reply sent when
 * one is due and !quiet). */
static int check_envelope(struct session *s, const struct jdoc *d, struct mcp_req *r, bool quiet)
{
	const char *why = NULL;
	int code = MCP_INVALID_REQUEST, id = -1, method = -1;
	if (jdoc__is_arr(d, 0)) {
		why = "batches are not supported: send one request per line";
	} else if (!jdoc__is_obj(d, 0)) {
		why = "a request must be a JSON object";
	} else {
		id = jdoc__get(d, 0, "id");
		method = jdoc__get(d, 0, "method");
		take_id(d, id, r);
		if (id < 0 && method < 0)
			return -1;   /* a response or junk without id: nothing to answer */
		if (id >= 0 && !jdoc__is_str(d, id) && !jdoc__is_num(d, id))
			why = "id must be a string or an integer (not null, a boolean, an array or an object)";
		else if (id >= 0 && !r->id)
			why = "id longer than 254 bytes";
		else if (!jdoc__str_eq(d, jdoc__get(d, 0, "jsonrpc"), "2.0"))
			why = id >= 0 ? "jsonrpc must be \"2.0\"" : "";
		else if (!jdoc__is_str(d, method))
			why = id >= 0 && jdoc__get(d, 0, "result") < 0 && jdoc__get(d, 0, "error") < 0 ? "method must be a string"
												       : "";
		else if ((r->params = jdoc__get(d, 0, "params")) >= 0 && !jdoc__is_obj(d, r->params))
			why = id >= 0 ? "params must be an object" : "", code = MCP_INVALID_PARAMS;
	}
	if (!why)
		return method;
	bool id_error = !r->id && id >= 0;   /* a bad id is answered with id null */
	if (!quiet && *why) {
		if (id_error && !strcmp(why, "id longer than 254 bytes"))
			session__error(s, NULL, code, why, "id_bytes", LIMIT_ID_BYTES);
		else
			session__error(s, id_error ? NULL : r, code, why, NULL, 0);
	}
	return -1;
}

bool methods__caps_ok(const struct jdoc *d, int meta)
{
	return jdoc__is_obj(d, jdoc__get(d, meta, MCP_META_CAPS));
}

/* The request's era from params._meta: 0 (legacy, or modern at a version
 * we speak: r->modern, r->log_level set), or -1 with -32022 or -32602
 * answered (a modern request without clientCapabilities is malformed;
 * a notification is let through: it has no answer to carry the error). */
static int era(struct session *s, const struct jdoc *d, struct mcp_req *r)
{
	int meta = r->params >= 0 ? jdoc__get(d, r->params, "_meta") : -1;
	int pv = meta >= 0 && jdoc__is_obj(d, meta) ? jdoc__get(d, meta, MCP_META_VERSION) : -1;
	r->log_level = -1;
	if (pv < 0)
		return 0;
	if (!jdoc__str_eq(d, pv, MCP_MODERN_VERSION)) {
		if (r->id && s)
			unsupported_version(s, r, d, pv);
		return -1;
	}
	r->modern = true;
	r->log_level = level_of(d, jdoc__get(d, meta, MCP_META_LOG_LEVEL));
	if (r->id && !methods__caps_ok(d, meta)) {
		if (s)
			req_error(s, r, MCP_INVALID_PARAMS, MCP_CAPS_MISSING);
		return -1;
	}
	return 0;
}

/* A method not in the request's era: -32601, saying so. */
static void wrong_era(struct session *s, const struct mcp_req *r, const struct method *m)
{
	char msg[256];
	if (r->modern)
		snprintf(msg, sizeof(msg), "method not found: %s is not part of MCP %s (%s)", m->name, MCP_MODERN_VERSION,
			 !strcmp(m->name, "initialize") ? "it is stateless: no handshake; see server/discover"
			 : !strncmp(m->name, "resources/", 10) ? "use subscriptions/listen"
			 : !strcmp(m->name, "logging/setLevel") ? "name the level in each request's _meta"
								   : "removed in that revision");
	else
		snprintf(msg, sizeof(msg), "method not found: %s is part of MCP %s only: name that version in the "
			 "request's _meta (%s)", m->name, MCP_MODERN_VERSION, MCP_META_VERSION);
	req_error(s, r, MCP_METHOD_NOT_FOUND, msg);
}

/* Strict reading of a request whose envelope is sound: a string holding
 * U+0000 or a key named twice is refused, naming where (a JSON pointer):
 * -32602 inside params, -32600 in the envelope (answered with id null when
 * the doubled key is the id itself, since which one counts is unknown).
 * Returns whether the request may go on. */
static bool strict(struct session *s, const struct jdoc *d, struct mcp_req *r, bool quiet)
{
	enum jdoc_strict_kind kind;
	/* the id is echoed byte for byte, never used as a C string */
	int bad = jdoc__strict(d, s->srv->tok_scratch, jdoc__get(d, 0, "id"), &kind);
	if (bad < 0 || quiet)
		return bad < 0;
	char where[160], msg[256];
	jdoc__pointer(d, bad, where, sizeof(where));
	bool in_params = r->params >= 0 && jdoc__within(d, bad, r->params);
	if (kind == JDOC_STRICT_NUL)
		snprintf(msg, sizeof(msg), "%s: a string holds U+0000 (\\u0000), which cannot be passed on as text",
			 where);
	else
		snprintf(msg, sizeof(msg), "%s: duplicate key (a key may appear once per object)", where);
	bool id_dup = !in_params && kind == JDOC_STRICT_DUP_KEY && d->t[bad].parent == 0 && jdoc__str_eq(d, bad, "id");
	session__error(s, id_dup ? NULL : r, in_params ? MCP_INVALID_PARAMS : MCP_INVALID_REQUEST, msg, NULL, 0);
	return false;
}

bool methods__line(struct session *s, char *line, size_t len, bool scan_only)
{
	struct jdoc d;
	struct json_perr e;
	struct mcp_req r = { .doc = &d, .params = -1, .t0_ns = now_ns(), .route = session__route, .method = METHOD_OTHER };
	if (len && line[len - 1] == '\r')
		len--;
	size_t k = 0;
	while (k < len && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
		k++;
	if (k == len)
		return false;          /* blank lines are allowed between messages */
	if (jdoc__parse(&d, line, len, s->srv->tok, s->srv->tok_cap, (unsigned)limits[LIM_JSON_DEPTH], &e)) {
		if (!scan_only) {
			s->n_requests++;
			parse_error(s, &e);
		}
		return false;
	}
	int mt = check_envelope(s, &d, &r, scan_only);
	if (mt >= 0 && !strict(s, &d, &r, scan_only))
		mt = -1;
	if (mt >= 0 && era(scan_only ? NULL : s, &d, &r))
		mt = -1;
	const struct method *m = mt >= 0 ? find_method(&d, mt) : NULL;
	if (m)
		r.method = (uint8_t)(m - methods);
	if (scan_only) {
		/* taken early only when it stops something; otherwise it waits
		 * its turn, so what it says (a debug note) follows earlier
		 * requests such as logging/setLevel */
		if (!m || m->fn != n_cancelled || r.id || !cancel(s, &r, true))
			return false;
		s->n_requests++;
		return true;
	}
	s->n_requests++;
	if (mt < 0)
		return false;
	unsigned want = r.modern ? M_MODERN : M_LEGACY;
	session__request_log = r.modern ? r.log_level : SESSION_LOG_LEGACY;
	if (!r.id) {
		if (m && (m->flags & M_NOTE) && (m->flags & want))
			m->fn(s, &r);
	} else if (!m || (m->flags & M_NOTE)) {
		char msg[160];
		int n = d.t[mt].end - d.t[mt].start;
		snprintf(msg, sizeof(msg), "method not found: %.*s", n > 100 ? 100 : n, d.js + d.t[mt].start);
		req_error(s, &r, MCP_METHOD_NOT_FOUND, msg);
	} else if (!(m->flags & want) && m->fn != m_discover) {
		wrong_era(s, &r, m);
	} else {
		m->fn(s, &r);
	}
	session__request_log = SESSION_LOG_LEGACY;
	return false;
}
