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
/* Allocations the cap refused to the calling thread so far (0 with the
 * system allocator). */
uint64_t heap__refused_here(void);

#ifdef EBPF_MCP_FAULTS
#include <stdbool.h>
/* Test builds only (see heap.c): this thread's nth allocation from now on
 * (1 is the next one) fails once with ENOMEM; 0 counts without failing. */
void heap__fault_arm(uint64_t nth);
/* Stops counting; whether the armed allocation failed, and (seen) how many
 * allocations this thread made while armed (the failed one included). */
bool heap__fault_disarm(uint64_t *seen);
#endif

#endif
