/* Unit tests for the JSON reader (src/json/reader.c): the strict validator,
 * the token limit, the typed accessors, and the glob matcher. Every limit is
 * tried just under, at and just over its value. */
#include <errno.h>
#include <stdint.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "unit.h"

#define BIG_TOKENS (32768 + 8)

static jsmntok_t toks[BIG_TOKENS];
static char big[1 << 20];

/* Validates a byte string that may hold NULs; returns the error kind. */
static enum json_perr_kind vkind_n(const char *s, size_t n, unsigned depth)
{
	struct json_perr e;
	int rc = json__validate(s, n, depth, &e);
	if (rc == 0 && e.kind != JSON_OK)
		return (enum json_perr_kind)99;   /* inconsistent: success with a kind */
	return rc == 0 ? JSON_OK : e.kind;
}

static enum json_perr_kind vkind(const char *s) { return vkind_n(s, strlen(s), 64); }

static void grammar_valid(void)
{
	static const char *const ok[] = {
		"{}", "[]", "0", "-0", "1", "-1", "123456789", "1.5", "-0.0", "1e5", "1E5", "1e+5",
		"1e-5", "1.25E-10", "\"\"", "\"a\"", "true", "false", "null", " \t\r\n{ } \t\r\n",
		"{\"a\":1}", "{ \"a\" : [ 1 , 2 ] }", "[[],{}]", "{\"a\":{\"b\":null}}", "[true,false,null]",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\u0041\\u00e9\\u20AC\"", "{\"\":\"\"}",
		"[\"\x7f\"]",  /* DEL is not a control character for JSON */
	};
	for (unsigned k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
		unit_case = ok[k];
		CHECK_INT(vkind(ok[k]), JSON_OK);
	}
	unit_case = "grammar_valid";
}

static void grammar_invalid(void)
{
	static const char *const bad[] = {
		"{", "}", "[", "]", "[1,]", "{\"a\":1,}", "{\"a\"}", "{a:1}", "{'a':1}", "[1 2]", "01", "-01",
		"1.", ".5", "-", "1e", "1e+", "+1", "0x10", "tru", "nul", "fals", "True", "NULL", "NaN",
		"Infinity", "-Infinity", "'a'", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"\\",
		"[1]]", "{} {}", "[1]x", "{\"a\":1 \"b\":2}", "{,}", "[,]", "{\"a\"::1}", "1 2", "[1,,2]",
		"{\"a\":}", "{:1}", "[}", "{]", "\"\\U0041\"", "truefalse", "nulll", "[1.e5]", "[1e5.0]",
		"   ", "\x01", "/* c */ 1", "[1,2", "{\"a\":[1,2}", "\xef\xbb\xbf{}" /* BOM */,
	};
	for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		unit_case = bad[k];
		CHECK_INT(vkind(bad[k]), JSON_E_SYNTAX);
	}
	unit_case = "grammar_invalid";
	CHECK_INT(vkind(""), JSON_E_EMPTY);

	/* the offset names the first byte that is wrong */
	struct json_perr e;
	CHECK(json__validate("[1,]", 4, 64, &e) == -1);
	CHECK_INT(e.offset, 3);
	CHECK(json__validate("{\"a\":1 x}", 9, 64, &e) == -1);
	CHECK_INT(e.offset, 7);
	CHECK(e.what != NULL && strlen(e.what) > 0);
	CHECK(json__validate("[1] x", 5, 64, &e) == -1);
	CHECK_INT(e.offset, 4);
}

static void numbers_and_literals(void)
{
	CHECK_INT(vkind("[0,-0,0.0,0e0,0E+0,-0.5e-3,9007199254740993,1e400,-1e-400]"), JSON_OK);
	CHECK_INT(vkind("123456789012345678901234567890"), JSON_OK);
	CHECK_INT(vkind("00"), JSON_E_SYNTAX);
	CHECK_INT(vkind("-"), JSON_E_SYNTAX);
	CHECK_INT(vkind("--1"), JSON_E_SYNTAX);
	CHECK_INT(vkind("1e5e5"), JSON_E_SYNTAX);
	CHECK_INT(vkind("[true , false , null]"), JSON_OK);
	CHECK_INT(vkind("[t]"), JSON_E_SYNTAX);
	/* a literal cut by the end of input */
	CHECK_INT(vkind_n("true", 3, 64), JSON_E_SYNTAX);
	CHECK_INT(vkind_n("null", 2, 64), JSON_E_SYNTAX);
}

