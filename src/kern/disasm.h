/* A BPF instruction disassembler that writes the kernel's own syntax: the
 * text `bpftool prog dump xlated` prints for each instruction, e.g.
 * "(79) r1 = *(u64 *)(r1 +0)", "(85) call bpf_get_current_pid_tgid#1234",
 * "(18) r1 = map[id:12]", "(55) if r1 != 0x0 goto pc+5".
 *
 * Table-driven: each instruction class has an ordered list of forms (a
 * predicate on the instruction and a template); the first form that fits
 * is rendered. Forms the kernel's printer does not know come out as it
 * prints them ("BUG_ldx_93"), so the text always matches the kernel's.
 *
 * What the kernel leaves to its caller is asked of one callback: the name
 * of a call's target (helper, kfunc, subprogram), which needs kallsyms and
 * the program's JIT symbols. Without a callback the kernel's defaults are
 * used. Nothing here allocates or reads outside the instructions given.
 */
#ifndef EBPF_MCP_DISASM_H
#define EBPF_MCP_DISASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

/* One instruction's text: the longest template with a KSYM_NAME_LEN (512)
 * symbol name in it fits. Longer text is cut (still NUL-terminated). */
#define DISASM_TEXT_BYTES 640

/* A call's operand as the caller wants it printed (for helper calls the
 * helper table does not name, kfunc calls and subprogram calls): writes
 * into buf[cap] and returns buf (or a string that outlives the call). */
typedef const char *(*disasm_call_fn)(void *arg, const struct bpf_insn *insn, char *buf, size_t cap);

struct disasm_names {
	disasm_call_fn call;   /* NULL: the kernel's defaults ("pc+N", "kernel-function", "unknown") */
	void *arg;
};

/* Slots an instruction takes: 2 for a 64-bit immediate load, else 1. */
unsigned disasm__slots(const struct bpf_insn *insn);

/* The text of insns[i] (of n) into out[cap]; returns the slots it takes.
 * A 64-bit immediate load whose second half lies past n reads it as 0. */
unsigned disasm__insn(const struct bpf_insn *insns, size_t n, size_t i, const struct disasm_names *names,
		      char *out, size_t cap);

/* "bpf_map_lookup_elem" for helper id 1, from the UAPI's helper list;
 * NULL for an id it does not name. */
const char *disasm__helper_name(int64_t id);

/* Where control may go from the instruction at pc besides the next one,
 * in a kernel dump of a loaded program: a jump's destination, or a
 * bpf-to-bpf call's callee (the dump keeps its relative offset in off and
 * puts the callee's index in imm). false for anything else (exit, helper
 * and kfunc calls, gotox, plain instructions). */
bool disasm__target(const struct bpf_insn *insn, int64_t pc, int64_t *target);

enum disasm_call {
	DISASM_NOT_CALL,
	DISASM_HELPER,         /* src_reg 0 */
	DISASM_SUBPROG,        /* BPF_PSEUDO_CALL */
	DISASM_KFUNC,          /* BPF_PSEUDO_KFUNC_CALL */
};

/* What kind of call insn is. */
enum disasm_call disasm__call_kind(const struct bpf_insn *insn);

#endif
