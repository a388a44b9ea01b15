/* The capped heap: this program's malloc family, libbpf and libelf included.
 *
 * A static musl program may define malloc/free/... itself; the linker then
 * never pulls musl's own allocator for them. Every byte we take from the
 * kernel is counted against one cap (limits[LIM_HEAP_BYTES]); past it the
 * allocation fails with ENOMEM and the caller reports a `resource` error.
 *
 * Small blocks (<= HEAP_SMALL_MAX) come from size classes, four per power of
 * two, carved from HEAP_CHUNK_BYTES chunks and recycled on free lists. Large
 * blocks are their own mappings, so freeing one returns it to the kernel and
 * realloc can grow it with mremap without copying (libbpf grows BTF arrays
 * that way). One mutex guards it all: the loop and the workers (core/bio)
 * allocate concurrently, and a lock held for a few hundred nanoseconds costs
 * less than per-thread caches would in memory the cap must count.
 */
#define _GNU_SOURCE
#include "heap.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#if defined(EBPF_MCP_SYSTEM_HEAP) && defined(EBPF_MCP_FAULTS)
#error "fault injection needs the capped heap (EBPF_MCP_FAULTS without EBPF_MCP_SYSTEM_HEAP)"
#endif

#ifdef EBPF_MCP_SYSTEM_HEAP
/* Sanitizer and fuzzing builds (glibc, clang): the C library's allocator
 * stays, so AddressSanitizer sees every block's bounds and lifetime. There
 * is no cap to enforce then; the stats say so (cap only, nothing counted). */
static uint64_t system_cap;

void heap__set_cap(uint64_t bytes) { system_cap = bytes; }

void heap__stats(struct heap_stats *s)
{
	*s = (struct heap_stats){ .cap = system_cap ? system_cap : HEAP_DEFAULT_CAP };
}

uint64_t heap__refused_here(void) { return 0; }
#else

#define HEAP_ALIGN        16u
#define HEAP_SMALL_MAX    (64u * 1024u)       /* above: a mapping of its own */
#define HEAP_CHUNK_BYTES  (256u * 1024u)      /* small classes carve from these */
#define HEAP_PAGE         4096u
#define HEAP_CLASSES      49                  /* 16 B, then 4 per doubling up to 64 KiB */
#define HEAP_MAGIC_SMALL  0x5ab1e5ab1e000000ull
#define HEAP_MAGIC_LARGE  0x1a29e1a29e000000ull
#define HEAP_MAGIC_MASK   0xffffffffff000000ull

/* Sits right before every block handed out (keeps 16-byte alignment). */
struct hdr {
	uint64_t tag;   /* magic | class index, or magic for large */
	uint64_t size;  /* small: class size; large: mapping length */
};
_Static_assert(sizeof(struct hdr) == HEAP_ALIGN, "header keeps alignment");
/* class_of(2^k) is 4k - 16: the largest small block needs that index */
_Static_assert(4 * __builtin_ctz(HEAP_SMALL_MAX) - 16 < HEAP_CLASSES, "every small size has a class");

struct free_blk { struct free_blk *next; };

static struct {
	uint64_t cap;         /* 0 means "not yet set": use the default */
	uint64_t mapped;      /* bytes taken from the kernel, the capped figure */
	uint64_t peak;
	uint64_t in_use;      /* bytes handed out (class sizes), for stats */
	uint64_t failures;    /* allocations refused by the cap */
	char *bump, *bump_end;
	struct free_blk *free_list[HEAP_CLASSES];
} heap;

/* Refusals of the allocations this thread asked for: a call's handler
 * runs on one thread, so it can tell its own refusal from another call's
 * (libelf and libbpf often report a failed allocation as their own code). */
static __thread uint64_t refused_here;

static pthread_mutex_t heap_lock = PTHREAD_MUTEX_INITIALIZER;
#define LOCKED(expr) ({ pthread_mutex_lock(&heap_lock); __typeof__(expr) r_ = (expr); pthread_mutex_unlock(&heap_lock); r_; })

void heap__set_cap(uint64_t bytes) { heap.cap = bytes; }

uint64_t heap__refused_here(void) { return refused_here; }

void heap__stats(struct heap_stats *s)
{
	pthread_mutex_lock(&heap_lock);
	s->cap = heap.cap ? heap.cap : HEAP_DEFAULT_CAP;
	s->mapped = heap.mapped;
	s->peak = heap.peak;
	s->in_use = heap.in_use;
	s->failures = heap.failures;
	pthread_mutex_unlock(&heap_lock);
}

static size_t class_size(unsigned c)
{
	/* class c: base 2^(c/4 + 4), plus quarter steps */
	size_t base = (size_t)1 << (c / 4 + 4);
	return base + (base / 4) * (c % 4);
}

