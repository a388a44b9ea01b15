/* runq_latency: run-queue latency, from the moment a task becomes runnable
 * to the moment it runs.
 *
 * Hooks: tp_btf/sched_wakeup and sched_wakeup_new (a sleeping or new task
 * becomes runnable) and tp_btf/sched_switch, where a preempted task that
 * stays runnable starts waiting again and the task switched in stops
 * waiting. The filters test the task being scheduled, not the current one. */
#include "filter.bpf.h"
#include "runq_latency.h"

#define TASK_RUNNING 0

const volatile bool targ_per_process = false;   /* one histogram per process */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);   /* LRU: a task that dies while runnable ages out */
	__uint(max_entries, RUNQ_LATENCY_TASKS_MAX);
	__type(key, __u32);     /* tid */
	__type(value, __u64);   /* when it became runnable */
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, RUNQ_LATENCY_HISTS_MAX);
	__type(key, __u32);
	__type(value, struct runq_latency_hist);
} hists SEC(".maps");

__u64 hists_dropped = 0;   /* latencies not counted: `hists` was full */

static __always_inline bool want_task(struct task_struct *t)
{
	char comm[TRACER_COMM_BYTES];
	if (targ_comm[0])
		bpf_probe_read_kernel(comm, sizeof(comm), t->comm);
	else
		comm[0] = 0;
	return filter_task(t->tgid, t->pid, comm) && filter_task_cgroup(t);
}

static __always_inline void runnable(struct task_struct *t)
{
	if (!t->pid || !want_task(t))   /* pid 0: the idle task never waits */
		return;
	__u32 tid = t->pid;
	__u64 now = bpf_ktime_get_ns();
	bpf_map_update_elem(&starts, &tid, &now, BPF_ANY);
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(runq_latency_wakeup, struct task_struct *p)
{
	runnable(p);
	return 0;
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(runq_latency_wakeup_new, struct task_struct *p)
{
	runnable(p);
	return 0;
}

static __always_inline struct runq_latency_hist *hist_of(struct task_struct *t)
{
	__u32 key = targ_per_process ? t->tgid : 0;
	struct runq_latency_hist *h = bpf_map_lookup_elem(&hists, &key);
	if (h)
		return h;
	static const struct runq_latency_hist zero;
	bpf_map_update_elem(&hists, &key, &zero, BPF_NOEXIST);
	h = bpf_map_lookup_elem(&hists, &key);
	if (!h)
		__sync_fetch_and_add(&hists_dropped, 1);
	return h;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(runq_latency_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	/* Preempted (even between setting a sleep state and schedule()), or
	 * yielding while runnable: it stays on the run queue and waits again. */
	if (preempt || task_state(prev) == TASK_RUNNING)
		runnable(prev);

	__u32 tid = next->pid;
	__u64 *start = bpf_map_lookup_elem(&starts, &tid);
	if (!start)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&starts, &tid);

	struct runq_latency_hist *h = hist_of(next);
	if (!h)
		return 0;
	hist_add(h->slots, delta);
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, delta);
	if (delta > h->max_ns)
		h->max_ns = delta;   /* a racing larger value may be lost; count and sum are exact */
	if (targ_per_process)
		bpf_probe_read_kernel(h->comm, sizeof(h->comm), next->comm);
	return 0;
}
