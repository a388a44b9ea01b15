/* prog_dump's view of the whole program, whatever page is asked for: what
 * the program is, its functions, the maps it uses and every call it makes
 * (each listed once), and on request the JIT image's bytes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../mem/arena.h"
#include "prog_dump.h"
#include "tool.h"

#define CALL_NAME_BYTES 64        /* "0x" and an address, "pc" and an index */

const char *dump__func_name(const struct dump *d, const struct bpf_func_info *fn)
{
	const struct btf_type *t = d->have_btf ? btf__type_by_id(d->btf.btf, fn->type_id) : NULL;
	return t && btf_is_func(t) ? btf__name_by_offset(d->btf.btf, t->name_off) : NULL;
}

/* The kernel keeps 15 bytes of a program's name; a name cut there is the
 * start of its main function's BTF name, which is whole (bpftool shows it
 * the same way). */
static void write_name(struct dump *d)
{
	struct jw *w = d->ctx->out;
	const struct bpf_prog_info *p = &d->pc.info;
	size_t n = strnlen(p->name, sizeof(p->name));
	const char *full = n == sizeof(p->name) - 1 && d->pc.n_funcs ? dump__func_name(d, &d->pc.funcs[0]) : NULL;
	jw__key(w, "name");
	if (full && !strncmp(full, p->name, n))
		jw__str(w, full);
	else
		jw__strn(w, p->name, n);
}

static void write_program(struct dump *d)
{
	struct jw *w = d->ctx->out;
	const struct bpf_prog_info *p = &d->pc.info;
	const char *type = libbpf_bpf_prog_type_str((enum bpf_prog_type)p->type);
	jw__key(w, "program");
	jw__obj(w);
	jw__kuint(w, "id", p->id);
	write_name(d);
	jw__key(w, "type");
	if (type)
		jw__str(w, type);
	else
		jw__strf(w, "%u", p->type);   /* newer than libbpf */
	jw__key(w, "tag");
	jw__strf(w, "%02x%02x%02x%02x%02x%02x%02x%02x", p->tag[0], p->tag[1], p->tag[2], p->tag[3], p->tag[4],
		 p->tag[5], p->tag[6], p->tag[7]);
	jw__kuint(w, "btf_id", p->btf_id);
	jw__kuint(w, "insns", d->pc.n_insns);
	jw__kuint(w, "xlated_bytes", p->xlated_prog_len);
	jw__kuint(w, "jited_bytes", p->jited_prog_len);
	jw__kuint(w, "functions", d->pc.n_funcs);
	jw__kuint(w, "line_info", d->pc.n_lines);
	jw__obj_end(w);
	jw__kbool(w, "kernel_addresses", !d->pc.addrs_hidden);
}

