/* trace_errors: failing syscalls (return value -1..-4095), shared with userspace.
 *
 * The kernel keeps a count per (process, syscall, errno) in `counts` and
 * writes a sample of each failure to the ring buffer `samples` while it has
 * room; what does not fit is counted in .bss, never lost silently. */
#ifndef EBPF_MCP_BPF_TRACE_ERRORS_H
#define EBPF_MCP_BPF_TRACE_ERRORS_H

#include "tracer.h"

#define TRACE_ERRORS_KEYS_MAX   10240          /* distinct (process, syscall, errno) */
#define TRACE_ERRORS_RING_BYTES (256 * 1024)   /* about 5000 samples */

struct trace_errors_key {
	__u32 tgid;
	__s32 nr;    /* syscall number (x86_64 table; a 32-bit task's is from the ia32 one) */
	__s32 err;   /* errno, positive */
};

struct trace_errors_value {
	__u64 count;
	__u64 first_ns;   /* CLOCK_MONOTONIC */
	__u64 last_ns;
	char comm[TRACER_COMM_BYTES];
};

struct trace_errors_sample {
	__u64 ts_ns;
	__u64 cgroup_id;   /* the task's cgroup v2 id (its directory's inode) */
	__u32 tgid;
	__u32 tid;
	__s32 nr;
	__s32 err;
	char comm[TRACER_COMM_BYTES];
};

#endif
