/* BTF types as readable C type strings: "struct list_head *", "char[16]",
 * "void (*)(struct callback_head *)". Used wherever a type is shown to a
 * person or an agent next to its id. */
#ifndef EBPF_MCP_BTF_FMT_H
#define EBPF_MCP_BTF_FMT_H

#include <stddef.h>
#include <stdint.h>

struct btf;

#define BTF_FMT_TYPE_BYTES 512  /* one type string; the longest in vmlinux is ~200 */
#define BTF_FMT_CHAIN_MAX  32   /* modifiers/pointers/arrays in one chain (libbpf's depth) */
#define BTF_FMT_NEST_MAX   4    /* function prototypes inside parameters */

enum btf_fmt_flags {
	BTF_FMT_EXPAND_TYPEDEFS = 1 << 0,   /* "u32 *" becomes "unsigned int *" */
};

/* Writes the C type of id into out (NUL-terminated). Returns the length, or
 * -ENOSPC when it needs more than cap-1 bytes, -ELOOP past the chain or
 * nesting bounds, -EINVAL for an id the BTF does not hold. */
int btf_fmt__type(const struct btf *btf, uint32_t id, unsigned flags, char *out, size_t cap);

/* A function's signature the way `bpftool prog dump` heads each function of
 * a program: every type followed by a space, pointers as "* ", e.g.
 * "int handle(struct __sk_buff * skb)" for a FUNC id (a FUNC_PROTO id gives
 * the same without the name). Returns the length, or -ENOSPC past cap-1
 * bytes, -ELOOP past the nesting bound, -EINVAL for an id or a kind it has
 * no text for (type tags, decl tags): bpftool then prints no signature. */
#define BTF_FMT_SIG_BYTES 1024  /* what bpftool gives one signature */
int btf_fmt__func_sig(const struct btf *btf, uint32_t id, char *out, size_t cap);

/* Lower-case kind name ("struct", "func_proto", ...); "unknown" past the
 * kinds this build knows. */
const char *btf_fmt__kind_name(unsigned kind);
/* The kind for a lower-case name, or -1. */
int btf_fmt__kind_by_name(const char *name);

#endif
