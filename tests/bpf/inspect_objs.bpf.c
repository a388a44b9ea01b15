/* Objects for the inspect_state tests: three programs that attach through
 * three link kinds (perf_event tracepoint, raw_tracepoint, tracing tp_btf),
 * a hash map, an array map of a struct, and a read-only global (.rodata). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct insp_val {
	__u64 count;
	__u32 last_pid;
	__u32 flags;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
} insp_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct insp_val);
} insp_array SEC(".maps");

const volatile __u32 insp_only_pid = 0;

char LICENSE[] SEC("license") = "GPL";

static void bump(__u32 slot)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct insp_val *v = bpf_map_lookup_elem(&insp_array, &slot);
	if (v) {
		__sync_fetch_and_add(&v->count, 1);
		v->last_pid = pid;
	}
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int insp_tp(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *n;
	if (insp_only_pid && pid != insp_only_pid)
		return 0;
	n = bpf_map_lookup_elem(&insp_hash, &pid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&insp_hash, &pid, &one, BPF_ANY);
	bump(0);
	return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int insp_raw_sched_process_fork(void *ctx)   /* longer than the kernel's 15 bytes: the name is read from BTF */
{
	bump(1);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int insp_btf(__u64 *ctx)
{
	bump(2);
	return 0;
}
