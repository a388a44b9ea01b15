/* Verifier logs in errors: what load_program and the built-in tracers say
 * when the kernel's verifier rejects a program. */
#ifndef EBPF_MCP_VLOG_H
#define EBPF_MCP_VLOG_H

#include <stdbool.h>
#include <stddef.h>

struct tool_ctx;

#define VLOG_TAIL_IN_ERROR (64 * 1024)   /* verifier log kept in an error's context */

/* A log filling its buffer (verifier_log_bytes) was cut by the kernel,
 * which kept the tail. */
bool vlog__full(const char *log);
/* Where the shown part of a log starts: its last keep bytes, from a line
 * start when anything before was dropped (by us or by the kernel). */
size_t vlog__tail_from(const char *log, size_t len, size_t keep, bool cut);
/* Fails the call with VERIFIER_REJECTED for program prog (of owner, e.g.
 * "the syscall_stats tracer", or NULL), the load's error rc and the log's
 * last lines in the error's context. Returns -1. */
int vlog__reject(struct tool_ctx *ctx, const char *owner, const char *prog, const char *log, int rc);

#endif
