/* Unit tests for function prototypes (src/tracers/fn_proto.c) on BTF built
 * here with libbpf's writer: which register holds which parameter (the
 * x86_64 rules: 16-byte aggregates take two, larger ones and the seventh
 * register's worth go to memory, later scalars still take what is left),
 * which char pointers are strings and how they are read (a "user" type tag),
 * the C signature, sign and width of values, enum names, and the JSON of
 * each kind of value. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "json/json.h"
#include "tracers/fn_proto.h"
#include "unit.h"

static struct fn_proto P;   /* ~6 KiB: off the stack of each case */

struct ids {
	int i32, u32, u8, s64, chr, boolean, cchar, cstr, ustr, u_tag, vptr, big, pair, bigp, color, delta;
};

static struct btf *make(struct ids *t)
{
	struct btf *b = btf__new_empty();
	t->i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	t->u32 = btf__add_int(b, "unsigned int", 4, 0);
	t->u8 = btf__add_int(b, "unsigned char", 1, 0);
	t->s64 = btf__add_int(b, "long int", 8, BTF_INT_SIGNED);
	t->chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	t->boolean = btf__add_int(b, "_Bool", 1, BTF_INT_BOOL);
	t->cchar = btf__add_const(b, t->chr);
	t->cstr = btf__add_ptr(b, t->cchar);               /* const char * */
	t->u_tag = btf__add_type_tag(b, "user", t->cchar);
	t->ustr = btf__add_ptr(b, t->u_tag);               /* const char __user * */
	t->vptr = btf__add_ptr(b, 0);                      /* void * */
	t->big = btf__add_struct(b, "big", 24);
	btf__add_field(b, "a", t->s64, 0, 0);
	t->pair = btf__add_struct(b, "pair", 16);
	btf__add_field(b, "x", t->s64, 0, 0);
	t->bigp = btf__add_ptr(b, t->big);
	t->color = btf__add_enum(b, "color", 4);
	btf__add_enum_value(b, "RED", 0);
	btf__add_enum_value(b, "BLUE", 7);
	t->delta = btf__add_enum64(b, "delta", 8, true);
	btf__add_enum64_value(b, "MINUS_ONE", (uint64_t)-1);
	return b;
}

/* A FUNC name(params...) returning ret; -1 ends the list, a 0 name with
 * type 0 is "...". */
static int func(struct btf *b, const char *name, int ret, const char *const *names, const int *types)
{
	int proto = btf__add_func_proto(b, ret);
	for (int i = 0; types[i] >= 0; i++)
		btf__add_func_param(b, names[i], types[i]);
	return btf__add_func(b, name, BTF_FUNC_GLOBAL, proto);
}

static void openat2_like(void)
{
	struct ids t;
	struct btf *b = make(&t);
	int f = func(b, "do_sys_openat2", t.s64, (const char *[]){ "dfd", "filename", "how" },
		     (int[]){ t.i32, t.ustr, t.bigp, -1 });
	CHECK_INT(fn_proto__read(b, f, &P), 0);
	CHECK_INT(P.n_params, 3);
	CHECK_INT(P.params[0].kind, FN_INT);
	CHECK(P.params[0].is_signed);
	CHECK_INT(P.params[0].size, 4);
	CHECK_INT(P.params[1].kind, FN_STR);
	CHECK_INT(P.params[1].str_mode, TRACE_FUNCTION_STR_USER);
	CHECK_INT(P.params[1].reg, 1);
	CHECK_INT(P.params[2].kind, FN_PTR);
	CHECK_INT(P.params[2].reg, 2);
	CHECK_INT(P.ret.kind, FN_INT);
	CHECK_INT(P.regs, 3);
	CHECK(fn_proto__ret_errors(&P));
	char sig[FN_PROTO_SIG_BYTES];
	fn_proto__signature(&P, "do_sys_openat2", sig, sizeof(sig));
	CHECK_STR(sig, "long int do_sys_openat2(int dfd, const char *filename, struct big *how)");
	btf__free(b);
}

static void registers(void)
{
	struct ids t;
	struct btf *b = make(&t);
	/* a 16-byte struct takes two, a 24-byte one goes to memory, the int
	 * after it still takes a register; the seventh register's worth does not */
	int f = func(b, "f", t.u8, (const char *[]){ "a", "p", "big", "b", "c", "d", "e", "g" },
		     (int[]){ t.i32, t.pair, t.big, t.i32, t.i32, t.i32, t.cstr, t.i32, -1 });
	CHECK_INT(fn_proto__read(b, f, &P), 0);
	CHECK_INT(P.params[1].kind, FN_WORDS);
	CHECK_INT(P.params[1].reg, 1);
	CHECK_INT(P.params[1].nregs, 2);
	CHECK_INT(P.params[2].kind, FN_STACK);
	CHECK_INT(P.params[3].reg, 3);
	CHECK_INT(P.params[5].reg, 5);
	CHECK_INT(P.params[6].kind, FN_STACK);   /* a string past the sixth register is not read */
	CHECK_INT(P.params[7].kind, FN_STACK);
	CHECK_INT(P.regs, 6);
	CHECK(!fn_proto__ret_errors(&P));        /* unsigned char carries no -errno */
	btf__free(b);
}

