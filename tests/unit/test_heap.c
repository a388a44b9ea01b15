/* Unit tests for the capped heap (src/mem/heap.c), which is this binary's
 * malloc family: alignment, reuse, realloc/calloc/aligned_alloc patterns, and
 * the cap, which must allow a mapping that ends exactly at it and refuse one
 * page more. mincore(2) is the witness that a large block's mapping really
 * exists while held and is gone after free(). */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mem/heap.h"
#include "unit.h"

#define PAGE 4096u
#define MIB_ (1024u * 1024u)

/* Through volatiles, so the compiler neither folds impossible sizes nor
 * flags the deliberate use of a block after a realloc that must fail. */
static volatile size_t size_max = SIZE_MAX;
static void *(*volatile re)(void *, size_t) = realloc;

static struct heap_stats st(void)
{
	struct heap_stats s;
	heap__stats(&s);
	return s;
}

/* Whether the page holding p is mapped at all (mincore fails with ENOMEM on
 * an unmapped range). */
static bool mapped_page(uintptr_t p)
{
	unsigned char v;
	void *pg = (void *)(p & ~(uintptr_t)(PAGE - 1));
	return mincore(pg, PAGE, &v) == 0;
}

static void alignment(void)
{
	/* every block is aligned for any object (16 bytes on x86_64) */
	static void *ptrs[600];
	unsigned k = 0;
	for (size_t n = 0; n < 300; n++) {
		void *p = malloc(n);
		void *q = malloc(n);
		char name[32];
		snprintf(name, sizeof(name), "malloc(%zu)", n);
		unit_case = name;
		CHECK(p != NULL && q != NULL);
		CHECK_INT((uintptr_t)p % 16, 0);
		CHECK_INT((uintptr_t)q % 16, 0);
		CHECK(malloc_usable_size(p) >= n);
		ptrs[k++] = p;
		ptrs[k++] = q;
	}
	unit_case = "alignment";
	for (size_t n = 300; n < 70000; n = n * 5 / 4 + 1) {
		void *p = malloc(n);
		CHECK(p != NULL && (uintptr_t)p % 16 == 0);
		CHECK(malloc_usable_size(p) >= n);
		free(p);
	}
	while (k)
		free(ptrs[--k]);
	CHECK_INT(malloc_usable_size(NULL), 0);
}

static void reuse_and_zeroing(void)
{
	free(NULL);                                   /* a no-op */
	void *z = malloc(0);
	CHECK(z != NULL);
	free(z);
	char *p = malloc(100);
	memset(p, 0xaa, 100);
	free(p);
	char *q = malloc(100);                        /* the same class: recycled */
	CHECK(q == p);
	free(q);
	char *c = calloc(10, 10);                     /* recycled again, but zeroed */
	CHECK(c == p);
	bool zero = true;
	for (int k = 0; k < 100; k++)
		zero &= c[k] == 0;
	CHECK(zero);
	free(c);
	char *big = calloc(1, 200000);                /* a fresh mapping: zero */
	CHECK(big != NULL && big[0] == 0 && big[199999] == 0);
	free(big);
	errno = 0;
	CHECK(calloc(size_max / 2, 3) == NULL);       /* n * size overflows */
	CHECK_INT(errno, ENOMEM);
	errno = 0;
	CHECK(malloc(size_max) == NULL);
	CHECK_INT(errno, ENOMEM);
	CHECK(malloc(size_max - PAGE) == NULL);
}

static void fill(unsigned char *p, size_t n, unsigned seed);

/* Every size class, the top one (64 KiB) included, recycles its own blocks;
 * one byte more is a mapping of its own that free() gives back. */
static void classes(void)
{
	const size_t sizes[] = { 1, 16, 17, 20, 21, 32, 33, 100, 1000, 4096, 4097, 32768,
				 32769, 57344, 57345, 65535, 65536 };
	for (unsigned k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char name[32];
		snprintf(name, sizeof(name), "class of %zu", sizes[k]);
		unit_case = name;
		unsigned char *p = malloc(sizes[k]);
		uintptr_t addr = (uintptr_t)p;
		fill(p, sizes[k], 7);
		free(p);
		unsigned char *q = malloc(sizes[k]);
		CHECK((uintptr_t)q == addr);
		CHECK(malloc_usable_size(q) >= sizes[k]);
		free(q);
	}
	unit_case = "classes";
	unsigned char *l = malloc(65537);
	uintptr_t addr = (uintptr_t)l;
	CHECK(l != NULL && mapped_page(addr));
	free(l);
	CHECK(!mapped_page(addr));
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
	for (size_t k = 0; k < n; k++)
		p[k] = (unsigned char)(k * 31 + seed);
}