static void escapes_and_surrogates(void)
{
	CHECK_INT(vkind("\"\\ud83d\\ude00\""), JSON_OK);       /* a pair */
	CHECK_INT(vkind("\"\\uDBFF\\uDFFF\""), JSON_OK);       /* U+10FFFF, upper-case hex */
	CHECK_INT(vkind("\"\\ud800\\udc00\""), JSON_OK);       /* U+10000 */
	CHECK_INT(vkind("\"\\ud800\""), JSON_E_UTF8);          /* lone high */
	CHECK_INT(vkind("\"\\udbff\""), JSON_E_UTF8);
	CHECK_INT(vkind("\"\\udc00\""), JSON_E_UTF8);          /* lone low */
	CHECK_INT(vkind("\"\\udfff\\ud800\""), JSON_E_UTF8);   /* pair in the wrong order */
	CHECK_INT(vkind("\"\\ud800\\u0041\""), JSON_E_UTF8);   /* high + not a low */
	CHECK_INT(vkind("\"\\ud800x\""), JSON_E_UTF8);
	CHECK_INT(vkind("\"\\ud800\\ud800\""), JSON_E_UTF8);
	CHECK_INT(vkind("\"\\u0000\""), JSON_OK);              /* an escaped NUL is fine */
	CHECK_INT(vkind("\"\\u001f\\u007F\""), JSON_OK);
	CHECK_INT(vkind("\"\\ud7ff\\ue000\\uffff\""), JSON_OK);
	/* every valid single-character escape, and some invalid ones */
	const char *good = "\"\\\\\\\"\\/\\b\\f\\n\\r\\t\"";
	CHECK_INT(vkind(good), JSON_OK);
	static const char inv[] = "acdegho0'xU ";
	for (unsigned k = 0; inv[k]; k++) {
		char s[8] = { '"', '\\', inv[k], '"', 0 };
		unit_case = s;
		CHECK_INT(vkind(s), JSON_E_SYNTAX);
	}
	unit_case = "escapes_and_surrogates";
	/* an escape cut by the end of the input */
	CHECK_INT(vkind_n("\"\\u00", 5, 64), JSON_E_SYNTAX);
	CHECK_INT(vkind_n("\"\\ud83d\\ude0", 12, 64), JSON_E_UTF8);
}

static enum json_perr_kind str_kind(const char *body, size_t n)
{
	char buf[64];
	buf[0] = '"';
	memcpy(buf + 1, body, n);
	buf[n + 1] = '"';
	return vkind_n(buf, n + 2, 64);
}

static void utf8(void)
{
	static const struct { const char *s; enum json_perr_kind want; } cases[] = {
		{ "\xc2\x80", JSON_OK },             /* U+0080, smallest 2-byte */
		{ "\xdf\xbf", JSON_OK },             /* U+07FF */
		{ "\xe0\xa0\x80", JSON_OK },         /* U+0800, smallest 3-byte */
		{ "\xed\x9f\xbf", JSON_OK },         /* U+D7FF, just under the surrogates */
		{ "\xee\x80\x80", JSON_OK },         /* U+E000, just over them */
		{ "\xef\xbf\xbf", JSON_OK },         /* U+FFFF */
		{ "\xf0\x90\x80\x80", JSON_OK },     /* U+10000, smallest 4-byte */
		{ "\xf4\x8f\xbf\xbf", JSON_OK },     /* U+10FFFF, the last code point */
		{ "\xc0\x80", JSON_E_UTF8 },         /* overlong NUL */
		{ "\xc1\xbf", JSON_E_UTF8 },         /* overlong 2-byte */
		{ "\xe0\x80\x80", JSON_E_UTF8 },     /* overlong 3-byte */
		{ "\xe0\x9f\xbf", JSON_E_UTF8 },
		{ "\xf0\x80\x80\x80", JSON_E_UTF8 }, /* overlong 4-byte */
		{ "\xf0\x8f\xbf\xbf", JSON_E_UTF8 },
		{ "\xed\xa0\x80", JSON_E_UTF8 },     /* U+D800 encoded */
		{ "\xed\xbf\xbf", JSON_E_UTF8 },     /* U+DFFF encoded */
		{ "\xf4\x90\x80\x80", JSON_E_UTF8 }, /* U+110000 */
		{ "\xf5\x80\x80\x80", JSON_E_UTF8 },
		{ "\xf8\x88\x80\x80\x80", JSON_E_UTF8 }, /* 5-byte form */
		{ "\xff", JSON_E_UTF8 },
		{ "\xfe", JSON_E_UTF8 },
		{ "\x80", JSON_E_UTF8 },             /* lone continuation */
		{ "\xbf", JSON_E_UTF8 },
		{ "\xe2\x82", JSON_E_UTF8 },         /* truncated before the quote */
		{ "\xe2\x82\x41", JSON_E_UTF8 },     /* continuation missing */
		{ "\xc3", JSON_E_UTF8 },
		{ "a\xc3(b", JSON_E_UTF8 },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char name[32];
		snprintf(name, sizeof(name), "utf8 case %u", k);
		unit_case = name;
		CHECK_INT(str_kind(cases[k].s, strlen(cases[k].s)), cases[k].want);
	}
	unit_case = "utf8";
	/* the reported offset is that of the bad byte */
	struct json_perr e;
	CHECK(json__validate("\"ab\xff\"", 5, 64, &e) == -1);
	CHECK_INT(e.offset, 3);
	/* json__utf8_len on its own, including a sequence cut by n */
	CHECK_INT(json__utf8_len((const unsigned char *)"A", 1), 1);
	CHECK_INT(json__utf8_len((const unsigned char *)"\xe2\x82\xac", 3), 3);
	CHECK_INT(json__utf8_len((const unsigned char *)"\xe2\x82\xac", 2), 0);
	CHECK_INT(json__utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	CHECK_INT(json__utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 3), 0);
	/* invalid bytes outside strings are a syntax error, not UTF-8 */
	CHECK_INT(vkind("[\xff]"), JSON_E_SYNTAX);
}

