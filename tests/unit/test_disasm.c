/* Unit tests for the disassembler (src/kern/disasm.c) on hand-built
 * instructions: every form of every class in the kernel's syntax (what
 * kernel/bpf/disasm.c prints and bpftool shows), the forms the kernel
 * prints as BUG_*, 64-bit loads and their operands, calls with and without
 * a naming callback, jump targets; and bpftool's function signatures
 * (btf_fmt__func_sig) over BTF built here. */
#include <errno.h>
#include <string.h>

#include <bpf/btf.h>
#include <linux/bpf.h>

#include "kern/btf_fmt.h"
#include "kern/disasm.h"
#include "unit.h"

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static char text[DISASM_TEXT_BYTES];

/* The text of a one-slot instruction without a callback. */
static const char *one(struct bpf_insn in)
{
	CHECK_INT(disasm__insn(&in, 1, 0, NULL, text, sizeof(text)), 1);
	return text;
}

static void alu(void)
{
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0)), "(bf) r6 = r1");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_MOV | BPF_K, 1, 0, 0, -1)), "(b7) r1 = -1");
	CHECK_STR(one(INSN(BPF_ALU | BPF_ADD | BPF_K, 1, 0, 0, 5)), "(04) w1 += 5");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_SUB | BPF_X, 1, 2, 0, 0)), "(1f) r1 -= r2");
	CHECK_STR(one(INSN(BPF_ALU | BPF_MOV | BPF_X, 3, 4, 0, 0)), "(bc) w3 = w4");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_LSH | BPF_K, 0, 0, 0, 3)), "(67) r0 <<= 3");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_RSH | BPF_K, 0, 0, 0, 32)), "(77) r0 >>= 32");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_ARSH | BPF_K, 1, 0, 0, 63)), "(c7) r1 s>>= 63");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_AND | BPF_K, 0, 0, 0, 1)), "(57) r0 &= 1");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_OR | BPF_X, 1, 2, 0, 0)), "(4f) r1 |= r2");
	CHECK_STR(one(INSN(BPF_ALU | BPF_XOR | BPF_X, 1, 2, 0, 0)), "(ac) w1 ^= w2");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_MUL | BPF_K, 1, 0, 0, 7)), "(27) r1 *= 7");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 0, 0)), "(3f) r1 /= r2");
	CHECK_STR(one(INSN(BPF_ALU | BPF_MOD | BPF_K, 1, 0, 0, 10)), "(94) w1 %= 10");
	CHECK_STR(one(INSN(BPF_ALU | BPF_NEG, 3, 0, 0, 0)), "(84) w3 = -w3");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_NEG, 3, 0, 0, 0)), "(87) r3 = -r3");
	/* byte swaps: the ALU class converts to an order, ALU64 swaps */
	CHECK_STR(one(INSN(BPF_ALU | BPF_END | BPF_TO_BE, 1, 0, 0, 16)), "(dc) r1 = be16 r1");
	CHECK_STR(one(INSN(BPF_ALU | BPF_END | BPF_TO_LE, 1, 0, 0, 32)), "(d4) r1 = le32 r1");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_END, 2, 0, 0, 64)), "(d7) r2 = bswap64 r2");
	/* signed division and modulo (off 1), sign-extending moves (off 8/16/32) */
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_DIV | BPF_X, 1, 2, 1, 0)), "(3f) r1 s/= r2");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_MOD | BPF_K, 1, 0, 1, 3)), "(97) r1 s%= 3");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 8, 0)), "(bf) r1 = (s8)r2");
	CHECK_STR(one(INSN(BPF_ALU | BPF_MOV | BPF_X, 1, 2, 16, 0)), "(bc) w1 = (s16)w2");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 32, 0)), "(bf) r1 = (s32)r2");
	/* the arena cast and the kernel's per-CPU address form */
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_MOV | BPF_X, 1, 2, 1, 1 << 16)), "(bf) r1 = addr_space_cast(r2, 1, 0)");
	CHECK_STR(one(INSN(BPF_ALU64 | BPF_MOV | BPF_X, 0, 0, -1, 0)), "(bf) r0 = &(void __percpu *)(r0)");
	/* an operation the kernel's table has no text for */
	CHECK_STR(one(INSN(BPF_ALU64 | 0xe0 | BPF_K, 1, 0, 0, 0)), "(e7) r1 (null) 0");
}

