/* Kernel text symbols from /proc/kallsyms (see ksyms.h).
 *
 * About 60k text symbols on a distribution kernel once the __pfx_/__cfi_
 * padding entries (as many again, never executed: an address there is a
 * return from a call that ends the function before) are left out: 16 bytes
 * each plus their names in one pool, about 3 MiB, freed after the call.
 * kallsyms has no sizes, so an address belongs to the closest symbol below
 * it, within KSYMS_SPAN_MAX: past the end of the last function of a region
 * an address would otherwise take that function's name. */
#define _GNU_SOURCE   /* qsort_r (musl declares it anyway; glibc only with this) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../sys/kallsyms.h"
#include "ksyms.h"

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

/* Keeps the text symbols (t, T, w, W) but the padding before functions. */
static int read_all(struct ksyms *k, struct kallsyms *r)
{
	struct kallsyms_sym s;
	int rc;
	while ((rc = kallsyms__next(r, &s)) > 0)
		if (strchr("tTwW", s.type) && !kallsyms__padding(s.name) && add(k, s.addr, s.name, s.module))
			return -ENOMEM;
	return rc;
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
	char *io = malloc(KALLSYMS_IO_BYTES);
	struct kallsyms r = { 0 };
	int err = !k || !io ? -ENOMEM : kallsyms__open(&r, KALLSYMS_PATH, max_lines, io, KALLSYMS_IO_BYTES);
	*out = NULL;
	if (!err) {
		k->last_mod = KSYMS_NO_MOD;
		err = read_all(k, &r);
	}
	kallsyms__close(&r);
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