static void control_bytes(void)
{
	for (int c = 0; c < 0x20; c++) {
		char s[4] = { '"', (char)c, '"', 0 };
		char name[24];
		snprintf(name, sizeof(name), "raw byte 0x%02x", c);
		unit_case = name;
		struct json_perr e;
		CHECK(json__validate(s, 3, 64, &e) == -1);
		CHECK_INT(e.kind, JSON_E_CTRL);
		CHECK_INT(e.offset, 1);
	}
	unit_case = "control_bytes";
	struct json_perr e;
	CHECK(json__validate("\"a\0b\"", 5, 64, &e) == -1);
	CHECK_INT(e.kind, JSON_E_CTRL);
	CHECK(strstr(e.what, "NUL") != NULL);
	/* NUL outside a string: syntax; a NUL after the value: trailing data */
	CHECK_INT(vkind_n("[\0]", 3, 64), JSON_E_SYNTAX);
	CHECK_INT(vkind_n("{}\0", 3, 64), JSON_E_SYNTAX);
	/* whitespace-class controls other than the four JSON allows */
	CHECK_INT(vkind("[1,\f2]"), JSON_E_SYNTAX);
	CHECK_INT(vkind("[1,\v2]"), JSON_E_SYNTAX);
}

/* depth opening brackets (alternating [ and {"k": ) then their closers */
static size_t nest(char *out, unsigned depth, bool objects)
{
	size_t n = 0;
	for (unsigned k = 0; k < depth; k++) {
		if (objects && k % 2) {
			memcpy(out + n, "{\"k\":", 5);
			n += 5;
		} else {
			out[n++] = '[';
		}
	}
	out[n++] = '0';
	for (unsigned k = depth; k-- > 0;)
		out[n++] = objects && k % 2 ? '}' : ']';
	return n;
}

static void depth_limit(void)
{
	const unsigned lims[] = { 4, (unsigned)limit_defs[LIM_JSON_DEPTH].def, 1024 };
	for (unsigned k = 0; k < 3; k++) {
		unsigned d = lims[k];
		struct json_perr e;
		size_t n = nest(big, d - 1, true);
		CHECK_INT(json__validate(big, n, d, &e), 0);      /* under */
		n = nest(big, d, true);
		CHECK_INT(json__validate(big, n, d, &e), 0);      /* at */
		n = nest(big, d + 1, false);
		CHECK_INT(json__validate(big, n, d, &e), -1);     /* over */
		CHECK_INT(e.kind, JSON_E_DEPTH);
		CHECK_INT(e.offset, d);                           /* the bracket one too deep */
	}
	/* a depth_max above the hard maximum is clamped to it */
	struct json_perr e;
	size_t n = nest(big, 1024, false);
	CHECK_INT(json__validate(big, n, 5000, &e), 0);
	n = nest(big, 1025, false);
	CHECK_INT(json__validate(big, n, 5000, &e), -1);
	CHECK_INT(e.kind, JSON_E_DEPTH);
	/* the array/object stack spans several 64-bit words: a wrong closer at
	 * level 130 is still caught */
	n = nest(big, 200, true);
	CHECK_INT(json__validate(big, n, 1024, &e), 0);
	size_t close_at = n - 130;   /* closers run from depth 199 down: this one is 129 */
	big[close_at] = big[close_at] == ']' ? '}' : ']';
	CHECK_INT(json__validate(big, n, 1024, &e), -1);
	CHECK_INT(e.kind, JSON_E_SYNTAX);
	CHECK_INT(e.offset, close_at);
}