static void loads_stores(void)
{
	CHECK_STR(one(INSN(BPF_LDX | BPF_MEM | BPF_DW, 1, 1, 0, 0)), "(79) r1 = *(u64 *)(r1 +0)");
	CHECK_STR(one(INSN(BPF_LDX | BPF_MEM | BPF_W, 0, 10, -4, 0)), "(61) r0 = *(u32 *)(r10 -4)");
	CHECK_STR(one(INSN(BPF_LDX | BPF_MEM | BPF_H, 1, 6, 30, 0)), "(69) r1 = *(u16 *)(r6 +30)");
	CHECK_STR(one(INSN(BPF_LDX | BPF_MEM | BPF_B, 1, 6, 1, 0)), "(71) r1 = *(u8 *)(r6 +1)");
	CHECK_STR(one(INSN(BPF_LDX | BPF_MEMSX | BPF_B, 1, 2, 2, 0)), "(91) r1 = *(s8 *)(r2 +2)");
	CHECK_STR(one(INSN(BPF_LDX | BPF_MEMSX | BPF_W, 1, 2, 0, 0)), "(81) r1 = *(s32 *)(r2 +0)");
	CHECK_STR(one(INSN(BPF_LDX | BPF_MEMSX | BPF_DW, 1, 2, 0, 0)), "(99) r1 = *((null) *)(r2 +0)");
	CHECK_STR(one(INSN(BPF_LDX | BPF_ABS | BPF_W, 0, 0, 0, 0)), "BUG_ldx_21");
	CHECK_STR(one(INSN(BPF_STX | BPF_MEM | BPF_DW, 10, 1, -8, 0)), "(7b) *(u64 *)(r10 -8) = r1");
	CHECK_STR(one(INSN(BPF_STX | BPF_MEM | BPF_B, 10, 2, -1, 0)), "(73) *(u8 *)(r10 -1) = r2");
	CHECK_STR(one(INSN(BPF_ST | BPF_MEM | BPF_W, 10, 0, -4, 7)), "(62) *(u32 *)(r10 -4) = 7");
	CHECK_STR(one(INSN(BPF_ST | BPF_MEM | BPF_DW, 1, 0, 8, -1)), "(7a) *(u64 *)(r1 +8) = -1");
	CHECK_STR(one(INSN(BPF_ST | 0xc0, 0, 0, 0, 0)), "(c2) nospec");
	CHECK_STR(one(INSN(BPF_ST | BPF_ABS | BPF_W, 0, 0, 0, 0)), "BUG_st_22");
	CHECK_STR(one(INSN(BPF_STX | BPF_ABS | BPF_W, 0, 0, 0, 0)), "BUG_23");
	CHECK_STR(one(INSN(BPF_LD | BPF_ABS | BPF_W, 0, 0, 0, 12)), "(20) r0 = *(u32 *)skb[12]");
	CHECK_STR(one(INSN(BPF_LD | BPF_IND | BPF_H, 0, 2, 0, 4)), "(48) r0 = *(u16 *)skb[r2 + 4]");
	CHECK_STR(one(INSN(BPF_LD | BPF_MEM | BPF_W, 0, 0, 0, 0)), "BUG_ld_60");
}