static void write_functions(struct dump *d)
{
	struct jw *w = d->ctx->out;
	jw__key(w, "functions");
	jw__arr(w);
	for (uint32_t k = 0; d->have_btf && k < d->pc.n_funcs; k++) {
		const struct bpf_func_info *fn = &d->pc.funcs[k];
		const char *name = dump__func_name(d, fn);
		jw__obj(w);
		jw__kuint(w, "pc", fn->insn_off);
		jw__kstr(w, "name", name ? name : "");
		if (btf_fmt__func_sig(d->btf.btf, fn->type_id, d->sig, sizeof(d->sig)) > 0)
			jw__kstr(w, "proto", d->sig);
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

/* Loads of each used map's address (or of a pointer into its value). */
static void count_map_refs(const struct dump *d, uint32_t *refs)
{
	const struct prog_code *pc = &d->pc;
	for (uint32_t i = 0; i < pc->n_insns; i += disasm__slots(&pc->insns[i])) {
		const struct bpf_insn *in = &pc->insns[i];
		if (disasm__slots(in) != 2 || (in->src_reg != BPF_PSEUDO_MAP_FD && in->src_reg != BPF_PSEUDO_MAP_VALUE))
			continue;
		for (uint32_t k = 0; k < pc->n_map_ids; k++)
			if (pc->map_ids[k] == (uint32_t)in->imm)
				refs[k]++;
	}
}

static void write_map(struct jw *w, uint32_t id, uint32_t refs)
{
	struct bpf_map_info mi = { 0 };
	uint32_t len = sizeof(mi);
	int fd = bpf_map_get_fd_by_id(id);
	bool known = fd >= 0 && !bpf_map_get_info_by_fd(fd, &mi, &len);
	if (fd >= 0)
		close(fd);
	jw__obj(w);
	jw__kuint(w, "id", id);
	if (known) {
		const char *type = libbpf_bpf_map_type_str((enum bpf_map_type)mi.type);
		jw__key(w, "name");
		jw__strn(w, mi.name, strnlen(mi.name, sizeof(mi.name)));
		jw__key(w, "type");
		if (type)
			jw__str(w, type);
		else
			jw__strf(w, "%u", mi.type);
	}
	jw__kuint(w, "refs", refs);
	jw__obj_end(w);
}

static int write_maps(struct dump *d)
{
	struct jw *w = d->ctx->out;
	uint32_t *refs = calloc(d->pc.n_map_ids + 1, sizeof(*refs));
	if (!refs)
		return tool__fail_errno(d->ctx, -ENOMEM, "counting map references");
	count_map_refs(d, refs);
	jw__key(w, "maps");
	jw__arr(w);
	for (uint32_t k = 0; k < d->pc.n_map_ids; k++)
		write_map(w, d->pc.map_ids[k], refs[k]);
	jw__arr_end(w);
	free(refs);
	return 0;
}

/* ---- calls ---------------------------------------------------------------- */

struct call_row {
	enum disasm_call kind;
	const char *name;
	int64_t pc;               /* subprog: the callee; -1 otherwise */
	uint64_t count;
};

static const char *kind_name(enum disasm_call k)
{
	return k == DISASM_KFUNC ? "kfunc" : k == DISASM_SUBPROG ? "subprog" : "helper";
}

static const char *subprog_name(struct dump *d, const struct bpf_insn *in, int64_t pc)
{
	for (uint32_t k = 0; d->have_btf && k < d->pc.n_funcs; k++)
		if (d->pc.funcs[k].insn_off == pc && dump__func_name(d, &d->pc.funcs[k]))
			return dump__func_name(d, &d->pc.funcs[k]);
	const char *sym = prog_syms__target_name(&d->syms, in);
	if (sym)
		return sym;
	char buf[CALL_NAME_BYTES];
	snprintf(buf, sizeof(buf), "pc%lld", (long long)pc);
	return arena__strndup(d->ctx->scratch, buf, strlen(buf));
}

/* What a call lands on, by the name bpftool prints for it (helpers and
 * kfuncs) or the callee's function name (subprograms). NULL: no memory. */
static const char *call_name(struct dump *d, const struct bpf_insn *in, int64_t *pc)
{
	char buf[CALL_NAME_BYTES];
	*pc = -1;
	if (disasm__call_kind(in) == DISASM_SUBPROG && disasm__target(in, in - d->pc.insns, pc))
		return subprog_name(d, in, *pc);
	const char *name = in->src_reg ? NULL : disasm__helper_name(in->imm);
	if (name)
		return name;
	name = prog_syms__call(&d->syms, in, buf, sizeof(buf));
	return name == buf ? arena__strndup(d->ctx->scratch, buf, strlen(buf)) : name;
}

static int by_call(const void *a, const void *b)
{
	const struct call_row *x = a, *y = b;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	int c = strcmp(x->name, y->name);
	return c ? c : x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* Every call of the program, sorted, equal ones merged; *n rows. */
static struct call_row *gather_calls(struct dump *d, size_t *n)
{
	const struct prog_code *pc = &d->pc;
	size_t cap = 1;
	for (uint32_t i = 0; i < pc->n_insns; i += disasm__slots(&pc->insns[i]))
		cap += disasm__call_kind(&pc->insns[i]) != DISASM_NOT_CALL;
	struct call_row *rows = calloc(cap, sizeof(*rows));
	*n = 0;
	for (uint32_t i = 0; rows && i < pc->n_insns; i += disasm__slots(&pc->insns[i])) {
		const struct bpf_insn *in = &pc->insns[i];
		struct call_row *r = &rows[*n];
		if ((r->kind = disasm__call_kind(in)) == DISASM_NOT_CALL)
			continue;
		if (!(r->name = call_name(d, in, &r->pc))) {
			free(rows);
			return NULL;
		}
		r->count = 1;
		(*n)++;
	}
	if (!rows)
		return NULL;
	qsort(rows, *n, sizeof(*rows), by_call);
	size_t u = 0;
	for (size_t k = 0; k < *n; k++)
		if (u && !by_call(&rows[u - 1], &rows[k]))
			rows[u - 1].count++;
		else
			rows[u++] = rows[k];
	*n = u;
	return rows;
}

static int write_calls(struct dump *d)
{
	struct jw *w = d->ctx->out;
	size_t n;
	struct call_row *rows = gather_calls(d, &n);
	if (!rows)
		return tool__fail_errno(d->ctx, -ENOMEM, "listing program %u's calls", d->id);
	jw__key(w, "calls");
	jw__arr(w);
	for (size_t k = 0; k < n; k++) {
		jw__obj(w);
		jw__kstr(w, "kind", kind_name(rows[k].kind));
		jw__kstr(w, "name", rows[k].name);
		if (rows[k].pc >= 0)
			jw__kint(w, "pc", rows[k].pc);
		jw__kuint(w, "count", rows[k].count);
		jw__obj_end(w);
	}
	jw__arr_end(w);
	free(rows);
	return 0;
}

/* ---- the JIT image ------------------------------------------------------- */

static int write_jited(struct dump *d)
{
	struct jw *w = d->ctx->out;
	const struct prog_code *pc = &d->pc;
	uint64_t from = d->jited_offset, avail = pc->jited && from < pc->n_jited ? pc->n_jited - from : 0;
	uint64_t n = avail < limits[LIM_JITED_BYTES] ? avail : limits[LIM_JITED_BYTES];
	char *hex = malloc(2 * n + 1);
	if (!hex)
		return tool__fail_errno(d->ctx, -ENOMEM, "writing %llu bytes of JIT image as hex", (unsigned long long)n);
	for (uint64_t k = 0; k < n; k++)
		snprintf(hex + 2 * k, 3, "%02x", pc->jited[from + k]);
	hex[2 * n] = 0;
	jw__key(w, "jited");
	jw__obj(w);
	jw__kuint(w, "bytes", pc->info.jited_prog_len);
	jw__kuint(w, "offset", from);
	jw__kuint(w, "returned", n);
	jw__kbool(w, "truncated", pc->jited && from + n < pc->info.jited_prog_len);
	jw__kstr(w, "hex", hex);
	jw__obj_end(w);
	free(hex);
	return 0;
}

static void jited_notes(struct dump *d)
{
	const struct bpf_prog_info *p = &d->pc.info;
	if (!p->jited_prog_len)
		d->notes[d->n_notes++] = "the program has no JIT image (it runs interpreted)";
	else if (!d->pc.jited && !d->pc.addrs_hidden)
		d->notes[d->n_notes++] = "the kernel withheld the JIT image";
}

int dump__summary(struct dump *d)
{
	write_program(d);
	write_functions(d);
	if (write_maps(d) || write_calls(d))
		return -1;
	if (!d->jited_hex)
		return 0;
	if (d->n_notes < DUMP_NOTES_MAX)
		jited_notes(d);
	return write_jited(d);
}
