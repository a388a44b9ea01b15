/* Assertions that hold in release builds: a broken invariant stops the
 * process with file:line rather than letting it run on corrupted state. */
#ifndef EBPF_MCP_ASSERT_H
#define EBPF_MCP_ASSERT_H

/* Writes "ebpf-mcp: assertion failed: EXPR at FILE:LINE" to stderr, then
 * calls the hook (init mode powers off instead of panicking the kernel)
 * and aborts. */
void assert__fail(const char *expr, const char *file, int line) __attribute__((noreturn));
/* Runs before the abort (may be NULL). */
extern void (*assert__hook)(void);

#define ASSERT(cond) ((cond) ? (void)0 : assert__fail(#cond, __FILE__, __LINE__))

#endif