static void atomics(void)
{
	uint8_t dw = BPF_STX | BPF_ATOMIC | BPF_DW, w = BPF_STX | BPF_ATOMIC | BPF_W;
	CHECK_STR(one(INSN(dw, 2, 1, 0, BPF_ADD)), "(db) lock *(u64 *)(r2 +0) += r1");
	CHECK_STR(one(INSN(w, 2, 1, 4, BPF_OR)), "(c3) lock *(u32 *)(r2 +4) |= r1");
	CHECK_STR(one(INSN(dw, 0, 1, 320, BPF_AND)), "(db) lock *(u64 *)(r0 +320) &= r1");
	CHECK_STR(one(INSN(w, 2, 1, 0, BPF_XOR)), "(c3) lock *(u32 *)(r2 +0) ^= r1");
	CHECK_STR(one(INSN(dw, 2, 1, 0, BPF_ADD | BPF_FETCH)), "(db) r1 = atomic64_fetch_add((u64 *)(r2 +0), r1)");
	CHECK_STR(one(INSN(w, 2, 3, 8, BPF_XOR | BPF_FETCH)), "(c3) r3 = atomic_fetch_xor((u32 *)(r2 +8), r3)");
	CHECK_STR(one(INSN(dw, 2, 3, 0, BPF_CMPXCHG)), "(db) r0 = atomic64_cmpxchg((u64 *)(r2 +0), r0, r3)");
	CHECK_STR(one(INSN(w, 2, 3, 0, BPF_XCHG)), "(c3) r3 = atomic_xchg((u32 *)(r2 +0), r3)");
	CHECK_STR(one(INSN(dw, 1, 2, 0, 0x100)), "(db) r1 = load_acquire((u64 *)(r2 +0))");
	CHECK_STR(one(INSN(w, 2, 1, -8, 0x110)), "(c3) store_release((u32 *)(r2 -8), r1)");
	CHECK_STR(one(INSN(dw, 2, 1, 0, BPF_SUB)), "BUG_db");
}

/* Two-slot loads: the operand bpftool prints for each kind the kernel
 * marks, and a load cut short by the end of the instructions. */
static void imm64(void)
{
	struct bpf_insn p[2] = { INSN(BPF_LD | BPF_IMM | BPF_DW, 1, 0, 0, (int32_t)0x89abcdef), INSN(0, 0, 0, 0, 0x01234567) };
	CHECK_INT(disasm__insn(p, 2, 0, NULL, text, sizeof(text)), 2);
	CHECK_STR(text, "(18) r1 = 0x123456789abcdef");
	p[0].src_reg = BPF_PSEUDO_MAP_FD, p[0].imm = 12;
	disasm__insn(p, 2, 0, NULL, text, sizeof(text));
	CHECK_STR(text, "(18) r1 = map[id:12]");
	p[0].src_reg = BPF_PSEUDO_MAP_VALUE, p[0].dst_reg = 2, p[1].imm = 16;
	disasm__insn(p, 2, 0, NULL, text, sizeof(text));
	CHECK_STR(text, "(18) r2 = map[id:12][0]+16");
	p[0].src_reg = BPF_PSEUDO_MAP_IDX_VALUE, p[0].imm = 3, p[1].imm = 8;
	disasm__insn(p, 2, 0, NULL, text, sizeof(text));
	CHECK_STR(text, "(18) r2 = map[idx:3]+8");
	p[0].src_reg = BPF_PSEUDO_FUNC, p[0].imm = 5;
	disasm__insn(p, 2, 0, NULL, text, sizeof(text));
	CHECK_STR(text, "(18) r2 = subprog[+5]");
	p[0].src_reg = BPF_PSEUDO_BTF_ID, p[0].imm = -1, p[1].imm = -1;
	disasm__insn(p, 2, 0, NULL, text, sizeof(text));
	CHECK_STR(text, "(18) r2 = 0xffffffffffffffff");
	p[0].src_reg = 0, p[0].imm = 7;
	CHECK_INT(disasm__insn(p, 1, 0, NULL, text, sizeof(text)), 2);
	CHECK_STR(text, "(18) r2 = 0x7");
	CHECK_INT(disasm__slots(&p[0]), 2);
	CHECK_INT(disasm__slots(&p[1]), 1);
	/* past the end: nothing is read, nothing written but the terminator */
	CHECK_INT(disasm__insn(p, 2, 2, NULL, text, sizeof(text)), 1);
	CHECK_STR(text, "");
}

static const char *fake_call(void *arg, const struct bpf_insn *insn, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%d", (const char *)arg, insn->src_reg);
	return buf;
}

