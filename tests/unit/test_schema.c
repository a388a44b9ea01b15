/* Unit tests for the schema validator (src/mcp/schema.c).
 *
 * Two sets of tables: the real ones schemac generated into
 * build/gen/schemas.c (checked generically over every tool, plus `info`),
 * and hand-built nodes that exercise each keyword at its bounds. The
 * validator reads its tables through fixed global names, so the hand-built
 * set runs through a second copy of schema.c compiled here with those names
 * (and its entry point) renamed. */
#include <string.h>

#define sch_nodes hb_nodes
#define sch_props hb_props
#define sch_enums hb_enums
#define sch_tools hb_tools
#define sch_tool_count hb_tool_count
#define schema__validate hb_validate
#define schema__validate_args hb_validate_args
#include "json/schema.c"
#undef sch_nodes
#undef sch_props
#undef sch_enums
#undef sch_tools
#undef sch_tool_count
#undef schema__validate
#undef schema__validate_args

#include "schemas_gen.h"
#include "unit.h"

/* The real tables and validator (schema.h was read above under the
 * renamed names, so they are declared again here). */
extern const struct sch_node sch_nodes[];
extern const struct sch_prop sch_props[];
extern const char *const sch_enums[];
extern const struct sch_tool sch_tools[];
extern const unsigned sch_tool_count;
int schema__validate(const struct jdoc *d, int tok, unsigned node, struct sch_err *err);

#define NOMAX 4294967295u

/* Node numbers of the hand-built schema. */
enum {
	N_ROOT, N_NAME, N_COUNT, N_RATIO, N_TAGS, N_TAG, N_OPT, N_SUB, N_SUBVAL, N_EMPTYENUM,
	N_LONG, N_OUT, N_ERR, N_ANY,
};

const struct sch_node hb_nodes[] = {
	/* object: name (required), count, ratio, tags, opt, sub, e, long; no others */
	[N_ROOT] = { SCH_OBJ, SCH_F_NO_ADDL, 0, 8, 0, 0, -1, -1, 0, 0, 0, NOMAX },
	[N_NAME] = { SCH_STR, 0, 0, 0, 0, 3, -1, -1, 0, 0, 0, NOMAX },        /* enum a, bb, c/d */
	[N_COUNT] = { SCH_INT, SCH_F_MIN | SCH_F_MAX, 0, 0, 0, 0, -1, -1, 1, 10, 0, NOMAX },
	[N_RATIO] = { SCH_NUM | SCH_INT, SCH_F_MIN | SCH_F_MAX, 0, 0, 0, 0, -1, -1, 0.5, 1.5, 0, NOMAX },
	[N_TAGS] = { SCH_ARR, 0, 0, 0, 0, 0, N_TAG, -1, 0, 0, 1, 2 },        /* 1..2 items */
	[N_TAG] = { SCH_STR, 0, 0, 0, 0, 0, -1, -1, 0, 0, 2, 3 },            /* 2..3 bytes */
	[N_OPT] = { SCH_STR | SCH_NULL, 0, 0, 0, 0, 0, -1, -1, 0, 0, 0, NOMAX },
	[N_SUB] = { SCH_OBJ, 0, 8, 1, 0, 0, -1, N_SUBVAL, 0, 0, 0, NOMAX },  /* other keys: integers */
	[N_SUBVAL] = { SCH_INT, 0, 0, 0, 0, 0, -1, -1, 0, 0, 0, NOMAX },
	[N_EMPTYENUM] = { SCH_STR, 0, 0, 0, 3, 1, -1, -1, 0, 0, 0, NOMAX },   /* enum [""] */
	[N_LONG] = { SCH_STR, 0, 0, 0, 0, 0, -1, -1, 0, 0, 4500, 5000 },     /* 4500..5000 bytes */
	/* an output root: its required members, or only "error" */
	[N_OUT] = { SCH_OBJ, SCH_F_NO_ADDL | SCH_F_OR_ERROR, 9, 2, 0, 0, -1, -1, 0, 0, 0, NOMAX },
	[N_ERR] = { SCH_OBJ, 0, 0, 0, 0, 0, -1, -1, 0, 0, 0, NOMAX },
	[N_ANY] = { SCH_ANY, 0, 0, 0, 0, 0, -1, -1, 0, 0, 0, NOMAX },
};

