/* Unit tests for BTF <-> JSON (src/kern/btf_json.c) over BTF built in
 * memory with libbpf's writer: every shape decodes to the documented JSON,
 * the JSON encodes back to the same bytes, and every bad input fails with
 * the JSON pointer of the bad value and a message that says why. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

#include <bpf/btf.h>

#include "json/json.h"
#include "kern/btf_json.h"
#include "unit.h"

static char out[65536];
static jsmntok_t toks[4096];

/* Type ids of the fixture BTF. */
static struct {
	int u8, s16, u32, s32, u64, s64, u128, s128, chr, boolean, u32_td, const_u32, ptr, flt, dbl;
	int color, name_arr, hist, stats, anon_union, val, key_arr, deep, sec, var_a, var_b, color64;
} T;

struct val {
	char name[8];
	int color;             /* enum color */
	struct {
		unsigned char count;
		short delta;
	} stats;
	unsigned lo : 3, hi : 5;   /* bits 128..135 */
	unsigned : 4;          /* padding, bits 136..139 */
	int neg : 4;           /* bits 140..143 */
	unsigned short hist[3];
	long long big;
	_Bool on;
	union { unsigned int as_u32; unsigned char as_bytes[4]; };   /* anonymous */
	unsigned long long ptr;
};

/* The fixture: the types of struct val above, plus deep arrays and a
 * DATASEC of two variables. */
static struct btf *build(void)
{
	struct btf *b = btf__new_empty();
	T.u8 = btf__add_int(b, "unsigned char", 1, 0);
	T.s16 = btf__add_int(b, "short", 2, BTF_INT_SIGNED);
	T.u32 = btf__add_int(b, "unsigned int", 4, 0);
	T.s32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	T.u64 = btf__add_int(b, "unsigned long long", 8, 0);
	T.s64 = btf__add_int(b, "long long", 8, BTF_INT_SIGNED);
	T.u128 = btf__add_int(b, "unsigned __int128", 16, 0);
	T.s128 = btf__add_int(b, "__int128", 16, BTF_INT_SIGNED);
	T.chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	T.boolean = btf__add_int(b, "_Bool", 1, BTF_INT_BOOL);
	T.u32_td = btf__add_typedef(b, "__u32", T.u32);
	T.const_u32 = btf__add_const(b, T.u32_td);
	T.ptr = btf__add_ptr(b, T.u32);
	T.flt = btf__add_float(b, "float", 4);
	T.dbl = btf__add_float(b, "double", 8);
	T.color = btf__add_enum(b, "color", 4);
	btf__add_enum_value(b, "RED", 0);
	btf__add_enum_value(b, "GREEN", 1);
	btf__add_enum_value(b, "BLUE", 7);
	T.color64 = btf__add_enum64(b, "wide", 8, false);
	btf__add_enum64_value(b, "HUGE", 0xffffffff00000000ull);
	T.name_arr = btf__add_array(b, T.u32, T.chr, 8);
	T.hist = btf__add_array(b, T.u32, T.s16, 3);
	T.stats = btf__add_struct(b, "stats", 4);
	btf__add_field(b, "count", T.u8, 0, 0);
	btf__add_field(b, "delta", T.s16, 16, 0);
	int bytes4 = btf__add_array(b, T.u32, T.u8, 4);
	T.anon_union = btf__add_union(b, NULL, 4);
	btf__add_field(b, "as_u32", T.u32, 0, 0);
	btf__add_field(b, "as_bytes", bytes4, 0, 0);
	T.val = btf__add_struct(b, "val", sizeof(struct val));
#define OFF(m) (uint32_t)(offsetof(struct val, m) * 8)
	btf__add_field(b, "name", T.name_arr, OFF(name), 0);
	btf__add_field(b, "color", T.color, OFF(color), 0);
	btf__add_field(b, "stats", T.stats, OFF(stats), 0);
	btf__add_field(b, "lo", T.u32, 128, 3);
	btf__add_field(b, "hi", T.u32, 131, 5);
	btf__add_field(b, NULL, T.u32, 136, 4);         /* padding bitfield */
	btf__add_field(b, "neg", T.s32, 140, 4);
	btf__add_field(b, "hist", T.hist, OFF(hist), 0);
	btf__add_field(b, "big", T.s64, OFF(big), 0);
	btf__add_field(b, "on", T.boolean, OFF(on), 0);
	btf__add_field(b, NULL, T.anon_union, OFF(as_u32), 0);
	btf__add_field(b, "ptr", T.ptr, OFF(ptr), 0);
	T.key_arr = btf__add_array(b, T.u32, T.u32, 2);
	/* arrays of arrays deeper than the decoder's bound */
	T.deep = T.u8;
	for (int k = 0; k < BTF_JSON_DEPTH_MAX + 2; k++)
		T.deep = btf__add_array(b, T.u32, T.deep, 1);
	T.var_a = btf__add_var(b, "counter", BTF_VAR_GLOBAL_ALLOCATED, T.u64);
	T.var_b = btf__add_var(b, "label", BTF_VAR_GLOBAL_ALLOCATED, T.name_arr);
	T.sec = btf__add_datasec(b, ".data", 16);
	btf__add_datasec_var_info(b, T.var_a, 0, 8);
	btf__add_datasec_var_info(b, T.var_b, 8, 8);
	return b;
}

