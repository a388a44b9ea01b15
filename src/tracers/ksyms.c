/* Kernel text symbols from /proc/kallsyms (see ksyms.h).
 *
 * About 60k text symbols on a distribution kernel once the __pfx_/__cfi_
 * padding entries (as many again, never executed: an address there is a
 * return from a call that ends the function before) are left out: 16 bytes
 * each plus their names in one pool, about 3 MiB, freed after the call.
 * kallsyms has no sizes, so an address belongs to the closest symbol below
 * it, within KSYMS_SPAN_MAX: past the end of the last function of a region
 * an address would otherwise take that function's name. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"

#define KSYMS_LINE_BYTES  1024                /* KSYM_NAME_LEN (512) + address, type, module */
#define KSYMS_STDIO_BYTES (64 * 1024)         /* fewer, larger reads of a generated file */
#define KSYMS_SPAN_MAX    (1024 * 1024)       /* no kernel function is larger */
#define KSYMS_FIRST_SYMS  (16 * 1024)         /* initial table, doubled as needed */
#define KSYMS_FIRST_POOL  (512 * 1024)
#define KSYMS_NO_MOD      UINT32_MAX

struct ksym {
	uint64_t addr;
	uint32_t name;   /* offset into pool */
	uint32_t mod;    /* offset of the module's name, or KSYMS_NO_MOD */
};

struct ksyms {
	struct ksym *v;
	size_t n, cap;
	char *pool;
	size_t pool_len, pool_cap;
	uint32_t last_mod;   /* module symbols come grouped: intern against the last one */
	bool any_addr;
};

static int grow(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t c = *cap ? *cap : first;
	while (c < need)
		c *= 2;
	void *q = realloc(*p, c * elem);
	if (!q)
		return -ENOMEM;
	*p = q, *cap = c;
	return 0;
}

/* Appends s (with its NUL) to the pool; its offset, or -ENOMEM. */
static int64_t pool_add(struct ksyms *k, const char *s, size_t len)
{
	if (grow((void **)&k->pool, &k->pool_cap, k->pool_len + len + 1, 1, KSYMS_FIRST_POOL))
		return -ENOMEM;
	memcpy(k->pool + k->pool_len, s, len);
	k->pool[k->pool_len + len] = 0;
	int64_t off = (int64_t)k->pool_len;
	k->pool_len += len + 1;
	return off;
}

static int add(struct ksyms *k, uint64_t addr, const char *name, const char *mod)
{
	if (grow((void **)&k->v, &k->cap, k->n + 1, sizeof(*k->v), KSYMS_FIRST_SYMS))
		return -ENOMEM;
	uint32_t m = KSYMS_NO_MOD;
	if (mod) {
		if (k->last_mod == KSYMS_NO_MOD || strcmp(k->pool + k->last_mod, mod)) {
			int64_t off = pool_add(k, mod, strlen(mod));
			if (off < 0)
				return -ENOMEM;
			k->last_mod = (uint32_t)off;
		}
		m = k->last_mod;
	}
	int64_t off = pool_add(k, name, strlen(name));
	if (off < 0)
		return -ENOMEM;
	k->v[k->n++] = (struct ksym){ .addr = addr, .name = (uint32_t)off, .mod = m };
	k->any_addr |= addr != 0;
	return 0;
}

/* "ADDR T name" or "ADDR T name\t[mod]": true for a text symbol worth
 * keeping, with name and mod split in place. */
static bool parse(char *line, uint64_t *addr, char **name, char **mod)
{
	char *p;
	*addr = strtoull(line, &p, 16);
	if (p == line || p[0] != ' ' || !p[1] || p[2] != ' ' || !strchr("tTwW", p[1]))
		return false;
	*name = p + 3;
	*mod = NULL;
	char *end = *name + strcspn(*name, "\t\n");
	if (*end == '\t' && end[1] == '[') {
		*mod = end + 2;
		(*mod)[strcspn(*mod, "]")] = 0;
	}
	*end = 0;
	return **name && strncmp(*name, "__pfx_", 6) && strncmp(*name, "__cfi_", 6);
}

static int read_all(struct ksyms *k, FILE *f, uint64_t max_lines)
{
	char line[KSYMS_LINE_BYTES];
	uint64_t lines = 0;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		if (len && line[len - 1] != '\n' && !feof(f))
			return -E2BIG;   /* no kallsyms line is this long */
		if (++lines > max_lines)
			return -E2BIG;
		uint64_t addr;
		char *name, *mod;
		if (parse(line, &addr, &name, &mod) && add(k, addr, name, mod))
			return -ENOMEM;
	}
	return ferror(f) ? -EIO : 0;
}

/* By address; of equal addresses (aliases) the first wins: the one without
 * the __pi_ prefix (position-independent copies for early boot), then in
 * file order. */
static int by_addr(const void *a, const void *b, void *arg)
{
	const struct ksym *x = a, *y = b;
	const char *pool = arg;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	bool px = !strncmp(pool + x->name, "__pi_", 5), py = !strncmp(pool + y->name, "__pi_", 5);
	if (px != py)
		return px ? 1 : -1;
	return x->name < y->name ? -1 : x->name > y->name;
}

int ksyms__load(struct ksyms **out, uint64_t max_lines)
{
	struct ksyms *k = calloc(1, sizeof(*k));
	char *io = malloc(KSYMS_STDIO_BYTES);
	FILE *f = k && io ? fopen("/proc/kallsyms", "re") : NULL;
	int err = !k || !io ? -ENOMEM : !f ? -errno : 0;
	*out = NULL;
	if (!err) {
		k->last_mod = KSYMS_NO_MOD;
		setvbuf(f, io, _IOFBF, KSYMS_STDIO_BYTES);
		err = read_all(k, f, max_lines);
	}
	if (f)
		fclose(f);
	free(io);
	if (err) {
		ksyms__free(k);
		return err;
	}
	qsort_r(k->v, k->n, sizeof(*k->v), by_addr, k->pool);
	*out = k;
	return 0;
}

void ksyms__free(struct ksyms *k)
{
	if (!k)
		return;
	free(k->v);
	free(k->pool);
	free(k);
}

bool ksyms__hidden(const struct ksyms *k)
{
	return !k->any_addr;
}

uint64_t ksyms__count(const struct ksyms *k)
{
	return k->n;
}

bool ksyms__find(const struct ksyms *k, uint64_t addr, const char **name, const char **mod, uint64_t *off)
{
	if (!k->any_addr || !k->n || addr < k->v[0].addr)
		return false;
	size_t lo = 0, hi = k->n;   /* the last symbol at or below addr is in [lo, hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->v[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	while (lo && k->v[lo - 1].addr == k->v[lo].addr)
		lo--;   /* bounded by lo: the first alias */
	const struct ksym *s = &k->v[lo];
	if (addr - s->addr >= KSYMS_SPAN_MAX)
		return false;
	*name = k->pool + s->name;
	*mod = s->mod == KSYMS_NO_MOD ? NULL : k->pool + s->mod;
	*off = addr - s->addr;
	return true;
}
