/* A kernel function's BTF prototype, read for tracing it: which argument
 * register holds which parameter, how each value decodes, and which
 * parameters are strings to copy at entry.
 *
 * The registers follow the x86_64 System V convention the kernel is built
 * with (arm64's is the same for these types): an integer, enum or pointer
 * takes one 8-byte register; a struct, union or integer of 9 to 16 bytes
 * takes two; anything larger, or one that no longer fits in the registers
 * left, goes on the stack, where neither fentry nor a kprobe sees it, and
 * the parameters after it still take the registers that remain.
 */
#ifndef EBPF_MCP_FN_PROTO_H
#define EBPF_MCP_FN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace_function.h"   /* bpf/: TRACE_FUNCTION_ARGS, string modes */

struct btf;
struct jw;

#define FN_PROTO_PARAMS_MAX 32    /* parameters read (the kernel's longest prototypes have ~20) */
#define FN_PROTO_TYPE_BYTES 128   /* a parameter's C type as shown; longer ones are cut with "..." */
#define FN_PROTO_SIG_BYTES  2048  /* "long f(int a, ...)" */

enum fn_kind {
	FN_VOID,       /* no value (a void return) */
	FN_INT,        /* integer of 1, 2, 4 or 8 bytes, signed or not */
	FN_BOOL,
	FN_ENUM,       /* shown by its enumerator's name */
	FN_STR,        /* char *: a bounded copy read at entry */
	FN_PTR,        /* any other pointer: its address */
	FN_WORDS,      /* a struct, union or 16-byte integer in registers: raw words */
	FN_STACK,      /* passed on the stack, or past the recorded registers: not seen */
};

struct fn_val {
	const char *name;                 /* in the BTF's strings; "" for a return value */
	char type[FN_PROTO_TYPE_BYTES];   /* C type, as declared (typedefs kept) */
	enum fn_kind kind;
	uint8_t reg;                      /* first register (FN_INT..FN_WORDS) */
	uint8_t nregs;
	uint8_t size;                     /* bytes of the value (<= 8 but for FN_WORDS) */
	bool is_signed;
	uint32_t enum_id;                 /* FN_ENUM: the enum type */
	uint8_t str_mode;                 /* FN_STR: enum trace_function_str_mode */
};

struct fn_proto {
	const struct btf *btf;
	uint32_t func_id;
	struct fn_val ret;
	struct fn_val params[FN_PROTO_PARAMS_MAX];
	unsigned n_params;
	bool varargs;
	unsigned regs;                    /* argument registers the parameters use */
};

/* Reads FUNC func_id of btf. 0; -EINVAL when it is not a function with a
 * prototype; -E2BIG past FN_PROTO_PARAMS_MAX parameters. */
int fn_proto__read(const struct btf *btf, uint32_t func_id, struct fn_proto *p);
/* The C declaration: "long do_sys_openat2(int dfd, const char *filename,
 * struct open_how *how)". Cut with "..." to cap. */
void fn_proto__signature(const struct fn_proto *p, const char *name, char *out, size_t cap);
/* The errno-style errors the return type can carry: a signed integer of 4
 * or 8 bytes (-errno) or a pointer (ERR_PTR). */
bool fn_proto__ret_errors(const struct fn_proto *p);

/* One string argument as entry copied it. */
struct fn_str {
	const char *bytes;                /* NUL-terminated when len > 0 */
	int len;                          /* bytes with the NUL; -errno when unreadable */
	bool cut;                         /* longer than TRACE_FUNCTION_STR_BYTES - 1 */
};

/* The `value` (and its companions) of a parameter or return value whose
 * registers are regs[] (all TRACE_FUNCTION_ARGS of them; for a return value
 * its one register, already extended to 64 bits by the BPF side). */
void fn_proto__write_value(struct jw *w, const struct fn_proto *p, const struct fn_val *v, const uint64_t *regs,
			   const struct fn_str *s);
/* The enumerator of enum type enum_id holding value, or NULL. */
const char *fn_proto__enum_name(const struct btf *btf, uint32_t enum_id, int64_t value);
/* The value of an integer or enum in register r, as its type holds it. */
int64_t fn_proto__int(const struct fn_val *v, uint64_t r);

#endif
