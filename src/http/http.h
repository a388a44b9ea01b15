/* A small strict HTTP/1.1 request parser over a caller's fixed buffer.
 *
 * It reads one request head (request line and header fields up to the
 * blank line) and says what it is, or the status the request earns:
 * anything it does not understand is refused, never guessed at (RFC 9112):
 * no obsolete line folding, no bare LF, no whitespace before a colon, no
 * request body framed by Transfer-Encoding (501), never Content-Length and
 * Transfer-Encoding together (400: the request-smuggling shape), at most
 * one Content-Length, a Host on HTTP/1.1, a head no longer than the buffer
 * (431). Nothing is copied: names and values point into the buffer.
 */
#ifndef EBPF_MCP_HTTP_H
#define EBPF_MCP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_BYTES   (16 * 1024)   /* request line + header fields: more is 431 */
#define HTTP_HEADERS_MAX  64            /* header fields: more is 431 */
#define HTTP_TARGET_BYTES 1024          /* request-target: longer is 414 */
#define HTTP_LEADING_CRLF 4             /* empty lines ignored before a request line (RFC 9112 2.2) */

enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_DELETE, HTTP_OPTIONS, HTTP_OTHER };

struct http_field {
	const char *name, *value;
	size_t name_len, value_len;
};

struct http_req {
	enum http_method method;
	const char *method_name;
	size_t method_len;
	const char *path;              /* the request-target up to '?' */
	size_t path_len;
	const char *authority;         /* absolute-form (http://AUTHORITY/path): stands for Host; else NULL */
	size_t authority_len;
	int minor;                     /* HTTP/1.minor */
	struct http_field f[HTTP_HEADERS_MAX];
	unsigned n;
	size_t head_len;               /* through the blank line */
	uint64_t content_length;       /* 0 without the field */
	bool keep_alive;               /* persistent: never with `Connection: close`; else 1.1, or 1.0 with keep-alive */
};

/* Parses the head at buf[0..len). 0 with *r filled; -1 when the head is
 * not complete yet (read more); else the status to answer (400, 414, 431,
 * 501, 505) with *why a short reason. */
int http__parse(const char *buf, size_t len, struct http_req *r, const char **why);
/* The value of field name (case-insensitive), or NULL; *n its length.
 * -1 in *count when it appears more than once (count may be NULL). */
const char *http__field(const struct http_req *r, const char *name, size_t *n, int *count);
/* Whether a comma-separated field holds token (case-insensitive), e.g.
 * Accept: application/json, text/event-stream; parameters are not the
 * token's, and an element weighted q=0 ("not acceptable") is not held. */
bool http__field_has(const struct http_req *r, const char *name, const char *token);
const char *http__reason(int status);

#endif
