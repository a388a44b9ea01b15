/* Shared by the libFuzzer harnesses (tests/fuzz/fuzz_*.c): the entry point's
 * declaration and a check that aborts (so libFuzzer keeps the input) when an
 * oracle the harness states does not hold. */
#ifndef EBPF_MCP_FUZZ_H
#define EBPF_MCP_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond) do {                                                   \
	if (!(cond)) {                                                          \
		fprintf(stderr, "%s:%d: oracle failed: %s\n", __FILE__, __LINE__, #cond); \
		abort();                                                        \
	}                                                                       \
} while (0)

#endif