/* [0,0,...] with n elements: n + 1 tokens */
static size_t zeros(char *out, unsigned n)
{
	size_t k = 0;
	out[k++] = '[';
	for (unsigned i = 0; i < n; i++) {
		if (i)
			out[k++] = ',';
		out[k++] = '0';
	}
	out[k++] = ']';
	return k;
}

static void token_limit(void)
{
	const unsigned lims[] = { (unsigned)limit_defs[LIM_JSON_TOKENS].min,
				  (unsigned)limit_defs[LIM_JSON_TOKENS].def };
	for (unsigned k = 0; k < 2; k++) {
		unsigned t = lims[k];
		struct jdoc d;
		struct json_perr e;
		size_t n = zeros(big, t - 2);                      /* t - 1 tokens */
		CHECK_INT(jdoc__parse(&d, big, n, toks, t, 64, &e), 0);
		CHECK_INT(d.n, t - 1);
		n = zeros(big, t - 1);                             /* exactly t */
		CHECK_INT(jdoc__parse(&d, big, n, toks, t, 64, &e), 0);
		CHECK_INT(d.n, t);
		CHECK_INT(d.t[0].size, t - 1);
		n = zeros(big, t);                                 /* t + 1 */
		CHECK_INT(jdoc__parse(&d, big, n, toks, t, 64, &e), -1);
		CHECK_INT(e.kind, JSON_E_TOKENS);
	}
	/* object keys are tokens too: {"a":1} is three */
	struct jdoc d;
	struct json_perr e;
	CHECK_INT(jdoc__parse(&d, "{\"a\":1}", 7, toks, 3, 64, &e), 0);
	CHECK_INT(jdoc__parse(&d, "{\"a\":1}", 7, toks, 2, 64, &e), -1);
	CHECK_INT(e.kind, JSON_E_TOKENS);
	/* a document that is one primitive is one token, also when it ends at
	 * the last byte (strict jsmn wants a delimiter after a primitive) */
	static const struct { const char *s; int start, end; } prims[] = {
		{ "1", 0, 1 }, { "null", 0, 4 }, { " true", 1, 5 }, { "-5 ", 0, 2 }, { "\n1e3", 1, 4 },
	};
	for (unsigned k = 0; k < sizeof(prims) / sizeof(prims[0]); k++) {
		unit_case = prims[k].s;
		CHECK_INT(jdoc__parse(&d, prims[k].s, strlen(prims[k].s), toks, 1, 64, &e), 0);
		CHECK_INT(d.n, 1);
		CHECK_INT(d.t[0].type, JSMN_PRIMITIVE);
		CHECK_INT(d.t[0].start, prims[k].start);
		CHECK_INT(d.t[0].end, prims[k].end);
	}
	unit_case = "token_limit";
	CHECK_INT(jdoc__parse(&d, "7", 1, toks, 1, 64, &e), 0);
	CHECK(jdoc__is_num(&d, 0) && !jdoc__is_obj(&d, 0));
	CHECK_INT(jdoc__parse(&d, "[\"s\"]", 5, toks, 1, 64, &e), -1);   /* 2 tokens, room for 1 */
	CHECK_INT(e.kind, JSON_E_TOKENS);
	/* the validator runs first: a syntax error is reported as such */
	CHECK_INT(jdoc__parse(&d, "[1,]", 4, toks, 2, 64, &e), -1);
	CHECK_INT(e.kind, JSON_E_SYNTAX);
	CHECK_INT(jdoc__parse(&d, "", 0, toks, 2, 64, &e), -1);
	CHECK_INT(e.kind, JSON_E_EMPTY);
}

static const char doc_text[] =
	"{\"a\":1,\"b\":\"x\\u00e9\\n\",\"c\":[1,2,{\"d\":true}],\"e\":null,"
	"\"p53\":9007199254740992,\"n53\":-9007199254740993,"
	"\"max\":9223372036854775807,\"over\":9223372036854775808,"
	"\"min\":-9223372036854775808,\"under\":-9223372036854775809,"
	"\"f\":1.5,\"g\":1e3,\"h\":5.0,\"k\\u0041y\":2,\"inf\":1e400,\"emoji\":\"\\ud83d\\ude00\","
	"\"t\":true,\"fa\":false,\"long\":12345678901234567890123456789012345}";