const struct sch_prop hb_props[] = {
	{ "name", N_NAME, true },          /* 0: root */
	{ "count", N_COUNT, false },
	{ "ratio", N_RATIO, false },
	{ "tags", N_TAGS, false },
	{ "opt", N_OPT, false },
	{ "sub", N_SUB, false },
	{ "e", N_EMPTYENUM, false },
	{ "long", N_LONG, false },
	{ "fixed", N_SUBVAL, false },      /* 8: sub */
	{ "result", N_ANY, true },         /* 9: output root */
	{ "error", N_ERR, false },
};

const char *const hb_enums[] = { "a", "bb", "c/d", "" };
const struct sch_tool hb_tools[] = { { "hb", "{}", 2, N_ROOT, N_OUT } };
const unsigned hb_tool_count = 1;

static jsmntok_t toks[4096];
static char text[32768];

/* Validates js against node (hand-built or real); returns 0/-1 and err. */
static int run_v(bool real, unsigned node, const char *js, struct sch_err *err)
{
	struct jdoc d;
	struct json_perr pe;
	if (jdoc__parse(&d, js, strlen(js), toks, 4096, 64, &pe)) {
		snprintf(err->msg, sizeof(err->msg), "test input is not JSON: %s", pe.what);
		snprintf(err->pointer, sizeof(err->pointer), "(unparsed)");
		return -2;
	}
	return real ? schema__validate(&d, 0, node, err) : hb_validate(&d, 0, node, err);
}

/* Expects failure at pointer with msg containing frag. */
#define BAD(node, js, ptr, frag) do {                                       \
	struct sch_err e_;                                                  \
	unit_case = js;                                                     \
	CHECK_INT(run_v(false, node, js, &e_), -1);                         \
	CHECK_STR(e_.pointer, ptr);                                         \
	CHECK(strstr(e_.msg, frag) != NULL);                                \
} while (0)

#define GOOD(node, js) do {                                                 \
	struct sch_err e_;                                                  \
	unit_case = js;                                                     \
	CHECK_INT(run_v(false, node, js, &e_), 0);                          \
} while (0)

static void types_and_required(void)
{
	GOOD(N_ROOT, "{\"name\":\"a\"}");
	BAD(N_ROOT, "{}", "/name", "missing required property 'name'");
	BAD(N_ROOT, "[]", "", "expected object");
	BAD(N_ROOT, "null", "", "expected object");
	BAD(N_ROOT, "{\"name\":1}", "/name", "expected string");
	BAD(N_ROOT, "{\"name\":\"a\",\"count\":\"1\"}", "/count", "expected integer");
	BAD(N_ROOT, "{\"name\":\"a\",\"count\":1.5}", "/count", "expected integer");
	GOOD(N_ROOT, "{\"name\":\"a\",\"count\":2.0}");          /* 2.0 is an integer */
	GOOD(N_ROOT, "{\"name\":\"a\",\"count\":1e0}");
	BAD(N_ROOT, "{\"name\":\"a\",\"count\":true}", "/count", "expected integer");
	GOOD(N_ROOT, "{\"name\":\"a\",\"opt\":null}");
	GOOD(N_ROOT, "{\"name\":\"a\",\"opt\":\"x\"}");
	BAD(N_ROOT, "{\"name\":\"a\",\"opt\":false}", "/opt", "expected");
	BAD(N_ROOT, "{\"name\":\"a\",\"ratio\":\"x\"}", "/ratio", "expected number");
	GOOD(N_ANY, "[1,{\"a\":null},\"s\",true]");
	GOOD(N_ANY, "null");
}

