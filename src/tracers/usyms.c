/* User-space symbols for sampled stacks (see usyms.h).
 *
 * An address is found in the process's executable mappings, turned into an
 * offset in the mapped file, then into an ELF virtual address through the
 * PT_LOAD program headers (the address nm and addr2line speak), and looked
 * up among the file's function symbols. A process's mappings are read when
 * it is pinned (as it first appears in a run, while it lives) or at its
 * first lookup. Files are opened through /proc/<pid>/map_files (the very
 * file mapped, even if since replaced or deleted), else
 * /proc/<pid>/root/<path> (the process's own mount namespace): at the pin,
 * so that they outlive the process, else when a frame first lands in them.
 * Their symbols are read at that first frame. libelf maps them (ELF_C_READ_MMAP) and they stay open until
 * usyms__free, so symbol names are read in place and not copied: a
 * file costs 16 bytes per function symbol of our heap. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

#include "usyms.h"

#define USYMS_LINE_BYTES   (4096 + 256)   /* a maps line: PATH_MAX and the fields before it */
#define USYMS_LOADS_MAX    16             /* PT_LOAD headers kept per file (2-4 in practice) */
#define USYMS_PHDRS_MAX    256            /* program headers looked at per file */
#define USYMS_SECTIONS_MAX 65536          /* section headers looked at per file */
#define USYMS_OVERLAP_BACK 8              /* earlier symbols tried when the closest one ends short */
#define USYMS_MSG_BYTES    160
#define USYMS_MAPS_LINES   (1u << 20)     /* lines of one maps file read (vm.max_map_count is 65530) */
#define USYMS_PATH_BYTES   (4096 + 64)    /* /proc/<pid>/root + a maps path */
#define USYMS_SYMTAB_MAX   (8u << 20)     /* entries of one symbol table looked at */

struct load { uint64_t off, vaddr, filesz; };

struct fsym {
	uint64_t value;
	uint32_t size;    /* clamped; 0: unknown */
	uint32_t name;    /* in the string table */
};

struct umod {
	uint64_t dev, ino;
	char *path;               /* as in maps */
	const char *base;         /* its last component */
	bool tried;
	const char *problem;      /* why it has no symbols, when it should */
	char msg[USYMS_MSG_BYTES];
	int fd;
	Elf *elf;
	size_t strndx;            /* section holding the symbols' names */
	struct fsym *syms;
	uint32_t n_syms;
	struct load loads[USYMS_LOADS_MAX];
	unsigned n_loads;
};

struct umap {
	uint64_t start, end, pgoff;
	int32_t mod;              /* index into mods, or -1 */
	const char *pseudo;       /* "[vdso]" and the like, when mod is -1 */
};

struct uproc {
	uint32_t pid;
	struct umap *maps;
	uint32_t n;
	bool refreshed;           /* maps read again for an address in none of them */
	const char *problem;      /* maps unreadable, or cut at USYMS_PROC_MAPS_MAX */
	char msg[USYMS_MSG_BYTES];
};

struct usyms {
	struct uproc procs[USYMS_PROCS_MAX];
	uint32_t n_procs;
	struct umod mods[USYMS_MODULES_MAX];
	uint32_t n_mods;
	bool mods_full;
	struct uproc *last;
};

static const char *const procs_full = "more than 1024 processes in one call: frames are raw addresses";
_Static_assert(USYMS_PROCS_MAX == 1024, "procs_full names the bound");

struct usyms *usyms__new(void)
{
	return calloc(1, sizeof(struct usyms));
}

void usyms__free(struct usyms *u)
{
	if (!u)
		return;
	for (uint32_t i = 0; i < u->n_procs; i++)
		free(u->procs[i].maps);
	for (uint32_t i = 0; i < u->n_mods; i++) {
		struct umod *m = &u->mods[i];
		free(m->syms);
		if (m->elf)
			elf_end(m->elf);
		if (m->fd >= 0)
			close(m->fd);
		free(m->path);
	}
	free(u);
}

/* ---- /proc/<pid>/maps ------------------------------------------------------- */

static int32_t intern_mod(struct usyms *u, uint64_t dev, uint64_t ino, const char *path)
{
	for (uint32_t i = 0; i < u->n_mods; i++)
		if (u->mods[i].dev == dev && u->mods[i].ino == ino && !strcmp(u->mods[i].path, path))
			return (int32_t)i;
	if (u->n_mods == USYMS_MODULES_MAX) {
		u->mods_full = true;
		return -1;
	}
	char *copy = strdup(path);
	if (!copy)
		return -1;
	struct umod *m = &u->mods[u->n_mods];
	*m = (struct umod){ .dev = dev, .ino = ino, .path = copy, .fd = -1 };
	const char *slash = strrchr(copy, '/');
	m->base = slash ? slash + 1 : copy;
	return (int32_t)u->n_mods++;
}

