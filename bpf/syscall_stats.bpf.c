/* syscall_stats: count and latency of every syscall per process, kept in
 * the kernel so the cost is a map update per call, not a record.
 *
 * Hooks: tp_btf/sys_enter stores the entry time and number per thread;
 * tp_btf/sys_exit adds the elapsed time to (process, syscall) in a per-CPU
 * hash (exact without atomics; userspace merges the CPUs) and to a log2
 * histogram per syscall number. Calls already in progress when tracing
 * starts, and exit_group, which never returns, are not counted. */
#include "filter.bpf.h"
#include "syscall_stats.h"

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);   /* LRU: threads that exit inside a syscall age out */
	__uint(max_entries, SYSCALL_STATS_INFLIGHT_MAX);
	__type(key, __u32);   /* tid */
	__type(value, struct syscall_stats_start);
} starts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, SYSCALL_STATS_KEYS_MAX);
	__type(key, struct syscall_stats_key);
	__type(value, struct syscall_stats_value);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SYSCALL_STATS_NR_MAX);
	__type(key, __u32);   /* syscall number */
	__type(value, struct syscall_stats_hist);
} hists SEC(".maps");

__u64 keys_dropped = 0;   /* calls not counted: `stats` was full */

SEC("tp_btf/sys_enter")
int BPF_PROG(syscall_stats_enter, struct pt_regs___core *regs, long id)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	char comm[TRACER_COMM_BYTES];
	if (!filter_current(pid_tgid, comm))
		return 0;
	__u32 tid = (__u32)pid_tgid;
	struct syscall_stats_start s = { .ts_ns = bpf_ktime_get_ns(), .nr = id };
	bpf_map_update_elem(&starts, &tid, &s, BPF_ANY);
	return 0;
}

static __always_inline struct syscall_stats_value *stats_slot(const struct syscall_stats_key *key)
{
	struct syscall_stats_value *v = bpf_map_lookup_elem(&stats, key);
	if (v)
		return v;
	struct syscall_stats_value init = { .min_ns = ~0ULL };
	bpf_map_update_elem(&stats, key, &init, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&stats, key);
	if (!v)
		__sync_fetch_and_add(&keys_dropped, 1);
	return v;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(syscall_stats_exit, struct pt_regs___core *regs, long ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)pid_tgid;
	struct syscall_stats_start *s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return 0;
	__u64 delta = bpf_ktime_get_ns() - s->ts_ns;
	struct syscall_stats_key key = { .tgid = pid_tgid >> 32, .nr = (__u32)s->nr };
	bpf_map_delete_elem(&starts, &tid);

	struct syscall_stats_value *v = stats_slot(&key);
	if (!v)
		return 0;
	if (!v->count) {   /* first call on this CPU: the per-CPU copy has no comm yet */
		v->min_ns = ~0ULL;
		bpf_get_current_comm(v->comm, sizeof(v->comm));
	}
	v->count++;
	v->errors += errno_of(ret) != 0;
	v->sum_ns += delta;
	if (delta < v->min_ns)
		v->min_ns = delta;
	if (delta > v->max_ns)
		v->max_ns = delta;

	struct syscall_stats_hist *h = bpf_map_lookup_elem(&hists, &key.nr);
	if (h)
		hist_add(h->slots, delta);
	return 0;
}