static void accessors(void)
{
	struct jdoc d;
	struct json_perr e;
	int64_t v;
	CHECK_INT(jdoc__parse(&d, doc_text, strlen(doc_text), toks, BIG_TOKENS, 64, &e), 0);
	CHECK(jdoc__is_obj(&d, 0));
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "a"), &v), 0);
	CHECK_INT(v, 1);
	CHECK_INT(jdoc__get(&d, 0, "missing"), -1);
	CHECK_INT(jdoc__get(&d, jdoc__get(&d, 0, "a"), "a"), -1);    /* not an object */
	CHECK_INT(jdoc__get(&d, -1, "a"), -1);
	CHECK(jdoc__get(&d, 0, "kAy") > 0);                           /* escaped key */
	CHECK_INT(jdoc__get(&d, 0, "k\\u0041y"), -1);                 /* raw text is not the key */

	/* integers around 2^53 and the int64 range */
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "p53"), &v), 0);
	CHECK(v == 9007199254740992ll);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "n53"), &v), 0);
	CHECK(v == -9007199254740993ll);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "max"), &v), 0);
	CHECK(v == INT64_MAX);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "over"), &v), -ERANGE);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "min"), &v), 0);
	CHECK(v == INT64_MIN);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "under"), &v), -ERANGE);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "long"), &v), -ERANGE);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "inf"), &v), -ERANGE);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "f"), &v), -EINVAL);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "g"), &v), 0);
	CHECK_INT(v, 1000);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "h"), &v), 0);
	CHECK_INT(v, 5);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "b"), &v), -EINVAL);
	CHECK_INT(jdoc__int(&d, jdoc__get(&d, 0, "t"), &v), -EINVAL);
	double x;
	CHECK_INT(jdoc__num(&d, jdoc__get(&d, 0, "f"), &x), 0);
	CHECK(x == 1.5);
	CHECK_INT(jdoc__num(&d, jdoc__get(&d, 0, "e"), &x), -EINVAL);

	/* predicates */
	CHECK(jdoc__is_null(&d, jdoc__get(&d, 0, "e")));
	CHECK(jdoc__is_bool(&d, jdoc__get(&d, 0, "t")) && jdoc__is_true(&d, jdoc__get(&d, 0, "t")));
	CHECK(jdoc__is_bool(&d, jdoc__get(&d, 0, "fa")) && !jdoc__is_true(&d, jdoc__get(&d, 0, "fa")));
	CHECK(jdoc__is_num(&d, jdoc__get(&d, 0, "n53")));
	CHECK(!jdoc__is_num(&d, jdoc__get(&d, 0, "t")));
	CHECK(jdoc__is_str(&d, jdoc__get(&d, 0, "b")));
	CHECK(!jdoc__is_obj(&d, -1) && !jdoc__is_arr(&d, d.n) && !jdoc__is_str(&d, d.n + 5));
	CHECK(!jdoc__is_num(&d, -1) && !jdoc__is_null(&d, d.n));

	/* arrays and skipping */
	int c = jdoc__get(&d, 0, "c");
	CHECK(jdoc__is_arr(&d, c));
	CHECK_INT(jdoc__elem(&d, c, 0), c + 1);
	int third = jdoc__elem(&d, c, 2);
	CHECK(jdoc__is_obj(&d, third));
	CHECK(jdoc__is_true(&d, jdoc__get(&d, third, "d")));
	CHECK_INT(jdoc__elem(&d, c, 3), -1);
	CHECK_INT(jdoc__elem(&d, c, -1), -1);
	CHECK_INT(jdoc__elem(&d, 0, 0), -1);                           /* not an array */
	CHECK_INT(jdoc__skip(&d, c), jdoc__get(&d, 0, "e") - 1);       /* lands on key "e" */
	CHECK_INT(jdoc__skip(&d, 0), d.n);
}

