/* The capped heap (see heap.c): stats and the cap. */
#ifndef EBPF_MCP_HEAP_H
#define EBPF_MCP_HEAP_H

#include <stdint.h>

/* Until main() sets the cap from the limits, this one holds. */
#define HEAP_DEFAULT_CAP (128ull * 1024 * 1024)

struct heap_stats {
	uint64_t cap, mapped, peak, in_use, failures;
};

void heap__set_cap(uint64_t bytes);
void heap__stats(struct heap_stats *s);

#endif
