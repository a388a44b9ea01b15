/* syscall_stats: syscall counts and latency per (process, syscall),
 * aggregated in the kernel; shared with userspace. */
#ifndef EBPF_MCP_BPF_SYSCALL_STATS_H
#define EBPF_MCP_BPF_SYSCALL_STATS_H

#include "tracer.h"

#define SYSCALL_STATS_KEYS_MAX     10240   /* distinct (process, syscall) */
#define SYSCALL_STATS_INFLIGHT_MAX 10240   /* threads inside a syscall */
#define SYSCALL_STATS_NR_MAX       512     /* syscall numbers with a histogram (x86_64: < 470) */

struct syscall_stats_key {
	__u32 tgid;
	__u32 nr;
};

/* Per CPU: userspace sums count/errors/sum_ns and takes min/max over CPUs. */
struct syscall_stats_value {
	__u64 count;
	__u64 errors;     /* returned -1..-4095 */
	__u64 sum_ns;
	__u64 min_ns;
	__u64 max_ns;
	char comm[TRACER_COMM_BYTES];
};

/* Per syscall number, over every process that passed the filters. */
struct syscall_stats_hist {
	__u64 slots[TRACER_HIST_SLOTS];
};

struct syscall_stats_start {
	__u64 ts_ns;
	__u64 nr;
};

#endif
