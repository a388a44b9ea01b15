/* The kernel's BPF instruction syntax, from tables (see disasm.h).
 *
 * A form's template is plain text with $-fields:
 *   $C opcode (2 hex digits)   $d $s dst/src as w<n> in 32-bit classes, else r<n>
 *   $R $S dst/src as r<n>      $i imm (decimal)   $x imm (0x hex, unsigned)
 *   $o off (signed, "+0")      $g imm (signed, "+0")   $U $L imm's high/low 16 bits
 *   $a ALU operator            $m sign-extending cast of a mov   $e "be"/"le"
 *   $z access size (u8..u64)   $Z sign-extending size (s8..s32)   $6 "64" for DW
 *   $A atomic operator ("+=")  $c atomic name ("add")   $j jump operator
 *   $I a 64-bit load's operand  $F a call's target name
 * A template starting with '!' is printed without the "(code) " prefix, as
 * the kernel prints the forms it does not know.
 */
#include "disasm.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* UAPI values newer than the headers this builds against. */
#ifndef BPF_LOAD_ACQ
#define BPF_LOAD_ACQ  0x100
#endif
#ifndef BPF_STORE_REL
#define BPF_STORE_REL 0x110
#endif
/* Kernel-internal forms that appear in dumps of loaded programs: a mov
 * that adds this CPU's per-CPU offset (off -1), and the speculation
 * barrier (an ST with mode 0xc0). */
#define ADDR_PERCPU   (-1)
#define MODE_NOSPEC   0xc0

#define HELPER_NAME(x) [BPF_FUNC_##x] = "bpf_" #x
static const char *const helper_names[__BPF_FUNC_MAX_ID] = { __BPF_FUNC_MAPPER(HELPER_NAME) };
#undef HELPER_NAME

static const char *const alu_ops[16] = {
	[BPF_ADD >> 4] = "+=", [BPF_SUB >> 4] = "-=", [BPF_MUL >> 4] = "*=", [BPF_DIV >> 4] = "/=",
	[BPF_OR >> 4] = "|=", [BPF_AND >> 4] = "&=", [BPF_LSH >> 4] = "<<=", [BPF_RSH >> 4] = ">>=",
	[BPF_NEG >> 4] = "neg", [BPF_MOD >> 4] = "%=", [BPF_XOR >> 4] = "^=", [BPF_MOV >> 4] = "=",
	[BPF_ARSH >> 4] = "s>>=", [BPF_END >> 4] = "endian",
};

static const char *const jmp_ops[16] = {
	[BPF_JA >> 4] = "jmp", [BPF_JEQ >> 4] = "==", [BPF_JGT >> 4] = ">", [BPF_JGE >> 4] = ">=",
	[BPF_JSET >> 4] = "&", [BPF_JNE >> 4] = "!=", [BPF_JSGT >> 4] = "s>", [BPF_JSGE >> 4] = "s>=",
	[BPF_CALL >> 4] = "call", [BPF_EXIT >> 4] = "exit", [BPF_JLT >> 4] = "<", [BPF_JLE >> 4] = "<=",
	[BPF_JSLT >> 4] = "s<", [BPF_JSLE >> 4] = "s<=",
};

static const char *const atomic_names[16] = {
	[BPF_ADD >> 4] = "add", [BPF_AND >> 4] = "and", [BPF_OR >> 4] = "or", [BPF_XOR >> 4] = "xor",
};

static const char *const sizes[4] = { [BPF_W >> 3] = "u32", [BPF_H >> 3] = "u16", [BPF_B >> 3] = "u8",
				      [BPF_DW >> 3] = "u64" };
static const char *const signed_sizes[4] = { [BPF_W >> 3] = "s32", [BPF_H >> 3] = "s16", [BPF_B >> 3] = "s8" };

/* ---- predicates, one per form ------------------------------------------ */

#define CODE(in) ((in)->code)
#define OP(in)   BPF_OP((in)->code)
#define MODE(in) BPF_MODE((in)->code)

