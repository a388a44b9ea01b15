/* Process filters for the built-in tracers, set before load.
 *
 * They live in .rodata (const volatile): userspace writes them through the
 * skeleton between open and load, the kernel freezes the map, and the
 * verifier sees constants, so a filter left at 0 costs no instructions.
 * Every tracer that hooks in the context of the task it reports on
 * includes this. The cgroup test needs that context (the helper reads the
 * current task), so only filter_current() applies it; runq_latency applies
 * filter_task() to the task being scheduled and trace_tcp to a socket's
 * owner, and neither can filter by cgroup. */
#ifndef EBPF_MCP_BPF_FILTER_H
#define EBPF_MCP_BPF_FILTER_H

#include "tracer.bpf.h"

const volatile __u32 targ_tgid = 0;        /* process id; 0: any */
const volatile __u32 targ_tid = 0;         /* thread id; 0: any */
const volatile __u64 targ_cgroup_id = 0;   /* cgroup v2 id (inode of its directory); 0: any */
const volatile char targ_comm[TRACER_COMM_BYTES] = {};   /* comm prefix; empty: any */

static __always_inline bool filter_comm(const char *comm)
{
	for (int i = 0; i < TRACER_COMM_BYTES; i++) {
		if (!targ_comm[i])
			return true;
		if (comm[i] != targ_comm[i])
			return false;
	}
	return true;
}

/* The filters applied to a task given by its ids and comm. */
static __always_inline bool filter_task(__u32 tgid, __u32 tid, const char *comm)
{
	if (targ_tgid && tgid != targ_tgid)
		return false;
	if (targ_tid && tid != targ_tid)
		return false;
	return filter_comm(comm);
}

/* The filters applied to the current task; comm is filled either way so
 * the caller can record it. */
static __always_inline bool filter_current(__u64 pid_tgid, char *comm)
{
	bpf_get_current_comm(comm, TRACER_COMM_BYTES);
	if (targ_cgroup_id && bpf_get_current_cgroup_id() != targ_cgroup_id)
		return false;
	return filter_task(pid_tgid >> 32, (__u32)pid_tgid, comm);
}

#endif
