/* The code of a BPF ELF object as libbpf will link it, read before load.
 *
 * Every function (STT_FUNC symbol in an executable section) with the calls it
 * makes: helper calls, kfunc calls, and subprogram calls or callback
 * references into .text. The targets are resolved exactly the way libbpf
 * 1.5 resolves them (bpf_program__record_reloc / bpf_object__reloc_code),
 * so following them from a program's function gives every instruction
 * libbpf will append to it: what the bytecode policy must see. Read from the
 * ELF itself because libbpf only exposes a program's own instructions
 * before load, not the subprograms it will append.
 */
#ifndef EBPF_MCP_BPFCODE_H
#define EBPF_MCP_BPFCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BPFCODE_MAX_FUNCS  16384     /* functions (and sections) in one object */
#define BPFCODE_MAX_RELOCS 1048576   /* code relocations in one object (16 bytes each) */
#define BPFCODE_NO_TARGET  UINT32_MAX

enum bpfcode_ev_kind {
	BPFCODE_HELPER,      /* call, src_reg 0: arg = helper id (enum bpf_func_id) */
	BPFCODE_KFUNC,       /* call to an extern: name, name_len = the name libbpf resolves */
	BPFCODE_KFUNC_ID,    /* call, src_reg 2 already in the ELF: arg = BTF id, off = BTF fd slot */
	BPFCODE_SUBPROG,     /* call or callback address: arg = function index or BPFCODE_NO_TARGET */
};

struct bpfcode_ev {
	enum bpfcode_ev_kind kind;
	uint32_t insn;       /* index within its function */
	uint32_t arg;
	int16_t off;         /* BPFCODE_KFUNC_ID: the instruction's off (0 = vmlinux) */
	const char *name;    /* BPFCODE_KFUNC: the extern's symbol name, of which */
	uint32_t name_len;   /* libbpf resolves this much: "f___v2" is f (a flavor) */
};

struct bpfcode_fn {
	const char *name;
	const char *section;
	uint32_t sec;        /* ELF section index */
	uint32_t off, cnt;   /* first instruction and count, within the section */
	const void *insns;   /* cnt struct bpf_insn */
	uint32_t first_ev, n_ev;
};

struct bpfcode {
	struct bpfcode_fn *fns;    /* sorted by (sec, off) */
	unsigned n_fns;
	struct bpfcode_ev *evs;
	unsigned n_evs;
	uint32_t text_sec;         /* index of .text, 0 when absent */
	void *elf;                 /* Elf * over the caller's image */
};

/* Reads the image (which must outlive c). 0; -EINVAL when it is not a
 * little-endian 64-bit BPF relocatable ELF or is malformed; -E2BIG over a
 * BPFCODE_MAX_* bound; -ENOMEM. */
int bpfcode__open(struct bpfcode *c, void *image, size_t len);
void bpfcode__close(struct bpfcode *c);
/* The function named name in the section named section, or NULL. */
const struct bpfcode_fn *bpfcode__find(const struct bpfcode *c, const char *section, const char *name);

#endif
