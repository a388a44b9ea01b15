/* The code of a BPF ELF object as libbpf will link it (see bpfcode.h). */
#include "bpfcode.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gelf.h>
#include <libelf.h>
#include <linux/bpf.h>

#define INSN_SZ 8u

struct rel {
	uint64_t off;        /* byte offset in the section */
	uint32_t sym;
};

struct sec {
	const char *name;
	const uint8_t *data;
	uint64_t size;
	bool exec;
	struct rel *rels;    /* sorted by off */
	unsigned n_rels;
};

/* What one open needs only while it reads. */
struct reader {
	Elf *elf;
	struct sec *secs;
	size_t n_secs;
	Elf_Data *syms;
	size_t n_syms, strtab;
	unsigned n_rels;     /* over all sections (BPFCODE_MAX_RELOCS) */
	size_t ev_cap;
};

static int by_off(const void *a, const void *b)
{
	const struct rel *x = a, *y = b;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int by_place(const void *a, const void *b)
{
	const struct bpfcode_fn *x = a, *y = b;
	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* libbpf only opens relocatable little/big-endian 64-bit BPF objects; the
 * instructions are read in place, so only the host's byte order is taken. */
static int check_header(Elf *elf)
{
	GElf_Ehdr eh;
	if (elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh))
		return -EINVAL;
	unsigned char want = __BYTE_ORDER == __LITTLE_ENDIAN ? ELFDATA2LSB : ELFDATA2MSB;
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != want || eh.e_machine != EM_BPF ||
	    eh.e_type != ET_REL)
		return -EINVAL;
	return 0;
}

static int read_rels(struct reader *r, Elf_Scn *scn, const GElf_Shdr *sh)
{
	if (sh->sh_info >= r->n_secs || !sh->sh_entsize)
		return -EINVAL;
	struct sec *t = &r->secs[sh->sh_info];
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = d ? d->d_size / sh->sh_entsize : 0;
	if (!t->exec || !n)
		return 0;   /* data relocations: nothing the policy follows */
	if (t->rels || n > BPFCODE_MAX_RELOCS - r->n_rels)
		return t->rels ? -EINVAL : -E2BIG;
	t->rels = malloc(n * sizeof(*t->rels));
	if (!t->rels)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		GElf_Rel rl;
		if (!gelf_getrel(d, (int)i, &rl))
			return -EINVAL;
		t->rels[i] = (struct rel){ .off = rl.r_offset, .sym = (uint32_t)GELF_R_SYM(rl.r_info) };
	}
	t->n_rels = (unsigned)n;
	r->n_rels += (unsigned)n;
	qsort(t->rels, n, sizeof(*t->rels), by_off);
	return 0;
}

static int read_section(struct reader *r, struct bpfcode *c, Elf_Scn *scn, const GElf_Shdr *sh, size_t i,
			size_t shstrndx)
{
	struct sec *s = &r->secs[i];
	s->name = elf_strptr(r->elf, shstrndx, sh->sh_name);
	if (!s->name)
		return -EINVAL;
	if (sh->sh_type == SHT_SYMTAB) {
		if (r->syms || !sh->sh_entsize)
			return -EINVAL;   /* libbpf refuses a second symbol table too */
		r->syms = elf_getdata(scn, NULL);
		r->n_syms = r->syms ? r->syms->d_size / sh->sh_entsize : 0;
		r->strtab = sh->sh_link;
		return 0;
	}
	if (sh->sh_type != SHT_PROGBITS || !(sh->sh_flags & SHF_EXECINSTR))
		return 0;
	Elf_Data *d = elf_getdata(scn, NULL);
	/* code is read in place as struct bpf_insn: a section the file puts
	 * at an offset that is not a multiple of 8 is not a compiler's
	 * output, and reading it would be misaligned, so it is refused */
	if (!d || (d->d_size && !d->d_buf) || d->d_size % INSN_SZ || (uintptr_t)d->d_buf % INSN_SZ)
		return -EINVAL;
	s->exec = true;
	s->data = d->d_buf;
	s->size = d->d_size;
	if (!strcmp(s->name, ".text"))
		c->text_sec = (uint32_t)i;
	return 0;
}

/* Section names, code, the symbol table and the relocations of code. */
static int read_sections(struct reader *r, struct bpfcode *c)
{
	size_t shstrndx;
	if (elf_getshdrnum(r->elf, &r->n_secs) || elf_getshdrstrndx(r->elf, &shstrndx))
		return -EINVAL;
	if (r->n_secs > BPFCODE_MAX_FUNCS)
		return -E2BIG;
	r->secs = calloc(r->n_secs ? r->n_secs : 1, sizeof(*r->secs));
	if (!r->secs)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: names, code, symbols; pass 1: relocations (need exec) */
		for (Elf_Scn *scn = NULL; (scn = elf_nextscn(r->elf, scn));) {
			GElf_Shdr sh;
			size_t i = elf_ndxscn(scn);
			if (!gelf_getshdr(scn, &sh) || i >= r->n_secs)
				return -EINVAL;
			int rc = 0;
			if (pass == 1 && sh.sh_type == SHT_REL)
				rc = read_rels(r, scn, &sh);
			else if (pass == 0)
				rc = read_section(r, c, scn, &sh, i, shstrndx);
			if (rc)
				return rc;
		}
	}
	return r->syms ? 0 : -EINVAL;
}

