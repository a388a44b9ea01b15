/* attach_program's parts: the request every attach kind works on, the
 * helpers they share (attach.c), and the per-kind attach functions
 * (attach_trace.c: tracing and perf hooks; attach_net.c: xdp, tc, cgroup).
 * Calls run one way: attach_program.c -> attach_trace.c, attach_net.c ->
 * attach.c.
 *
 * Each attach function reads and checks its own target fields (naming a
 * missing one with MISSING_TARGET), asks the kernel, and on success leaves
 * exactly one result in the request: a libbpf link, a kernel link fd, or a
 * clsact filter. It writes what it attached to into r->det. On failure it
 * has reported the error and holds nothing.
 */
#ifndef EBPF_MCP_ATTACH_H
#define EBPF_MCP_ATTACH_H

#include <stdbool.h>
#include <stdint.h>

#include "../kern/owned.h"
#include "tool.h"

struct bpf_program;
struct bpf_link;

struct attach_req {
	struct tool_ctx *ctx;
	const char *type;             /* the `type` argument */
	struct bpf_program *prog;
	uint32_t prog_id;
	struct jw det;                /* members of "attached_to" */
	/* the result: one of these */
	struct bpf_link *link;
	int link_fd;                  /* -1 when none */
	bool is_tc;
	struct owned_tc tc;
	const char *note;             /* static text, or NULL */
	int result_fd;                /* the link's fd once attached (-1 for a tc filter) */
};

/* Adds context.pointer "/field" to the error just set. */
void attach__pointer(struct attach_req *r, const char *field);
/* Fails MISSING_TARGET for a field the attach type needs. */
int attach__missing(struct attach_req *r, const char *field, const char *what);
/* Fails a bad argument value: validation/code with context.pointer. */
int attach__bad(struct attach_req *r, const char *field, enum err_code code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A kernel refusal: tool__fail_errno plus context.pointer when field. */
int attach__kernel(struct attach_req *r, int neg_errno, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Fails ATTACH_UNSUPPORTED: the running kernel cannot provide this hook. */
/* field: the argument that asks for it (pointer), "type" usually. */
int attach__unsupported(struct attach_req *r, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Whether a name is safe to hand to libbpf (no path tricks, no spaces):
 * [A-Za-z0-9_.-] plus extra, not starting with '.'. */
bool attach__name_ok(const char *s, const char *extra);

int attach__tracepoint(struct attach_req *r);
int attach__raw_tracepoint(struct attach_req *r);
int attach__trace(struct attach_req *r);        /* tp_btf, fentry, fexit */
int attach__kprobe(struct attach_req *r);       /* kprobe, kretprobe */
int attach__uprobe(struct attach_req *r);       /* uprobe, uretprobe */
int attach__perf_event(struct attach_req *r);
int attach__xdp(struct attach_req *r);
int attach__tc(struct attach_req *r);
int attach__cgroup(struct attach_req *r);
/* Removes a clsact filter attach__tc made (registration failed). */
void attach__tc_undo(const struct owned_tc *tc);

#endif
