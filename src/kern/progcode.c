/* A loaded program's code and the symbols its calls land on (see progcode.h). */
#include "progcode.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "../limits.h"
#include "../mem/arena.h"
#include "../sys/kallsyms.h"
#include "disasm.h"

#define PTR(p) ((uint64_t)(uintptr_t)(p))

/* ---- reading ------------------------------------------------------------ */

struct plan {
	size_t off[6], total;
};

enum { P_INSNS, P_FUNCS, P_LINES, P_KSYMS, P_MAPS, P_JITED };

/* Where each array goes in one allocation (each part 8-byte aligned). */
static int plan_parts(const struct bpf_prog_info *a, uint32_t jited, struct plan *p)
{
	const uint64_t sz[6] = {
		a->xlated_prog_len,
		(uint64_t)a->nr_func_info * sizeof(struct bpf_func_info),
		(uint64_t)a->nr_line_info * sizeof(struct bpf_line_info),
		(uint64_t)a->nr_jited_ksyms * sizeof(uint64_t),
		(uint64_t)a->nr_map_ids * sizeof(uint32_t),
		jited,
	};
	uint64_t t = 0;
	for (int i = 0; i < 6; i++) {
		p->off[i] = (size_t)t;
		t += (sz[i] + 7) & ~7ull;
	}
	if (t > PROGCODE_MAX_BYTES)
		return -E2BIG;
	p->total = (size_t)t;
	return 0;
}

/* The second call's request: every array the first call counted, at the
 * sizes this build's structs have (the kernel takes no other). */