static bool is_end64(const struct bpf_insn *in) { return OP(in) == BPF_END && BPF_CLASS(CODE(in)) == BPF_ALU64; }
static bool is_end(const struct bpf_insn *in) { return OP(in) == BPF_END; }
static bool is_neg(const struct bpf_insn *in) { return OP(in) == BPF_NEG; }
static bool is_x(const struct bpf_insn *in) { return BPF_SRC(CODE(in)) == BPF_X; }
static bool is_mem(const struct bpf_insn *in) { return MODE(in) == BPF_MEM; }
static bool is_memsx(const struct bpf_insn *in) { return MODE(in) == BPF_MEMSX; }
static bool is_nospec(const struct bpf_insn *in) { return MODE(in) == MODE_NOSPEC; }
static bool is_abs(const struct bpf_insn *in) { return MODE(in) == BPF_ABS; }
static bool is_ind(const struct bpf_insn *in) { return MODE(in) == BPF_IND; }
static bool is_imm64(const struct bpf_insn *in) { return CODE(in) == (BPF_LD | BPF_IMM | BPF_DW); }
static bool is_exit(const struct bpf_insn *in) { return CODE(in) == (BPF_JMP | BPF_EXIT); }
static bool is_ja(const struct bpf_insn *in) { return CODE(in) == (BPF_JMP | BPF_JA); }
static bool is_gotox(const struct bpf_insn *in) { return CODE(in) == (BPF_JMP | BPF_JA | BPF_X); }
static bool is_gotol(const struct bpf_insn *in) { return CODE(in) == (BPF_JMP32 | BPF_JA); }
static bool is_call(const struct bpf_insn *in) { return OP(in) == BPF_CALL; }
static bool is_subprog_call(const struct bpf_insn *in) { return is_call(in) && in->src_reg == BPF_PSEUDO_CALL; }

static bool is_may_goto(const struct bpf_insn *in)
{
	return CODE(in) == (BPF_JMP | BPF_JCOND) && in->src_reg == BPF_MAY_GOTO;
}

static bool is_mov64_x(const struct bpf_insn *in, int16_t off)
{
	return CODE(in) == (BPF_ALU64 | BPF_MOV | BPF_X) && in->off == off;
}

static bool is_addr_space_cast(const struct bpf_insn *in) { return is_mov64_x(in, BPF_ADDR_SPACE_CAST); }
static bool is_percpu_addr(const struct bpf_insn *in) { return is_mov64_x(in, ADDR_PERCPU); }

static bool is_atomic(const struct bpf_insn *in, int32_t imm) { return MODE(in) == BPF_ATOMIC && in->imm == imm; }

static bool is_atomic_alu(const struct bpf_insn *in)
{
	return is_atomic(in, BPF_ADD) || is_atomic(in, BPF_AND) || is_atomic(in, BPF_OR) || is_atomic(in, BPF_XOR);
}

static bool is_atomic_fetch(const struct bpf_insn *in)
{
	return is_atomic(in, BPF_ADD | BPF_FETCH) || is_atomic(in, BPF_AND | BPF_FETCH) ||
	       is_atomic(in, BPF_OR | BPF_FETCH) || is_atomic(in, BPF_XOR | BPF_FETCH);
}

static bool is_cmpxchg(const struct bpf_insn *in) { return is_atomic(in, BPF_CMPXCHG); }
static bool is_xchg(const struct bpf_insn *in) { return is_atomic(in, BPF_XCHG); }
static bool is_load_acq(const struct bpf_insn *in) { return is_atomic(in, BPF_LOAD_ACQ); }
static bool is_store_rel(const struct bpf_insn *in) { return is_atomic(in, BPF_STORE_REL); }

/* ---- the forms, per class, first fit wins (NULL fits all) -------------- */

struct form {
	bool (*fits)(const struct bpf_insn *in);
	const char *text;
};

static const struct form alu_forms[] = {
	{ is_end64, "$R = bswap$i $R" },
	{ is_end, "$R = $e$i $R" },
	{ is_neg, "$d = -$d" },
	{ is_addr_space_cast, "$R = addr_space_cast($S, $U, $L)" },
	{ is_percpu_addr, "$R = &(void __percpu *)($S)" },
	{ is_x, "$d $a $m$s" },
	{ NULL, "$d $a $i" },
};

static const struct form stx_forms[] = {
	{ is_mem, "*($z *)($R $o) = $S" },
	{ is_atomic_alu, "lock *($z *)($R $o) $A $S" },
	{ is_atomic_fetch, "$S = atomic$6_fetch_$c(($z *)($R $o), $S)" },
	{ is_cmpxchg, "r0 = atomic$6_cmpxchg(($z *)($R $o), r0, $S)" },
	{ is_xchg, "$S = atomic$6_xchg(($z *)($R $o), $S)" },
	{ is_load_acq, "$R = load_acquire(($z *)($S $o))" },
	{ is_store_rel, "store_release(($z *)($R $o), $S)" },
	{ NULL, "!BUG_$C" },
};