static bool same(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t k = 0; k < n; k++)
		if (p[k] != (unsigned char)(k * 31 + seed))
			return false;
	return true;
}

static void realloc_patterns(void)
{
	unsigned char *p = realloc(NULL, 10);         /* realloc(NULL) is malloc */
	CHECK(p != NULL);
	fill(p, 10, 1);
	/* small growth through several classes keeps the content */
	size_t cur = 10;
	for (size_t n = 20; n <= 60000; n *= 2) {
		p = realloc(p, n);
		CHECK(p != NULL && same(p, 10, 1));
		cur = n;
	}
	/* shrinking to a bit over half keeps the block; far smaller moves it */
	fill(p, cur, 2);
	size_t have = malloc_usable_size(p);
	CHECK(re(p, have / 2 + 1) == p);
	unsigned char *s = realloc(p, 100);
	CHECK(s != NULL && same(s, 100, 2));
	/* small -> large -> larger (mremap) -> smaller -> small */
	unsigned char *l = realloc(s, 1 * MIB_);
	CHECK(l != NULL && same(l, 100, 2));
	fill(l, MIB_, 3);
	l = realloc(l, 8 * MIB_);
	CHECK(l != NULL && same(l, MIB_, 3));
	fill(l, 8 * MIB_, 4);
	l = realloc(l, 12 * MIB_ + 123);
	CHECK(l != NULL && same(l, 8 * MIB_, 4));
	l = realloc(l, 100000);
	CHECK(l != NULL && same(l, 100000, 4));
	l = realloc(l, 1000);
	CHECK(l != NULL && same(l, 1000, 4));
	unsigned char *z = realloc(l, 0);             /* shrinks, stays a valid block */
	CHECK(z != NULL);
	free(z);
}

static void aligned(void)
{
	const size_t aligns[] = { 1, 2, 8, 16, 32, 64, 256, 4096 };
	for (unsigned k = 0; k < sizeof(aligns) / sizeof(aligns[0]); k++) {
		for (size_t n = 1; n < 20000; n = n * 7 + 3) {
			unsigned char *p = aligned_alloc(aligns[k], n);
			CHECK(p != NULL);
			CHECK_INT((uintptr_t)p % (aligns[k] < 16 ? 16 : aligns[k]), 0);
			fill(p, n, 5);
			CHECK(same(p, n, 5));
			/* realloc of an over-aligned block copies it */
			p = realloc(p, n + 70000);
			CHECK(p != NULL && same(p, n, 5));
			free(p);
		}
	}
	errno = 0;
	CHECK(aligned_alloc(24, 10) == NULL);         /* not a power of two */
	CHECK_INT(errno, EINVAL);
	errno = 0;
	CHECK(aligned_alloc(8192, 10) == NULL);       /* over a page: unsupported */
	CHECK_INT(errno, EINVAL);
	void *q = NULL;
	CHECK_INT(posix_memalign(&q, 64, 1000), 0);
	CHECK(q != NULL && (uintptr_t)q % 64 == 0);
	free(q);
	CHECK_INT(posix_memalign(&q, 4, 1000), EINVAL);      /* under sizeof(void *) */
	CHECK_INT(posix_memalign(&q, 48, 1000), EINVAL);
	void *m = memalign(128, 10);
	CHECK(m != NULL && (uintptr_t)m % 128 == 0);
	free(m);
}

/* Many interleaved blocks of mixed sizes: no two overlap, none is lost. */
static void churn(void)
{
	enum { N = 4000 };
	static unsigned char *blk[N];
	static size_t len[N];
	uint64_t in_use0 = st().in_use;
	unsigned x = 12345;
	for (unsigned k = 0; k < N; k++) {
		x = x * 1103515245 + 12345;
		len[k] = (x >> 8) % (k % 50 == 0 ? 200000 : 3000) + 1;
		blk[k] = malloc(len[k]);
		CHECK(blk[k] != NULL);
		fill(blk[k], len[k], k);
	}
	for (unsigned k = 0; k < N; k += 2) {         /* free half, reallocate others */
		free(blk[k]);
		blk[k] = NULL;
	}
	for (unsigned k = 1; k < N; k += 4) {
		blk[k] = realloc(blk[k], len[k] * 2 + 1);
		CHECK(blk[k] != NULL && same(blk[k], len[k], k));
		fill(blk[k], len[k] * 2 + 1, k);
		len[k] = len[k] * 2 + 1;
	}
	for (unsigned k = 0; k < N; k += 2) {
		blk[k] = malloc(len[k]);
		fill(blk[k], len[k], k);
	}
	bool intact = true;
	for (unsigned k = 0; k < N; k++)
		intact &= same(blk[k], len[k], k);
	CHECK(intact);
	for (unsigned k = 0; k < N; k++)
		free(blk[k]);
	CHECK_U64(st().in_use, in_use0);
}