static void ask(const struct bpf_prog_info *a, uint32_t jited, uint8_t *m, const struct plan *p,
		struct bpf_prog_info *b)
{
	memset(b, 0, sizeof(*b));
	b->xlated_prog_len = a->xlated_prog_len;
	b->xlated_prog_insns = PTR(m + p->off[P_INSNS]);
	if (a->nr_func_info && a->func_info_rec_size == sizeof(struct bpf_func_info)) {
		b->nr_func_info = a->nr_func_info;
		b->func_info_rec_size = a->func_info_rec_size;
		b->func_info = PTR(m + p->off[P_FUNCS]);
	}
	if (a->nr_line_info && a->line_info_rec_size == sizeof(struct bpf_line_info)) {
		b->nr_line_info = a->nr_line_info;
		b->line_info_rec_size = a->line_info_rec_size;
		b->line_info = PTR(m + p->off[P_LINES]);
	}
	b->nr_jited_ksyms = a->nr_jited_ksyms;
	b->jited_ksyms = PTR(m + p->off[P_KSYMS]);
	b->nr_map_ids = a->nr_map_ids;
	b->map_ids = PTR(m + p->off[P_MAPS]);
	b->jited_prog_len = jited;
	b->jited_prog_insns = PTR(m + p->off[P_JITED]);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* What the kernel gave back: what was asked, capped by what it has; a
 * pointer it zeroed marks what it withheld. */
static void take(const struct bpf_prog_info *asked, const struct bpf_prog_info *b, uint8_t *m,
		 const struct plan *p, struct prog_code *pc)
{
	pc->info = *b;
	if (b->xlated_prog_insns && b->xlated_prog_len) {
		pc->insns = (const struct bpf_insn *)(m + p->off[P_INSNS]);
		pc->n_insns = min_u32(asked->xlated_prog_len, b->xlated_prog_len) / sizeof(struct bpf_insn);
	}
	pc->insns_withheld = b->xlated_prog_len && !pc->n_insns;
	if (b->func_info) {
		pc->funcs = (const struct bpf_func_info *)(m + p->off[P_FUNCS]);
		pc->n_funcs = min_u32(asked->nr_func_info, b->nr_func_info);
	}
	if (b->line_info) {
		pc->lines = (const struct bpf_line_info *)(m + p->off[P_LINES]);
		pc->n_lines = min_u32(asked->nr_line_info, b->nr_line_info);
	}
	pc->n_ksyms = b->nr_jited_ksyms;
	if (asked->nr_jited_ksyms && b->jited_ksyms)
		pc->ksyms = (const uint64_t *)(m + p->off[P_KSYMS]);
	pc->addrs_hidden = asked->nr_jited_ksyms && !b->jited_ksyms;
	pc->map_ids = (const uint32_t *)(m + p->off[P_MAPS]);
	pc->n_map_ids = min_u32(asked->nr_map_ids, b->nr_map_ids);
	if (asked->jited_prog_len && b->jited_prog_insns) {
		pc->jited = m + p->off[P_JITED];
		pc->n_jited = min_u32(asked->jited_prog_len, b->jited_prog_len);
	}
}

int prog_code__read(int fd, uint32_t jited_want, struct prog_code *pc)
{
	memset(pc, 0, sizeof(*pc));
	struct bpf_prog_info a = { 0 }, b;
	uint32_t len = sizeof(a);
	if (bpf_prog_get_info_by_fd(fd, &a, &len))
		return -errno;
	uint32_t jited = min_u32(jited_want, a.jited_prog_len);
	struct plan p;
	int r = plan_parts(&a, jited, &p);
	if (r)
		return r;
	uint8_t *m = calloc(1, p.total ? p.total : 1);
	if (!m)
		return -ENOMEM;
	ask(&a, jited, m, &p, &b);
	struct bpf_prog_info asked = b;
	len = sizeof(b);
	if (bpf_prog_get_info_by_fd(fd, &b, &len)) {
		r = -errno;
		free(m);
		return r;
	}
	pc->mem = m;
	take(&asked, &b, m, &p, pc);
	return 0;
}

void prog_code__free(struct prog_code *pc)
{
	free(pc->mem);
	memset(pc, 0, sizeof(*pc));
}

/* ---- kallsyms ----------------------------------------------------------- */

#define CALL_BASE_NAME "__bpf_call_base"

/* Where __bpf_call_base is never moves while the kernel runs: found once
 * per process (the first pass stops there, a fifth of the file in). */
static uint64_t call_base_cache;

static int open_kallsyms(struct kallsyms *k, char **io)
{
	*io = malloc(KALLSYMS_IO_BYTES);
	int r = kallsyms__open(k, KALLSYMS_PATH, limits[LIM_SCAN_ITEMS], *io, *io ? KALLSYMS_IO_BYTES : 0);
	if (r) {
		free(*io);
		*io = NULL;
	}
	return r;
}

static void close_kallsyms(struct kallsyms *k, char *io)
{
	kallsyms__close(k);
	free(io);
}

/* 0 with *base (0 when kallsyms shows no addresses), or -errno. */
static int call_base(uint64_t *base)
{
	*base = __atomic_load_n(&call_base_cache, __ATOMIC_RELAXED);
	if (*base)
		return 0;
	struct kallsyms k;
	struct kallsyms_sym s;
	char *io;
	int r = open_kallsyms(&k, &io);
	if (r)
		return r;
	while ((r = kallsyms__next(&k, &s)) > 0)
		if (!strcmp(s.name, CALL_BASE_NAME)) {
			*base = s.addr;
			break;
		}
	close_kallsyms(&k, io);
	if (r < 0)
		return r;
	__atomic_store_n(&call_base_cache, *base, __ATOMIC_RELAXED);
	return 0;
}

/* Where a call lands, as bpftool computes it: helpers and kfuncs at
 * __bpf_call_base + imm, subprograms at their JIT symbol (imm is the
 * callee's index in a dump) when the kernel gave those. */
static uint64_t call_addr(const struct prog_syms *ps, const struct bpf_insn *in)
{
	if (in->src_reg == BPF_PSEUDO_CALL && (uint32_t)in->imm < ps->n_ksyms && ps->ksyms)
		return ps->ksyms[in->imm];
	return ps->base + (uint64_t)(int64_t)in->imm;
}

static int by_addr(const void *a, const void *b)
{
	const struct prog_sym *x = a, *y = b;
	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static struct prog_sym *find(const struct prog_syms *ps, uint64_t addr)
{
	struct prog_sym key = { .addr = addr };
	return ps->n ? bsearch(&key, ps->v, ps->n, sizeof(key), by_addr) : NULL;
}

/* The distinct addresses the program's calls land on (those the helper
 * table does not already name). */
static int collect(const struct prog_code *pc, struct prog_syms *ps)
{
	size_t n = 0;
	for (uint32_t i = 0; i < pc->n_insns; i += disasm__slots(&pc->insns[i]))
		n += disasm__call_kind(&pc->insns[i]) != DISASM_NOT_CALL;
	ps->v = calloc(n ? n : 1, sizeof(*ps->v));
	if (!ps->v)
		return -ENOMEM;
	for (uint32_t i = 0; i < pc->n_insns; i += disasm__slots(&pc->insns[i])) {
		const struct bpf_insn *in = &pc->insns[i];
		enum disasm_call kind = disasm__call_kind(in);
		if (kind != DISASM_NOT_CALL && !(kind == DISASM_HELPER && disasm__helper_name(in->imm)))
			ps->v[ps->n++].addr = call_addr(ps, in);
	}
	qsort(ps->v, ps->n, sizeof(*ps->v), by_addr);
	size_t u = 0;
	for (size_t i = 0; i < ps->n; i++)
		if (!u || ps->v[u - 1].addr != ps->v[i].addr)
			ps->v[u++] = ps->v[i];
	ps->n = u;
	return 0;
}

/* One pass over kallsyms naming every collected address. Of several
 * symbols at one address a function's name wins, else the first. */
static int name_all(struct prog_syms *ps, struct arena *a)
{
	struct kallsyms k;
	struct kallsyms_sym s;
	char *io;
	int r = open_kallsyms(&k, &io);
	if (r)
		return r;
	while ((r = kallsyms__next(&k, &s)) > 0) {
		struct prog_sym *p = s.addr ? find(ps, s.addr) : NULL;
		bool text = strchr("tTwW", s.type) != NULL;
		if (!p || (p->name && (p->text || !text)))
			continue;
		if (!(p->name = arena__strndup(a, s.name, strlen(s.name)))) {
			r = -ENOMEM;
			break;
		}
		p->text = text;
	}
	close_kallsyms(&k, io);
	return r < 0 ? r : 0;
}

int prog_syms__resolve(const struct prog_code *pc, struct prog_syms *ps, struct arena *a)
{
	memset(ps, 0, sizeof(*ps));
	ps->ksyms = pc->ksyms;
	ps->n_ksyms = pc->n_ksyms;
	int r = call_base(&ps->base);
	if (r)
		return r;
	if ((r = collect(pc, ps)))
		return r;
	/* bpftool reads no symbols when kallsyms hides __bpf_call_base */
	return ps->base && ps->n ? name_all(ps, a) : 0;
}

void prog_syms__free(struct prog_syms *ps)
{
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

static const char *sym_at(const struct prog_syms *ps, uint64_t addr)
{
	const struct prog_sym *p = ps->base ? find(ps, addr) : NULL;
	return p ? p->name : NULL;
}

const char *prog_syms__call(void *arg, const struct bpf_insn *insn, char *buf, size_t cap)
{
	const struct prog_syms *ps = arg;
	uint64_t addr = call_addr(ps, insn);
	const char *sym = sym_at(ps, addr);
	if (insn->src_reg != BPF_PSEUDO_CALL) {
		if (sym)
			return sym;
		snprintf(buf, cap, "0x%llx", (unsigned long long)addr);
	} else if (!ps->n_ksyms) {
		snprintf(buf, cap, "%+d", insn->off);   /* an interpreted program: no address to show */
	} else if (sym) {
		snprintf(buf, cap, "%+d#%s", insn->off, sym);
	} else {
		snprintf(buf, cap, "%+d#0x%llx", insn->off, (unsigned long long)addr);
	}
	return buf;
}

const char *prog_syms__target_name(const struct prog_syms *ps, const struct bpf_insn *insn)
{
	return sym_at(ps, call_addr(ps, insn));
}
