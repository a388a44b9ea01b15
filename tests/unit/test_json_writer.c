/* Unit tests for the bounded JSON writer (src/json/writer.c): escaping,
 * separators, nesting, and the sticky overflow at exactly the capacity.
 * Everything the writer emits is fed back through the strict reader. */
#include <math.h>
#include <string.h>

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

	/* nesting up to LIMIT_WRITER_DEPTH works; one more level fails closed */
	jw__init(&w, buf, sizeof(buf));
	for (int k = 0; k < LIMIT_WRITER_DEPTH; k++)
		jw__arr(&w);
	CHECK(!w.overflow);
	for (int k = 0; k < LIMIT_WRITER_DEPTH; k++)
		jw__arr_end(&w);
	CHECK(!w.overflow);
	CHECK_INT(w.len, 2 * LIMIT_WRITER_DEPTH);
	CHECK(valid_json(buf, w.len));
	jw__init(&w, buf, sizeof(buf));
	for (int k = 0; k <= LIMIT_WRITER_DEPTH; k++)
		jw__arr(&w);
	CHECK(w.overflow);

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

	/* the error-context idiom: a writer started at depth 1 holds members */
	jw__init(&w, buf, sizeof(buf));
	w.depth = 1;
	jw__kstr(&w, "a", "b");
	jw__kint(&w, "c", 1);
	CHECK_MEM(buf, w.len, "\"a\":\"b\",\"c\":1");
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
	TEST(separators_and_nesting);
	TEST(overflow_at_cap);
	TEST(sticky_overflow);
	return UNIT_DONE();
}
