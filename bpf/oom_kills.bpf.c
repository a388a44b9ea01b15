/* oom_kills: every task the OOM killer marks as its victim, as an event.
 *
 * Hook: tracepoint oom/mark_victim (classic: its record holds the victim's
 * memory as the kernel computed it). Before 6.8 the record had only the
 * pid; the other members are read where CO-RE finds them. The tracepoint
 * fires in __oom_kill_process(), in the context of the task whose
 * allocation or charge ran out of memory: the trigger. Its memory cgroup is
 * the one charged: for a cgroup OOM, the cgroup at its limit or one below.
 *
 * Filters: pid and comm match the victim, cgroup the trigger. */
#include "filter.bpf.h"
#include "oom_kills.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, OOM_KILLS_RING_BYTES);
} events SEC(".maps");

__u64 events_dropped = 0;   /* records that did not fit in the ring buffer */

/* The current task's cgroup id in the hierarchy holding the memory
 * controller (cgroup v1 or v2), 0 when the kernel has no memcg. */
static __always_inline __u64 current_memcg_id(void)
{
	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return 0;
	struct task_struct *t = (struct task_struct *)bpf_get_current_task();
	struct css_set *cs = BPF_CORE_READ(t, cgroups);
	struct cgroup_subsys_state *css = NULL;
	__u64 at = bpf_core_field_offset(struct css_set, subsys) +
		   bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id) * sizeof(void *);
	if (!cs || bpf_probe_read_kernel(&css, sizeof(css), (char *)cs + at) || !css)
		return 0;
	return BPF_CORE_READ(css, cgroup, kn, id);
}

/* The victim's members beyond pid, where the record has them. */
static __always_inline void read_victim(struct trace_event_raw_mark_victim *ctx, struct oom_kills_event *e)
{
	if (!bpf_core_field_exists(ctx->total_vm))
		return;
	__u32 loc = BPF_CORE_READ(ctx, __data_loc_comm);
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), (char *)ctx + (loc & 0xffff));
	e->detailed = 1;
	e->total_vm_kb = BPF_CORE_READ(ctx, total_vm);
	e->anon_rss_kb = BPF_CORE_READ(ctx, anon_rss);
	e->file_rss_kb = BPF_CORE_READ(ctx, file_rss);
	e->shmem_rss_kb = BPF_CORE_READ(ctx, shmem_rss);
	e->pgtables_kb = BPF_CORE_READ(ctx, pgtables);
	e->oom_score_adj = BPF_CORE_READ(ctx, oom_score_adj);
	if (bpf_core_field_exists(ctx->uid))
		e->uid = BPF_CORE_READ(ctx, uid);
}

SEC("tracepoint/oom/mark_victim")
int oom_kills_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	__u32 pid = BPF_CORE_READ(ctx, pid);
	if (targ_tgid && pid != targ_tgid)
		return 0;
	if (targ_cgroup_id && bpf_get_current_cgroup_id() != targ_cgroup_id)
		return 0;
	struct oom_kills_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&events_dropped, 1);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->pid = pid;
	read_victim(ctx, e);
	if (!filter_comm(e->comm)) {   /* without the record's comm, a comm filter matches nothing */
		bpf_ringbuf_discard(e, 0);
		return 0;
	}
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	e->ts_ns = bpf_ktime_get_ns();
	e->trigger_tgid = pid_tgid >> 32;
	e->trigger_tid = (__u32)pid_tgid;
	e->trigger_cgroup_id = bpf_get_current_cgroup_id();
	e->trigger_memcg_id = current_memcg_id();
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
