/* Unit tests for the HTTP/1.1 request-head parser (src/http/http.c):
 * complete and incomplete heads, the request line's forms, methods and
 * versions, line endings (bare LF, bare CR, obs-fold), field syntax, every
 * bound (64 fields, a 16 KiB head, a 1024-byte target) just at and just
 * over, message framing (Host, Content-Length, Transfer-Encoding), the
 * keep-alive rule of each version, and the field look-ups. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "unit.h"

static struct http_req req;
static const char *why;

/* Parses len bytes of s (which may hold NULs); the status. */
static int parse_n(const char *s, size_t len)
{
	why = NULL;
	return http__parse(s, len, &req, &why);
}

static int parse(const char *s)
{
	return parse_n(s, strlen(s));
}

/* A literal that holds a NUL. */
#define PARSE_LIT(s) parse_n(s, sizeof(s) - 1)

/* A refusal says why; a success leaves an empty reason. */
static void check_refused(const char *head, int status)
{
	unit_case = head;
	CHECK_INT(parse(head), status);
	CHECK(why != NULL && why[0] != 0);
}

/* A head of exactly len bytes: "GET / HTTP/1.1\r\nHost: a\r\nX: vvv...\r\n\r\n". */
static char *head_of(size_t len, bool terminated)
{
	static const char pre[] = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
	char *h = malloc(len + 1);
	size_t tail = terminated ? 4 : 2;
	memcpy(h, pre, sizeof(pre) - 1);
	memset(h + sizeof(pre) - 1, 'v', len - (sizeof(pre) - 1) - tail);
	memcpy(h + len - tail, "\r\n\r\n", tail);
	h[len] = 0;
	return h;
}

static void complete_head(void)
{
	const char *h = "GET /mcp HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: */*\r\n\r\n";
	unit_case = "complete_head";
	CHECK_INT(parse(h), 0);
	CHECK_STR(why, "");
	CHECK_INT(req.method, HTTP_GET);
	CHECK_MEM(req.method_name, req.method_len, "GET");
	CHECK_MEM(req.path, req.path_len, "/mcp");
	CHECK_INT(req.minor, 1);
	CHECK_INT(req.n, 2);
	CHECK_MEM(req.f[0].name, req.f[0].name_len, "Host");
	CHECK_MEM(req.f[0].value, req.f[0].value_len, "127.0.0.1:8080");
	CHECK_MEM(req.f[1].name, req.f[1].name_len, "Accept");
	CHECK_MEM(req.f[1].value, req.f[1].value_len, "*/*");
	CHECK_U64(req.head_len, strlen(h));
	CHECK_U64(req.content_length, 0);
	CHECK(req.keep_alive);
}

/* Every proper prefix of a head is "read more", never a refusal or a head;
 * what follows the blank line (a body, the next request) is not the head's. */
static void incomplete_heads(void)
{
	const char *h = "POST /mcp?x=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n";
	size_t len = strlen(h);
	char buf[256];
	for (size_t n = 0; n < len; n++) {
		unit_case = "incomplete_heads";
		CHECK_INT(parse_n(h, n), -1);
	}
	snprintf(buf, sizeof(buf), "%s{}GET / HTTP/1.1\r\nHost: a\r\n\r\n", h);
	CHECK_INT(parse(buf), 0);
	CHECK_U64(req.head_len, len);
	CHECK_U64(req.content_length, 2);
	CHECK_INT(req.method, HTTP_POST);
	CHECK_MEM(req.path, req.path_len, "/mcp");   /* the query is not the path */
	/* a head that ends in CR, LF, CRLF or CRLF CR is still incomplete */
	CHECK_INT(parse("GET / HTTP/1.1\r"), -1);
	CHECK_INT(parse("GET / HTTP/1.1\r\n"), -1);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n"), -1);
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n\r"), -1);
}