/* Decodes data as type id; returns the JSON (NUL-terminated in out). */
static const char *dec(struct btf *b, int id, const void *data, size_t n, int *rc)
{
	struct jw w;
	jw__init(&w, out, sizeof(out) - 1);
	int r = btf_json__write(&w, b, (uint32_t)id, data, n);
	if (rc)
		*rc = r;
	out[w.len] = 0;
	return r || w.overflow ? "(failed)" : out;
}

/* Encodes json as type id into buf; 0 or -EINVAL with err. */
static int enc(struct btf *b, int id, const char *json, void *buf, size_t n, struct btf_json_err *err)
{
	struct jdoc d;
	struct json_perr pe;
	if (jdoc__parse(&d, json, strlen(json), toks, 4096, 64, &pe))
		return -999;
	return btf_json__parse(b, (uint32_t)id, &d, 0, "/value", buf, n, err);
}

static struct val sample(void)
{
	struct val v;
	memset(&v, 0, sizeof(v));
	memcpy(v.name, "alpha", 5);
	v.color = 7;
	v.stats.count = 200;
	v.stats.delta = -5;
	v.lo = 5;
	v.hi = 17;
	v.neg = -3;
	v.hist[0] = 1, v.hist[1] = 2, v.hist[2] = (unsigned short)-1;
	v.big = -4611686018427387904LL;
	v.on = 1;
	v.as_u32 = 0x04030201;
	v.ptr = 0xffffffff81000000ull;
	return v;
}