static void strings(void)
{
	struct jdoc d;
	struct json_perr e;
	char out[64];
	size_t len = 99;
	CHECK_INT(jdoc__parse(&d, doc_text, strlen(doc_text), toks, BIG_TOKENS, 64, &e), 0);
	int b = jdoc__get(&d, 0, "b");
	CHECK_INT(jdoc__str(&d, b, out, sizeof(out), &len), 0);
	CHECK_INT(len, 4);
	CHECK_STR(out, "x\xc3\xa9\n");
	CHECK(jdoc__str_eq(&d, b, "x\xc3\xa9\n"));
	CHECK(!jdoc__str_eq(&d, b, "x\xc3\xa9"));
	CHECK(!jdoc__str_eq(&d, jdoc__get(&d, 0, "a"), "1"));          /* not a string */
	CHECK_INT(jdoc__str(&d, jdoc__get(&d, 0, "a"), out, sizeof(out), NULL), -EINVAL);
	int em = jdoc__get(&d, 0, "emoji");
	CHECK_INT(jdoc__str(&d, em, out, sizeof(out), &len), 0);
	CHECK_INT(len, 4);
	CHECK_STR(out, "\xf0\x9f\x98\x80");

	/* capacity: "x\u00e9\n" decodes to 4 bytes, so 5 (4 + NUL) is exactly
	 * enough and 4 is one byte short */
	CHECK_INT(jdoc__str(&d, b, out, 5, &len), 0);
	CHECK_STR(out, "x\xc3\xa9\n");
	CHECK_INT(jdoc__str(&d, b, out, 4, &len), -ENOSPC);
	CHECK_INT(jdoc__str(&d, em, out, 5, &len), 0);
	CHECK_INT(jdoc__str(&d, em, out, 4, &len), -ENOSPC);
	/* a plain 10-byte string: cap 11 fits, cap 10 does not */
	const char *plain = "[\"abcdefghij\"]";
	CHECK_INT(jdoc__parse(&d, plain, strlen(plain), toks, 8, 64, &e), 0);
	CHECK_INT(jdoc__str(&d, 1, out, 11, &len), 0);
	CHECK_STR(out, "abcdefghij");
	CHECK_INT(jdoc__str(&d, 1, out, 10, &len), -ENOSPC);
	CHECK_INT(jdoc__str(&d, 1, out, 1, &len), -ENOSPC);
	/* every escape decodes to its byte */
	const char *esc = "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0000\\u0041\"]";
	CHECK_INT(jdoc__parse(&d, esc, strlen(esc), toks, 8, 64, &e), 0);
	CHECK_INT(jdoc__str(&d, 1, out, sizeof(out), &len), 0);
	CHECK_INT(len, 10);
	CHECK(!memcmp(out, "\"\\/\b\f\n\r\t\0A", 10));
}

static void names_and_glob(void)
{
	CHECK_STR(json__perr_name(JSON_OK), "ok");
	CHECK_STR(json__perr_name(JSON_E_SYNTAX), "syntax");
	CHECK_STR(json__perr_name(JSON_E_DEPTH), "depth");
	CHECK_STR(json__perr_name(JSON_E_UTF8), "utf8");
	CHECK_STR(json__perr_name(JSON_E_CTRL), "control_character");
	CHECK_STR(json__perr_name(JSON_E_TOKENS), "tokens");
	CHECK_STR(json__perr_name(JSON_E_EMPTY), "empty");
	CHECK(json__glob("*", ""));
	CHECK(json__glob("*", "anything"));
	CHECK(json__glob("sys_enter_*", "sys_enter_openat"));
	CHECK(!json__glob("sys_enter_*", "sys_exit_openat"));
	CHECK(json__glob("a?c", "abc"));
	CHECK(!json__glob("a?c", "ac"));
	CHECK(json__glob("*a*b*c*", "xxaxxbxxcxx"));
	CHECK(!json__glob("*a*b*c*", "xxaxxcxxbxx"));
	CHECK(json__glob("", ""));
	CHECK(!json__glob("", "a"));
	CHECK(!json__glob("abc", "ab"));
	/* a pathological pattern on a long subject stays fast (no blow-up) */
	memset(big, 'a', 100000);
	big[100000] = 0;
	CHECK(!json__glob("*a*a*a*a*a*a*a*a*a*a*b", big));
}