/* "start-end perms offset major:minor inode   path": executable file
 * mappings and the named pseudo ones; false for the rest. */
static bool parse_map(struct usyms *u, char *line, struct umap *m)
{
	unsigned long long start, end, pgoff, ino;
	unsigned maj, min;
	char perms[8];
	int pos = 0;
	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &pgoff, &maj, &min, &ino, &pos) < 7 ||
	    !pos || perms[2] != 'x')
		return false;
	char *path = line + pos;
	path[strcspn(path, "\n")] = 0;
	size_t len = strlen(path);
	static const char deleted[] = " (deleted)";
	if (len > sizeof(deleted) - 1 && !strcmp(path + len - (sizeof(deleted) - 1), deleted))
		path[len - (sizeof(deleted) - 1)] = 0;
	*m = (struct umap){ .start = start, .end = end, .pgoff = pgoff, .mod = -1 };
	if (path[0] == '[') {
		m->pseudo = !strcmp(path, "[vdso]") ? "[vdso]" : !strcmp(path, "[vsyscall]") ? "[vsyscall]" : NULL;
		return m->pseudo != NULL;
	}
	if (path[0] != '/')
		return false;   /* anonymous (JIT code): raw addresses */
	m->mod = intern_mod(u, ((uint64_t)maj << 32) | min, ino, path);
	return true;
}

static int read_maps(struct usyms *u, struct uproc *p)
{
	char path[64], line[USYMS_LINE_BYTES];
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/maps", p->pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	p->maps = malloc(sizeof(*p->maps) * 64);
	uint32_t cap = p->maps ? 64 : 0;
	bool cont = false;   /* the rest of a line longer than the buffer */
	for (uint32_t lines = 0; lines < USYMS_MAPS_LINES && fgets(line, sizeof(line), f); lines++) {
		bool whole = strchr(line, '\n') != NULL;
		bool skip = cont;
		cont = !whole;
		if (skip || !whole)
			continue;   /* only a path over PATH_MAX is this long */
		struct umap m;
		if (!parse_map(u, line, &m))
			continue;
		if (p->n == USYMS_PROC_MAPS_MAX) {
			p->problem = "more than 4096 executable mappings: frames in later ones are raw addresses";
			break;
		}
		if (p->n == cap) {
			struct umap *more = realloc(p->maps, sizeof(*more) * cap * 2);
			if (!more) {
				fclose(f);
				return -ENOMEM;
			}
			p->maps = more, cap *= 2;
		}
		p->maps[p->n++] = m;
	}
	int err = ferror(f) ? -EIO : !p->maps ? -ENOMEM : 0;
	fclose(f);
	return err;
}
_Static_assert(USYMS_PROC_MAPS_MAX == 4096, "the message names the bound");

static struct uproc *find_proc(struct usyms *u, uint32_t pid)
{
	if (u->last && u->last->pid == pid)
		return u->last;
	for (uint32_t i = 0; i < u->n_procs; i++)
		if (u->procs[i].pid == pid)
			return &u->procs[i];
	return NULL;
}

/* Whether any of fresh's mappings (in address order, apart) overlaps m. */
static bool overlapped(const struct uproc *fresh, const struct umap *m)
{
	uint32_t lo = 0, hi = fresh->n;   /* the first one ending after m starts */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (fresh->maps[mid].end <= m->start)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < fresh->n && fresh->maps[lo].start < m->end;
}