static void integers(void)
{
	struct btf *b = build();
	uint64_t u = UINT64_MAX;
	int64_t s = INT64_MIN;
	uint8_t x = 200;
	CHECK_STR(dec(b, T.u64, &u, 8, NULL), "18446744073709551615");
	CHECK_STR(dec(b, T.s64, &s, 8, NULL), "-9223372036854775808");
	CHECK_STR(dec(b, T.u8, &x, 1, NULL), "200");
	CHECK_STR(dec(b, T.const_u32, &u, 4, NULL), "4294967295");
	unsigned __int128 big = ((unsigned __int128)1 << 127) + 5;
	CHECK_STR(dec(b, T.u128, &big, 16, NULL), "170141183460469231731687303715884105733");
	CHECK_STR(dec(b, T.s128, &big, 16, NULL), "-170141183460469231731687303715884105723");

	struct btf_json_err err;
	uint64_t got = 0;
	CHECK_INT(enc(b, T.u64, "18446744073709551615", &got, 8, &err), 0);
	CHECK_U64(got, UINT64_MAX);
	CHECK_INT(enc(b, T.u64, "\"0xffffffffffffffff\"", &got, 8, &err), 0);
	CHECK_U64(got, UINT64_MAX);
	CHECK_INT(enc(b, T.s64, "\"-9223372036854775808\"", &got, 8, &err), 0);
	CHECK_U64(got, (uint64_t)INT64_MIN);
	CHECK_INT(enc(b, T.u32, "1e3", &got, 4, &err), 0);
	CHECK_U64(got & 0xffffffff, 1000);
	unsigned __int128 back = 0;
	CHECK_INT(enc(b, T.u128, "170141183460469231731687303715884105733", &back, 16, &err), 0);
	CHECK(back == big);

	CHECK_INT(enc(b, T.u8, "300", &x, 1, &err), -EINVAL);
	CHECK_STR(err.pointer, "/value");
	CHECK_STR(err.msg, "300 does not fit unsigned char (unsigned 8-bit: 0..255)");
	CHECK_INT(enc(b, T.u64, "18446744073709551616", &got, 8, &err), -EINVAL);
	CHECK_INT(enc(b, T.u32, "-1", &got, 4, &err), -EINVAL);
	CHECK_INT(enc(b, T.s16, "-32769", &got, 2, &err), -EINVAL);
	CHECK_STR(err.msg, "-32769 does not fit short (signed 16-bit: -32768..32767)");
	CHECK_INT(enc(b, T.s16, "-32768", &got, 2, &err), 0);
	CHECK_INT(enc(b, T.u32, "1.5", &got, 4, &err), -EINVAL);
	CHECK_INT(enc(b, T.u32, "\"12abc\"", &got, 4, &err), -EINVAL);
	CHECK_INT(enc(b, T.u32, "true", &got, 4, &err), -EINVAL);
	CHECK_STR(err.msg, "expected an integer for unsigned int, got a boolean");
	btf__free(b);
}

static void struct_decode(void)
{
	struct btf *b = build();
	struct val v = sample();
	CHECK_INT(btf_json__check(b, (uint32_t)T.val, sizeof(v), &(const char *){ 0 }), 0);
	CHECK_STR(dec(b, T.val, &v, sizeof(v), NULL),
		  "{\"name\":\"alpha\",\"color\":\"BLUE\",\"stats\":{\"count\":200,\"delta\":-5},\"lo\":5,\"hi\":17,"
		  "\"neg\":-3,\"hist\":[1,2,-1],\"big\":-4611686018427387904,\"on\":true,"
		  "\"as_u32\":67305985,\"as_bytes\":[1,2,3,4],\"ptr\":18446744071578845184}");
	/* an enum value without a name is its number; bool other than 0/1 too */
	v.color = 3;
	v.on = 1;
	((uint8_t *)&v)[offsetof(struct val, on)] = 2;
	const char *s = dec(b, T.val, &v, sizeof(v), NULL);
	CHECK(strstr(s, "\"color\":3,") != NULL);
	CHECK(strstr(s, "\"on\":2,") != NULL);
	btf__free(b);
}