static void cap_boundary(void)
{
	struct heap_stats s0 = st();
	CHECK_U64(s0.cap, HEAP_DEFAULT_CAP);          /* nothing set yet: the default */
	CHECK(s0.peak >= s0.mapped);
	/* leave room for exactly 1 MiB of mappings */
	heap__set_cap(s0.mapped + MIB_);
	CHECK_U64(st().cap, s0.mapped + MIB_);
	/* a large block costs page_round(n + 16): 1 MiB - 16 fills it exactly */
	void *p = malloc(MIB_ - 16);
	uintptr_t addr = (uintptr_t)p;
	CHECK(p != NULL);
	CHECK_U64(st().mapped, s0.mapped + MIB_);
	CHECK(mapped_page(addr));
	uint64_t f0 = st().failures;
	errno = 0;
	CHECK(malloc(MIB_) == NULL);                  /* nothing left */
	CHECK_INT(errno, ENOMEM);
	CHECK_U64(st().failures, f0 + 1);
	free(p);
	CHECK_U64(st().mapped, s0.mapped);
	CHECK(!mapped_page(addr));                    /* really unmapped */
	/* one byte more needs one page more: refused, and counted */
	errno = 0;
	CHECK(malloc(MIB_ - 15) == NULL);
	CHECK_INT(errno, ENOMEM);
	CHECK_U64(st().failures, f0 + 2);
	CHECK_U64(st().mapped, s0.mapped);
	/* aligned_alloc pays one extra page */
	CHECK(aligned_alloc(64, MIB_ - PAGE + 1) == NULL);
	p = aligned_alloc(64, MIB_ - PAGE);
	CHECK(p != NULL);
	CHECK_U64(st().mapped, s0.mapped + MIB_);
	free(p);
	/* realloc growth: up to the cap works (in place, by mremap), past it
	 * fails and leaves the block as it was */
	unsigned char *r = malloc(512 * 1024 - 16);
	CHECK(r != NULL);
	fill(r, 512 * 1024 - 16, 6);
	errno = 0;
	CHECK(re(r, MIB_ - 15) == NULL);
	CHECK_INT(errno, ENOMEM);
	CHECK_U64(st().failures, f0 + 4);
	CHECK(same(r, 512 * 1024 - 16, 6));
	r = realloc(r, MIB_ - 16);
	CHECK(r != NULL && same(r, 512 * 1024 - 16, 6));
	CHECK_U64(st().mapped, s0.mapped + MIB_);
	free(r);
	CHECK_U64(st().mapped, s0.mapped);
	/* the peak saw the full cap; mapped is back where it started */
	CHECK(st().peak >= s0.mapped + MIB_);
	/* a request bigger than the whole cap never wraps the arithmetic */
	CHECK(malloc(2 * MIB_) == NULL);
	CHECK(calloc(1, 3 * MIB_) == NULL);
	heap__set_cap(0);                             /* back to the default */
	CHECK_U64(st().cap, HEAP_DEFAULT_CAP);
	void *after = malloc(2 * MIB_);
	CHECK(after != NULL);
	free(after);
}

static void small_blocks_under_cap(void)
{
	/* small blocks come from 256 KiB chunks: once the cap is reached, a
	 * class with nothing free fails instead of overrunning it */
	struct heap_stats s0 = st();
	heap__set_cap(s0.mapped + 256 * 1024);
	static void *keep[2000];
	unsigned n = 0;
	uint64_t f0 = st().failures;
	while (n < 2000) {
		void *p = malloc(4000);
		if (!p)
			break;
		keep[n++] = p;
	}
	CHECK(n > 10 && n < 2000);
	CHECK(st().mapped <= s0.mapped + 256 * 1024);
	CHECK_U64(st().failures, f0 + 1);
	while (n)
		free(keep[--n]);
	heap__set_cap(0);
}

int main(void)
{
	TEST(alignment);
	TEST(reuse_and_zeroing);
	TEST(classes);
	TEST(realloc_patterns);
	TEST(aligned);
	TEST(churn);
	TEST(cap_boundary);
	TEST(small_blocks_under_cap);
	return UNIT_DONE();
}
