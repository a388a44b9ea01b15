/* oom_kills: processes the OOM killer chose, with their memory and the task
 * that triggered it; shared with userspace. */
#ifndef EBPF_MCP_BPF_OOM_KILLS_H
#define EBPF_MCP_BPF_OOM_KILLS_H

#include "tracer.h"

#define OOM_KILLS_RING_BYTES (64 * 1024)   /* about 400 records: OOM kills are rare */

struct oom_kills_event {
	__u64 ts_ns;
	/* the victim, from the tracepoint's record */
	__u32 pid;
	__u32 uid;
	__u64 total_vm_kb;
	__u64 anon_rss_kb;
	__u64 file_rss_kb;
	__u64 shmem_rss_kb;
	__u64 pgtables_kb;
	__s16 oom_score_adj;
	__u8 detailed;   /* 0: the kernel's record has only pid (before 6.8) */
	__u8 pad;
	char comm[TRACER_COMM_BYTES];
	/* the trigger: the task running when the victim was chosen */
	__u32 trigger_tgid;
	__u32 trigger_tid;
	__u64 trigger_cgroup_id;   /* cgroup v2 id */
	__u64 trigger_memcg_id;    /* its memory controller's cgroup (v1 or v2 hierarchy), 0 if none */
	char trigger_comm[TRACER_COMM_BYTES];
};

#endif