static void char_arrays(void)
{
	struct btf *b = build();
	char n[8] = "ab\ncd";
	CHECK_STR(dec(b, T.name_arr, n, 8, NULL), "[97,98,10,99,100,0,0,0]");    /* control byte */
	char m[8] = { 'a', 0, 'z', 0 };
	CHECK_STR(dec(b, T.name_arr, m, 8, NULL), "[97,0,122,0,0,0,0,0]");        /* bytes after NUL */
	char full[8] = { 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h' };
	CHECK_STR(dec(b, T.name_arr, full, 8, NULL), "\"abcdefgh\"");              /* no NUL: whole */
	char utf[8] = "h\xc3\xa9";
	CHECK_STR(dec(b, T.name_arr, utf, 8, NULL), "\"h\xc3\xa9\"");
	char bad[8] = "\xff\xfe";
	CHECK_STR(dec(b, T.name_arr, bad, 8, NULL), "[-1,-2,0,0,0,0,0,0]");

	struct btf_json_err err;
	char got[8];
	CHECK_INT(enc(b, T.name_arr, "\"abcdefgh\"", got, 8, &err), 0);
	CHECK(!memcmp(got, full, 8));
	CHECK_INT(enc(b, T.name_arr, "\"xy\"", got, 8, &err), 0);
	CHECK(!memcmp(got, "xy\0\0\0\0\0\0", 8));
	CHECK_INT(enc(b, T.name_arr, "[97,0,122,0,0,0,0,0]", got, 8, &err), 0);
	CHECK(!memcmp(got, m, 8));
	CHECK_INT(enc(b, T.name_arr, "\"abcdefghi\"", got, 8, &err), -EINVAL);
	CHECK_STR(err.msg, "a string of 9 bytes does not fit char[8]");
	btf__free(b);
}

static void round_trip(void)
{
	struct btf *b = build();
	struct val v = sample(), back;
	const char *json = dec(b, T.val, &v, sizeof(v), NULL);
	char copy[2048];
	snprintf(copy, sizeof(copy), "%s", json);
	/* the union shows both views; encoding takes exactly one */
	char *u = strstr(copy, ",\"as_bytes\":[1,2,3,4]");
	CHECK(u != NULL);
	if (u)
		memmove(u, u + strlen(",\"as_bytes\":[1,2,3,4]"), strlen(u + strlen(",\"as_bytes\":[1,2,3,4]")) + 1);
	struct btf_json_err err;
	CHECK_INT(enc(b, T.val, copy, &back, sizeof(back), &err), 0);
	CHECK(!memcmp(&back, &v, sizeof(v)));
	/* the other view of the union writes the same bytes */
	char *p = strstr(copy, "\"as_u32\":67305985");
	if (p) {
		char alt[2048];
		snprintf(alt, sizeof(alt), "%.*s\"as_bytes\":[1,2,3,4]%s", (int)(p - copy), copy, p + strlen("\"as_u32\":67305985"));
		CHECK_INT(enc(b, T.val, alt, &back, sizeof(back), &err), 0);
		CHECK(!memcmp(&back, &v, sizeof(v)));
	}
	/* enum by number; 0/1 for bool */
	uint32_t c;
	CHECK_INT(enc(b, T.color, "7", &c, 4, &err), 0);
	CHECK_INT(c, 7);
	CHECK_INT(enc(b, T.color, "\"GREEN\"", &c, 4, &err), 0);
	CHECK_INT(c, 1);
	uint64_t w;
	CHECK_INT(enc(b, T.color64, "\"HUGE\"", &w, 8, &err), 0);
	CHECK_U64(w, 0xffffffff00000000ull);
	CHECK_STR(dec(b, T.color64, &w, 8, NULL), "\"HUGE\"");
	btf__free(b);
}

static const char *VALID =
	"{\"name\":\"a\",\"color\":\"RED\",\"stats\":{\"count\":1,\"delta\":2},\"lo\":1,\"hi\":2,\"neg\":-1,"
	"\"hist\":[1,2,3],\"big\":5,\"on\":false,\"as_u32\":9,\"ptr\":0}";

/* VALID with one "member":value replaced by repl. */
static const char *with(const char *member, const char *repl)
{
	static char buf[1024];
	const char *p = strstr(VALID, member);
	const char *end = p;
	int depth = 0;
	for (end = strchr(p, ':') + 1; *end && !(depth == 0 && (*end == ',' || *end == '}')); end++)
		depth += *end == '[' || *end == '{' ? 1 : *end == ']' || *end == '}' ? -1 : 0;
	snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - VALID), VALID, repl, end);
	return buf;
}

