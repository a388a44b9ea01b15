/* JSON-RPC message text: errors and result envelopes (no I/O). */
#include <string.h>

#include "mcp.h"

void rpc__error(struct jw *w, const char *id, size_t id_len, int code, const char *msg, const char *limit_name,
		uint64_t limit_value)
{
	jw__obj(w);
	jw__kstr(w, "jsonrpc", "2.0");
	jw__key(w, "id");
	if (id)
		jw__raw(w, id, id_len);
	else
		jw__null(w);
	jw__key(w, "error");
	jw__obj(w);
	jw__kint(w, "code", code);
	jw__kstr(w, "message", msg);
	if (limit_name) {
		jw__key(w, "data");
		jw__obj(w);
		jw__kstr(w, "limit", limit_name);
		jw__kuint(w, "value", limit_value);
		jw__obj_end(w);
	}
	jw__obj_end(w);
	jw__obj_end(w);
}

bool rpc__is_error(const char *line, size_t n, size_t id_len)
{
	static const char head[] = "{\"jsonrpc\":\"2.0\",\"id\":", err[] = ",\"error\":";
	size_t at = sizeof(head) - 1 + (id_len ? id_len : 4);   /* an absent id is written null */
	return n > at + sizeof(err) - 1 && !memcmp(line + at, err, sizeof(err) - 1);
}

void rpc__result_begin(struct jw *w, const char *id, size_t id_len)
{
	jw__obj(w);
	jw__kstr(w, "jsonrpc", "2.0");
	jw__key(w, "id");
	jw__raw(w, id, id_len);
	jw__key(w, "result");
}

void rpc__result_extras(struct jw *w, bool modern, int64_t ttl_ms, bool public_scope)
{
	if (!modern)
		return;
	jw__kstr(w, "resultType", "complete");
	jw__key(w, "_meta");
	jw__obj(w);
	jw__key(w, MCP_META_SERVER);
	jw__obj(w);
	jw__kstr(w, "name", "ebpf-mcp");
	jw__kstr(w, "version", EBPF_MCP_VERSION);
	jw__obj_end(w);
	jw__obj_end(w);
	if (ttl_ms >= 0) {
		jw__kint(w, "ttlMs", ttl_ms);
		jw__kstr(w, "cacheScope", public_scope ? "public" : "private");
	}
}

void rpc__raw(const struct jdoc *d, int tok, const char **p, size_t *n)
{
	bool str = jdoc__is_str(d, tok);
	*p = d->js + d->t[tok].start - str;
	*n = (size_t)(d->t[tok].end - d->t[tok].start) + 2 * str;
}