static void enums(void)
{
	GOOD(N_ROOT, "{\"name\":\"bb\"}");
	GOOD(N_ROOT, "{\"name\":\"c/d\"}");
	GOOD(N_ROOT, "{\"name\":\"\\u0062b\"}");                 /* escapes decode first */
	GOOD(N_ROOT, "{\"name\":\"c\\/d\"}");
	BAD(N_ROOT, "{\"name\":\"b\"}", "/name", "must be one of: a, bb, c/d");
	BAD(N_ROOT, "{\"name\":\"bbb\"}", "/name", "must be one of");
	BAD(N_ROOT, "{\"name\":\"A\"}", "/name", "must be one of");
	BAD(N_ROOT, "{\"name\":\"\"}", "/name", "must be one of");
	BAD(N_ROOT, "{\"name\":\"a\\u0000\"}", "/name", "must be one of");
	GOOD(N_EMPTYENUM, "\"\"");
	BAD(N_EMPTYENUM, "\"x\"", "", "must be one of");
}

static void min_max(void)
{
	/* integer 1..10: under, at and over both ends */
	BAD(N_ROOT, "{\"name\":\"a\",\"count\":0}", "/count", "must be >= 1");
	GOOD(N_ROOT, "{\"name\":\"a\",\"count\":1}");
	GOOD(N_ROOT, "{\"name\":\"a\",\"count\":10}");
	BAD(N_ROOT, "{\"name\":\"a\",\"count\":11}", "/count", "must be <= 10");
	BAD(N_ROOT, "{\"name\":\"a\",\"count\":-9223372036854775808}", "/count", "must be >= 1");
	BAD(N_ROOT, "{\"name\":\"a\",\"count\":9223372036854775807}", "/count", "must be <= 10");
	/* too big for int64: not an integer any more */
	BAD(N_ROOT, "{\"name\":\"a\",\"count\":99999999999999999999}", "/count", "expected integer");
	/* number 0.5..1.5 */
	BAD(N_ROOT, "{\"name\":\"a\",\"ratio\":0.49999}", "/ratio", "must be >= 0.5");
	GOOD(N_ROOT, "{\"name\":\"a\",\"ratio\":0.5}");
	GOOD(N_ROOT, "{\"name\":\"a\",\"ratio\":1}");
	GOOD(N_ROOT, "{\"name\":\"a\",\"ratio\":1.5}");
	GOOD(N_ROOT, "{\"name\":\"a\",\"ratio\":15e-1}");
	BAD(N_ROOT, "{\"name\":\"a\",\"ratio\":1.50001}", "/ratio", "must be <= 1.5");
	BAD(N_ROOT, "{\"name\":\"a\",\"ratio\":1e400}", "/ratio", "must be <= 1.5");
}

static void lengths(void)
{
	/* items 1..2, each 2..3 bytes (bytes of the decoded text) */
	BAD(N_ROOT, "{\"name\":\"a\",\"tags\":[]}", "/tags", "at least 1 items");
	GOOD(N_ROOT, "{\"name\":\"a\",\"tags\":[\"ab\"]}");
	GOOD(N_ROOT, "{\"name\":\"a\",\"tags\":[\"ab\",\"abc\"]}");
	BAD(N_ROOT, "{\"name\":\"a\",\"tags\":[\"ab\",\"ab\",\"ab\"]}", "/tags", "at most 2 items");
	BAD(N_ROOT, "{\"name\":\"a\",\"tags\":[\"a\"]}", "/tags/0", "shorter than 2 bytes");
	BAD(N_ROOT, "{\"name\":\"a\",\"tags\":[\"ab\",\"abcd\"]}", "/tags/1", "longer than 3 bytes");
	GOOD(N_ROOT, "{\"name\":\"a\",\"tags\":[\"\\u00e9\"]}");      /* 2 bytes once decoded */
	GOOD(N_ROOT, "{\"name\":\"a\",\"tags\":[\"\\u20ac\"]}");      /* 3 bytes */
	BAD(N_ROOT, "{\"name\":\"a\",\"tags\":[\"\\ud83d\\ude00\"]}", "/tags/0", "longer than 3");
	BAD(N_ROOT, "{\"name\":\"a\",\"tags\":[\"\\u0041\"]}", "/tags/0", "shorter than 2");
	BAD(N_ROOT, "{\"name\":\"a\",\"tags\":[1]}", "/tags/0", "expected string");
	BAD(N_ROOT, "{\"name\":\"a\",\"tags\":\"ab\"}", "/tags", "expected array");
}

