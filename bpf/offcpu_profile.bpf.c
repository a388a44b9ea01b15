/* offcpu_profile: how long threads stay blocked off the CPU, and where.
 *
 * Hook: tp_btf/sched_switch. When the task leaving the CPU is blocked (not
 * preempted, and its state is not TASK_RUNNING: it waits for an event, not
 * for a CPU), the time and its kernel and user stacks are kept under its
 * tid; when that thread is switched in again, the time since is added to
 * its (thread, kernel stack, user stack) sum. The time therefore includes
 * the run-queue wait between its wake-up and its return to a CPU. The
 * filters (applied at the switch-out, in the blocked task's context) and
 * the stacks need the current task, which sched_switch still is for prev.
 * Threads already blocked when the run starts are not counted: their
 * switch-out was not seen. */
#include "filter.bpf.h"
#include "stacks.bpf.h"
#include "offcpu_profile.h"

#define TASK_RUNNING         0x0000
#define TASK_INTERRUPTIBLE   0x0001
#define TASK_UNINTERRUPTIBLE 0x0002
#define __TASK_STOPPED       0x0004
#define __TASK_TRACED        0x0008
#define TASK_PARKED          0x0040
#define TASK_DEAD            0x0080
#define TASK_NOLOAD          0x0400

const volatile __u64 targ_min_block_ns = 0;   /* shorter blocks are not counted */
const volatile bool targ_kernel_stack = true;
const volatile bool targ_user_stack = true;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_PROFILE_TASKS_MAX);
	__type(key, __u32);   /* tid */
	__type(value, struct offcpu_profile_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OFFCPU_PROFILE_KEYS_MAX);
	__type(key, struct stacks_key);
	__type(value, struct offcpu_profile_val);
} sums SEC(".maps");

__u64 switches = 0;          /* sched_switch calls seen (every CPU) */
__u64 blocked = 0;           /* of which the task left blocked and passed the filters */
__u64 blocked_filtered = 0;  /* blocked tasks left out by the filters */
__u64 starts_dropped = 0;    /* blocks not followed: `starts` was full */
__u64 blocks = 0;            /* blocks that ended (switch-in) and were counted */
__u64 blocks_short = 0;      /* blocks that ended under targ_min_block_ns */
__u64 keys_dropped = 0;      /* blocks not counted: `sums` was full */

static __always_inline __u32 state_bit(long s)
{
	if ((s & TASK_UNINTERRUPTIBLE) && (s & TASK_NOLOAD))
		return OFFCPU_STATE_I;
	if (s & TASK_UNINTERRUPTIBLE)
		return OFFCPU_STATE_D;
	if (s & TASK_INTERRUPTIBLE)
		return OFFCPU_STATE_S;
	if (s & __TASK_STOPPED)
		return OFFCPU_STATE_T;
	if (s & __TASK_TRACED)
		return OFFCPU_STATE_t;
	if (s & TASK_PARKED)
		return OFFCPU_STATE_P;
	return OFFCPU_STATE_OTHER;
}

/* prev is the current task: it is leaving the CPU in state s. */
static __always_inline void switch_out(void *ctx, long s)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct offcpu_profile_start st = { .state = state_bit(s) };
	if (!filter_current(pid_tgid, st.key.comm)) {
		__sync_fetch_and_add(&blocked_filtered, 1);
		return;
	}
	__sync_fetch_and_add(&blocked, 1);
	st.key.tgid = pid_tgid >> 32;
	st.key.tid = (__u32)pid_tgid;
	st.key.kstack_id = targ_kernel_stack ? stacks_id(ctx, 0) : STACKS_NO_STACK;
	st.key.ustack_id = targ_user_stack ? stacks_id(ctx, BPF_F_USER_STACK) : STACKS_NO_STACK;
	if (st.key.ustack_id >= 0)
		stacks_notice(st.key.tgid);
	st.ts = bpf_ktime_get_ns();
	if (bpf_map_update_elem(&starts, &st.key.tid, &st, BPF_ANY))
		__sync_fetch_and_add(&starts_dropped, 1);
}

static __always_inline struct offcpu_profile_val *sum_of(const struct stacks_key *key)
{
	struct offcpu_profile_val *v = bpf_map_lookup_elem(&sums, key);
	if (v)
		return v;
	static const struct offcpu_profile_val zero;
	bpf_map_update_elem(&sums, key, &zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&sums, key);
	if (!v)
		__sync_fetch_and_add(&keys_dropped, 1);
	return v;
}

/* next is being switched in: ends its block, if one was seen. */
static __always_inline void switch_in(__u32 tid)
{
	struct offcpu_profile_start *st = bpf_map_lookup_elem(&starts, &tid);
	if (!st)
		return;
	__u64 delta = bpf_ktime_get_ns() - st->ts;
	struct stacks_key key = st->key;
	__u32 state = st->state;
	bpf_map_delete_elem(&starts, &tid);
	if (delta < targ_min_block_ns) {
		__sync_fetch_and_add(&blocks_short, 1);
		return;
	}
	struct offcpu_profile_val *v = sum_of(&key);
	if (!v)
		return;
	__sync_fetch_and_add(&blocks, 1);
	v->total_ns += delta;
	v->count++;
	if (delta > v->max_ns)
		v->max_ns = delta;
	v->states |= state;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(offcpu_profile_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__sync_fetch_and_add(&switches, 1);
	long s = task_state(prev);
	/* Preempted (even between setting a sleep state and schedule()), or
	 * yielding while runnable: it waits for a CPU, not for an event. A
	 * dying task never comes back; the idle task never blocks. */
	if (!preempt && s != TASK_RUNNING && !(s & TASK_DEAD) && prev->pid)
		switch_out(ctx, s);
	switch_in(next->pid);
	return 0;
}
