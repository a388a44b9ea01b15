/* A strict HTTP/1.1 request-head parser (RFC 9112), over the caller's
 * buffer: see http.h for what it refuses and why. */
#include "http.h"

#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 5.6.2): what a method or a field name is made of */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* a field value's bytes: visible, space, tab, obs-text; no other control */
static bool vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* A field's name against name (of length len, measured once per lookup,
 * not once per field: lookups run a dozen times per request). */
static bool name_is(const struct http_field *f, const char *name, size_t len)
{
	return f->name_len == len && !strncasecmp(f->name, name, len);
}

static enum http_method method_of(const char *p, size_t n)
{
	static const char *const names[] = { "GET", "HEAD", "POST", "DELETE", "OPTIONS" };
	for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strlen(names[k]) == n && !memcmp(p, names[k], n))   /* methods are case-sensitive */
			return (enum http_method)k;
	return HTTP_OTHER;
}

/* The end of the head (just past CRLF CRLF), 0 while incomplete, or a
 * status: a bare LF or CR anywhere is refused at once, not waited on. */
static int head_end(const char *buf, size_t len, size_t *end)
{
	size_t n = len < HTTP_HEAD_BYTES ? len : HTTP_HEAD_BYTES;
	for (size_t i = 0; i < n; i++) {
		if (buf[i] == '\n' && (i == 0 || buf[i - 1] != '\r'))
			return 400;
		if (buf[i] == '\r' && i + 1 < n && buf[i + 1] != '\n')
			return 400;
		if (buf[i] == '\n' && i >= 3 && buf[i - 2] == '\n') {
			*end = i + 1;
			return 0;
		}
	}
	if (len >= HTTP_HEAD_BYTES)
		return 431;
	const char *nl = memchr(buf, '\n', n);
	if (!nl && n > HTTP_TARGET_BYTES + 64)
		return 414;   /* the request line alone is already too long */
	*end = 0;
	return 0;
}

/* http://authority/path (a proxy's form): a server must take it (RFC
 * 9112 3.2.2); its authority then stands for Host. *t moves to the path. */
static int absolute_form(const char **t, const char *end, struct http_req *r, const char **why)
{
	const char *p = *t;
	size_t skip = (size_t)(end - p) > 7 && !strncasecmp(p, "http://", 7)    ? 7
		      : (size_t)(end - p) > 8 && !strncasecmp(p, "https://", 8) ? 8 : 0;
	if (!skip)
		return *why = "request-target must be a path (origin-form) or http://host/path (absolute-form)", -1;
	const char *a = p + skip, *slash = a;
	while (slash < end && *slash != '/' && *slash != '?')
		slash++;
	if (slash == a || memchr(a, '@', (size_t)(slash - a)))
		return *why = "absolute-form target without a host, or with userinfo", -1;
	r->authority = a, r->authority_len = (size_t)(slash - a);
	*t = slash;
	return 0;
}

