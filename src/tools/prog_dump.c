/* prog_dump: a loaded program's translated instructions in the kernel's own
 * syntax (each text is what `bpftool prog dump xlated` prints), with its
 * BTF function names and signatures, source lines, the maps it uses and
 * every call it makes; paged over instruction slots and bounded by the
 * reply, with the JIT image's bytes on request.
 *
 * Function and line records are matched to instructions the way bpftool
 * walks them, so the same instruction carries the same name and line:
 * a function record starts at the instruction whose pc equals its
 * insn_off; a line record is taken at the first instruction at or past
 * its insn_off (the latest such record), one record per instruction.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../kern/btf_cache.h"
#include "../kern/btf_fmt.h"
#include "../kern/disasm.h"
#include "../kern/objinfo.h"
#include "../kern/progcode.h"
#include "../sys/caps.h"
#include "prog_dump.h"
#include "tool.h"

#define DUMP_REPLY_SLACK 2048   /* JSON-RPC envelope, paging members and notes after the page */

static void note(struct dump *d, const char *text)
{
	if (d->n_notes < DUMP_NOTES_MAX)
		d->notes[d->n_notes++] = text;
}

/* ---- opening and reading ------------------------------------------------ */

static int open_prog(struct tool_ctx *ctx, uint32_t id)
{
	int fd = bpf_prog_get_fd_by_id(id);
	if (fd >= 0)
		return fd;
	int err = errno;
	if (err == ENOENT) {
		tool__fail(ctx, ERR_NO_SUCH_PROGRAM,
			   "no program with id %u in the kernel (it may have been unloaded); list programs with "
			   "inspect_state", id);
		jw__kstr(&ctx->err->ctx, "pointer", "/program_id");
		jw__kuint(&ctx->err->ctx, "program_id", id);
		return -1;
	}
	/* the kernel opens programs by id for CAP_SYS_ADMIN only, as for bpftool */
	if (err == EPERM && tool__need_cap(ctx, CAP_SYS_ADMIN, "opening a program by id"))
		return -1;
	tool__fail_errno(ctx, -err, "opening program id %u", id);
	return -1;
}

static int read_fail(struct tool_ctx *ctx, uint32_t id, int r)
{
	if (r == -E2BIG)
		return tool__fail(ctx, ERR_PROGRAM_TOO_LARGE, "program %u's instructions and info are larger than "
				  "the %u MiB the server reads", id, PROGCODE_MAX_BYTES >> 20);
	return tool__fail_errno(ctx, r, "reading program %u's instructions", id);
}

/* The instructions, or why the kernel gave none. */
static int read_code(struct dump *d)
{
	uint64_t want = d->jited_hex ? d->jited_offset + limits[LIM_JITED_BYTES] : 0;
	int fd = open_prog(d->ctx, d->id);
	if (fd < 0)
		return -1;
	int r = prog_code__read(fd, want > UINT32_MAX ? UINT32_MAX : (uint32_t)want, &d->pc);
	close(fd);
	if (r)
		return read_fail(d->ctx, d->id, r);
	if (d->pc.insns_withheld)
		return tool__fail(d->ctx, ERR_INSNS_WITHHELD,
				  "the kernel gave no instructions for program %u: it is constant-blinded "
				  "(net.core.bpf_jit_harden) and kernel addresses are hidden from this server "
				  "(it lacks CAP_SYSLOG)", d->id);
	if (!d->pc.n_insns) {
		if (tool__need_cap(d->ctx, CAP_BPF, "reading a program's instructions"))
			return -1;
		return tool__fail(d->ctx, ERR_INSNS_WITHHELD, "the kernel reported no instructions for program %u",
				  d->id);
	}
	return 0;
}

/* Names and source lines need the program's BTF; call names need kallsyms.
 * Without either the dump goes on and says what is missing. */
static int read_names(struct dump *d)
{
	struct tool_ctx *ctx = d->ctx;
	if (d->pc.info.btf_id && btf_cache__by_id(d->pc.info.btf_id, &d->btf) == 0)
		d->have_btf = true;
	else if (d->pc.info.btf_id)
		note(d, "the program's BTF could not be read: no function names, signatures or source lines");
	int r = prog_syms__resolve(&d->pc, &d->syms, ctx->scratch);
	if (r == -E2BIG)
		return tool__fail_limit(ctx, LIM_SCAN_ITEMS, "/proc/kallsyms has more lines than the scan_items cap; "
					"raise --limit scan_items=N");
	if (r == -ENOMEM)
		return tool__fail_errno(ctx, r, "naming the program's call targets");
	if (d->pc.addrs_hidden)
		note(d, "the kernel hides kernel addresses from this server (it lacks CAP_SYSLOG, which they need "
			"unless kernel.kptr_restrict is 0 and kernel.perf_event_paranoid at most 1): it zeroed "
			"every call's target (calls read bpf_unspec#0) and withheld the JIT image and symbols");
	else if (r)
		note(d, "/proc/kallsyms could not be read: helper, kfunc and subprogram calls show addresses");
	else if (!d->syms.base)
		note(d, "kallsyms shows no addresses to this server: helper, kfunc and subprogram calls show "
			"addresses instead of names");
	d->names = (struct disasm_names){ prog_syms__call, &d->syms };
	return 0;
}