static void request_line_forms(void)
{
	unit_case = "request_line_forms";
	CHECK_INT(parse("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0);   /* asterisk-form */
	CHECK_INT(req.method, HTTP_OPTIONS);
	CHECK_MEM(req.path, req.path_len, "*");
	CHECK_INT(parse("GET /a/b?c=d&e=/f?g HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_MEM(req.path, req.path_len, "/a/b");
	CHECK_INT(parse("GET /? HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_MEM(req.path, req.path_len, "/");
	CHECK_INT(parse("GET /%7e~!$&'()*+,;=:@ HTTP/1.1\r\nHost: a\r\n\r\n"), 0);

	CHECK_INT(parse("\r\n\r\n"), -1);                                        /* empty lines: the request line is awaited */
	/* empty lines before the request line are ignored, a few of them (RFC 9112 2.2) */
	CHECK_INT(parse("\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_MEM(req.path, req.path_len, "/x");
	CHECK_INT(req.head_len, strlen("\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n"));
	CHECK_INT(parse("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	check_refused("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);  /* a fifth: junk */
	CHECK_INT(parse("\r\n\r"), -1);
	/* absolute-form: its authority stands for Host (RFC 9112 3.2.2) */
	CHECK_INT(parse("GET http://b:8/mcp?x HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_MEM(req.path, req.path_len, "/mcp");
	CHECK_MEM(req.authority, req.authority_len, "b:8");
	CHECK_INT(parse("GET HTTP://b HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_MEM(req.path, req.path_len, "/");
	CHECK_INT(parse("GET /mcp HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK(req.authority == NULL);
	check_refused("GET http:///mcp HTTP/1.1\r\nHost: a\r\n\r\n", 400);       /* no host */
	check_refused("GET http://u@b/mcp HTTP/1.1\r\nHost: a\r\n\r\n", 400);    /* userinfo */
	check_refused("GET ftp://b/mcp HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_refused("GET\r\nHost: a\r\n\r\n", 400);                              /* no target, no version */
	check_refused("GET /\r\nHost: a\r\n\r\n", 400);                            /* no version */
	check_refused("GET / \r\nHost: a\r\n\r\n", 400);                           /* an empty version */
	check_refused(" / HTTP/1.1\r\nHost: a\r\n\r\n", 400);                      /* no method */
	check_refused("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);                  /* two spaces */
	check_refused("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_refused("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);                  /* trailing space */
	check_refused("GET\t/\tHTTP/1.1\r\nHost: a\r\n\r\n", 400);                 /* tabs are not separators */
	check_refused("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400);           /* authority-form */
	check_refused("GET mcp HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_refused("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400);                /* a space in the target */
	check_refused("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400);              /* controls in the target */
	check_refused("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_refused("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);           /* raw UTF-8: percent-encode it */
	unit_case = "NUL in the target";
	CHECK_INT(PARSE_LIT("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

/* The target: 1024 bytes pass, 1025 are 414, and a request line that is
 * already too long is refused before its end arrives. */
static void target_bound(void)
{
	char line[HTTP_TARGET_BYTES + 256];
	char t[HTTP_TARGET_BYTES + 2];
	memset(t, 'a', sizeof(t));
	t[0] = '/';
	t[HTTP_TARGET_BYTES] = 0;
	snprintf(line, sizeof(line), "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", t);
	unit_case = "target of 1024 bytes";
	CHECK_INT(parse(line), 0);
	CHECK_U64(req.path_len, HTTP_TARGET_BYTES);
	t[HTTP_TARGET_BYTES] = 'a', t[HTTP_TARGET_BYTES + 1] = 0;
	snprintf(line, sizeof(line), "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", t);
	unit_case = "target of 1025 bytes";
	CHECK_INT(parse(line), 414);
	/* the 1025-byte target before its line ends: waits while it could still be
	 * a request line of a short target, refuses once it cannot */
	snprintf(line, sizeof(line), "GET %s", t);
	unit_case = "long target, no line end yet";
	CHECK_INT(parse(line), -1);
	char big[HTTP_TARGET_BYTES + 100];
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	CHECK_INT(parse_n(big, sizeof(big)), 414);
	CHECK(why && strstr(why, "1024"));
}

static void methods(void)
{
	static const struct { const char *name; enum http_method m; } ms[] = {
		{ "GET", HTTP_GET }, { "HEAD", HTTP_HEAD }, { "POST", HTTP_POST }, { "DELETE", HTTP_DELETE },
		{ "OPTIONS", HTTP_OPTIONS }, { "PUT", HTTP_OTHER }, { "PATCH", HTTP_OTHER }, { "TRACE", HTTP_OTHER },
		{ "get", HTTP_OTHER },   /* methods are case-sensitive: "get" is another method */
		{ "Post", HTTP_OTHER }, { "X-CUSTOM_1.~!", HTTP_OTHER },
	};
	char h[128];
	for (unsigned i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		snprintf(h, sizeof(h), "%s / HTTP/1.1\r\nHost: a\r\n\r\n", ms[i].name);
		unit_case = ms[i].name;
		CHECK_INT(parse(h), 0);
		CHECK_INT(req.method, ms[i].m);
		CHECK_MEM(req.method_name, req.method_len, ms[i].name);
	}
	check_refused("GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);   /* not a token */
	check_refused("GET/ / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_refused("G\"T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	check_refused("G\xc3\xa9T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
}

static void versions(void)
{
	unit_case = "HTTP/1.0";
	CHECK_INT(parse("GET / HTTP/1.0\r\n\r\n"), 0);   /* no Host needed */
	CHECK_INT(req.minor, 0);
	CHECK_INT(req.n, 0);
	unit_case = "HTTP/1.1";
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
	CHECK_INT(req.minor, 1);
	unit_case = "HTTP/1.9";   /* a later 1.x minor is understood as 1.1 */
	CHECK_INT(parse("GET / HTTP/1.9\r\nHost: a\r\n\r\n"), 0);
	CHECK_INT(req.minor, 9);
	check_refused("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	check_refused("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505);
	check_refused("GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505);
	check_refused("GET / HTTP/9.9\r\nHost: a\r\n\r\n", 505);
	check_refused("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400);
	check_refused("GET / HTTP/1\r\nHost: a\r\n\r\n", 400);
	check_refused("GET / HTTP/1.\r\nHost: a\r\n\r\n", 400);
	check_refused("GET / HTTP/11\r\nHost: a\r\n\r\n", 400);
	check_refused("GET / HTTP/a.b\r\nHost: a\r\n\r\n", 400);
	check_refused("GET / http/1.1\r\nHost: a\r\n\r\n", 400);   /* HTTP-name is case-sensitive */
	check_refused("GET / HTTPS/1.1\r\nHost: a\r\n\r\n", 400);
	check_refused("GET / FOO/1.1\r\nHost: a\r\n\r\n", 400);
	check_refused("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400);
	check_refused("GET / \x16\x03\x01\x02\r\nHost: a\r\n\r\n", 400);
}

/* Lines end in CRLF: a bare LF or CR anywhere is refused at once, even
 * before the head is complete (a client that sends them will not stop). */
static void line_endings(void)
{
	check_refused("GET / HTTP/1.1\nHost: a\n\n", 400);
	check_refused("GET / HTTP/1.1\n", 400);                             /* incomplete, refused now */
	check_refused("GET / HTTP/1.1\r\nHost: a\n\r\n", 400);
	check_refused("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
	check_refused("GET / HTTP/1.1\r\nHost: a\r\n\n\r\n", 400);
	check_refused("\n", 400);
	check_refused("GET / HTTP/1.1\rHost: a\r\n\r\n", 400);              /* bare CR */
	check_refused("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400);         /* bare CR in a value */
	check_refused("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400);
	check_refused("GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", 400);
	unit_case = "bare LF";
	CHECK(strstr(why, "CRLF") != NULL);
}

static void obs_fold_and_names(void)
{
	check_refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n", 400);     /* obs-fold */
	unit_case = "obs-fold";
	CHECK(strstr(why, "folding") != NULL);
	check_refused("GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n\tc\r\n\r\n", 400);
	check_refused("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);                   /* a first field that folds */
	check_refused("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);                   /* whitespace before colon */
	unit_case = "whitespace before colon";
	CHECK(strstr(why, "whitespace") != NULL);
	check_refused("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400);
	check_refused("GET / HTTP/1.1\r\nHost a\r\n\r\n", 400);                     /* no colon */
	check_refused("GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n", 400);             /* no name */
	check_refused("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n", 400);
	check_refused("GET / HTTP/1.1\r\nHo st: a\r\n\r\n", 400);
	check_refused("GET / HTTP/1.1\r\nH\xc3\xa9: a\r\nHost: a\r\n\r\n", 400);
	unit_case = "NUL in a name";
	CHECK_INT(PARSE_LIT("GET / HTTP/1.1\r\nHo\0st: a\r\n\r\n"), 400);
	unit_case = "odd but valid names";
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX-!#$%&'*+-.^_`|~09: v\r\n\r\n"), 0);
	CHECK_MEM(req.f[1].name, req.f[1].name_len, "X-!#$%&'*+-.^_`|~09");
}

/* Values: optional whitespace around is not the value's; tab, space and
 * obs-text inside are; other control bytes are refused. */
static void values(void)
{
	unit_case = "OWS trimmed";
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost:a\r\nX:  \t b  c \t \r\nY:\r\nZ: \t \r\n\r\n"), 0);
	CHECK_MEM(req.f[0].value, req.f[0].value_len, "a");
	CHECK_MEM(req.f[1].value, req.f[1].value_len, "b  c");
	CHECK_U64(req.f[2].value_len, 0);
	CHECK_U64(req.f[3].value_len, 0);
	unit_case = "tab inside";
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX: b\tc\r\n\r\n"), 0);
	CHECK_MEM(req.f[1].value, req.f[1].value_len, "b\tc");
	unit_case = "obs-text";
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX: caf\xc3\xa9 \x80\xff\r\n\r\n"), 0);
	CHECK_MEM(req.f[1].value, req.f[1].value_len, "caf\xc3\xa9 \x80\xff");
	for (unsigned c = 1; c < 0x20; c++) {
		if (c == '\t' || c == '\r' || c == '\n')
			continue;
		char h[64];
		int n = snprintf(h, sizeof(h), "GET / HTTP/1.1\r\nHost: a\r\nX: b%cc\r\n\r\n", (char)c);
		unit_case = "control byte in a value";
		CHECK_INT(parse_n(h, (size_t)n), 400);
		CHECK(strstr(why, "control") != NULL);
	}
	check_refused("GET / HTTP/1.1\r\nHost: a\r\nX: b\x7f\r\n\r\n", 400);
	unit_case = "NUL in a value";
	CHECK_INT(PARSE_LIT("GET / HTTP/1.1\r\nHost: a\r\nX: b\0c\r\n\r\n"), 400);
}

/* 64 fields pass, 65 are 431. */
static void field_count(void)
{
	char h[8192];
	for (unsigned total = HTTP_HEADERS_MAX - 1; total <= HTTP_HEADERS_MAX + 1; total++) {
		size_t n = (size_t)snprintf(h, sizeof(h), "GET / HTTP/1.1\r\nHost: a\r\n");
		for (unsigned i = 1; i < total; i++)
			n += (size_t)snprintf(h + n, sizeof(h) - n, "X-%u: %u\r\n", i, i);
		n += (size_t)snprintf(h + n, sizeof(h) - n, "\r\n");
		unit_case = total <= HTTP_HEADERS_MAX ? "64 fields or fewer" : "65 fields";
		CHECK_INT(parse(h), total <= HTTP_HEADERS_MAX ? 0 : 431);
		if (total <= HTTP_HEADERS_MAX)
			CHECK_INT(req.n, total);
		else
			CHECK(strstr(why, "64") != NULL);
	}
}

/* The head: 16 KiB with its blank line pass; one byte more is 431, whether
 * it ends or not; 16 KiB without its end is 431 too (it cannot end now). */
static void head_bound(void)
{
	char *h = head_of(HTTP_HEAD_BYTES, true);
	unit_case = "head of 16384 bytes";
	CHECK_INT(parse(h), 0);
	CHECK_U64(req.head_len, HTTP_HEAD_BYTES);
	CHECK_U64(req.f[1].value_len, HTTP_HEAD_BYTES - 28 - 4);   /* less "GET / HTTP/1.1\r\nHost: a\r\nX: " */
	free(h);
	h = head_of(HTTP_HEAD_BYTES + 1, true);
	unit_case = "head of 16385 bytes";
	CHECK_INT(parse(h), 431);
	CHECK(strstr(why, "16 KiB") != NULL);
	free(h);
	h = head_of(HTTP_HEAD_BYTES - 1, false);
	unit_case = "16383 bytes, no end yet";
	CHECK_INT(parse(h), -1);
	free(h);
	h = head_of(HTTP_HEAD_BYTES, false);
	unit_case = "16384 bytes, no end";
	CHECK_INT(parse(h), 431);
	free(h);
	h = head_of(HTTP_HEAD_BYTES + 4096, true);
	unit_case = "20 KiB head";
	CHECK_INT(parse(h), 431);
	free(h);
}

static void host_field(void)
{
	check_refused("GET / HTTP/1.1\r\n\r\n", 400);
	unit_case = "no Host on 1.1";
	CHECK(strstr(why, "Host") != NULL);
	check_refused("GET / HTTP/1.1\r\nX: a\r\n\r\n", 400);
	check_refused("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);   /* twice, even the same */
	check_refused("GET / HTTP/1.1\r\nHost: a\r\nhOsT: b\r\n\r\n", 400);
	check_refused("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);   /* on 1.0 too */
	unit_case = "host in any case";
	CHECK_INT(parse("GET / HTTP/1.1\r\nhOST: a\r\n\r\n"), 0);
	unit_case = "an empty Host is a Host";
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);
}

static void content_length_forms(void)
{
	static const struct { const char *v; int status; unsigned long long n; } cls[] = {
		{ "0", 0, 0 }, { "1", 0, 1 }, { "42", 0, 42 }, { "007", 0, 7 }, { " 12 ", 0, 12 },
		{ "1048576", 0, 1048576 },
		{ "9999999999999999999", 0, 9999999999999999999ull },   /* 19 digits: the most */
		{ "0000000000000000001", 0, 1 },
		{ "18446744073709551616", 400, 0 },                        /* 20 digits: 2^64 */
		{ "00000000000000000001", 400, 0 },
		{ "", 400, 0 }, { "-1", 400, 0 }, { "+1", 400, 0 }, { "1 2", 400, 0 }, { "1,1", 400, 0 },
		{ "0x10", 400, 0 }, { "1e3", 400, 0 }, { "12a", 400, 0 }, { "١", 400, 0 },
	};
	char h[256];
	for (unsigned i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		snprintf(h, sizeof(h), "POST /mcp HTTP/1.1\r\nHost: a\r\nContent-Length: %s\r\n\r\n", cls[i].v);
		unit_case = cls[i].v;
		CHECK_INT(parse(h), cls[i].status);
		if (!cls[i].status)
			CHECK_U64(req.content_length, cls[i].n);
		else
			CHECK(strstr(why, "Content-Length") != NULL);
	}
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n", 400);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400);
	unit_case = "duplicated Content-Length";
	CHECK(strstr(why, "Content-Length") != NULL);
}

static void transfer_encoding(void)
{
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	unit_case = "CL + TE";
	CHECK(strstr(why, "smuggling") != NULL);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n", 400);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\nContent-Length: 5\r\n\r\n", 400);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	unit_case = "chunked";
	CHECK(strstr(why, "Content-Length") != NULL);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n", 411);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 411);
	/* a final coding other than chunked: the length cannot be known (RFC 9112 6.3): 400 */
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400);
	check_refused("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400);
	check_refused("GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 411);
}

static void keep_alive(void)
{
	static const struct { const char *h; bool keep; } ks[] = {
		{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nConnection: close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true },   /* another option */
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection:\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false },   /* close wins (RFC 9112 9.3) */
		{ "GET / HTTP/1.0\r\nConnection: close\r\nConnection: Keep-Alive\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: close\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nKeep-Alive: timeout=5\r\n\r\n", false },   /* the option is in Connection */
	};
	for (unsigned i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		unit_case = ks[i].h;
		CHECK_INT(parse(ks[i].h), 0);
		CHECK_INT(req.keep_alive, ks[i].keep);
	}
}

static void field_lookup(void)
{
	unit_case = "field_lookup";
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nX-Twice: one\r\nACCEPT: text/html\r\nx-twice: two\r\n"
			"Hostname: h\r\n\r\n"), 0);
	size_t n = 99;
	int count = 99;
	const char *v = http__field(&req, "accept", &n, &count);
	CHECK_MEM(v, n, "text/html");
	CHECK_INT(count, 1);
	v = http__field(&req, "Accept", NULL, NULL);   /* n and count may be NULL */
	CHECK(v != NULL);
	v = http__field(&req, "x-twice", &n, &count);
	CHECK_MEM(v, n, "one");                         /* the first */
	CHECK_INT(count, -1);
	n = 99;
	v = http__field(&req, "missing", &n, &count);
	CHECK(v == NULL);
	CHECK_INT(count, 0);
	CHECK_U64(n, 99);                               /* untouched */
	v = http__field(&req, "host", &n, &count);      /* not "Hostname" */
	CHECK_MEM(v, n, "a");
	CHECK_INT(count, 1);
	CHECK(http__field(&req, "hos", NULL, NULL) == NULL);
	CHECK(http__field(&req, "host:", NULL, NULL) == NULL);
}

static void field_lists(void)
{
	unit_case = "field_lists";
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n"
			"Accept: application/json;q=0.9 , TEXT/Event-Stream ; q=0.5,,\t, */*;q=0.1\r\n"
			"Accept: image/png\r\n"
			"X-Empty:\r\n"
			"Connection: keep-alive,Upgrade\r\n\r\n"), 0);
	CHECK(http__field_has(&req, "accept", "application/json"));
	CHECK(http__field_has(&req, "ACCEPT", "text/event-stream"));   /* names and tokens in any case */
	CHECK(http__field_has(&req, "accept", "*/*"));
	CHECK(http__field_has(&req, "accept", "image/png"));            /* in the second line */
	CHECK(!http__field_has(&req, "accept", "application/jso"));    /* whole elements only */
	CHECK(!http__field_has(&req, "accept", "json"));
	CHECK(!http__field_has(&req, "accept", "text/event-stream;q=0.5"));
	CHECK(!http__field_has(&req, "accept", "q=0.9"));
	CHECK(!http__field_has(&req, "x-empty", "a"));
	CHECK(!http__field_has(&req, "missing", "a"));
	CHECK(http__field_has(&req, "connection", "upgrade"));
	CHECK(http__field_has(&req, "connection", "KEEP-ALIVE"));
	CHECK(!http__field_has(&req, "connection", "keep"));
}

/* q=0 says "not acceptable" (RFC 9110 12.4.2): such an element is not held. */
static void field_lists_q_zero(void)
{
	unit_case = "field_lists_q_zero";
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\n"
			"Accept: application/json, text/event-stream;q=0, image/png; Q=0.000, text/html;q=0.001,"
			" a/b;level=1;q=0.0, c/d;q=0.\r\n\r\n"), 0);
	CHECK(http__field_has(&req, "accept", "application/json"));
	CHECK(!http__field_has(&req, "accept", "text/event-stream"));
	CHECK(!http__field_has(&req, "accept", "image/png"));
	CHECK(http__field_has(&req, "accept", "text/html"));
	CHECK(!http__field_has(&req, "accept", "a/b"));
	CHECK(!http__field_has(&req, "accept", "c/d"));
	CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nAccept: text/event-stream;q=1, x/y;qq=0, x/z;q=0.5\r\n\r\n"), 0);
	CHECK(http__field_has(&req, "accept", "text/event-stream"));
	CHECK(http__field_has(&req, "accept", "x/y"));
	CHECK(http__field_has(&req, "accept", "x/z"));
}

static void reasons(void)
{
	unit_case = "reasons";
	static const int st[] = { 100, 200, 202, 204, 400, 401, 403, 404, 405, 406, 408, 409, 411, 413, 414, 415, 417,
				  431, 500, 501, 503, 505 };
	for (unsigned i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		CHECK(strcmp(http__reason(st[i]), "Unknown") != 0);
	CHECK_STR(http__reason(431), "Request Header Fields Too Large");
	CHECK_STR(http__reason(413), "Content Too Large");
	CHECK_STR(http__reason(299), "Unknown");
}

int main(void)
{
	TEST(complete_head);
	TEST(incomplete_heads);
	TEST(request_line_forms);
	TEST(target_bound);
	TEST(methods);
	TEST(versions);
	TEST(line_endings);
	TEST(obs_fold_and_names);
	TEST(values);
	TEST(field_count);
	TEST(head_bound);
	TEST(host_field);
	TEST(content_length_forms);
	TEST(transfer_encoding);
	TEST(keep_alive);
	TEST(field_lookup);
	TEST(field_lists);
	TEST(field_lists_q_zero);
	TEST(reasons);
	return UNIT_DONE();
}
