/* Assertions: what must hold, checked in every build.
 *
 * A failed ASSERT writes "ebpf-mcp: assertion failed: EXPR at FILE:LINE" to
 * stderr and calls assert__fail, which aborts unless something else was
 * installed (init mode: log, then power off). A programmer error stops the
 * server; an operating error is an error result, never an assertion.
 *
 * (Included as "assert.h" with src/ on the include path, this shadows the C
 * library's <assert.h>: use ASSERT, not assert().)
 */
#ifndef EBPF_MCP_ASSERT_H
#define EBPF_MCP_ASSERT_H

/* Runs after the message. Must not return; abort() follows if it does. */
extern void (*assert__fail)(void);

/* Writes the message, calls assert__fail. */
__attribute__((noreturn, cold)) void assert__failed(const char *expr, const char *file, int line);

#define ASSERT(cond) ((cond) ? (void)0 : assert__failed(#cond, __FILE__, __LINE__))

#endif
