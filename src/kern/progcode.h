/* A loaded program's code as the kernel reports it (BPF_OBJ_GET_INFO_BY_FD):
 * its translated (xlated) instructions, function and line info, JIT symbol
 * addresses, map ids and, when asked, the start of its JIT image; and the
 * kernel symbols its calls land on, named the way `bpftool prog dump
 * xlated` names them.
 *
 * The kernel hands out what it trusts the caller with: no instructions
 * without CAP_BPF (or CAP_SYS_ADMIN), none for a constant-blinded program
 * when kernel addresses are hidden from the caller (kernel.kptr_restrict
 * without CAP_SYSLOG), and with addresses hidden it zeroes every call's
 * target and withholds the JIT image and symbols. prog_code says which.
 */
#ifndef EBPF_MCP_PROGCODE_H
#define EBPF_MCP_PROGCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

/* Instructions, info records and JIT bytes one read holds: the kernel's
 * own bound (1M instructions before the verifier patches) several times
 * over; the heap_bytes cap applies first when it is lower. */
#define PROGCODE_MAX_BYTES (64u << 20)

struct prog_code {
	struct bpf_prog_info info;         /* full lengths and counts, as the kernel reported them */
	const struct bpf_insn *insns;
	uint32_t n_insns;                  /* slots (a 64-bit load takes two) */
	const struct bpf_func_info *funcs; /* sorted by insn_off, as the kernel keeps them */
	uint32_t n_funcs;
	const struct bpf_line_info *lines;
	uint32_t n_lines;
	const uint64_t *ksyms;             /* each function's JIT address; NULL when withheld */
	uint32_t n_ksyms;                  /* as the kernel counts them, given or not */
	const uint32_t *map_ids;
	uint32_t n_map_ids;
	const uint8_t *jited;              /* the image's first n_jited bytes; NULL when withheld or not asked */
	uint32_t n_jited;
	bool insns_withheld;               /* it has instructions but the kernel gave none */
	bool addrs_hidden;                 /* the kernel withheld kernel addresses from this process */
	void *mem;
};

/* Reads what fd's program holds, and up to jited_want bytes of its JIT
 * image. 0 or -errno; -E2BIG past PROGCODE_MAX_BYTES. */
int prog_code__read(int fd, uint32_t jited_want, struct prog_code *pc);
void prog_code__free(struct prog_code *pc);

/* ---- what calls land on ------------------------------------------------- */

struct prog_sym {
	uint64_t addr;
	const char *name;                  /* NULL when kallsyms has no symbol there */
	bool text;
};

struct prog_syms {
	uint64_t base;                     /* __bpf_call_base: 0 when kallsyms hides addresses or is unreadable */
	const uint64_t *ksyms;             /* the program's (prog_code) */
	uint32_t n_ksyms;
	struct prog_sym *v;                /* call targets, sorted by address */
	size_t n;
};

struct arena;

/* Finds the symbol at each call target of pc in /proc/kallsyms (bounded by
 * the scan_items limit): a function symbol where several share an address.
 * Names live in a. 0; -E2BIG past scan_items; -ENOMEM; -errno when kallsyms
 * cannot be read (ps still usable: calls then print as addresses). */
int prog_syms__resolve(const struct prog_code *pc, struct prog_syms *ps, struct arena *a);
void prog_syms__free(struct prog_syms *ps);

/* The disasm_call_fn: a call's target as bpftool prints it ("bpf_map_lookup_elem",
 * "0xffffffff81234560", "+5#bpf_prog_0123456789abcdef_f" for a subprogram).
 * arg is a struct prog_syms. */
const char *prog_syms__call(void *arg, const struct bpf_insn *insn, char *buf, size_t cap);

/* The kernel symbol a helper or kfunc call at insn lands on, or NULL. */
const char *prog_syms__target_name(const struct prog_syms *ps, const struct bpf_insn *insn);

#endif