static const struct form st_forms[] = {
	{ is_mem, "*($z *)($R $o) = $i" },
	{ is_nospec, "nospec" },
	{ NULL, "!BUG_st_$C" },
};

static const struct form ldx_forms[] = {
	{ is_mem, "$R = *($z *)($S $o)" },
	{ is_memsx, "$R = *($Z *)($S $o)" },
	{ NULL, "!BUG_ldx_$C" },
};

static const struct form ld_forms[] = {
	{ is_abs, "r0 = *($z *)skb[$i]" },
	{ is_ind, "r0 = *($z *)skb[$S + $i]" },
	{ is_imm64, "$R = $I" },
	{ NULL, "!BUG_ld_$C" },
};

static const struct form jmp_forms[] = {
	{ is_subprog_call, "call pc$F" },
	{ is_call, "call $F#$i" },
	{ is_ja, "goto pc$o" },
	{ is_gotox, "gotox $R" },
	{ is_may_goto, "may_goto pc$o" },
	{ is_gotol, "gotol pc$g" },
	{ is_exit, "exit" },
	{ is_x, "if $d $j $s goto pc$o" },
	{ NULL, "if $d $j $x goto pc$o" },
};

static const struct form *const class_forms[8] = {
	[BPF_LD] = ld_forms, [BPF_LDX] = ldx_forms, [BPF_ST] = st_forms, [BPF_STX] = stx_forms,
	[BPF_ALU] = alu_forms, [BPF_JMP] = jmp_forms, [BPF_JMP32] = jmp_forms, [BPF_ALU64] = alu_forms,
};

/* ---- rendering --------------------------------------------------------- */

struct out {
	char *p;
	size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->len + 1 >= o->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap - 1;
}

/* A table entry the kernel has no text for prints as glibc prints NULL. */
static const char *text_or_null(const char *s)
{
	return s ? s : "(null)";
}

struct at {
	const struct bpf_insn *insns;
	size_t n, i;
	const struct disasm_names *names;
};

static char reg_width(const struct bpf_insn *in)
{
	uint8_t c = BPF_CLASS(in->code);
	return c == BPF_ALU || c == BPF_JMP32 ? 'w' : 'r';
}

static const char *alu_op(const struct bpf_insn *in)
{
	if ((OP(in) == BPF_DIV || OP(in) == BPF_MOD) && in->off == 1)
		return OP(in) == BPF_DIV ? "s/=" : "s%=";
	return text_or_null(alu_ops[OP(in) >> 4]);
}

static const char *movsx_cast(const struct bpf_insn *in)
{
	if (OP(in) != BPF_MOV)
		return "";
	return in->off == 8 ? "(s8)" : in->off == 16 ? "(s16)" : in->off == 32 ? "(s32)" : "";
}

/* The operand of a 64-bit immediate load, as bpftool names what the
 * kernel's dump marks (map ids, map values, subprogram addresses). */
static void imm64_operand(struct out *o, const struct at *a)
{
	const struct bpf_insn *in = &a->insns[a->i];
	int32_t hi = a->i + 1 < a->n ? a->insns[a->i + 1].imm : 0;
	if (in->src_reg == BPF_PSEUDO_MAP_FD)
		put(o, "map[id:%d]", in->imm);
	else if (in->src_reg == BPF_PSEUDO_MAP_VALUE)
		put(o, "map[id:%d][0]+%d", in->imm, hi);
	else if (in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE)
		put(o, "map[idx:%d]+%d", in->imm, hi);
	else if (in->src_reg == BPF_PSEUDO_FUNC)
		put(o, "subprog[%+d]", in->imm);
	else
		put(o, "0x%llx", (unsigned long long)((uint64_t)(uint32_t)hi << 32 | (uint32_t)in->imm));
}

static const char *call_name(const struct at *a, char *buf, size_t cap)
{
	const struct bpf_insn *in = &a->insns[a->i];
	const char *helper = in->src_reg ? NULL : disasm__helper_name(in->imm);
	if (helper)
		return helper;
	if (a->names && a->names->call)
		return a->names->call(a->names->arg, in, buf, cap);
	if (in->src_reg == BPF_PSEUDO_KFUNC_CALL)
		return "kernel-function";
	if (in->src_reg != BPF_PSEUDO_CALL)
		return "unknown";
	snprintf(buf, cap, "%+d", in->imm);
	return buf;
}