static void kinds(void)
{
	struct ids t;
	struct btf *b = make(&t);
	int f = func(b, "g", t.vptr, (const char *[]){ "on", "c", "d", "s", "v", NULL },
		     (int[]){ t.boolean, t.color, t.delta, t.cstr, t.vptr, 0, -1 });
	CHECK_INT(fn_proto__read(b, f, &P), 0);
	CHECK(P.varargs);
	CHECK_INT(P.n_params, 5);
	CHECK_INT(P.params[0].kind, FN_BOOL);
	CHECK_INT(P.params[1].kind, FN_ENUM);
	CHECK_INT(P.params[2].kind, FN_ENUM);
	CHECK(P.params[2].is_signed);
	CHECK_INT(P.params[3].str_mode, TRACE_FUNCTION_STR_AUTO);   /* no tag: the address decides */
	CHECK_INT(P.params[4].kind, FN_PTR);
	CHECK_INT(P.ret.kind, FN_PTR);
	CHECK(fn_proto__ret_errors(&P));                              /* ERR_PTR */
	CHECK_STR(fn_proto__enum_name(b, P.params[1].enum_id, 7), "BLUE");
	CHECK(fn_proto__enum_name(b, P.params[1].enum_id, 3) == NULL);
	CHECK_STR(fn_proto__enum_name(b, P.params[2].enum_id, -1), "MINUS_ONE");
	char sig[FN_PROTO_SIG_BYTES];
	fn_proto__signature(&P, "g", sig, sizeof(sig));
	CHECK_STR(sig, "void *g(_Bool on, enum color c, enum delta d, const char *s, void *v, ...)");
	int v = func(b, "h", 0, (const char *[]){ NULL }, (int[]){ -1 });
	CHECK_INT(fn_proto__read(b, v, &P), 0);
	CHECK_INT(P.ret.kind, FN_VOID);
	fn_proto__signature(&P, "h", sig, sizeof(sig));
	CHECK_STR(sig, "void h(void)");
	CHECK_INT(fn_proto__read(b, t.i32, &P), -EINVAL);             /* not a FUNC */
	btf__free(b);
}

static void widths(void)
{
	struct fn_val v = { .size = 1, .is_signed = false };
	CHECK_INT(fn_proto__int(&v, 0x1ff), 255);
	v.is_signed = true;
	CHECK_INT(fn_proto__int(&v, 0xff), -1);
	v.size = 4;
	CHECK_INT(fn_proto__int(&v, 0xdeadbeeffffffffeull), -2);   /* garbage above an int's width */
	v.is_signed = false;
	CHECK_INT(fn_proto__int(&v, 0xdeadbeeffffffffeull), 0xfffffffe);
	v.size = 8;
	CHECK_U64((uint64_t)fn_proto__int(&v, ~0ull), ~0ull);
}

/* The value members of parameter i for registers regs, as JSON. */
static const char *json_of(int i, const uint64_t *regs, const struct fn_str *s, char *buf, size_t cap)
{
	struct jw w;
	jw__init(&w, buf, cap);
	jw__obj(&w);
	fn_proto__write_value(&w, &P, &P.params[i], regs, s);
	jw__obj_end(&w);
	buf[w.len] = 0;
	return buf;
}

static void values(void)
{
	struct ids t;
	char buf[512];
	struct btf *b = make(&t);
	int f = func(b, "k", t.i32, (const char *[]){ "n", "c", "s", "p", "on" },
		     (int[]){ t.i32, t.color, t.cstr, t.pair, t.boolean, -1 });
	CHECK_INT(fn_proto__read(b, f, &P), 0);
	uint64_t regs[TRACE_FUNCTION_ARGS] = { 0xffffff9c, 7, 0xffff888000001000ull, 1, 2, 0x100 };
	CHECK_STR(json_of(0, regs, NULL, buf, sizeof(buf)), "{\"value\":-100}");
	CHECK_STR(json_of(1, regs, NULL, buf, sizeof(buf)), "{\"value\":\"BLUE\",\"raw\":7}");
	struct fn_str s = { .bytes = "/etc/passwd", .len = 12 };
	CHECK_STR(json_of(2, regs, &s, buf, sizeof(buf)), "{\"value\":\"/etc/passwd\",\"address\":\"0xffff888000001000\"}");
	s.cut = true;
	CHECK_STR(json_of(2, regs, &s, buf, sizeof(buf)),
		  "{\"value\":\"/etc/passwd\",\"address\":\"0xffff888000001000\",\"truncated\":true}");
	s = (struct fn_str){ .bytes = "", .len = -14 };
	CHECK_STR(json_of(2, regs, &s, buf, sizeof(buf)),
		  "{\"value\":null,\"address\":\"0xffff888000001000\",\"error\":\"unreadable at entry (EFAULT)\"}");
	CHECK_STR(json_of(3, regs, NULL, buf, sizeof(buf)), "{\"value\":[\"0x1\",\"0x2\"]}");
	CHECK_STR(json_of(4, regs, NULL, buf, sizeof(buf)), "{\"value\":false}");   /* only its byte counts */
	regs[2] = 0;
	s = (struct fn_str){ 0 };
	CHECK_STR(json_of(2, regs, &s, buf, sizeof(buf)), "{\"value\":null,\"address\":\"0x0\"}");
	btf__free(b);
}

int main(void)
{
	TEST(openat2_like);
	TEST(registers);
	TEST(kinds);
	TEST(widths);
	TEST(values);
	return UNIT_DONE();
}
