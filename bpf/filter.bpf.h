/* Process filters for the built-in tracers, set before load.
 *
 * They live in .rodata (const volatile): userspace writes them through the
 * skeleton between open and load, the kernel freezes the map, and the
 * verifier sees constants, so a filter left at 0 costs no instructions.
 * Every tracer that hooks in the context of the task it reports on
 * includes this. filter_current() tests the current task's cgroup with the
 * helper; a tracer that reports on another task (runq_latency: the task
 * being scheduled) applies filter_task() and filter_task_cgroup() to it,
 * and trace_tcp compares the cgroup it recorded for a socket's owner. */
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

/* The cgroup filter applied to any task (read through its css_set; the
 * read is left out entirely when no cgroup is asked for). */
static __always_inline bool filter_task_cgroup(struct task_struct *t)
{
	if (!targ_cgroup_id)
		return true;
	struct task_struct___cg *c = (void *)t;
	return BPF_CORE_READ(c, cgroups, dfl_cgrp, kn, id) == targ_cgroup_id;
}

#endif
