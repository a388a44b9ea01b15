/* Unit tests for the bounded JSON writer (src/json/writer.c): escaping,
 * separators, nesting, and the sticky overflow at exactly the capacity.
 * Everything the writer emits is fed back through the strict reader.
 * Its bracket assertions are checked both ways: the uses the server makes
 * pass, and each misuse aborts a child process with the assertion's line. */
#include <math.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json/json.h"
#include "unit.h"

static char buf[8192];
static jsmntok_t toks[1024];

static bool valid_json(const char *s, size_t n)
{
	struct json_perr e;
	return json__validate(s, n, 1024, &e) == 0;
}

static void escape_every_control_byte(void)
{
	for (int c = 0; c < 0x20; c++) {
		struct jw w;
		char in[3] = { 'a', (char)c, 'b' };
		char want[16];
		switch (c) {
		case '\n': strcpy(want, "\"a\\nb\""); break;
		case '\t': strcpy(want, "\"a\\tb\""); break;
		case '\r': strcpy(want, "\"a\\rb\""); break;
		default: snprintf(want, sizeof(want), "\"a\\u00%02xb\"", c);
		}
		char name[24];
		snprintf(name, sizeof(name), "control 0x%02x", c);
		unit_case = name;
		jw__init(&w, buf, sizeof(buf));
		jw__strn(&w, in, 3);
		CHECK(!w.overflow);
		CHECK_MEM(buf, w.len, want);
		CHECK(valid_json(buf, w.len));
	}
	unit_case = "escape_every_control_byte";
	struct jw w;
	jw__init(&w, buf, sizeof(buf));
	jw__str(&w, "q\"b\\s/\x7f");
	CHECK_MEM(buf, w.len, "\"q\\\"b\\\\s/\x7f\"");
	/* round trip of all 128 ASCII byte values */
	char all[128];
	for (int c = 0; c < 128; c++)
		all[c] = (char)c;
	jw__init(&w, buf, sizeof(buf));
	jw__arr(&w);
	jw__strn(&w, all, sizeof(all));
	jw__arr_end(&w);
	CHECK(valid_json(buf, w.len));
	struct jdoc d;
	struct json_perr e;
	char back[256];
	size_t len;
	CHECK_INT(jdoc__parse(&d, buf, w.len, toks, 1024, 64, &e), 0);
	CHECK_INT(jdoc__str(&d, 1, back, sizeof(back), &len), 0);
	CHECK_INT(len, 128);
	CHECK(!memcmp(back, all, 128));
}