static unsigned class_of(size_t n)
{
	if (n <= 16)
		return 0;
	unsigned lg = 63 - __builtin_clzll(n - 1);     /* floor(log2(n-1)) */
	size_t base = (size_t)1 << lg;                  /* base < n <= 2*base */
	unsigned q = (unsigned)((n - 1 - base) / (base / 4)) + 1;  /* 1..4 */
	unsigned c = (lg - 4) * 4 + q;
	return c;                                     /* class_size(c) >= n */
}

/* ---- fault injection (test builds only) ---------------------------------
 *
 * Built with -DEBPF_MCP_FAULTS (build/test/ebpf-mcp-faults, never bin/), a
 * thread can ask for its nth allocation from now on to fail with ENOMEM, as
 * the cap would refuse it: that is how the tests walk every allocation of a
 * tool call. Per thread, so a call on one worker never fails another's
 * allocation. The product binary has none of this code. */
#ifdef EBPF_MCP_FAULTS
static __thread struct { bool armed, fired; uint64_t nth, seen; } fault;

void heap__fault_arm(uint64_t nth) { fault.armed = true, fault.nth = nth, fault.seen = 0, fault.fired = false; }

bool heap__fault_disarm(uint64_t *seen)
{
	if (seen)
		*seen = fault.seen;
	fault.armed = false;
	return fault.fired;
}

/* Counts one allocation; true when it is the one to fail (counted as a
 * refusal, so what reports the cap's refusals reports it too). */
static bool fault_now(void)
{
	if (!fault.armed || ++fault.seen != fault.nth)
		return false;
	fault.fired = true;
	heap.failures++;
	refused_here++;
	errno = ENOMEM;
	return true;
}
#else
static bool fault_now(void) { return false; }
#endif

static void *map_pages(size_t len)
{
	uint64_t cap = heap.cap ? heap.cap : HEAP_DEFAULT_CAP;
	if (len > cap || heap.mapped > cap - len) {
		heap.failures++;
		refused_here++;
		errno = ENOMEM;
		return NULL;
	}
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	heap.mapped += len;
	if (heap.mapped > heap.peak)
		heap.peak = heap.mapped;
	return p;
}

static void unmap_pages(void *p, size_t len)
{
	munmap(p, len);
	heap.mapped -= len;
}

static void *small_alloc(size_t n)
{
	unsigned c = class_of(n);
	size_t sz = class_size(c);
	struct hdr *h;

	if (heap.free_list[c]) {
		h = (struct hdr *)heap.free_list[c];
		heap.free_list[c] = ((struct free_blk *)h)->next;
	} else {
		/* class sizes are not all multiples of 16: round the step so
		 * every header, and so every block, stays 16-byte aligned */
		size_t need = (sz + sizeof(*h) + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1);
		if ((size_t)(heap.bump_end - heap.bump) < need) {
			/* the tail of the old chunk is left unused: at most one block */
			char *chunk = map_pages(HEAP_CHUNK_BYTES);
			if (!chunk)
				return NULL;
			heap.bump = chunk;
			heap.bump_end = chunk + HEAP_CHUNK_BYTES;
		}
		h = (struct hdr *)heap.bump;
		heap.bump += need;
	}
	h->tag = HEAP_MAGIC_SMALL | c;
	h->size = sz;
	heap.in_use += sz;
	return h + 1;
}

static size_t page_round(size_t n) { return (n + HEAP_PAGE - 1) & ~(size_t)(HEAP_PAGE - 1); }

static void *large_alloc(size_t n)
{
	if (n > SIZE_MAX - 2 * HEAP_PAGE) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = page_round(n + sizeof(struct hdr));
	struct hdr *h = map_pages(len);
	if (!h)
		return NULL;
	h->tag = HEAP_MAGIC_LARGE;
	h->size = len;
	heap.in_use += len;
	return h + 1;
}

static void *heap_malloc(size_t n)
{
	if (fault_now())
		return NULL;
	if (n == 0)
		n = 1;
	return n <= HEAP_SMALL_MAX ? small_alloc(n) : large_alloc(n);
}

static struct hdr *hdr_of(void *p) { return (struct hdr *)p - 1; }

/* A large block's mapping starts on the page holding its header. */
static char *map_base(struct hdr *h) { return (char *)((uintptr_t)h & ~(uintptr_t)(HEAP_PAGE - 1)); }