/* Every form of bracket class, one byte each. */
static void glob_classes(void)
{
	CHECK(json__glob("x[abc]y", "xby"));
	CHECK(!json__glob("x[abc]y", "xdy"));
	CHECK(!json__glob("[ab]", "ab"));            /* a class is one byte */
	CHECK(!json__glob("[ab]", ""));
	CHECK(json__glob("[a-z]", "q"));
	CHECK(!json__glob("[a-z]", "Q"));            /* case-sensitive */
	CHECK(json__glob("[0-9a-f][0-9a-f]", "7e"));
	CHECK(!json__glob("[0-9a-f]", "g"));
	CHECK(json__glob("[a-a]", "a"));
	CHECK(!json__glob("[z-a]", "m"));            /* backwards: holds nothing */
	CHECK(!json__glob("[z-a]", "a"));
	CHECK(json__glob("[!x]", "y"));
	CHECK(!json__glob("[!x]", "x"));
	CHECK(json__glob("[^x]", "y"));
	CHECK(!json__glob("[^x]", "x"));
	CHECK(!json__glob("[!a-z]", "k"));
	CHECK(json__glob("[!a-z]", "_"));
	/* a ']' first (after any negation) is a member */
	CHECK(json__glob("[]]", "]"));
	CHECK(json__glob("[]a]", "a"));
	CHECK(json__glob("[]a]", "]"));
	CHECK(!json__glob("[]a]", "b"));
	CHECK(json__glob("[!]]", "a"));
	CHECK(!json__glob("[!]]", "]"));
	CHECK(json__glob("[^]]", "a"));
	CHECK(json__glob("[]-a]", "_"));             /* a range from ']' to 'a' */
	/* '-' first or last is a member */
	CHECK(json__glob("[-a]", "-"));
	CHECK(json__glob("[a-]", "-"));
	CHECK(json__glob("[a-]", "a"));
	CHECK(!json__glob("[a-]", "b"));
	/* '*', '?' and '[' inside a class are members, not wildcards */
	CHECK(json__glob("[*?[]", "*"));
	CHECK(json__glob("[*?[]", "["));
	CHECK(!json__glob("[*?[]", "x"));
	/* an unterminated '[' is a literal '[' */
	CHECK(json__glob("[abc", "[abc"));
	CHECK(!json__glob("[abc", "a"));
	CHECK(json__glob("a[", "a["));
	CHECK(json__glob("[", "["));
	CHECK(json__glob("[]", "[]"));               /* the ']' is a member: no close */
	CHECK(json__glob("[!]", "[!]"));
	CHECK(json__glob("*[", "xx["));
	CHECK(json__glob("[[]", "["));               /* a class holding '[' */
	/* no escapes: a backslash is a byte like any other */
	CHECK(json__glob("\\*", "\\anything"));
	CHECK(!json__glob("\\*", "*"));
	CHECK(json__glob("a\\?", "a\\x"));
	CHECK(json__glob("[\\]]", "\\]"));           /* a class of the backslash, then a literal ']' */
	CHECK(!json__glob("[\\]]", "]"));
	/* classes with stars, as the list tools use them */
	CHECK(json__glob("sys_enter_open[a]t*", "sys_enter_openat2"));
	CHECK(!json__glob("sys_enter_open[a]t*", "sys_enter_open"));
	CHECK(json__glob("*[0-9]", "openat2"));
	CHECK(!json__glob("*[0-9]", "openat"));
	CHECK(json__glob("*b", "*ab"));              /* a '*' in the subject is a byte */
	/* json__glob_class itself */
	bool in = false;
	const char *p = "[a-c]x";
	CHECK(json__glob_class(p, 'b', &in) == p + 5 && in);
	CHECK(json__glob_class(p, 'x', &in) == p + 5 && !in);
	in = true;
	CHECK(!json__glob_class("[a-c", 'b', &in) && in);   /* untouched */
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The work is at most (|s| + 1) * |p| steps: a few million here, well under
 * the time bound; a matcher that backtracked per star (or rescanned an
 * unterminated '[' to the end at every try) would take seconds or years. */
static void glob_bounded(void)
{
	struct timespec t0;
	char pat[512];
	memset(big, 'a', 100000);
	big[100000] = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(!json__glob("*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[a]*[b]", big));
	CHECK(!json__glob("*a*?*[!b]*a*[a-a]*a*a*a*a*a*b", big));
	CHECK(ms_since(&t0) < 500);
	/* 400 unterminated '[' after a star, on 4000 '[': each try reads p once */
	pat[0] = '*';
	memset(pat + 1, '[', 400);
	strcpy(pat + 401, "b");
	memset(big, '[', 4000);
	big[4000] = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(!json__glob(pat, big));
	big[3999] = 'b';
	CHECK(json__glob(pat, big));
	CHECK(ms_since(&t0) < 200);
}

/* jdoc__strict on one document: the offending token's pointer ("" when
 * none) and kind. */
static int scratch[BIG_TOKENS];

static enum jdoc_strict_kind strict_of(const char *js, int echo_id, char *where, size_t cap)
{
	struct jdoc d;
	struct json_perr e;
	enum jdoc_strict_kind kind = (enum jdoc_strict_kind)99;
	where[0] = 0;
	if (jdoc__parse(&d, js, strlen(js), toks, BIG_TOKENS, 64, &e))
		return (enum jdoc_strict_kind)98;
	int bad = jdoc__strict(&d, scratch, echo_id ? jdoc__get(&d, 0, "id") : -1, &kind);
	if (bad >= 0)
		jdoc__pointer(&d, bad, where, cap);
	return bad < 0 && kind != JDOC_STRICT_OK ? (enum jdoc_strict_kind)97 : kind;
}

static void strict_nul_and_duplicates(void)
{
	static const struct { const char *js, *where; enum jdoc_strict_kind kind; } cases[] = {
		{ "{\"a\":1,\"b\":{\"a\":2}}", "", JDOC_STRICT_OK },
		{ "{\"a\":1,\"a\":2}", "/a", JDOC_STRICT_DUP_KEY },
		{ "{\"a\":1,\"\\u0061\":2}", "/a", JDOC_STRICT_DUP_KEY },          /* same after unescaping */
		{ "{\"\\u00e9\":1,\"\xc3\xa9\":2}", "/\xc3\xa9", JDOC_STRICT_DUP_KEY },
		{ "{\"ab\":1,\"a\":2,\"abc\":3}", "", JDOC_STRICT_OK },            /* prefixes differ */
		{ "{\"x\":[{\"k\":1},{\"k\":1,\"j\":0,\"k\":2}]}", "/x/1/k", JDOC_STRICT_DUP_KEY },
		{ "{\"a/b\":{\"~\":1,\"~\":2}}", "/a~1b/~0", JDOC_STRICT_DUP_KEY },
		{ "{\"s\":\"x\\u0000y\"}", "/s", JDOC_STRICT_NUL },
		{ "{\"s\":\"\\\\u0000\"}", "", JDOC_STRICT_OK },                /* \\ then u0000 */
		{ "{\"v\":[\"a\",\"b\",\"\\u0000\"]}", "/v/2", JDOC_STRICT_NUL },
		{ "{\"k\\u0000\":1}", "/k\\u0000", JDOC_STRICT_NUL },              /* a key holding NUL */
		{ "[\"\\u0000\"]", "/0", JDOC_STRICT_NUL },
		/* the first offence in document order wins */
		{ "{\"a\":1,\"a\":2,\"s\":\"\\u0000\"}", "/a", JDOC_STRICT_DUP_KEY },
		{ "{\"s\":\"\\u0000\",\"a\":1,\"a\":2}", "/s", JDOC_STRICT_NUL },
	};
	char where[128];
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		unit_case = cases[k].js;
		CHECK_INT(strict_of(cases[k].js, 0, where, sizeof(where)), cases[k].kind);
		CHECK_STR(where, cases[k].where);
	}
	unit_case = "id exempt";
	CHECK_INT(strict_of("{\"id\":\"\\u0000\",\"m\":\"x\"}", 1, where, sizeof(where)), JDOC_STRICT_OK);
	CHECK_INT(strict_of("{\"id\":\"\\u0000\",\"m\":\"\\u0000\"}", 1, where, sizeof(where)), JDOC_STRICT_NUL);
	CHECK_STR(where, "/m");
	unit_case = "pointer cut";
	strict_of("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":{\"b\":1,\"b\":2}}", 0, where, 16);
	CHECK_INT(strlen(where), 15);
	CHECK(!strcmp(where + 12, "..."));
}

/* Many keys in one object: sorting keeps it far from quadratic. */
static void strict_many_keys(void)
{
	size_t n = 0;
	n += (size_t)sprintf(big + n, "{");
	for (int k = 0; k < 16000; k++)
		n += (size_t)sprintf(big + n, "%s\"k%d\":0", k ? "," : "", k);
	char where[64];
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sprintf(big + n, "}");
	CHECK_INT(strict_of(big, 0, where, sizeof(where)), JDOC_STRICT_OK);
	sprintf(big + n, ",\"k17\":1}");
	CHECK_INT(strict_of(big, 0, where, sizeof(where)), JDOC_STRICT_DUP_KEY);
	CHECK_STR(where, "/k17");
	CHECK(ms_since(&t0) < 2000);
}

int main(void)
{
	TEST(grammar_valid);
	TEST(grammar_invalid);
	TEST(numbers_and_literals);
	TEST(escapes_and_surrogates);
	TEST(utf8);
	TEST(control_bytes);
	TEST(depth_limit);
	TEST(token_limit);
	TEST(accessors);
	TEST(strings);
	TEST(names_and_glob);
	TEST(glob_classes);
	TEST(glob_bounded);
	TEST(strict_nul_and_duplicates);
	TEST(strict_many_keys);
	return UNIT_DONE();
}