/* A string argument of n raw bytes, made of `unit` repeated. */
static const char *long_arg(const char *key, const char *unit, size_t n)
{
	size_t k = (size_t)snprintf(text, sizeof(text), "{\"name\":\"a\",\"%s\":\"", key);
	size_t u = strlen(unit);
	for (size_t i = 0; i + u <= n; i += u, k += u)
		memcpy(text + k, unit, u);
	memcpy(text + k, "\"}", 3);
	return text;
}

/* Clears a stretch of stack so stale bytes cannot pose as a decoded value. */
static void __attribute__((noinline)) zero_stack(void)
{
	volatile char pad[65536];
	memset((char *)pad, 0, sizeof(pad));
}

static void long_strings(void)
{
	/* bounds above the validator's 4 KiB decoding scratch are still exact */
	struct sch_err e;
	unit_case = "4499 bytes";
	CHECK_INT(run_v(false, N_ROOT, long_arg("long", "x", 4499), &e), -1);
	CHECK_STR(e.pointer, "/long");
	CHECK(strstr(e.msg, "shorter than 4500") != NULL);
	unit_case = "4500 bytes";
	CHECK_INT(run_v(false, N_ROOT, long_arg("long", "x", 4500), &e), 0);
	unit_case = "5000 bytes";
	CHECK_INT(run_v(false, N_ROOT, long_arg("long", "x", 5000), &e), 0);
	unit_case = "5001 bytes";
	CHECK_INT(run_v(false, N_ROOT, long_arg("long", "x", 5001), &e), -1);
	CHECK(strstr(e.msg, "longer than 5000") != NULL);
	/* 4800 decoded bytes written as 9600 raw ones (\u00e9 = 2 bytes) */
	unit_case = "escaped 4800 bytes";
	CHECK_INT(run_v(false, N_ROOT, long_arg("long", "\\u00e9", 6 * 2400), &e), 0);
	/* 5004 decoded bytes from 1668 escapes of 3 bytes each */
	unit_case = "escaped 5004 bytes";
	CHECK_INT(run_v(false, N_ROOT, long_arg("long", "\\u20ac", 6 * 1668), &e), -1);
	CHECK(strstr(e.msg, "longer than 5000") != NULL);
	/* a 5000-byte string is not the enum value "", whatever the stack held */
	unit_case = "long enum";
	zero_stack();
	CHECK_INT(run_v(false, N_ROOT, long_arg("e", "x", 5000), &e), -1);
	CHECK_STR(e.pointer, "/e");
	CHECK(strstr(e.msg, "must be one of") != NULL);
}