/* Every STT_FUNC symbol in code is a function (libbpf makes each one a
 * program or, in .text, a subprogram). */
static bool is_function(const struct reader *r, size_t i, GElf_Sym *sym)
{
	return gelf_getsym(r->syms, (int)i, sym) && GELF_ST_TYPE(sym->st_info) == STT_FUNC &&
	       sym->st_shndx < r->n_secs && r->secs[sym->st_shndx].exec;
}

static int read_functions(struct reader *r, struct bpfcode *c)
{
	GElf_Sym sym;
	size_t n = 0;
	for (size_t i = 0; i < r->n_syms && n <= BPFCODE_MAX_FUNCS; i++)
		n += is_function(r, i, &sym);
	if (n > BPFCODE_MAX_FUNCS)
		return -E2BIG;
	c->fns = malloc((n ? n : 1) * sizeof(*c->fns));
	if (!c->fns)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_syms && c->n_fns < n; i++) {
		if (!is_function(r, i, &sym))
			continue;
		const struct sec *s = &r->secs[sym.st_shndx];
		if (sym.st_value % INSN_SZ || sym.st_size % INSN_SZ || sym.st_value > s->size ||
		    sym.st_size > s->size - sym.st_value)
			return -EINVAL;
		const char *name = elf_strptr(r->elf, r->strtab, sym.st_name);
		if (!name)
			return -EINVAL;
		c->fns[c->n_fns++] = (struct bpfcode_fn){
			.name = name, .section = s->name, .sec = sym.st_shndx,
			.off = (uint32_t)(sym.st_value / INSN_SZ), .cnt = (uint32_t)(sym.st_size / INSN_SZ),
			/* an empty section has no data at all: its (empty) function none either */
			.insns = s->data ? s->data + sym.st_value : NULL,
		};
	}
	qsort(c->fns, c->n_fns, sizeof(*c->fns), by_place);
	return 0;
}

static const struct rel *find_rel(const struct sec *s, uint64_t off)
{
	size_t lo = 0, hi = s->n_rels;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->rels[mid].off < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n_rels && s->rels[lo].off == off ? &s->rels[lo] : NULL;
}

/* The .text function holding instruction idx (libbpf's find_prog_by_sec_insn):
 * a binary search, functions being sorted by (section, offset). */
static uint32_t text_fn_at(const struct bpfcode *c, int64_t idx)
{
	if (!c->text_sec || idx < 0)
		return BPFCODE_NO_TARGET;
	size_t lo = 0, hi = c->n_fns;   /* first function placed after idx */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bpfcode_fn *f = &c->fns[mid];
		if (f->sec < c->text_sec || (f->sec == c->text_sec && f->off <= idx))
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct bpfcode_fn *f = lo ? &c->fns[lo - 1] : NULL;
	if (f && f->sec == c->text_sec && idx < (int64_t)f->off + f->cnt)
		return (uint32_t)(lo - 1);
	return BPFCODE_NO_TARGET;
}

static int add_ev(struct reader *r, struct bpfcode *c, struct bpfcode_ev ev)
{
	if (c->n_evs == r->ev_cap) {
		size_t cap = r->ev_cap ? r->ev_cap * 2 : 64;
		struct bpfcode_ev *n = realloc(c->evs, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		c->evs = n;
		r->ev_cap = cap;
	}
	c->evs[c->n_evs++] = ev;
	return 0;
}

/* libbpf's bpf_core_essential_name_len: "X___Y" with X, Y not '_' ends a
 * name's essential part after X (the rest names a flavor). */
static uint32_t essential_len(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = n >= 5 ? n - 5 + 1 : 0; i-- > 0;)
		if (name[i] != '_' && name[i + 1] == '_' && name[i + 2] == '_' && name[i + 3] == '_' && name[i + 4] != '_')
			return (uint32_t)(i + 1);
	return (uint32_t)n;
}

/* A call with src_reg BPF_PSEUDO_CALL: a kfunc when relocated against an
 * extern; otherwise a subprogram in .text, at the symbol's offset plus imm
 * when relocated, at the section-relative index plus imm when not. */
