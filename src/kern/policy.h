/* The bytecode policy: what a program may be and may call, decided before
 * the kernel sees it.
 *
 * load_program opens an object (nothing reaches the kernel yet), then asks
 * policy__check() about every program it is about to load: its type must be
 * allowed, no helper or kfunc it can reach (through subprograms and
 * callbacks too, as libbpf will link them) may be blocked, and its
 * instruction count must be within prog_insns. Helper names come from the
 * running kernel's BTF (enum bpf_func_id), kfunc names from the object's
 * externs (or, for a call already carrying a BTF id, from vmlinux BTF).
 * Kfuncs are reported by name and allowed unless blocked by name, like
 * helpers: the kernel already limits which kfuncs each program type may
 * call, and the few that kill or write are blocked by default. A call the
 * policy cannot name or follow is refused: it fails closed. The defaults
 * keep an observability server from writing user memory, signalling
 * processes, faking return values or loading past itself;
 * --allow-/--block-helper and --allow-/--block-prog-type move them;
 * --only-prog-type replaces the list of types.
 */
#ifndef EBPF_MCP_POLICY_H
#define EBPF_MCP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POLICY_MAX_RULES 64   /* --allow-/--block-* flags */
#define POLICY_NAME_MAX  64   /* a helper, kfunc or type name in a rule */

/* The type kinds come last: policy__flag tells them apart by order.
 * POLICY_ONLY_TYPE (--only-prog-type): once any is given, the types named
 * by them replace the default list; --allow-/--block-prog-type still apply
 * on top, in order. */
enum policy_rule_kind { POLICY_ALLOW_HELPER, POLICY_BLOCK_HELPER, POLICY_ALLOW_TYPE, POLICY_BLOCK_TYPE,
			POLICY_ONLY_TYPE };

struct policy_rule {
	enum policy_rule_kind kind;
	const char *name;
};

/* The command line's rules, applied in order over the defaults. */
struct policy_opts {
	struct policy_rule rules[POLICY_MAX_RULES];
	unsigned n_rules;
};

/* Takes a policy flag (--allow-helper, --block-helper, --allow-prog-type,
 * --block-prog-type, --only-prog-type) and its value: 0 taken; 1 not a policy flag; -1 a bad
 * value or too many rules, with the reason in err. */
int policy__flag(struct policy_opts *o, const char *flag, const char *value, char *err, unsigned err_len);
/* A helper ("bpf_send_signal" or "send_signal") or kfunc refused? */
bool policy__blocked(const struct policy_opts *o, const char *name);
/* A program type (libbpf's name, or "modify_return") allowed? */
bool policy__type_allowed(const struct policy_opts *o, const char *type);

enum policy_verdict {
	POLICY_OK,
	POLICY_TYPE_REFUSED,      /* why.program, why.type */
	POLICY_CALL_BLOCKED,      /* why.program, .function, .name, .kind, .id, .insn */
	POLICY_HELPER_UNKNOWN,    /* a helper id the kernel's BTF does not name (why.id) */
	POLICY_KFUNC_UNNAMED,     /* a pre-resolved kfunc call naming no vmlinux function */
	POLICY_UNRESOLVED_CALL,   /* a call or callback libbpf could not link */
	POLICY_TOO_MANY_INSNS,    /* why.program, why.insns over prog_insns */
	POLICY_UNMAPPED,          /* a program libbpf opened is not the ELF's code */
};

struct policy_call {
	const char *name;
	uint32_t id;              /* helper: enum bpf_func_id; kfunc: vmlinux BTF id or 0 */
	uint32_t count;
};

struct policy_prog {
	const char *name;
	const char *type;         /* the name the type rules use */
	uint32_t insns;           /* own + appended subprograms, as libbpf will load */
	uint32_t functions;       /* the program and the subprograms it reaches */
	struct policy_call *helpers, *kfuncs;
	unsigned n_helpers, n_kfuncs;
};

struct policy_report {
	enum policy_verdict verdict;
	struct {
		const char *program, *function, *name, *type, *kind;
		uint32_t id, insn;
		uint64_t insns;
	} why;                    /* the first violation, when verdict != POLICY_OK */
	struct policy_prog *progs;
	unsigned n_progs;
	uint64_t insn_cap;
};

struct arena;
struct bpf_object;
struct jw;

/* Checks every program of obj marked for loading (opened from image, not
 * loaded). The report lives in a (names too). 0 with r->verdict set; -EINVAL
 * when the image is not an ELF the policy can read (fail closed), -E2BIG,
 * -ENOMEM, -ENOENT when the kernel's BTF names no helpers. */
int policy__check(const struct policy_opts *o, void *image, size_t len, struct bpf_object *obj,
		  uint64_t insn_cap, struct arena *a, struct policy_report *r);
/* The `policy` object of load_program: the rules in force and, per
 * program, type, instruction count and every helper and kfunc it calls. */
void policy__write(struct jw *w, const struct policy_opts *o, const struct policy_report *r);

#endif
