/* Bump arenas: fixed regions mapped at start-up, reset after each request. */
#ifndef EBPF_MCP_ARENA_H
#define EBPF_MCP_ARENA_H

#include <stddef.h>

struct arena {
	char *base;
	size_t cap;      /* bytes reserved */
	size_t used;     /* bump offset */
	size_t high;     /* high-water mark since the last trim */
	size_t peak;     /* high-water mark since start */
};

/* Reserves cap bytes (untouched pages cost no RSS). 0 or -ENOMEM. */
int arena__init(struct arena *a, size_t cap);
void arena__fini(struct arena *a);
/* 16-byte aligned; NULL when the arena is full (never partial). */
void *arena__alloc(struct arena *a, size_t n);
char *arena__strndup(struct arena *a, const char *s, size_t n);
/* Forgets every allocation; pages above trim_bytes go back to the kernel so a
 * single huge request does not keep its RSS for the life of the process. */
void arena__reset(struct arena *a);
size_t arena__mark(const struct arena *a);
void arena__release(struct arena *a, size_t mark);

#define ARENA_TRIM_BYTES (256u * 1024u)

#endif