static struct bpfcode_ev pseudo_call(const struct reader *r, const struct bpfcode *c, const struct bpfcode_fn *f,
				     uint32_t i, const struct bpf_insn *in)
{
	const struct rel *rl = find_rel(&r->secs[f->sec], ((uint64_t)f->off + i) * INSN_SZ);
	struct bpfcode_ev ev = { .kind = BPFCODE_SUBPROG, .insn = i, .arg = BPFCODE_NO_TARGET };
	GElf_Sym sym;
	if (!rl) {
		ev.arg = text_fn_at(c, (int64_t)f->off + i + in->imm + 1);
	} else if (!gelf_getsym(r->syms, (int)rl->sym, &sym)) {
		/* a relocation naming no symbol: libbpf fails, nothing to follow */
	} else if (sym.st_shndx == SHN_UNDEF) {
		ev.kind = BPFCODE_KFUNC;
		ev.name = elf_strptr(r->elf, r->strtab, sym.st_name);
		ev.name_len = ev.name ? essential_len(ev.name) : 0;
	} else if (sym.st_shndx == c->text_sec && sym.st_value % INSN_SZ == 0) {
		ev.arg = text_fn_at(c, (int64_t)(sym.st_value / INSN_SZ) + in->imm + 1);
	}
	return ev;
}

/* ld_imm64 relocated against a .text function (global) or .text itself
 * (static): the address of a callback libbpf will append. */
static bool callback_ref(const struct reader *r, const struct bpfcode *c, const struct bpfcode_fn *f, uint32_t i,
			 const struct bpf_insn *in, struct bpfcode_ev *ev)
{
	const struct rel *rl = find_rel(&r->secs[f->sec], ((uint64_t)f->off + i) * INSN_SZ);
	GElf_Sym sym;
	if (!rl || !c->text_sec || !gelf_getsym(r->syms, (int)rl->sym, &sym) || sym.st_shndx != c->text_sec)
		return false;
	int bind = GELF_ST_BIND(sym.st_info), type = GELF_ST_TYPE(sym.st_info);
	if (!(bind == STB_LOCAL && type == STT_SECTION) && !((bind == STB_GLOBAL || bind == STB_WEAK) && type == STT_FUNC))
		return false;
	int64_t at = (int64_t)sym.st_value + in->imm;
	*ev = (struct bpfcode_ev){ .kind = BPFCODE_SUBPROG, .insn = i,
				   .arg = at % INSN_SZ ? BPFCODE_NO_TARGET : text_fn_at(c, at / INSN_SZ) };
	return true;
}

static int walk_function(struct reader *r, struct bpfcode *c, struct bpfcode_fn *f)
{
	const struct bpf_insn *code = f->insns;
	f->first_ev = c->n_evs;
	for (uint32_t i = 0; i < f->cnt; i++) {
		const struct bpf_insn *in = &code[i];
		struct bpfcode_ev ev;
		int rc = 0;
		if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == 0)
			rc = add_ev(r, c, (struct bpfcode_ev){ .kind = BPFCODE_HELPER, .insn = i, .arg = (uint32_t)in->imm });
		else if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL)
			rc = add_ev(r, c, pseudo_call(r, c, f, i, in));
		else if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_KFUNC_CALL)
			rc = add_ev(r, c, (struct bpfcode_ev){ .kind = BPFCODE_KFUNC_ID, .insn = i,
							       .arg = (uint32_t)in->imm, .off = in->off });
		else if (in->code == (BPF_LD | BPF_IMM | BPF_DW) && callback_ref(r, c, f, i, in, &ev))
			rc = add_ev(r, c, ev);
		if (rc)
			return rc;
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW))
			i++;   /* the second half of a 16-byte instruction */
	}
	f->n_ev = c->n_evs - f->first_ev;
	return 0;
}

int bpfcode__open(struct bpfcode *c, void *image, size_t len)
{
	struct reader r = { 0 };
	memset(c, 0, sizeof(*c));
	elf_version(EV_CURRENT);
	r.elf = elf_memory(image, len);
	int rc = r.elf ? check_header(r.elf) : -EINVAL;
	if (!rc)
		rc = read_sections(&r, c);
	if (!rc)
		rc = read_functions(&r, c);
	for (unsigned i = 0; !rc && i < c->n_fns; i++)
		rc = walk_function(&r, c, &c->fns[i]);
	for (size_t i = 0; r.secs && i < r.n_secs; i++)
		free(r.secs[i].rels);
	free(r.secs);
	c->elf = r.elf;
	if (rc)
		bpfcode__close(c);
	return rc;
}

void bpfcode__close(struct bpfcode *c)
{
	free(c->fns);
	free(c->evs);
	if (c->elf)
		elf_end(c->elf);
	memset(c, 0, sizeof(*c));
}

const struct bpfcode_fn *bpfcode__find(const struct bpfcode *c, const char *section, const char *name)
{
	for (unsigned i = 0; i < c->n_fns; i++)
		if (!strcmp(c->fns[i].name, name) && !strcmp(c->fns[i].section, section))
			return &c->fns[i];
	return NULL;
}