static void calls(void)
{
	CHECK_STR(one(INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem)), "(85) call bpf_map_lookup_elem#1");
	CHECK_STR(one(INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_tail_call)), "(85) call bpf_tail_call#12");
	CHECK_STR(one(INSN(BPF_JMP | BPF_CALL, 0, 0, 0, 0)), "(85) call bpf_unspec#0");
	/* without a callback: the kernel's own defaults */
	CHECK_STR(one(INSN(BPF_JMP | BPF_CALL, 0, 0, 0, 264816)), "(85) call unknown#264816");
	CHECK_STR(one(INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, 77)), "(85) call kernel-function#77");
	CHECK_STR(one(INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 4, 3)), "(85) call pc+3");
	/* a callback names what the helper table does not */
	struct disasm_names n = { fake_call, "cb" };
	struct bpf_insn c[3] = { INSN(BPF_JMP | BPF_CALL, 0, 0, 0, 264816),
				 INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 4, 1),
				 INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_ktime_get_ns) };
	disasm__insn(c, 3, 0, &n, text, sizeof(text));
	CHECK_STR(text, "(85) call cb0#264816");
	disasm__insn(c, 3, 1, &n, text, sizeof(text));
	CHECK_STR(text, "(85) call pccb1");
	disasm__insn(c, 3, 2, &n, text, sizeof(text));
	CHECK_STR(text, "(85) call bpf_ktime_get_ns#5");
	CHECK_STR(disasm__helper_name(BPF_FUNC_get_current_pid_tgid), "bpf_get_current_pid_tgid");
	CHECK(disasm__helper_name(-1) == NULL);
	CHECK(disasm__helper_name(__BPF_FUNC_MAX_ID) == NULL);
	CHECK_INT(disasm__call_kind(&c[0]), DISASM_HELPER);
	CHECK_INT(disasm__call_kind(&c[1]), DISASM_SUBPROG);
	struct bpf_insn k = INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, 1);
	CHECK_INT(disasm__call_kind(&k), DISASM_KFUNC);
	struct bpf_insn e = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	CHECK_INT(disasm__call_kind(&e), DISASM_NOT_CALL);
}

static void jumps(void)
{
	CHECK_STR(one(INSN(BPF_JMP | BPF_JA, 0, 0, 3, 0)), "(05) goto pc+3");
	CHECK_STR(one(INSN(BPF_JMP | BPF_JA, 0, 0, -2, 0)), "(05) goto pc-2");
	CHECK_STR(one(INSN(BPF_JMP | BPF_JA | BPF_X, 3, 0, 0, 0)), "(0d) gotox r3");
	CHECK_STR(one(INSN(BPF_JMP | BPF_JCOND, 0, BPF_MAY_GOTO, 2, 0)), "(e5) may_goto pc+2");
	CHECK_STR(one(INSN(BPF_JMP32 | BPF_JA, 0, 0, 0, 100)), "(06) gotol pc+100");
	CHECK_STR(one(INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)), "(95) exit");
	CHECK_STR(one(INSN(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 5, 0)), "(15) if r1 == 0x0 goto pc+5");
	CHECK_STR(one(INSN(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 1, -1)), "(55) if r1 != 0xffffffff goto pc+1");
	CHECK_STR(one(INSN(BPF_JMP | BPF_JGE | BPF_K, 0, 0, 3, 8)), "(35) if r0 >= 0x8 goto pc+3");
	CHECK_STR(one(INSN(BPF_JMP32 | BPF_JGT | BPF_X, 1, 2, -3, 0)), "(2e) if w1 > w2 goto pc-3");
	CHECK_STR(one(INSN(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 0, 4)), "(45) if r1 & 0x4 goto pc+0");
	CHECK_STR(one(INSN(BPF_JMP | BPF_JSLT | BPF_X, 1, 2, 7, 0)), "(cd) if r1 s< r2 goto pc+7");
	CHECK_STR(one(INSN(BPF_JMP32 | BPF_JSLE | BPF_K, 1, 0, 7, 2)), "(d6) if w1 s<= 0x2 goto pc+7");
	CHECK_STR(one(INSN(BPF_JMP | BPF_JLT | BPF_X, 1, 2, 7, 0)), "(ad) if r1 < r2 goto pc+7");
	/* forms the kernel's printer falls through on */
	CHECK_STR(one(INSN(BPF_JMP | BPF_JCOND, 0, 1, 0, 0)), "(e5) if r0 (null) 0x0 goto pc+0");
	CHECK_STR(one(INSN(BPF_JMP32 | BPF_EXIT, 0, 0, 0, 0)), "(96) if w0 exit 0x0 goto pc+0");
	int64_t t = -1;
	struct bpf_insn j = INSN(BPF_JMP | BPF_JNE | BPF_K, 1, 0, 5, 0);
	CHECK(disasm__target(&j, 10, &t) && t == 16);
	j = INSN(BPF_JMP | BPF_JA, 0, 0, -3, 0);
	CHECK(disasm__target(&j, 10, &t) && t == 8);
	j = INSN(BPF_JMP32 | BPF_JA, 0, 0, 0, 100);
	CHECK(disasm__target(&j, 10, &t) && t == 111);
	j = INSN(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 4, 1);   /* a dump keeps the offset in off */
	CHECK(disasm__target(&j, 2, &t) && t == 7);
	j = INSN(BPF_JMP | BPF_CALL, 0, 0, 4, 1);
	CHECK(!disasm__target(&j, 2, &t));
	j = INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
	CHECK(!disasm__target(&j, 2, &t));
	j = INSN(BPF_JMP | BPF_JA | BPF_X, 3, 0, 0, 0);
	CHECK(!disasm__target(&j, 2, &t));
	j = INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 4, 0);
	CHECK(!disasm__target(&j, 2, &t));
}