static int by_start(const void *a, const void *b)
{
	const struct umap *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

/* p's mappings become fresh's and those of its old ones that none of
 * fresh's overlap (code an exec or munmap replaced stays findable for the
 * addresses sampled before). Takes fresh->maps. */
static int merge_maps(struct uproc *p, struct uproc *fresh)
{
	uint32_t keep = 0;
	for (uint32_t i = 0; i < p->n; i++)
		if (!overlapped(fresh, &p->maps[i]) && fresh->n + keep < USYMS_PROC_MAPS_MAX)
			p->maps[keep++] = p->maps[i];
	struct umap *all = malloc(sizeof(*all) * ((size_t)fresh->n + keep + 1));
	if (!all)
		return -ENOMEM;
	/* either side may be empty with no array at all: memcpy wants one */
	if (fresh->n)
		memcpy(all, fresh->maps, sizeof(*all) * fresh->n);
	if (keep)
		memcpy(all + fresh->n, p->maps, sizeof(*all) * keep);
	free(p->maps);
	free(fresh->maps);
	p->maps = all, p->n = fresh->n + keep;
	qsort(p->maps, p->n, sizeof(*p->maps), by_start);
	p->problem = fresh->problem;
	return 0;
}

static int open_mod(const struct uproc *p, const struct umap *m, const struct umod *mod);

int usyms__pin(struct usyms *u, uint32_t pid)
{
	struct uproc fresh = { .pid = pid };
	int err = read_maps(u, &fresh);
	struct uproc *p = err ? NULL : find_proc(u, pid);
	if (!err && !p && u->n_procs == USYMS_PROCS_MAX)
		err = -ENOSPC;
	bool added = !err && !p;
	if (added) {
		p = &u->procs[u->n_procs++];
		*p = (struct uproc){ .pid = pid };
	}
	if (!err)
		err = merge_maps(p, &fresh);
	if (err) {
		free(fresh.maps);
		if (added)
			u->n_procs--;   /* the last one: read again at the end */
		return err;
	}
	/* the files, while /proc/<pid>/map_files still holds them */
	for (uint32_t i = 0; i < p->n; i++) {
		struct umod *m = p->maps[i].mod >= 0 ? &u->mods[p->maps[i].mod] : NULL;
		if (m && m->fd < 0 && !m->tried)
			m->fd = open_mod(p, &p->maps[i], m);   /* -1: tried again when a frame lands in it */
	}
	return 0;
}

struct uproc *usyms__proc(struct usyms *u, uint32_t pid, const char **problem)
{
	struct uproc *p = find_proc(u, pid);
	if (!p) {
		if (u->n_procs == USYMS_PROCS_MAX) {
			*problem = procs_full;
			return NULL;
		}
		p = &u->procs[u->n_procs++];
		*p = (struct uproc){ .pid = pid };
		int err = read_maps(u, p);
		if (err) {
			snprintf(p->msg, sizeof(p->msg), "process %" PRIu32 "'s memory map was not readable while "
				 "it ran (/proc/%" PRIu32 "/maps: %s): frames are raw addresses", pid, pid, strerror(-err));
			p->problem = p->msg;
			free(p->maps);
			p->maps = NULL, p->n = 0;
		}
	}
	u->last = p;
	if (!p->maps) {
		*problem = p->problem;
		return NULL;
	}
	return p;
}

/* ---- ELF files ------------------------------------------------------------- */

static int open_mod(const struct uproc *p, const struct umap *m, const struct umod *mod)
{
	char path[USYMS_PATH_BYTES];
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/map_files/%" PRIx64 "-%" PRIx64, p->pid, m->start, m->end);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/%" PRIu32 "/root%s", p->pid, mod->path);
	return open(path, O_RDONLY | O_CLOEXEC);
}

static int mod_fail(struct umod *m, const char *what, int err)
{
	snprintf(m->msg, sizeof(m->msg), "%s: %s%s%s; its frames are shown as file+offset", m->base, what,
		 err ? ": " : "", err ? strerror(err) : "");
	m->problem = m->msg;
	return -1;
}

static void read_loads(struct umod *m)
{
	size_t n;
	if (elf_getphdrnum(m->elf, &n))
		return;
	for (size_t i = 0; i < n && i < USYMS_PHDRS_MAX && m->n_loads < USYMS_LOADS_MAX; i++) {
		GElf_Phdr ph;
		if (gelf_getphdr(m->elf, (int)i, &ph) && ph.p_type == PT_LOAD)
			m->loads[m->n_loads++] = (struct load){ .off = ph.p_offset, .vaddr = ph.p_vaddr, .filesz = ph.p_filesz };
	}
}

static Elf_Scn *find_table(Elf *elf, Elf64_Word type, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;
	for (size_t i = 0; i < USYMS_SECTIONS_MAX && (scn = elf_nextscn(elf, scn)); i++)
		if (gelf_getshdr(scn, sh) && sh->sh_type == type && sh->sh_entsize)
			return scn;
	return NULL;
}

static bool is_func(const GElf_Sym *s)
{
	int type = GELF_ST_TYPE(s->st_info);
	return (type == STT_FUNC || type == STT_GNU_IFUNC) && s->st_shndx != SHN_UNDEF && s->st_value;
}

static int by_value(const void *a, const void *b)
{
	const struct fsym *x = a, *y = b;
	return x->value < y->value ? -1 : x->value > y->value;
}

/* The function symbols of one table, sorted: 0 (maybe none), -E2BIG, -ENOMEM. */
static int read_syms(struct umod *m, Elf_Scn *scn, const GElf_Shdr *sh)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = d ? sh->sh_size / sh->sh_entsize : 0, count = 0;
	GElf_Sym s;
	if (n > USYMS_SYMTAB_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		count += gelf_getsym(d, (int)i, &s) && is_func(&s);
	if (count > USYMS_MODULE_SYMS_MAX)
		return -E2BIG;
	if (!count)
		return 0;
	m->syms = malloc(count * sizeof(*m->syms));
	if (!m->syms)
		return -ENOMEM;
	for (size_t i = 0; i < n && m->n_syms < count; i++)
		if (gelf_getsym(d, (int)i, &s) && is_func(&s))
			m->syms[m->n_syms++] = (struct fsym){ .value = s.st_value, .name = s.st_name,
							      .size = s.st_size > UINT32_MAX ? UINT32_MAX : (uint32_t)s.st_size };
	m->strndx = sh->sh_link;
	qsort(m->syms, m->n_syms, sizeof(*m->syms), by_value);
	return 0;
}