static int request_line(const char *p, size_t n, struct http_req *r, const char **why)
{
	const char *sp1 = memchr(p, ' ', n);
	if (!sp1 || sp1 == p)
		return *why = "malformed request line", 400;
	for (const char *q = p; q < sp1; q++)
		if (!tchar((unsigned char)*q))
			return *why = "malformed method", 400;
	r->method_name = p, r->method_len = (size_t)(sp1 - p);
	r->method = method_of(p, r->method_len);
	const char *t = sp1 + 1, *end = p + n;
	const char *sp2 = memchr(t, ' ', (size_t)(end - t));
	if (!sp2 || sp2 == t)
		return *why = "malformed request line", 400;
	if ((size_t)(sp2 - t) > HTTP_TARGET_BYTES)
		return *why = "request-target longer than 1024 bytes", 414;
	for (const char *q = t; q < sp2; q++)
		if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
			return *why = "request-target holds a byte outside visible ASCII", 400;
	if (*t != '/' && !(sp2 - t == 1 && *t == '*') && absolute_form(&t, sp2, r, why))
		return 400;
	const char *qm = memchr(t, '?', (size_t)(sp2 - t));
	r->path = t, r->path_len = (size_t)((qm ? qm : sp2) - t);
	if (!r->path_len)
		r->path = "/", r->path_len = 1;   /* "http://host" names the root */
	const char *v = sp2 + 1;
	size_t vn = (size_t)(end - v);
	if (vn != 8 || memcmp(v, "HTTP/", 5) || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' || v[7] > '9')
		return *why = "malformed HTTP version", 400;
	if (v[5] != '1')
		return *why = "only HTTP/1.x is spoken here", 505;
	r->minor = v[7] - '0';
	return 0;
}

static int field_line(const char *p, size_t n, struct http_req *r, const char **why)
{
	if (*p == ' ' || *p == '\t')
		return *why = "obsolete line folding", 400;
	const char *colon = memchr(p, ':', n);
	if (!colon || colon == p)
		return *why = "header field without a name and a colon", 400;
	for (const char *q = p; q < colon; q++)
		if (!tchar((unsigned char)*q))
			return *why = q + 1 == colon && (*q == ' ' || *q == '\t') ? "whitespace before a header field's colon"
										     : "malformed header field name", 400;
	const char *v = colon + 1, *end = p + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (const char *q = v; q < end; q++)
		if (!vchar((unsigned char)*q))
			return *why = "control character in a header field value", 400;
	if (r->n >= HTTP_HEADERS_MAX)
		return *why = "more than 64 header fields", 431;
	r->f[r->n++] = (struct http_field){ .name = p, .name_len = (size_t)(colon - p), .value = v,
					    .value_len = (size_t)(end - v) };
	return 0;
}

static int content_length(const char *v, size_t n, uint64_t *out)
{
	if (!n || n > 19)
		return -1;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	*out = x;
	return 0;
}

/* Whether the final transfer coding (the last element of the last
 * Transfer-Encoding field) is chunked. */
static bool chunked_last(const struct http_req *r)
{
	const struct http_field *f = NULL;
	for (unsigned i = 0; i < r->n; i++)
		if (name_is(&r->f[i], "transfer-encoding", 17))
			f = &r->f[i];
	const char *p = f->value, *end = p + f->value_len, *comma;
	while ((comma = memchr(p, ',', (size_t)(end - p))))
		p = comma + 1;
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	const char *semi = memchr(p, ';', (size_t)(end - p)), *e = semi ? semi : end;
	while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	return (size_t)(e - p) == 7 && !strncasecmp(p, "chunked", 7);
}

/* What the fields say about framing and persistence. */
static int framing(struct http_req *r, const char **why)
{
	size_t n;
	int count;
	const char *host = http__field(r, "host", &n, &count);
	if (count < 0)
		return *why = "more than one Host field", 400;
	if (!host && r->minor >= 1)
		return *why = "HTTP/1.1 request without Host", 400;
	const char *cl = http__field(r, "content-length", &n, &count);
	const char *te = http__field(r, "transfer-encoding", NULL, NULL);
	if (count < 0)
		return *why = "more than one Content-Length field", 400;
	if (cl && te)
		return *why = "both Content-Length and Transfer-Encoding (refused: the request-smuggling shape)", 400;
	if (te)
		return chunked_last(r) ? (*why = "chunked request bodies are not accepted: send Content-Length", 411)
				       : (*why = "Transfer-Encoding whose final coding is not chunked: the body's "
						 "length cannot be known (RFC 9112 6.3)", 400);
	if (cl && content_length(cl, n, &r->content_length))
		return *why = "Content-Length is not a decimal number of at most 19 digits", 400;
	/* close wins in every version; 1.0 persists only when asked to (RFC 9112 9.3) */
	r->keep_alive = !http__field_has(r, "connection", "close") &&
			(r->minor >= 1 || http__field_has(r, "connection", "keep-alive"));
	return 0;
}

int http__parse(const char *buf, size_t len, struct http_req *r, const char **why)
{
	size_t end = 0, skip = 0;
	*why = "";
	/* empty lines before the request line are ignored, a few of them */
	while (skip < 2 * HTTP_LEADING_CRLF && skip + 1 < len && buf[skip] == '\r' && buf[skip + 1] == '\n')
		skip += 2;
	if (skip + 1 == len && buf[skip] == '\r')
		return -1;
	buf += skip, len -= skip;
	int st = head_end(buf, len, &end);
	if (st)
		return *why = st == 431 ? "request head larger than 16 KiB"
			      : st == 414 ? "request-target longer than 1024 bytes"
					  : "bare LF or CR in the request head (lines end in CRLF)", st;
	if (!end)
		return -1;
	memset(r, 0, sizeof(*r));
	r->head_len = skip + end;
	const char *p = buf, *stop = buf + end - 2;   /* the blank line's CRLF */
	bool first = true;
	while (p < stop) {
		const char *nl = memchr(p, '\r', (size_t)(stop - p));
		size_t n = (size_t)(nl - p);
		if (first && !n)
			return *why = "empty request line", 400;
		st = first ? request_line(p, n, r, why) : field_line(p, n, r, why);
		if (st)
			return st;
		first = false;
		p = nl + 2;
	}
	return framing(r, why);
}

const char *http__field(const struct http_req *r, const char *name, size_t *n, int *count)
{
	const char *v = NULL;
	int c = 0;
	size_t len = strlen(name);
	for (unsigned i = 0; i < r->n; i++)
		if (name_is(&r->f[i], name, len)) {
			if (!c) {
				v = r->f[i].value;
				if (n)
					*n = r->f[i].value_len;
			}
			c++;
		}
	if (count)
		*count = c > 1 ? -1 : c;
	return v;
}

/* Whether an element's parameters (p..end, from its first ';') hold a
 * weight of zero, "q=0" to "q=0.000": "not acceptable" (RFC 9110 12.4.2). */
static bool weight_zero(const char *p, const char *end)
{
	while (p < end) {
		p++;   /* the ';' */
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *semi = memchr(p, ';', (size_t)(end - p)), *e = semi ? semi : end;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e - p >= 3 && (*p == 'q' || *p == 'Q') && p[1] == '=' && p[2] == '0') {
			const char *q = p + 3;
			if (q < e && *q == '.')
				q++;
			while (q < e && *q == '0')
				q++;
			return q == e;
		}
		p = semi ? semi : end;
	}
	return false;
}

bool http__field_has(const struct http_req *r, const char *name, const char *token)
{
	size_t tl = strlen(token), len = strlen(name);
	for (unsigned i = 0; i < r->n; i++) {
		if (!name_is(&r->f[i], name, len))
			continue;
		const char *p = r->f[i].value, *end = p + r->f[i].value_len;
		while (p < end) {
			const char *comma = memchr(p, ',', (size_t)(end - p));
			const char *e = comma ? comma : end;
			while (p < e && (*p == ' ' || *p == '\t'))
				p++;
			const char *te = memchr(p, ';', (size_t)(e - p));   /* parameters (q=...) */
			const char *we = te ? te : e;
			while (we > p && (we[-1] == ' ' || we[-1] == '\t'))
				we--;
			if ((size_t)(we - p) == tl && !strncasecmp(p, token, tl) && !(te && weight_zero(te, e)))
				return true;
			p = comma ? comma + 1 : end;
		}
	}
	return false;
}

const char *http__reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 417: return "Expectation Failed";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
