/* Internals shared by the server's files (not a public interface). */
#ifndef EBPF_MCP_MCP_H
#define EBPF_MCP_MCP_H

#include "server.h"

enum {
	MCP_PARSE_ERROR = -32700,
	MCP_INVALID_REQUEST = -32600,
	MCP_METHOD_NOT_FOUND = -32601,
	MCP_INVALID_PARAMS = -32602,
	MCP_INTERNAL_ERROR = -32603,
};

/* The request being answered: its id as raw JSON text (verbatim echo). */
struct mcp_req {
	const struct jdoc *doc;
	int params;                 /* token, or -1 */
	const char *id;             /* raw JSON of the id */
	size_t id_len;
	uint64_t t0_ns;
};

void mcp__write_line(struct server *s, const char *buf, size_t n);
/* A JSON-RPC error reply. id NULL means null. If limit_name is set, data
 * carries {limit, value}. */
void mcp__error(struct server *s, const char *id, size_t id_len, int code, const char *msg,
		const char *limit_name, uint64_t limit_value);
/* Starts {"jsonrpc":"2.0","id":ID,"result": in w. */
void mcp__result_begin(struct server *s, struct jw *w, const struct mcp_req *r);
/* Closes and sends; a reply too big for response_bytes becomes an error. */
void mcp__result_end(struct server *s, struct jw *w, const struct mcp_req *r);
int mcp__level_of(const struct jdoc *d, int tok);

void mcp__tools_list(struct server *s, const struct mcp_req *r);
/* Answers a call whose handler (or job) returned rc with ctx/out filled;
 * returns NULL on success or the error code sent (for the audit line). */
const char *mcp__tool_answer(struct server *s, const struct mcp_req *r, struct tool_ctx *ctx, struct jw *out,
			     int rc);
/* A fresh error record for a call (one at a time: calls and job steps never
 * overlap). */
struct tool_err *mcp__tool_err(void);
void mcp__tools_call(struct server *s, const struct mcp_req *r);

#endif