static void additional_properties_and_pointers(void)
{
	BAD(N_ROOT, "{\"name\":\"a\",\"bogus\":1}", "/bogus", "unknown property");
	GOOD(N_ROOT, "{\"name\":\"a\",\"sub\":{\"fixed\":1,\"other\":2}}");
	BAD(N_ROOT, "{\"name\":\"a\",\"sub\":{\"fixed\":\"x\"}}", "/sub/fixed", "expected integer");
	BAD(N_ROOT, "{\"name\":\"a\",\"sub\":{\"other\":\"x\"}}", "/sub/other", "expected integer");
	/* RFC 6901: '/' and '~' in a key are escaped as ~1 and ~0 */
	BAD(N_ROOT, "{\"name\":\"a\",\"sub\":{\"a/b~c\":\"x\"}}", "/sub/a~1b~0c", "expected integer");
	BAD(N_ROOT, "{\"name\":\"a\",\"sub\":{\"\":\"x\"}}", "/sub/", "expected integer");
	/* the first bad value is the one reported */
	BAD(N_ROOT, "{\"name\":\"a\",\"count\":0,\"bogus\":1}", "/count", "must be >= 1");
	BAD(N_ROOT, "{\"bogus\":1}", "/bogus", "unknown property");
	/* a pointer longer than its buffer is cut, never overrun */
	size_t k = (size_t)snprintf(text, sizeof(text), "{\"name\":\"a\",\"sub\":{\"");
	memset(text + k, 'k', 600);
	k += 600;
	memcpy(text + k, "\":\"x\"}}", 8);
	struct sch_err e;
	unit_case = "long key";
	CHECK_INT(run_v(false, N_ROOT, text, &e), -1);
	CHECK(strlen(e.pointer) < SCH_POINTER_BYTES);
	CHECK(!strncmp(e.pointer, "/sub/kkkk", 9));
}

static void output_root(void)
{
	GOOD(N_OUT, "{\"result\":1}");
	GOOD(N_OUT, "{\"error\":{}}");                  /* only the error: fine */
	BAD(N_OUT, "{}", "/result", "missing required");
	BAD(N_OUT, "{\"error\":[]}", "/error", "expected object");
	BAD(N_OUT, "{\"result\":1,\"x\":1}", "/x", "unknown property");
}