/* ---- the page of instructions ------------------------------------------- */

/* bpftool's line lookup: from the first record not yet taken, the latest
 * one at or before pc; taking it moves on by one record. */
static const struct bpf_line_info *line_at(const struct prog_code *pc, uint32_t i, uint32_t *next)
{
	if (*next >= pc->n_lines || i < pc->lines[*next].insn_off)
		return NULL;
	uint32_t j = *next;
	while (j + 1 < pc->n_lines && pc->lines[j + 1].insn_off <= i)
		j++;
	(*next)++;
	return &pc->lines[j];
}

static void write_line(struct dump *d, const struct bpf_line_info *ln)
{
	struct jw *w = d->ctx->out;
	const char *src = btf__name_by_offset(d->btf.btf, ln->line_off);
	if (src) {
		while (isspace((unsigned char)*src))
			src++;
		jw__kstr(w, "src", src);
	}
	if (!d->linum)
		return;
	const char *file = btf__name_by_offset(d->btf.btf, ln->file_name_off);
	if (file)
		jw__kstr(w, "file", file);
	if (BPF_LINE_INFO_LINE_NUM(ln->line_col))
		jw__kuint(w, "line", BPF_LINE_INFO_LINE_NUM(ln->line_col));
	if (BPF_LINE_INFO_LINE_COL(ln->line_col))
		jw__kuint(w, "col", BPF_LINE_INFO_LINE_COL(ln->line_col));
}

static void write_func_head(struct dump *d, const struct bpf_func_info *fn)
{
	const char *name = dump__func_name(d, fn);
	if (name)
		jw__kstr(d->ctx->out, "function", name);
	if (btf_fmt__func_sig(d->btf.btf, fn->type_id, d->sig, sizeof(d->sig)) > 0)
		jw__kstr(d->ctx->out, "proto", d->sig);
}

static void write_opcodes(struct dump *d, uint32_t i)
{
	struct jw *w = d->ctx->out;
	const struct bpf_insn *in = &d->pc.insns[i];
	bool wide = disasm__slots(in) == 2 && i + 1 < d->pc.n_insns;
	jw__key(w, "opcodes");
	jw__obj(w);
	jw__kuint(w, "code", in->code);
	jw__kuint(w, "dst_reg", in->dst_reg);
	jw__kuint(w, "src_reg", in->src_reg);
	jw__kint(w, "off", in->off);
	jw__kint(w, "imm", in->imm);
	if (wide)
		jw__kint(w, "imm_hi", in[1].imm);
	char hex[2 * 2 * sizeof(*in) + 1];
	const uint8_t *b = (const uint8_t *)in;
	size_t n = (wide ? 2 : 1) * sizeof(*in);
	for (size_t k = 0; k < n; k++)
		snprintf(hex + 2 * k, 3, "%02x", b[k]);
	jw__kstr(w, "hex", hex);
	jw__obj_end(w);
}

static void write_insn(struct dump *d, uint32_t i, const struct bpf_func_info *fn, const struct bpf_line_info *ln)
{
	struct jw *w = d->ctx->out;
	int64_t target;
	jw__obj(w);
	jw__kuint(w, "pc", i);
	disasm__insn(d->pc.insns, d->pc.n_insns, i, &d->names, d->text, sizeof(d->text));
	jw__kstr(w, "text", d->text);
	if (fn)
		write_func_head(d, fn);
	if (ln)
		write_line(d, ln);
	if (disasm__target(&d->pc.insns[i], i, &target))
		jw__kint(w, "target", target);
	if (d->opcodes)
		write_opcodes(d, i);
	jw__obj_end(w);
}

/* Whether what is written so far still fits a reply that holds it twice,
 * once escaped as text (each quote and backslash doubled). */
static bool fits(struct dump *d)
{
	struct jw *w = d->ctx->out;
	for (; d->esc_at < w->len; d->esc_at++)
		d->esc += w->buf[d->esc_at] == '"' || w->buf[d->esc_at] == '\\';
	return !w->overflow && 2 * w->len + d->esc + DUMP_REPLY_SLACK <= w->cap;
}

