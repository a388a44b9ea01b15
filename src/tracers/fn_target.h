/* Which kernel function trace_function is asked for, and whether it can be
 * traced at all, before anything is loaded.
 *
 * Three checks, each against what the kernel itself publishes, in the
 * order that gives the most useful answer:
 *   1. /proc/kallsyms has a text symbol of that name: else it does not
 *      exist or the compiler inlined every call (nothing to attach to);
 *   2. tracefs' available_filter_functions lists it: else it is notrace
 *      (ftrace, and so fentry, cannot hook it);
 *   3. BTF (vmlinux, or the module's) describes it as a FUNC: else there
 *      is no prototype to decode its arguments with, nor to attach fentry.
 * A failed check fails the call naming the check, with up to
 * SEARCH_SUGGEST_MAX neighbours: names a few edits away among the
 * candidates of that same check (search.h), ranked while they stream by.
 */
#ifndef EBPF_MCP_FN_TARGET_H
#define EBPF_MCP_FN_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "../kern/btf_cache.h"

struct tool_ctx;

#define FN_TARGET_NOTE_BYTES 256
#define FN_TARGET_NAME_BYTES 256   /* the schema's maxLength of `function` + 1 */

struct fn_target {
	char name[FN_TARGET_NAME_BYTES];    /* a copy: the call's arguments go when it becomes a job */
	char module[BTF_MODULE_NAME_MAX];   /* "" for the core kernel */
	unsigned symbols;                   /* text symbols of that name in kallsyms */
	int traceable;                      /* 1: in available_filter_functions; -1: not checked (note says why) */
	char note[FN_TARGET_NOTE_BYTES];
	struct btf_view btf;                /* open while the target is: vmlinux's, or the module's */
	uint32_t func_id;                   /* the FUNC in btf */
};

/* Finds name (checked against the schema's pattern already) and opens its
 * BTF. 0, or -1 with the call failed: NO_SUCH_FUNCTION, FUNCTION_NOT_TRACEABLE
 * or NOT_IN_BTF (context: function, check, searched, suggestions), or what
 * reading kallsyms, tracefs or BTF failed with. */
int fn_target__find(struct tool_ctx *ctx, const char *name, struct fn_target *t);
void fn_target__close(struct fn_target *t);

#endif
