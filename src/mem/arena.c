/* Bump arenas (see arena.h). Memory comes straight from mmap so the arenas
 * are fixed at start-up and do not count against the malloc heap cap. */
#include "arena.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

int arena__init(struct arena *a, size_t cap)
{
	memset(a, 0, sizeof(*a));
	void *p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -ENOMEM;
	a->base = p;
	a->cap = cap;
	return 0;
}

void arena__fini(struct arena *a)
{
	if (a->base)
		munmap(a->base, a->cap);
	memset(a, 0, sizeof(*a));
}

void *arena__alloc(struct arena *a, size_t n)
{
	size_t off = (a->used + 15) & ~(size_t)15;
	if (off > a->cap || n > a->cap - off)
		return NULL;
	a->used = off + n;
	if (a->used > a->high)
		a->high = a->used;
	if (a->used > a->peak)
		a->peak = a->used;
	return a->base + off;
}

char *arena__strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena__alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

void arena__reset(struct arena *a)
{
	if (a->high > ARENA_TRIM_BYTES)
		madvise(a->base + ARENA_TRIM_BYTES, a->high - ARENA_TRIM_BYTES, MADV_DONTNEED);
	a->used = 0;
	a->high = 0;
}

size_t arena__mark(const struct arena *a) { return a->used; }

void arena__release(struct arena *a, size_t mark)
{
	if (mark <= a->used)
		a->used = mark;
}
