/* Unit tests for the bump arenas (src/mem/arena.c): alignment, the capacity
 * boundary, marks, and that a reset really gives pages back (witness:
 * mincore(2), not the arena's own counters). */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mem/arena.h"
#include "unit.h"

/* Resident pages in [p, p + len), as the kernel sees them. */
static size_t resident_pages(const char *p, size_t len)
{
	static unsigned char vec[4096];
	size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (len + page - 1) / page, count = 0;
	if (n > sizeof(vec) || mincore((void *)p, len, vec))
		return (size_t)-1;
	for (size_t k = 0; k < n; k++)
		count += vec[k] & 1;
	return count;
}

static void alignment_and_bounds(void)
{
	struct arena a;
	CHECK_INT(arena__init(&a, 64 * 1024), 0);
	CHECK(a.base != NULL);
	CHECK_INT(a.cap, 64 * 1024);
	CHECK_INT(a.used, 0);
	for (size_t n = 0; n < 40; n++) {
		char *p = arena__alloc(&a, n);
		CHECK(p != NULL);
		CHECK_INT((uintptr_t)p % 16, 0);
		memset(p, 0x5a, n);
	}
	/* exactly the rest fits; one more byte does not (and is not partial) */
	size_t off = (a.used + 15) & ~(size_t)15;
	size_t rest = a.cap - off;
	size_t before = a.used;
	CHECK(arena__alloc(&a, rest + 1) == NULL);
	CHECK_INT(a.used, before);
	char *last = arena__alloc(&a, rest);
	CHECK(last != NULL);
	CHECK(last + rest == a.base + a.cap);
	CHECK_INT(a.used, a.cap);
	CHECK(arena__alloc(&a, 1) == NULL);
	CHECK(arena__alloc(&a, 0) != NULL);        /* zero bytes at the very end: still fine */
	CHECK(arena__alloc(&a, SIZE_MAX) == NULL);  /* no wrap-around */
	CHECK(arena__alloc(&a, SIZE_MAX - 8) == NULL);
	arena__fini(&a);
	CHECK(a.base == NULL);
}

static void unaligned_capacity(void)
{
	/* a capacity that is not a multiple of 16: the aligned offset may pass it */
	struct arena a;
	CHECK_INT(arena__init(&a, 4096 + 8), 0);
	CHECK(arena__alloc(&a, 4096 + 1) != NULL);
	CHECK(arena__alloc(&a, 0) == NULL);         /* next aligned offset 4112 > 4104 */
	arena__fini(&a);
	CHECK_INT(arena__init(&a, 100), 0);
	CHECK(arena__alloc(&a, 100) != NULL);
	CHECK(arena__alloc(&a, 1) == NULL);
	arena__fini(&a);
}

static void strndup_mark_release(void)
{
	struct arena a;
	CHECK_INT(arena__init(&a, 4096), 0);
	char *s = arena__strndup(&a, "hello world", 5);
	CHECK_STR(s, "hello");
	size_t m = arena__mark(&a);
	char *t = arena__alloc(&a, 1000);
	CHECK(t != NULL);
	arena__release(&a, m);
	CHECK_INT(a.used, m);
	CHECK(arena__alloc(&a, 1000) == t);          /* the same space again */
	size_t end = a.used;
	CHECK_INT(end, ((m + 15) & ~(size_t)15) + 1000);
	arena__release(&a, end + 100);               /* a mark in the future: ignored */
	CHECK_INT(a.used, end);
	CHECK_STR(s, "hello");                       /* earlier data untouched */
	CHECK(arena__strndup(&a, "x", 4096) == NULL); /* too big: NULL, not partial */
	CHECK_INT(a.used, end);
	arena__fini(&a);
}

static void reset_returns_pages(void)
{
	struct arena a;
	const size_t cap = 4 * 1024 * 1024;
	CHECK_INT(arena__init(&a, cap), 0);
	CHECK_INT(resident_pages(a.base, cap), 0);   /* reserved, not yet backed */
	char *p = arena__alloc(&a, 2 * 1024 * 1024);
	CHECK(p == a.base);
	memset(p, 1, 2 * 1024 * 1024);
	CHECK_INT(resident_pages(a.base, cap), 512);
	CHECK_INT(a.high, 2 * 1024 * 1024);
	arena__reset(&a);
	CHECK_INT(a.used, 0);
	CHECK_INT(a.high, 0);
	CHECK_INT(a.peak, 2 * 1024 * 1024);          /* the peak survives resets */
	/* the first ARENA_TRIM_BYTES stay, everything above went back */
	CHECK_INT(resident_pages(a.base, ARENA_TRIM_BYTES), ARENA_TRIM_BYTES / 4096);
	CHECK_INT(resident_pages(a.base + ARENA_TRIM_BYTES, cap - ARENA_TRIM_BYTES), 0);
	/* memory handed out after a trim reads as zero */
	char *q = arena__alloc(&a, 3 * 1024 * 1024);
	CHECK(q != NULL);
	CHECK(q[ARENA_TRIM_BYTES + 10] == 0);
	/* a small request does not trim at all */
	arena__reset(&a);
	char *r = arena__alloc(&a, 1000);
	memset(r, 7, 1000);
	arena__reset(&a);
	CHECK(a.base[999] == 7);
	arena__fini(&a);
}

int main(void)
{
	TEST(alignment_and_bounds);
	TEST(unaligned_capacity);
	TEST(strndup_mark_release);
	TEST(reset_returns_pages);
	return UNIT_DONE();
}