/* A small output buffer cuts the text and keeps it terminated. */
static void small_buffers(void)
{
	struct bpf_insn in = INSN(BPF_LDX | BPF_MEM | BPF_DW, 1, 1, 0, 0);
	char small[8];
	memset(small, 'x', sizeof(small));
	disasm__insn(&in, 1, 0, NULL, small, sizeof(small));
	CHECK_STR(small, "(79) r1");
	CHECK_INT(disasm__insn(&in, 1, 0, NULL, small, 0), 1);
}

static void signatures(void)
{
	char sig[BTF_FMT_SIG_BYTES];
	struct btf *b = btf__new_empty();
	CHECK(b != NULL);
	if (!b)
		return;
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u32 = btf__add_typedef(b, "__u32", btf__add_int(b, "unsigned int", 4, 0));
	int skb = btf__add_ptr(b, btf__add_fwd(b, "__sk_buff", BTF_FWD_STRUCT));
	int p1 = btf__add_func_proto(b, i32);
	btf__add_func_param(b, "skb", skb);
	int f1 = btf__add_func(b, "lb_sock", BTF_FUNC_GLOBAL, p1);
	int cchar = btf__add_ptr(b, btf__add_const(b, btf__add_int(b, "char", 1, BTF_INT_CHAR)));
	int p2 = btf__add_func_proto(b, 0);
	btf__add_func_param(b, "", cchar);
	btf__add_func_param(b, "slot", u32);
	btf__add_func_param(b, "", 0);
	int f2 = btf__add_func(b, "logf", BTF_FUNC_STATIC, p2);
	int tagged = btf__add_ptr(b, btf__add_type_tag(b, "user", i32));
	int p3 = btf__add_func_proto(b, i32);
	btf__add_func_param(b, "p", tagged);
	int f3 = btf__add_func(b, "tagged", BTF_FUNC_GLOBAL, p3);
	CHECK(btf_fmt__func_sig(b, f1, sig, sizeof(sig)) > 0);
	CHECK_STR(sig, "int lb_sock(struct __sk_buff * skb)");
	CHECK(btf_fmt__func_sig(b, f2, sig, sizeof(sig)) > 0);
	CHECK_STR(sig, "void logf(const char *, __u32 slot, ...)");
	CHECK(btf_fmt__func_sig(b, p1, sig, sizeof(sig)) > 0);
	CHECK_STR(sig, "int (struct __sk_buff * skb)");
	/* type tags have no text in bpftool: no signature at all */
	CHECK_INT(btf_fmt__func_sig(b, f3, sig, sizeof(sig)), -EINVAL);
	CHECK_STR(sig, "");
	CHECK_INT(btf_fmt__func_sig(b, f1, sig, 12), -ENOSPC);
	CHECK_STR(sig, "");
	CHECK_INT(btf_fmt__func_sig(b, 9999, sig, sizeof(sig)), -EINVAL);
	btf__free(b);
}

int main(void)
{
	TEST(alu);
	TEST(loads_stores);
	TEST(atomics);
	TEST(imm64);
	TEST(calls);
	TEST(jumps);
	TEST(small_buffers);
	TEST(signatures);
	return UNIT_DONE();
}
