/* Fuzzes JSON <-> BTF value encoding over a BTF built in memory with
 * libbpf's writer: integers of every width and sign, bool, char arrays,
 * enums (32 and 64 bit), floats, pointers, typedef/const/volatile chains,
 * a struct with bitfields and an anonymous union, nested arrays, a
 * datasec. The first byte picks the type, the second the direction:
 *   even: the rest is JSON, encoded into the type's bytes;
 *   odd:  the rest is the value's bytes, decoded to JSON.
 * Oracle: encoding is a fixed point after one round: bytes b1 obtained from
 * any accepted input decode to JSON that encodes back to b1 exactly. */
#include <bpf/btf.h>
#include <string.h>

#include "json/json.h"
#include "kern/btf_json.h"
#include "fuzz.h"

#define TOKS 4096
#define VALUE_MAX 4096

static struct btf *btf;
static jsmntok_t toks[TOKS];
static char text[1 << 18];

static void build(struct btf *b)
{
	int u8 = btf__add_int(b, "unsigned char", 1, 0), s8 = btf__add_int(b, "signed char", 1, BTF_INT_SIGNED);
	int s16 = btf__add_int(b, "short", 2, BTF_INT_SIGNED), u16 = btf__add_int(b, "unsigned short", 2, 0);
	int u32 = btf__add_int(b, "unsigned int", 4, 0), s32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u64 = btf__add_int(b, "unsigned long", 8, 0), s64 = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
	int u128 = btf__add_int(b, "__u128", 16, 0);
	int chr = btf__add_int(b, "char", 1, BTF_INT_CHAR), bl = btf__add_int(b, "_Bool", 1, BTF_INT_BOOL);
	int f32 = btf__add_float(b, "float", 4), f64 = btf__add_float(b, "double", 8);
	int td = btf__add_typedef(b, "u32_t", u32), cv = btf__add_volatile(b, btf__add_const(b, td));
	int ptr = btf__add_ptr(b, u8);
	int e = btf__add_enum(b, "state", 4);
	btf__add_enum_value(b, "IDLE", 0);
	btf__add_enum_value(b, "BUSY", -3);
	int e8 = btf__add_enum(b, "small", 1);
	btf__add_enum_value(b, "ONE", 1);
	int e64 = btf__add_enum64(b, "big", 8, true);
	btf__add_enum64_value(b, "NEG", -1);
	btf__add_enum64_value(b, "HI", 1ull << 62);
	int name = btf__add_array(b, u32, chr, 16), grid = btf__add_array(b, u32, btf__add_array(b, u32, s16, 3), 2);
	int un = btf__add_union(b, NULL, 8);
	btf__add_field(b, "as_u64", u64, 0, 0);
	btf__add_field(b, "as_f64", f64, 0, 0);
	btf__add_field(b, "bytes", btf__add_array(b, u32, u8, 8), 0, 0);
	int st = btf__add_struct(b, "rec", 64);
	btf__add_field(b, "name", name, 0, 0);
	btf__add_field(b, "state", e, 128, 0);
	btf__add_field(b, "lo", u32, 160, 3);
	btf__add_field(b, "mid", s32, 163, 7);
	btf__add_field(b, NULL, u32, 170, 6);
	btf__add_field(b, "flag", bl, 176, 0);
	btf__add_field(b, "tiny", s8, 184, 0);
	btf__add_field(b, "grid", grid, 192, 0);
	btf__add_field(b, NULL, un, 256, 0);
	btf__add_field(b, "f", f32, 320, 0);
	btf__add_field(b, "cv", cv, 352, 0);
	btf__add_field(b, "p", ptr, 384, 0);
	btf__add_field(b, "w", u16, 448, 0);
	btf__add_field(b, "e8", e8, 464, 0);
	btf__add_field(b, "s64", s64, 472, 0);   /* unaligned on purpose */
	int recs = btf__add_array(b, u32, st, 3);
	(void)recs, (void)u128, (void)e64;
	int va = btf__add_var(b, "count", BTF_VAR_GLOBAL_ALLOCATED, u64);
	int vb = btf__add_var(b, "tag", BTF_VAR_GLOBAL_ALLOCATED, name);
	btf__add_datasec(b, ".data", 24);
	btf__add_datasec_var_info(b, va, 0, 8);
	btf__add_datasec_var_info(b, vb, 8, 16);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	btf = btf__new_empty();
	FUZZ_CHECK(btf);
	build(btf);
	return 0;
}

/* b (size bytes of type id) -> JSON -> bytes into out; 0 when both
 * directions accept. */
static int round(uint32_t id, const void *b, size_t size, void *out)
{
	struct jw w;
	jw__init(&w, text, sizeof(text));
	if (btf_json__write(&w, btf, id, b, size) || w.overflow)
		return -1;
	struct jdoc d;
	struct json_perr pe;
	FUZZ_CHECK(jdoc__parse(&d, text, w.len, toks, TOKS, 64, &pe) == 0);   /* our output is valid JSON */
	struct btf_json_err err;
	return btf_json__parse(btf, id, &d, 0, "", out, size, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint32_t n = btf__type_cnt(btf), id = 1 + data[0] % (n - 1);
	long vs = btf__resolve_size(btf, id);
	const char *why;
	if (vs <= 0 || vs > VALUE_MAX || btf_json__check(btf, id, (size_t)vs, &why))
		return 0;
	static uint8_t b0[VALUE_MAX], b1[VALUE_MAX], b2[VALUE_MAX];
	memset(b0, 0, sizeof(b0));
	data += 2, size -= 2;
	if (!(data[-1] & 1)) {
		struct jdoc d;
		struct json_perr pe;
		struct btf_json_err err;
		if (jdoc__parse(&d, (const char *)data, size, toks, TOKS, 64, &pe))
			return 0;
		memset(&err, 0, sizeof(err));
		if (btf_json__parse(btf, id, &d, 0, "/v", b0, (size_t)vs, &err)) {
			FUZZ_CHECK(err.msg[0] && memchr(err.pointer, 0, sizeof(err.pointer)));
			return 0;
		}
	} else {
		memcpy(b0, data, size < (size_t)vs ? size : (size_t)vs);
	}
	if (round(id, b0, (size_t)vs, b1))
		return 0;
	FUZZ_CHECK(round(id, b1, (size_t)vs, b2) == 0);
	FUZZ_CHECK(!memcmp(b1, b2, (size_t)vs));
	return 0;
}