/* Writes one instruction unless the reply cannot hold it: 0, or 1 (taken back). */
static int emit(struct dump *d, uint32_t i, const struct bpf_func_info *fn, const struct bpf_line_info *ln)
{
	struct jw *w = d->ctx->out, saved = *w;
	size_t esc = d->esc, esc_at = d->esc_at;
	write_insn(d, i, fn, ln);
	if (fits(d))
		return 0;
	*w = saved;
	d->esc = esc;
	d->esc_at = esc_at;
	return 1;
}

static int write_page(struct dump *d)
{
	const struct prog_code *pc = &d->pc;
	uint32_t next_fn = 0, next_ln = 0;
	jw__key(d->ctx->out, "insns");
	jw__arr(d->ctx->out);
	d->stopped_by = "end";
	for (uint32_t i = 0; i < pc->n_insns; i += disasm__slots(&pc->insns[i])) {
		const struct bpf_func_info *fn = NULL, *f = pc->funcs;
		if (d->have_btf && next_fn < pc->n_funcs && f[next_fn].insn_off == i)
			fn = &f[next_fn++];
		const struct bpf_line_info *ln = d->have_btf ? line_at(pc, i, &next_ln) : NULL;
		if (i < d->offset)
			continue;
		if (i - d->offset >= d->limit || emit(d, i, fn, ln)) {
			d->stopped_by = i - d->offset >= d->limit ? "limit" : "response_bytes";
			d->next = i;
			break;
		}
		d->returned++;
	}
	jw__arr_end(d->ctx->out);
	if (d->returned || strcmp(d->stopped_by, "response_bytes"))
		return 0;
	return tool__fail_limit(d->ctx, LIM_RESPONSE_BYTES, "instruction %llu of program %u does not fit the reply "
				"after the program's summary; raise --limit response_bytes=N%s",
				(unsigned long long)d->next, d->id, d->jited_hex ? " or lower jited_bytes" : "");
}

static void write_paging(struct dump *d)
{
	struct jw *w = d->ctx->out;
	bool more = strcmp(d->stopped_by, "end") != 0;
	jw__kuint(w, "total", d->pc.n_insns);
	jw__kuint(w, "offset", d->offset);
	jw__kuint(w, "returned", d->returned);
	jw__kbool(w, "truncated", more);
	if (more)
		jw__kuint(w, "next_offset", d->next);
	jw__kstr(w, "stopped_by", d->stopped_by);
	if (!d->n_notes)
		return;
	jw__key(w, "notes");
	jw__arr(w);
	for (unsigned k = 0; k < d->n_notes; k++)
		jw__str(w, d->notes[k]);
	jw__arr_end(w);
}

/* ---- the tool ----------------------------------------------------------- */

static int dump_args(struct tool_ctx *ctx, struct dump *d)
{
	d->ctx = ctx;
	d->id = (uint32_t)tool__arg_int(ctx, "program_id", 0);
	if (tool__page_args(ctx, limits[LIM_LIST_ITEMS], &d->limit, &d->offset))
		return -1;
	d->linum = tool__arg_bool(ctx, "linum", true);
	d->opcodes = tool__arg_bool(ctx, "opcodes", false);
	d->jited_hex = tool__arg_bool(ctx, "jited_hex", false);
	d->jited_offset = (uint64_t)tool__arg_int(ctx, "jited_offset", 0);
	return 0;
}

static int dump_all(struct dump *d)
{
	struct jw *w = d->ctx->out;
	jw__obj(w);
	if (dump__summary(d))
		return -1;
	if (!fits(d))
		return tool__fail_limit(d->ctx, LIM_RESPONSE_BYTES, "program %u's summary (functions, maps, calls%s) "
					"does not fit the reply; raise --limit response_bytes=N", d->id,
					d->jited_hex ? ", JIT bytes: or lower jited_bytes" : "");
	if (write_page(d))
		return -1;
	write_paging(d);
	jw__obj_end(w);
	return 0;
}

static int run_prog_dump(struct tool_ctx *ctx)
{
	struct dump *d = calloc(1, sizeof(*d));
	if (!d)
		return tool__fail_errno(ctx, -ENOMEM, "starting the dump");
	int rc = dump_args(ctx, d);
	if (!rc)
		rc = read_code(d);
	if (!rc)
		rc = read_names(d);
	if (!rc)
		rc = dump_all(d);
	prog_syms__free(&d->syms);
	if (d->have_btf)
		btf_cache__close(&d->btf);
	prog_code__free(&d->pc);
	free(d);
	return rc;
}

const struct tool tool_prog_dump = {
	.name = "prog_dump",
	.schema = SCHEMA_prog_dump,
	.run = run_prog_dump,
};