/* The generated tables: every tool's roots and the shared error object. */
static void generated_tables(void)
{
	CHECK_INT(sch_tool_count, SCHEMA__COUNT);
	CHECK(sch_tool_count >= 1);
	for (unsigned k = 0; k < sch_tool_count; k++) {
		const struct sch_tool *t = &sch_tools[k];
		const struct sch_node *in = &sch_nodes[t->input], *out = &sch_nodes[t->output];
		unit_case = t->name;
		CHECK_INT(in->types, SCH_OBJ);
		CHECK(in->flags & SCH_F_NO_ADDL);
		CHECK(out->types & SCH_OBJ);
		CHECK(out->flags & SCH_F_OR_ERROR);
		/* the descriptor served by tools/list is JSON that names the tool */
		struct jdoc d;
		struct json_perr pe;
		CHECK_INT(strlen(t->descriptor), t->descriptor_len);
		CHECK_INT(jdoc__parse(&d, t->descriptor, t->descriptor_len, toks, 4096, 64, &pe), 0);
		CHECK(jdoc__str_eq(&d, jdoc__get(&d, 0, "name"), t->name));
		CHECK(jdoc__is_obj(&d, jdoc__get(&d, 0, "inputSchema")));
		CHECK(jdoc__is_obj(&d, jdoc__get(&d, 0, "outputSchema")));
		CHECK(jdoc__is_obj(&d, jdoc__get(&d, 0, "annotations")));
		CHECK(jdoc__is_str(&d, jdoc__get(&d, 0, "title")));
		/* the profile is the server's (readonly 0, observe 1, full 2), not the client's */
		CHECK(t->profile <= 2);
		CHECK_INT(jdoc__get(&d, 0, "profile"), -1);
		/* any error result validates against any tool's output schema */
		struct sch_err e;
		CHECK_INT(run_v(true, t->output, "{\"error\":{\"category\":\"kernel\",\"code\":\"EPERM\","
				"\"message\":\"m\",\"recoverable\":false,\"context\":{\"errno\":1}}}", &e), 0);
		CHECK_INT(run_v(true, t->output, "{\"error\":{\"category\":\"bogus\",\"code\":\"X\","
				"\"message\":\"m\",\"recoverable\":false,\"context\":{}}}", &e), -1);
		CHECK_STR(e.pointer, "/error/category");
		CHECK_INT(run_v(true, t->output, "{\"error\":{\"category\":\"kernel\",\"code\":\"EKERNEL\","
				"\"message\":\"m\",\"recoverable\":false}}", &e), -1);
		CHECK_STR(e.pointer, "/error/context");
		CHECK_INT(run_v(true, t->output, "{\"error\":{\"category\":\"kernel\",\"code\":\"EKERNEL\","
				"\"message\":\"m\",\"recoverable\":0,\"context\":{}}}", &e), -1);
		CHECK_STR(e.pointer, "/error/recoverable");
		/* the code is one of the table's (src/errors.h) */
		CHECK_INT(run_v(true, t->output, "{\"error\":{\"category\":\"kernel\",\"code\":\"X\","
				"\"message\":\"m\",\"recoverable\":false,\"context\":{}}}", &e), -1);
		CHECK_STR(e.pointer, "/error/code");
		CHECK_INT(run_v(true, t->output, "{\"error\":{\"category\":\"resource\",\"code\":"
				"\"LIMIT_RESPONSE_BYTES\",\"message\":\"m\",\"recoverable\":true,\"context\":{}}}", &e), 0);
		/* arguments must be an object; unknown ones are refused by name */
		CHECK_INT(run_v(true, t->input, "[]", &e), -1);
		CHECK_STR(e.pointer, "");
		CHECK_INT(run_v(true, t->input, "{\"no_such_argument_anywhere\":1}", &e), -1);
		CHECK_STR(e.pointer, "/no_such_argument_anywhere");
	}
	unit_case = "profiles";
	CHECK_INT(sch_tools[SCHEMA_info].profile, 0);
	CHECK_INT(sch_tools[SCHEMA_trace_exec].profile, 1);
	CHECK_INT(sch_tools[SCHEMA_load_program].profile, 2);
	unit_case = "info";
	struct sch_err e;
	CHECK_INT(run_v(true, sch_tools[SCHEMA_info].input, "{}", &e), 0);
	CHECK_INT(run_v(true, sch_tools[SCHEMA_info].input, "{\"x\":1}", &e), -1);
	CHECK_STR(e.pointer, "/x");
	/* a non-error output without its members names the first missing one */
	CHECK_INT(run_v(true, sch_tools[SCHEMA_info].output, "{}", &e), -1);
	CHECK_STR(e.pointer, "/server");
	/* deep: the enum of server.profile */
	CHECK_INT(run_v(true, sch_tools[SCHEMA_info].output,
			"{\"server\":{\"name\":\"n\",\"version\":\"v\",\"protocol_version\":\"p\","
			"\"profile\":\"root\",\"tools\":[],\"pid\":1,\"uptime_ms\":0,\"requests\":0,"
			"\"tool_calls\":0,\"errors\":0}}", &e), -1);
	CHECK_STR(e.pointer, "/server/profile");
	CHECK(strstr(e.msg, "readonly, observe, full") != NULL);
	CHECK_INT(run_v(true, sch_tools[SCHEMA_info].output,
			"{\"server\":{\"name\":\"n\",\"version\":\"v\",\"protocol_version\":\"p\","
			"\"profile\":\"full\",\"tools\":[\"a\",2],\"pid\":1,\"uptime_ms\":0,\"requests\":0,"
			"\"tool_calls\":0,\"errors\":0}}", &e), -1);
	CHECK_STR(e.pointer, "/server/tools/1");
	CHECK_INT(run_v(true, sch_tools[SCHEMA_info].output,
			"{\"filesystems\":{\"bpffs\":{\"mounted\":true,\"path\":7,\"supported\":true}}}", &e), -1);
	CHECK_STR(e.pointer, "/filesystems/bpffs/path");
	CHECK_INT(run_v(true, sch_tools[SCHEMA_info].output, "{\"limits\":{\"x\":1.5}}", &e), -1);
	CHECK_STR(e.pointer, "/limits/x");
}

int main(void)
{
	TEST(types_and_required);
	TEST(enums);
	TEST(min_max);
	TEST(lengths);
	TEST(long_strings);
	TEST(additional_properties_and_pointers);
	TEST(output_root);
	TEST(generated_tables);
	return UNIT_DONE();
}