static void encode_errors(void)
{
	struct btf *b = build();
	struct val v;
	struct btf_json_err err;
	CHECK_INT(enc(b, T.val, VALID, &v, sizeof(v), &err), 0);
	CHECK_INT(v.neg, -1);
	CHECK_INT(v.hi, 2);

	CHECK_INT(enc(b, T.val, with("\"stats\"", "\"stats\":{\"count\":300,\"delta\":2}"), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/stats/count");
	CHECK_STR(err.msg, "300 does not fit unsigned char (unsigned 8-bit: 0..255)");

	CHECK_INT(enc(b, T.val, with("\"lo\"", "\"lo\":8"), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/lo");
	CHECK_STR(err.msg, "8 does not fit unsigned int (unsigned 3-bit: 0..7)");
	CHECK_INT(enc(b, T.val, with("\"neg\"", "\"neg\":-9"), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.msg, "-9 does not fit int (signed 4-bit: -8..7)");

	CHECK_INT(enc(b, T.val, with("\"hist\"", "\"hist\":[1,2,70000]"), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/hist/2");
	CHECK_INT(enc(b, T.val, with("\"hist\"", "\"hist\":[1,2]"), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/hist");
	CHECK_STR(err.msg, "expected an array of 3 elements for short[3], got an array of another length");

	CHECK_INT(enc(b, T.val, with("\"color\"", "\"color\":\"PINK\""), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/color");
	CHECK_STR(err.msg, "\"PINK\" is not an enumerator of enum color (RED, GREEN, BLUE) nor a number");

	CHECK_INT(enc(b, T.val, with("\"big\"", "\"bigg\":5"), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/bigg");
	CHECK(strstr(err.msg, "struct val has no member by this name (members: name, color,") == err.msg);

	CHECK_INT(enc(b, T.val, with("\"on\"", "\"x/y~\":1,\"on\":true"), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/x~1y~0");

	CHECK_INT(enc(b, T.val, with(",\"big\"", ""), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/big");
	CHECK_STR(err.msg, "missing (every member must be given; padding is zero)");

	CHECK_INT(enc(b, T.val, with("\"as_u32\"", "\"as_u32\":1,\"as_bytes\":[1,2,3,4]"), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value");
	CHECK_STR(err.msg, "give exactly one member of union {...} (one of: as_u32, as_bytes), got 2");
	CHECK_INT(enc(b, T.val, with(",\"as_u32\"", ""), &v, sizeof(v), &err), -EINVAL);
	CHECK(strstr(err.msg, "got 0") != NULL);

	CHECK_INT(enc(b, T.val, with("\"on\"", "\"on\":\"yes\""), &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/on");
	CHECK_INT(enc(b, T.val, with("\"on\"", "\"on\":1"), &v, sizeof(v), &err), 0);
	CHECK_INT(v.on, 1);

	CHECK_INT(enc(b, T.val, "[1]", &v, sizeof(v), &err), -EINVAL);
	CHECK_STR(err.msg, "expected an object for struct val, got an array");
	btf__free(b);
}

static void floats_pointers_datasec(void)
{
	struct btf *b = build();
	float f = 1.5f;
	double d = -0.1;
	CHECK_STR(dec(b, T.flt, &f, 4, NULL), "1.5");
	CHECK_STR(dec(b, T.dbl, &d, 8, NULL), "-0.10000000000000001");
	d = NAN;
	CHECK_STR(dec(b, T.dbl, &d, 8, NULL), "\"NaN\"");
	struct btf_json_err err;
	CHECK_INT(enc(b, T.dbl, "\"-Infinity\"", &d, 8, &err), 0);
	CHECK(isinf(d) && d < 0);
	CHECK_INT(enc(b, T.flt, "1e300", &f, 4, &err), -EINVAL);
	CHECK_INT(enc(b, T.flt, "0.25", &f, 4, &err), 0);
	CHECK(f == 0.25f);

	struct { uint64_t counter; char label[8]; } sec = { 5, "global" };
	CHECK_STR(dec(b, T.sec, &sec, sizeof(sec), NULL), "{\"counter\":5,\"label\":\"global\"}");
	CHECK_INT(enc(b, T.sec, "{\"counter\":6,\"label\":\"x\"}", &sec, sizeof(sec), &err), 0);
	CHECK_U64(sec.counter, 6);
	CHECK_STR(sec.label, "x");
	CHECK_INT(enc(b, T.sec, "{\"counter\":6}", &sec, sizeof(sec), &err), -EINVAL);
	CHECK_STR(err.pointer, "/value/label");
	btf__free(b);
}

/* The fast path's types: plain integers only, and the same digits. */
static void int_sizes(void)
{
	struct btf *b = build();
	bool sg = true;
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.u32, &sg), 4);
	CHECK(!sg);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.s64, &sg), 8);
	CHECK(sg);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.const_u32, &sg), 4);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.s16, &sg), 2);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.u8, &sg), 1);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.boolean, &sg), 0);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.color, &sg), 0);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.u128, &sg), 0);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.ptr, &sg), 0);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.val, &sg), 0);
	CHECK_INT(btf_json__int_size(b, (uint32_t)T.name_arr, &sg), 0);
	btf__free(b);
}

static void bounds(void)
{
	struct btf *b = build();
	const char *why = NULL;
	CHECK_INT(btf_json__check(b, (uint32_t)T.val, sizeof(struct val) + 1, &why), -EINVAL);
	CHECK(why && strstr(why, "size"));
	CHECK_INT(btf_json__check(b, 0, 0, &why), -EINVAL);   /* void */
	uint8_t z[8] = { 0 };
	int rc;
	dec(b, T.deep, z, 1, &rc);
	CHECK_INT(rc, -ELOOP);
	/* fewer bytes than the type: refused, never read past */
	dec(b, T.val, z, sizeof(z), &rc);
	CHECK_INT(rc, -EINVAL);
	dec(b, T.u64, z, 4, &rc);
	CHECK_INT(rc, -EINVAL);
	btf__free(b);
}

static void hex(void)
{
	char buf[64];
	uint8_t bytes[3] = { 0x01, 0xab, 0xff }, back[3];
	struct jw w;
	jw__init(&w, buf, sizeof(buf));
	btf_json__write_hex(&w, bytes, 3);
	CHECK_MEM(buf, w.len, "\"01abff\"");
	CHECK_INT(btf_json__unhex("01ABff", 6, back, 3), 0);
	CHECK(!memcmp(back, bytes, 3));
	CHECK_INT(btf_json__unhex("01abf", 5, back, 3), -EINVAL);
	CHECK_INT(btf_json__unhex("0xabff", 6, back, 3), -EINVAL);
	struct jdoc d;
	struct json_perr pe;
	struct btf_json_err err;
	const char *js = "[\"0102\",\"01\",5]";
	CHECK_INT(jdoc__parse(&d, js, strlen(js), toks, 64, 8, &pe), 0);
	CHECK_INT(btf_json__parse_hex(&d, 1, "/keys/0", back, 2, &err), 0);
	CHECK_INT(btf_json__parse_hex(&d, 2, "/keys/1", back, 2, &err), -EINVAL);
	CHECK_STR(err.pointer, "/keys/1");
	CHECK_STR(err.msg, "expected a string of 4 hex digits (2 bytes in memory order, no prefix or spaces)");
	CHECK_INT(btf_json__parse_hex(&d, 3, "/keys/2", back, 2, &err), -EINVAL);
}

int main(void)
{
	TEST(integers);
	TEST(struct_decode);
	TEST(char_arrays);
	TEST(round_trip);
	TEST(encode_errors);
	TEST(floats_pointers_datasec);
	TEST(int_sizes);
	TEST(bounds);
	TEST(hex);
	return UNIT_DONE();
}