/* 0, or -1 with m->problem set. */
static int load_mod(struct umod *m, const struct uproc *p, const struct umap *map)
{
	GElf_Shdr sh;
	m->tried = true;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return mod_fail(m, "libelf refuses this ELF version", 0);
	if (m->fd < 0)
		m->fd = open_mod(p, map, m);
	if (m->fd < 0)
		return mod_fail(m, "cannot be opened", errno);
	m->elf = elf_begin(m->fd, ELF_C_READ_MMAP, NULL);
	if (!m->elf || elf_kind(m->elf) != ELF_K_ELF)
		return mod_fail(m, "not an ELF file", 0);
	read_loads(m);
	Elf_Scn *scn = find_table(m->elf, SHT_SYMTAB, &sh);
	int err = scn ? read_syms(m, scn, &sh) : 0;
	if (!err && !m->n_syms && (scn = find_table(m->elf, SHT_DYNSYM, &sh)))
		err = read_syms(m, scn, &sh);
	if (err == -E2BIG)
		return mod_fail(m, "more than 262144 function symbols", 0);
	return err ? mod_fail(m, "reading its symbols", -err) : 0;
}
_Static_assert(USYMS_MODULE_SYMS_MAX == 262144, "the message names the bound");

/* ---- lookups ---------------------------------------------------------------- */

static const struct umap *find_map(const struct uproc *p, uint64_t addr)
{
	uint32_t lo = 0, hi = p->n;   /* maps lists mappings in address order */
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (addr < p->maps[mid].start)
			hi = mid;
		else if (addr >= p->maps[mid].end)
			lo = mid + 1;
		else
			return &p->maps[mid];
	}
	return NULL;
}

static bool to_vaddr(const struct umod *m, uint64_t foff, uint64_t *va)
{
	for (unsigned i = 0; i < m->n_loads; i++) {
		const struct load *l = &m->loads[i];
		if (foff >= l->off && foff - l->off < l->filesz) {
			*va = foff - l->off + l->vaddr;
			return true;
		}
	}
	return false;
}

/* The symbol holding va: the closest one at or below it, or an earlier
 * one that spans it (symbols may nest); one without a size is taken as
 * reaching up to va. */
static const struct fsym *lookup(const struct umod *m, uint64_t va)
{
	if (!m->n_syms || va < m->syms[0].value)
		return NULL;
	uint32_t lo = 0, hi = m->n_syms;   /* the last symbol at or below va is in [lo, hi) */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (m->syms[mid].value <= va)
			lo = mid;
		else
			hi = mid;
	}
	for (uint32_t k = 0; k < USYMS_OVERLAP_BACK && k <= lo; k++) {
		const struct fsym *f = &m->syms[lo - k];
		if (va - f->value < f->size)
			return f;
	}
	return m->syms[lo].size ? NULL : &m->syms[lo];
}

const char *usyms__find(struct usyms *u, struct uproc *p, uint64_t addr, bool ret, struct usym *s)
{
	*s = (struct usym){ 0 };
	const struct umap *m = find_map(p, addr);
	if (!m && !p->refreshed) {
		/* mapped since the maps were read (dlopen): once per process */
		p->refreshed = true;
		if (!usyms__pin(u, p->pid))
			m = find_map(p, addr);
	}
	if (!m)
		return p->problem;   /* anonymous memory (JIT), or past a cut list */
	if (m->mod < 0) {
		s->module = m->pseudo;
		s->off = addr - m->start;
		return m->pseudo ? NULL : u->mods_full ? "more than 256 ELF files in one call: frames are raw addresses"
						      : "out of memory for the ELF file list: frames are raw addresses";
	}
	struct umod *mod = &u->mods[m->mod];
	if (!mod->tried)
		load_mod(mod, p, m);
	uint64_t foff = addr - m->start + m->pgoff, va;
	s->module = mod->base;
	s->off = foff;
	if (!mod->elf || !to_vaddr(mod, foff, &va))
		return mod->problem;
	s->off = va;
	const struct fsym *f = lookup(mod, ret && va ? va - 1 : va);
	const char *name = f ? elf_strptr(mod->elf, mod->strndx, f->name) : NULL;
	if (name && *name) {
		s->name = name;
		s->off = va - f->value;
	}
	return mod->problem;
}
_Static_assert(USYMS_MODULES_MAX == 256, "the message names the bound");
