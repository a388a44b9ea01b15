/* runq_latency: how long runnable tasks waited for a CPU, as log2
 * histograms aggregated in the kernel; shared with userspace. */
#ifndef EBPF_MCP_BPF_RUNQ_LATENCY_H
#define EBPF_MCP_BPF_RUNQ_LATENCY_H

#include "tracer.h"

#define RUNQ_LATENCY_TASKS_MAX 10240   /* threads waiting on a run queue */
#define RUNQ_LATENCY_HISTS_MAX 1024    /* processes with their own histogram */

/* Key of `hists`: the process id with targ_per_process, else 0 for one
 * histogram of everything that passed the filters. */
struct runq_latency_hist {
	__u64 slots[TRACER_HIST_SLOTS];   /* ns, log2 */
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	char comm[TRACER_COMM_BYTES];     /* with targ_per_process: the process's last seen comm */
};

#endif