static void heap_free(void *p)
{
	if (!p)
		return;
	struct hdr *h = hdr_of(p);
	uint64_t kind = h->tag & HEAP_MAGIC_MASK;
	if (kind == HEAP_MAGIC_SMALL) {
		unsigned c = (unsigned)(h->tag & 0xff);
		heap.in_use -= h->size;
		((struct free_blk *)h)->next = heap.free_list[c];
		heap.free_list[c] = (struct free_blk *)h;
		return;
	}
	if (kind != HEAP_MAGIC_LARGE)
		__builtin_trap();   /* not ours: a double free or wild pointer */
	heap.in_use -= h->size;
	unmap_pages(map_base(h), h->size);
}

size_t malloc_usable_size(void *p)
{
	if (!p)
		return 0;
	struct hdr *h = hdr_of(p);
	if ((h->tag & HEAP_MAGIC_MASK) == HEAP_MAGIC_SMALL)
		return h->size;
	return (size_t)(map_base(h) + h->size - (char *)p);
}

static void *heap_calloc(size_t a, size_t b)
{
	if (b && a > SIZE_MAX / b) {
		errno = ENOMEM;
		return NULL;
	}
	void *p = heap_malloc(a * b);
	if (p && a * b <= HEAP_SMALL_MAX)
		memset(p, 0, a * b);   /* fresh mappings are zero already */
	return p;
}

static void *large_grow(struct hdr *h, size_t n)
{
	if (fault_now())
		return NULL;
	size_t len = page_round(n + sizeof(*h));
	uint64_t cap = heap.cap ? heap.cap : HEAP_DEFAULT_CAP;
	if (len > h->size && (len - h->size > cap || heap.mapped > cap - (len - h->size))) {
		heap.failures++;
		refused_here++;
		errno = ENOMEM;
		return NULL;
	}
	size_t old = h->size;   /* h is unmapped once mremap moves the block */
	void *q = mremap(h, old, len, MREMAP_MAYMOVE);
	if (q == MAP_FAILED) {
		errno = ENOMEM;
		return NULL;
	}
	heap.mapped = heap.mapped - old + len;
	heap.in_use = heap.in_use - old + len;
	if (heap.mapped > heap.peak)
		heap.peak = heap.mapped;
	h = q;
	h->size = len;
	return h + 1;
}

static void *heap_realloc(void *p, size_t n)
{
	if (!p)
		return heap_malloc(n);
	if (n == 0)
		n = 1;
	struct hdr *h = hdr_of(p);
	size_t have = malloc_usable_size(p);
	if ((h->tag & HEAP_MAGIC_MASK) == HEAP_MAGIC_LARGE && n > HEAP_SMALL_MAX &&
	    map_base(h) == (char *)h)
		return large_grow(h, n);
	if (n <= have && n > have / 2)
		return p;
	void *q = heap_malloc(n);
	if (!q)
		return NULL;
	memcpy(q, p, n < have ? n : have);
	heap_free(p);
	return q;
}

/* Over-aligned requests are rare (none in libbpf's hot paths): they get a
 * mapping of their own whose data starts one page in, so any alignment up to
 * a page holds. free() finds the mapping by rounding the header down. */
static void *heap_aligned(size_t align, size_t n)
{
	if (align <= HEAP_ALIGN)
		return heap_malloc(n);
	if (align & (align - 1) || align > HEAP_PAGE) {
		errno = EINVAL;
		return NULL;
	}
	if (fault_now())
		return NULL;
	if (n > SIZE_MAX - 2 * HEAP_PAGE) {
		errno = ENOMEM;
		return NULL;
	}
	size_t len = page_round(n) + HEAP_PAGE;
	char *base = map_pages(len);
	if (!base)
		return NULL;
	struct hdr *h = (struct hdr *)(base + HEAP_PAGE) - 1;
	h->tag = HEAP_MAGIC_LARGE;
	h->size = len;
	heap.in_use += len;
	return h + 1;
}

int posix_memalign(void **out, size_t align, size_t n)
{
	if (align < sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	void *p = LOCKED(heap_aligned(align, n));
	if (!p)
		return errno ? errno : ENOMEM;
	*out = p;
	return 0;
}

void *memalign(size_t align, size_t n) { return LOCKED(heap_aligned(align, n)); }

/* ---- the public malloc family: each call under the lock ------------------ */

void *malloc(size_t n) { return LOCKED(heap_malloc(n)); }
void *calloc(size_t a, size_t b) { return LOCKED(heap_calloc(a, b)); }
void *realloc(void *p, size_t n) { return LOCKED(heap_realloc(p, n)); }
void *aligned_alloc(size_t align, size_t n) { return LOCKED(heap_aligned(align, n)); }

void free(void *p)
{
	pthread_mutex_lock(&heap_lock);
	heap_free(p);
	pthread_mutex_unlock(&heap_lock);
}
#endif /* EBPF_MCP_SYSTEM_HEAP */
