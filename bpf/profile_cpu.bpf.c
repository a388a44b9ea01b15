/* profile_cpu: sample what every CPU runs and count (thread, kernel stack,
 * user stack) in the kernel.
 *
 * Hook: a perf_event program; userspace opens a cpu-clock software event at
 * the wanted frequency on each CPU and attaches this to it. Stacks go to the
 * shared stack map (stacks.bpf.h); user stacks are walked through frame
 * pointers, so code built without them shows only its innermost frame.
 * A process with a user stack is announced on the notice ring the first
 * time it is sampled, so userspace reads its memory map while it lives. */
#include <linux/bpf_perf_event.h>
#include "filter.bpf.h"
#include "stacks.bpf.h"
#include "profile_cpu.h"

const volatile bool targ_include_idle = false;   /* count samples of the idle task (pid 0) */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PROFILE_CPU_KEYS_MAX);
	__type(key, struct stacks_key);
	__type(value, __u64);   /* samples */
} counts SEC(".maps");

__u64 samples = 0;           /* samples taken (all CPUs, all tasks) */
__u64 samples_idle = 0;      /* of which the idle task, not counted unless targ_include_idle */
__u64 samples_filtered = 0;  /* of which filtered out */
__u64 keys_dropped = 0;      /* samples not counted: `counts` was full */

SEC("perf_event")
int profile_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct stacks_key key = {};

	__sync_fetch_and_add(&samples, 1);
	if ((__u32)pid_tgid == 0 && !targ_include_idle) {
		__sync_fetch_and_add(&samples_idle, 1);
		return 0;
	}
	if (!filter_current(pid_tgid, key.comm)) {
		__sync_fetch_and_add(&samples_filtered, 1);
		return 0;
	}
	key.tgid = pid_tgid >> 32;
	key.tid = (__u32)pid_tgid;
	key.kstack_id = stacks_id(ctx, 0);
	key.ustack_id = stacks_id(ctx, BPF_F_USER_STACK);
	if (key.ustack_id >= 0)
		stacks_notice(key.tgid);

	__u64 one = 1, *n = bpf_map_lookup_elem(&counts, &key);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return 0;
	}
	if (bpf_map_update_elem(&counts, &key, &one, BPF_NOEXIST)) {
		n = bpf_map_lookup_elem(&counts, &key);   /* another CPU inserted it meanwhile */
		if (n)
			__sync_fetch_and_add(n, 1);
		else
			__sync_fetch_and_add(&keys_dropped, 1);
	}
	return 0;
}
