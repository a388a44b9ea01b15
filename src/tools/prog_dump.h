/* prog_dump's state, shared by its page of instructions (prog_dump.c) and
 * its summary of the whole program (prog_dump_summary.c). */
#ifndef EBPF_MCP_PROG_DUMP_H
#define EBPF_MCP_PROG_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../kern/btf_cache.h"
#include "../kern/btf_fmt.h"
#include "../kern/disasm.h"
#include "../kern/progcode.h"

struct tool_ctx;

#define DUMP_NOTES_MAX 8          /* distinct things a dump can say it lacks */

struct dump {
	struct tool_ctx *ctx;
	uint32_t id;
	uint64_t offset, limit, jited_offset;
	bool linum, opcodes, jited_hex;
	struct prog_code pc;
	struct btf_view btf;
	bool have_btf;
	struct prog_syms syms;
	struct disasm_names names;
	/* the page */
	uint64_t returned, next;
	const char *stopped_by;
	size_t esc, esc_at;       /* quotes and backslashes in the reply so far, counted up to esc_at */
	const char *notes[DUMP_NOTES_MAX];
	unsigned n_notes;
	char text[DISASM_TEXT_BYTES];
	char sig[BTF_FMT_SIG_BYTES];
};

/* The BTF name of a function record, or NULL. */
const char *dump__func_name(const struct dump *d, const struct bpf_func_info *fn);
/* Writes program, kernel_addresses, functions, maps, calls and (asked for)
 * jited into the open result object. 0, or -1 with the call failed. */
int dump__summary(struct dump *d);

#endif