/* Fields that are names or operators. */
static void name_field(struct out *o, char f, const struct at *a)
{
	const struct bpf_insn *in = &a->insns[a->i];
	char buf[DISASM_TEXT_BYTES];
	switch (f) {
	case 'a': put(o, "%s", alu_op(in)); break;
	case 'm': put(o, "%s", movsx_cast(in)); break;
	case 'e': put(o, "%s", BPF_SRC(in->code) == BPF_TO_BE ? "be" : "le"); break;
	case 'z': put(o, "%s", sizes[BPF_SIZE(in->code) >> 3]); break;
	case 'Z': put(o, "%s", text_or_null(signed_sizes[BPF_SIZE(in->code) >> 3])); break;
	case '6': put(o, "%s", BPF_SIZE(in->code) == BPF_DW ? "64" : ""); break;
	case 'A': put(o, "%s", text_or_null(alu_ops[(in->imm & 0xf0) >> 4])); break;
	case 'c': put(o, "%s", text_or_null(atomic_names[(in->imm & 0xf0) >> 4])); break;
	case 'j': put(o, "%s", text_or_null(jmp_ops[OP(in) >> 4])); break;
	case 'I': imm64_operand(o, a); break;
	case 'F': put(o, "%s", call_name(a, buf, sizeof(buf))); break;
	default: put(o, "$%c", f); break;
	}
}

/* Fields that are registers and numbers; the rest go to name_field. */
static void field(struct out *o, char f, const struct at *a)
{
	const struct bpf_insn *in = &a->insns[a->i];
	switch (f) {
	case 'C': put(o, "%02x", in->code); break;
	case 'd': put(o, "%c%d", reg_width(in), in->dst_reg); break;
	case 's': put(o, "%c%d", reg_width(in), in->src_reg); break;
	case 'R': put(o, "r%d", in->dst_reg); break;
	case 'S': put(o, "r%d", in->src_reg); break;
	case 'i': put(o, "%d", in->imm); break;
	case 'x': put(o, "0x%x", (uint32_t)in->imm); break;
	case 'o': put(o, "%+d", in->off); break;
	case 'g': put(o, "%+d", in->imm); break;
	case 'U': put(o, "%u", (uint32_t)in->imm >> 16); break;
	case 'L': put(o, "%u", (unsigned)(uint16_t)in->imm); break;
	default: name_field(o, f, a); break;
	}
}

static void render(struct out *o, const char *t, const struct at *a)
{
	if (*t == '!')
		t++;
	else
		put(o, "(%02x) ", a->insns[a->i].code);
	for (; *t && o->len + 1 < o->cap; t++) {
		if (*t != '$' || !t[1]) {
			o->p[o->len++] = *t;
			o->p[o->len] = 0;
			continue;
		}
		field(o, *++t, a);
	}
}

unsigned disasm__slots(const struct bpf_insn *insn)
{
	return is_imm64(insn) ? 2 : 1;
}

unsigned disasm__insn(const struct bpf_insn *insns, size_t n, size_t i, const struct disasm_names *names,
		      char *out, size_t cap)
{
	struct out o = { out, cap, 0 };
	if (!cap)
		return 1;
	out[0] = 0;
	if (i >= n)
		return 1;
	const struct at a = { insns, n, i, names };
	const struct form *f = class_forms[BPF_CLASS(insns[i].code)];
	while (f->fits && !f->fits(&insns[i]))
		f++;
	render(&o, f->text, &a);
	return disasm__slots(&insns[i]);
}

const char *disasm__helper_name(int64_t id)
{
	return id >= 0 && id < __BPF_FUNC_MAX_ID ? helper_names[id] : NULL;
}

bool disasm__target(const struct bpf_insn *insn, int64_t pc, int64_t *target)
{
	uint8_t c = BPF_CLASS(insn->code);
	if (c != BPF_JMP && c != BPF_JMP32)
		return false;
	if (is_call(insn)) {
		if (!is_subprog_call(insn))
			return false;
	} else if (OP(insn) == BPF_EXIT || is_gotox(insn)) {
		return false;
	}
	*target = pc + 1 + (is_gotol(insn) ? insn->imm : insn->off);
	return true;
}

enum disasm_call disasm__call_kind(const struct bpf_insn *insn)
{
	if (!is_call(insn) || (BPF_CLASS(insn->code) != BPF_JMP && BPF_CLASS(insn->code) != BPF_JMP32))
		return DISASM_NOT_CALL;
	switch (insn->src_reg) {
	case 0: return DISASM_HELPER;
	case BPF_PSEUDO_CALL: return DISASM_SUBPROG;
	case BPF_PSEUDO_KFUNC_CALL: return DISASM_KFUNC;
	default: return DISASM_NOT_CALL;
	}
}
