/* A minimal unit-test harness: CHECK records a failure and carries on;
 * UNIT_MAIN runs the listed tests and exits non-zero if any check failed. */
#ifndef EBPF_MCP_UNIT_H
#define EBPF_MCP_UNIT_H

#include <stdio.h>

static int unit_failures, unit_checks;

#define CHECK(cond)                                                              \
	do {                                                                     \
		unit_checks++;                                                   \
		if (!(cond)) {                                                   \
			unit_failures++;                                         \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
		}                                                                \
	} while (0)

#define UNIT_RUN(fn)                                                             \
	do {                                                                     \
		int before = unit_failures;                                      \
		fn();                                                            \
		fprintf(stderr, "%s %s\n", unit_failures == before ? "ok  " : "FAIL", #fn); \
	} while (0)

#define UNIT_DONE()                                                              \
	(fprintf(stderr, "%d checks, %d failed\n", unit_checks, unit_failures),  \
	 unit_failures ? 1 : 0)

#endif