static void invalid_utf8_becomes_fffd(void)
{
	static const struct { const char *in; const char *out; } cases[] = {
		{ "a\xff" "b", "\"a\xef\xbf\xbd" "b\"" },
		{ "\xc0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },             /* overlong: two bad bytes */
		{ "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" }, /* surrogate */
		{ "\xe2\x82", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },             /* truncated */
		{ "\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xe2\x82\xac", "\"\xe2\x82\xac\"" },                     /* valid stays */
		{ "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct jw w;
		char name[24];
		snprintf(name, sizeof(name), "utf8 case %u", k);
		unit_case = name;
		jw__init(&w, buf, sizeof(buf));
		jw__str(&w, cases[k].in);
		CHECK_MEM(buf, w.len, cases[k].out);
		CHECK(valid_json(buf, w.len));
	}
	unit_case = "invalid_utf8_becomes_fffd";
}

static void separators_and_nesting(void)
{
	struct jw w;
	jw__init(&w, buf, sizeof(buf));
	jw__obj(&w);
	jw__kstr(&w, "s", "v");
	jw__kint(&w, "i", -42);
	jw__kuint(&w, "u", UINT64_MAX);
	jw__kbool(&w, "t", true);
	jw__kbool(&w, "f", false);
	jw__key(&w, "n");
	jw__null(&w);
	jw__key(&w, "a");
	jw__arr(&w);
	jw__int(&w, 1);
	jw__arr(&w);
	jw__arr_end(&w);
	jw__obj(&w);
	jw__obj_end(&w);
	jw__str(&w, NULL);
	jw__double(&w, 0.5);
	jw__double(&w, NAN);
	jw__double(&w, INFINITY);
	jw__raw(&w, "{\"r\":[1]}", 9);
	jw__strf(&w, "%s-%d", "x", 7);
	jw__arr_end(&w);
	jw__key(&w, "o");
	jw__obj(&w);
	jw__key(&w, "deep");
	jw__obj(&w);
	jw__obj_end(&w);
	jw__obj_end(&w);
	jw__obj_end(&w);
	CHECK(!w.overflow);
	CHECK_INT(w.depth, 0);
	CHECK_MEM(buf, w.len,
		  "{\"s\":\"v\",\"i\":-42,\"u\":18446744073709551615,\"t\":true,\"f\":false,\"n\":null,"
		  "\"a\":[1,[],{},null,0.5,null,null,{\"r\":[1]},\"x-7\"],\"o\":{\"deep\":{}}}");
	CHECK(valid_json(buf, w.len));

	/* top-level scalars take no separator */
	jw__init(&w, buf, sizeof(buf));
	jw__int(&w, INT64_MIN);
	CHECK_MEM(buf, w.len, "-9223372036854775808");

	/* nesting up to LIMIT_WRITER_DEPTH works (one more asserts: below) */
	jw__init(&w, buf, sizeof(buf));
	for (int k = 0; k < LIMIT_WRITER_DEPTH; k++)
		jw__arr(&w);
	CHECK(!w.overflow);
	for (int k = 0; k < LIMIT_WRITER_DEPTH; k++)
		jw__arr_end(&w);
	CHECK(!w.overflow);
	CHECK_INT(w.len, 2 * LIMIT_WRITER_DEPTH);
	CHECK(valid_json(buf, w.len));
	CHECK_INT(w.depth, 0);

	/* separators stay right in sibling containers at depth 63/64 (bit 63) */
	jw__init(&w, buf, sizeof(buf));
	for (int k = 0; k < LIMIT_WRITER_DEPTH - 1; k++)
		jw__arr(&w);
	jw__arr(&w);
	jw__int(&w, 1);
	jw__int(&w, 2);
	jw__arr_end(&w);
	jw__arr(&w);
	jw__int(&w, 3);
	jw__arr_end(&w);
	for (int k = 0; k < LIMIT_WRITER_DEPTH - 1; k++)
		jw__arr_end(&w);
	CHECK(!w.overflow);
	CHECK(valid_json(buf, w.len));
	CHECK(strstr(buf, "[[1,2],[3]]") != NULL);

	/* the error-context idiom: a writer of members only */
	jw__init_members(&w, buf, sizeof(buf));
	jw__kstr(&w, "a", "b");
	jw__kint(&w, "c", 1);
	jw__key(&w, "log");
	jw__arr(&w);
	jw__obj(&w);
	jw__kbool(&w, "cut", true);
	jw__obj_end(&w);
	jw__arr_end(&w);
	CHECK_MEM(buf, w.len, "\"a\":\"b\",\"c\":1,\"log\":[{\"cut\":true}]");
	CHECK_INT(w.depth, 1);
}

/* The shapes the server writes, none of which may trip an assertion:
 * members spliced raw into an object (the error object), a value after a
 * key that is a container or raw text (the JSON-RPC envelope), containers
 * closed at depth LIMIT_WRITER_DEPTH, and writes after an overflow. */
static void uses_that_hold(void)
{
	struct jw w, m;
	static char mbuf[256];
	jw__init_members(&m, mbuf, sizeof(mbuf));
	jw__kstr(&m, "pointer", "/x");
	jw__kint(&m, "errno", 1);
	jw__init(&w, buf, sizeof(buf));
	jw__obj(&w);
	jw__kstr(&w, "jsonrpc", "2.0");
	jw__key(&w, "id");
	jw__raw(&w, "7", 1);
	jw__key(&w, "result");
	jw__obj(&w);
	jw__key(&w, "error");
	jw__obj(&w);
	jw__kstr(&w, "code", "EPERM");
	jw__key(&w, "context");
	jw__obj(&w);
	jw__raw(&w, m.buf, m.len);
	jw__obj_end(&w);
	jw__obj_end(&w);
	jw__key(&w, "content");
	jw__arr(&w);
	jw__arr_end(&w);
	jw__obj_end(&w);
	jw__obj_end(&w);
	CHECK_INT(w.depth, 0);
	CHECK(!w.overflow);
	CHECK_MEM(buf, w.len, "{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":{\"error\":{\"code\":\"EPERM\","
		  "\"context\":{\"pointer\":\"/x\",\"errno\":1}},\"content\":[]}}");
	CHECK(valid_json(buf, w.len));

	/* alternating kinds down to the limit (bit 63 included), each closed
	 * by its own kind */
	jw__init(&w, buf, sizeof(buf));
	for (int k = 0; k < LIMIT_WRITER_DEPTH; k++) {
		if (k % 2) {
			jw__arr(&w);
		} else {
			jw__obj(&w);
			jw__key(&w, "k");
		}
	}
	jw__int(&w, 1);
	jw__int(&w, 2);
	for (int k = LIMIT_WRITER_DEPTH - 1; k >= 0; k--) {
		if (k % 2)
			jw__arr_end(&w);
		else
			jw__obj_end(&w);
	}
	CHECK_INT(w.depth, 0);
	CHECK(!w.overflow);
	CHECK(valid_json(buf, w.len));
	CHECK(strstr(buf, "{\"k\":[{\"k\":[1,2]}]}") != NULL);

	/* overflow stops the bytes, not the bookkeeping: closes still match */
	jw__init(&w, buf, 4);
	jw__obj(&w);
	jw__key(&w, "long key");
	jw__arr(&w);
	jw__arr_end(&w);
	jw__obj_end(&w);
	CHECK(w.overflow);
	CHECK_INT(w.depth, 0);
}

/* ---- misuses: each aborts with its assertion ---------------------------- */

/* Runs fn in a child with stderr captured: it must die of SIGABRT after
 * printing the assertion message naming want. */
static void must_abort(const char *name, void (*fn)(struct jw *w), const char *want)
{
	int p[2];
	unit_case = name;
	CHECK_INT(pipe(p), 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		struct jw w;
		jw__init(&w, buf, sizeof(buf));
		fn(&w);
		_exit(0);   /* no assertion fired */
	}
	close(p[1]);
	char out[1024];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(out) - 1 && (r = read(p[0], out + n, sizeof(out) - 1 - n)) > 0)
		n += (size_t)r;
	out[n] = 0;
	close(p[0]);
	int st = 0;
	CHECK_INT(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
	char line[256];
	snprintf(line, sizeof(line), "ebpf-mcp: assertion failed: %s at src/json/writer.c:", want);
	CHECK(strncmp(out, line, strlen(line)) == 0);
	if (strncmp(out, line, strlen(line)))
		printf("  stderr was: %s\n", out);
	CHECK(n && out[n - 1] == '\n');
}

static void close_nothing(struct jw *w) { jw__obj_end(w); }
static void close_nothing_arr(struct jw *w) { jw__arr_end(w); }
static void close_one_too_many(struct jw *w) { jw__arr(w); jw__arr_end(w); jw__arr_end(w); }
static void arr_closed_as_obj(struct jw *w) { jw__arr(w); jw__obj_end(w); }
static void obj_closed_as_arr(struct jw *w) { jw__obj(w); jw__arr_end(w); }
static void inner_mismatch(struct jw *w)
{
	jw__obj(w);
	jw__key(w, "a");
	jw__arr(w);
	jw__obj_end(w);
}
static void key_at_top(struct jw *w) { jw__key(w, "k"); }
static void key_in_arr(struct jw *w) { jw__arr(w); jw__kint(w, "k", 1); }
static void too_deep(struct jw *w)
{
	for (int k = 0; k <= LIMIT_WRITER_DEPTH; k++)
		jw__arr(w);
}
static void too_deep_members(struct jw *w)
{
	jw__init_members(w, buf, sizeof(buf));
	jw__key(w, "k");
	for (int k = 1; k <= LIMIT_WRITER_DEPTH; k++)
		jw__arr(w);
}
static void members_in_arr(struct jw *w)
{
	jw__init_members(w, buf, sizeof(buf));
	jw__key(w, "k");
	jw__arr(w);
	jw__key(w, "x");
}
static void still_asserts_after_overflow(struct jw *w)
{
	jw__init(w, buf, 1);
	jw__arr(w);
	jw__str(w, "too long");
	jw__obj_end(w);
}

static void misuses_abort(void)
{
	must_abort("close_nothing", close_nothing, "w->depth > 0");
	must_abort("close_nothing_arr", close_nothing_arr, "w->depth > 0");
	must_abort("close_one_too_many", close_one_too_many, "w->depth > 0");
	must_abort("arr_closed_as_obj", arr_closed_as_obj, "in_obj(w)");
	must_abort("obj_closed_as_arr", obj_closed_as_arr, "in_arr(w)");
	must_abort("inner_mismatch", inner_mismatch, "in_obj(w)");
	must_abort("key_at_top", key_at_top, "in_obj(w)");
	must_abort("key_in_arr", key_in_arr, "in_obj(w)");
	must_abort("too_deep", too_deep, "w->depth < LIMIT_WRITER_DEPTH");
	must_abort("too_deep_members", too_deep_members, "w->depth < LIMIT_WRITER_DEPTH");
	must_abort("members_in_arr", members_in_arr, "in_obj(w)");
	must_abort("still_asserts_after_overflow", still_asserts_after_overflow, "in_obj(w)");
}

/* Writes ["x..x"] with a string of n bytes: n + 4 bytes of output. */
static void write_arr_str(struct jw *w, size_t n)
{
	static char s[4096];
	memset(s, 'x', sizeof(s));
	jw__arr(w);
	jw__strn(w, s, n);
	jw__arr_end(w);
}

static void overflow_at_cap(void)
{
	struct jw w;
	/* exactly cap: fits, nothing past it is touched */
	memset(buf, '#', sizeof(buf));
	jw__init(&w, buf, 104);
	write_arr_str(&w, 100);
	CHECK(!w.overflow);
	CHECK_INT(w.len, 104);
	CHECK(buf[104] == '#');
	CHECK(valid_json(buf, w.len));
	/* one byte under the need: overflow, and never a byte past cap */
	memset(buf, '#', sizeof(buf));
	jw__init(&w, buf, 103);
	write_arr_str(&w, 100);
	CHECK(w.overflow);
	CHECK(w.len <= 103);
	CHECK(buf[103] == '#');
	/* escapes count: "\n" x 10 needs 20 + 2 bytes */
	char nl[10];
	memset(nl, '\n', sizeof(nl));
	jw__init(&w, buf, 22);
	jw__strn(&w, nl, sizeof(nl));
	CHECK(!w.overflow);
	CHECK_INT(w.len, 22);
	jw__init(&w, buf, 21);
	jw__strn(&w, nl, sizeof(nl));
	CHECK(w.overflow);
	/* a U+FFFD replacement counts three bytes */
	jw__init(&w, buf, 5);
	jw__str(&w, "\xff");
	CHECK(!w.overflow);
	CHECK_INT(w.len, 5);
	jw__init(&w, buf, 4);
	jw__str(&w, "\xff");
	CHECK(w.overflow);
	/* numbers are all or nothing */
	jw__init(&w, buf, 19);
	jw__int(&w, INT64_MIN);   /* 20 bytes */
	CHECK(w.overflow);
	CHECK_INT(w.len, 0);
	/* a zero-capacity writer overflows on the first byte */
	jw__init(&w, buf, 0);
	jw__null(&w);
	CHECK(w.overflow);
}

/* A byte-at-a-time escaper to hold the writer's chunked one against. */
static size_t ref_escape(const unsigned char *u, size_t n, char *o)
{
	size_t k = 0;
	o[k++] = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		size_t l = c < 0x80 ? 1 : json__utf8_len(u + i, n - i);
		if (!l)
			memcpy(o + k, "\xef\xbf\xbd", 3), k += 3, l = 1;
		else if (c >= 0x80)
			memcpy(o + k, u + i, l), k += l;
		else if (c == '"' || c == '\\')
			o[k++] = '\\', o[k++] = (char)c;
		else if (c == '\n')
			memcpy(o + k, "\\n", 2), k += 2;
		else if (c == '\t')
			memcpy(o + k, "\\t", 2), k += 2;
		else if (c == '\r')
			memcpy(o + k, "\\r", 2), k += 2;
		else if (c < 0x20)
			k += (size_t)sprintf(o + k, "\\u%04x", c);
		else
			o[k++] = (char)c;
		i += l;
	}
	o[k++] = '"';
	return k;
}

/* Strings longer than the writer's escape chunk (4096 input bytes): quotes,
 * controls, and multi-byte characters and stray bytes across every chunk
 * boundary come out as one byte at a time would write them, and near the
 * end of the buffer the overflow is exact and never writes past the cap. */
static void escape_in_chunks(void)
{
	enum { N = 20000 };
	static unsigned char in[N];
	static char want[6 * N + 2], got[6 * N + 16];
	static const char *const pieces[] = { "ab", "\"", "\\", "\n", "\x01", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					      "\xff", "\xe2\x82", "{\"key\":1,\"value\":1007}" };
	size_t n = 0;
	for (unsigned k = 0; n < N - 32; k = k * 7 + 3) {
		const char *p = pieces[k % 10];
		memcpy(in + n, p, strlen(p));
		n += strlen(p);
	}
	size_t need = ref_escape(in, n, want);
	for (size_t skew = 0; skew < 16; skew++) {   /* characters straddle the chunk and 16-byte block boundaries differently */
		struct jw w;
		size_t m = ref_escape(in + skew, n - skew, want);
		jw__init(&w, got, sizeof(got));
		jw__strn(&w, (const char *)in + skew, n - skew);
		CHECK(!w.overflow);
		CHECK_INT(w.len, m);
		CHECK(!memcmp(got, want, m));
		CHECK(valid_json(got, w.len));
	}
	ref_escape(in, n, want);
	for (size_t cap = need - 40; cap <= need; cap++) {
		struct jw w;
		memset(got, '#', sizeof(got));
		jw__init(&w, got, cap);
		jw__strn(&w, (const char *)in, n);
		CHECK(w.overflow == (cap < need));
		CHECK(w.len <= cap);
		CHECK(got[cap] == '#');
		CHECK(!memcmp(got, want, w.len));
	}
}

/* Each kind of byte that needs escaping, alone and in pairs, at every
 * place in and around a 16-byte block of plain text (the writer looks at
 * 16 bytes at a time), and plain runs of every length up to 40: as one
 * byte at a time would write them. */
/* The input in a block of exactly n bytes, so the sanitizer build sees any
 * read past its end (the 16-byte loads near the end of a string). */
static void strn_exact(struct jw *w, const unsigned char *in, size_t n)
{
	char *copy = malloc(n ? n : 1);
	CHECK(copy != NULL);
	if (!copy)
		return;
	memcpy(copy, in, n);
	jw__strn(w, copy, n);
	free(copy);
}

static void escape_at_every_offset(void)
{
	static const char *const odd[] = { "\"", "\\", "\n", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
					   "\xff", "\xe2\x82", "\"\"", "\xc3\xa9\"" };
	unsigned char in[64];
	char want[6 * 64 + 2], got[6 * 64 + 16];
	for (size_t k = 0; k < sizeof(odd) / sizeof(odd[0]); k++) {
		for (size_t at = 0; at <= 40; at++) {
			for (size_t len = at; len <= 44; len += 4) {
				size_t l = strlen(odd[k]), n = len + l;
				memset(in, 'a', sizeof(in));
				memcpy(in + at, odd[k], l);
				size_t m = ref_escape(in, n, want);
				struct jw w;
				jw__init(&w, got, sizeof(got));
				strn_exact(&w, in, n);
				CHECK_INT(w.len, m);
				CHECK(!memcmp(got, want, m));
			}
		}
	}
	for (size_t n = 0; n <= 40; n++) {
		memset(in, 'z', n);
		struct jw w;
		jw__init(&w, got, sizeof(got));
		strn_exact(&w, in, n);
		CHECK_INT(w.len, ref_escape(in, n, want));
		CHECK(!memcmp(got, want, w.len));
	}
}

static void sticky_overflow(void)
{
	struct jw w;
	memset(buf, '#', sizeof(buf));
	jw__init(&w, buf, 10);
	jw__obj(&w);
	jw__kstr(&w, "key", "a value that is too long");
	CHECK(w.overflow);
	size_t len = w.len;
	/* later, smaller writes that would fit still write nothing */
	jw__obj_end(&w);
	jw__int(&w, 1);
	jw__raw(&w, "", 0);
	jw__null(&w);
	CHECK(w.overflow);
	CHECK_INT(w.len, len);
	CHECK(buf[10] == '#');
	/* init clears it */
	jw__init(&w, buf, 10);
	CHECK(!w.overflow);
	jw__null(&w);
	CHECK_MEM(buf, w.len, "null");
}

int main(void)
{
	TEST(escape_every_control_byte);
	TEST(invalid_utf8_becomes_fffd);
	TEST(escape_in_chunks);
	TEST(escape_at_every_offset);
	TEST(separators_and_nesting);
	TEST(overflow_at_cap);
	TEST(sticky_overflow);
	TEST(uses_that_hold);
	TEST(misuses_abort);
	return UNIT_DONE();
}
