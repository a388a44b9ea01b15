/* trace_function: one kernel function's calls, with raw argument registers,
 * return value and latency; shared with userspace.
 *
 * The BPF side knows no types: it records the first TRACE_FUNCTION_ARGS
 * argument registers as u64 and, for the ones userspace marked as strings
 * (a `char *` in the function's BTF prototype), a bounded copy of the
 * string. Userspace decodes everything through the prototype. */
#ifndef EBPF_MCP_BPF_TRACE_FUNCTION_H
#define EBPF_MCP_BPF_TRACE_FUNCTION_H

#include "tracer.h"

#define TRACE_FUNCTION_ARGS        6             /* argument registers of the x86_64 and arm64 ABIs */
#define TRACE_FUNCTION_STR_BYTES   128           /* one string argument, NUL included */
#define TRACE_FUNCTION_INFLIGHT_MAX 10240        /* threads inside the function at once */
#define TRACE_FUNCTION_STR_INFLIGHT_MAX 1024     /* of which with strings kept (768 bytes each) */
#define TRACE_FUNCTION_RETVALS_MAX 1024          /* distinct return values counted */
#define TRACE_FUNCTION_STACKS_MAX  1024          /* distinct entry stacks kept */
#define TRACE_FUNCTION_STACK_DEPTH 64            /* frames per stack (the kernel caps it at 127) */
#define TRACE_FUNCTION_RING_BYTES  (1024 * 1024) /* about 1100 records */

/* How a string argument is read. The kernel marks user pointers `__user`,
 * which reaches BTF only as a type tag on kernels built with clang; without
 * one the address decides (TRACE_FUNCTION_STR_AUTO): on x86_64 and arm64
 * user addresses have the top bit clear and kernel addresses set. */
enum trace_function_str_mode {
	TRACE_FUNCTION_STR_NONE = 0,    /* not a string */
	TRACE_FUNCTION_STR_KERNEL = 1,  /* bpf_probe_read_kernel_str */
	TRACE_FUNCTION_STR_USER = 2,    /* bpf_probe_read_user_str (BTF type tag "user") */
	TRACE_FUNCTION_STR_AUTO = 3,    /* by the address, as above */
};

/* What the return register holds, for filtering and counting. */
enum trace_function_ret_kind {
	TRACE_FUNCTION_RET_VOID = 0,    /* nothing: not counted */
	TRACE_FUNCTION_RET_INT = 1,     /* an integer, counted by value */
	TRACE_FUNCTION_RET_PTR = 2,     /* a pointer: counted as NULL, ERR_PTR(-errno) or valid */
};

/* The count key of every valid (non-NULL, non-error) pointer return. */
#define TRACE_FUNCTION_RET_VALID_PTR 1

/* What entry keeps per thread, and the head of every record. */
struct trace_function_start {
	__u64 ts_ns;                            /* entry, CLOCK_MONOTONIC */
	__u64 cgroup_id;                        /* the task's cgroup v2 id */
	__u64 args[TRACE_FUNCTION_ARGS];        /* raw registers; 0 past the function's own */
	__s32 stack_id;                         /* kernel stack at entry, -errno, or -1 when not asked */
	__s16 str_len[TRACE_FUNCTION_ARGS];     /* bytes read with the NUL, -errno, or 0: not a string */
	__u8 str_cut;                           /* bit i: string i was longer than STR_BYTES - 1 */
	__u8 pad[3];
	char comm[TRACER_COMM_BYTES];
};

struct trace_function_strs {
	char s[TRACE_FUNCTION_ARGS][TRACE_FUNCTION_STR_BYTES];
};

struct trace_function_event {
	struct trace_function_start start;
	__u64 latency_ns;
	__u64 ret;                              /* sign- or zero-extended from the return type's width */
	__u32 tgid;
	__u32 tid;
	__u32 cpu;                              /* where it returned */
	__u32 pad;
	struct trace_function_strs strs;        /* only the string arguments' slots are written */
};

#endif
