/* The load_program tests' ordinary object: two programs of two types
 * (a tracepoint and a socket filter), a hash map and an array map, and a
 * subprogram (.text) both programs call, so the policy report must follow
 * calls into it. Loaded from an --object-dir and inline as base64. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} lb_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} lb_array SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

static __attribute__((noinline)) int lb_bump(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&lb_array, &slot);
	if (v)
		__sync_fetch_and_add(v, bpf_ktime_get_ns() & 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int lb_tp(void *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1;
	bpf_map_update_elem(&lb_hash, &pid, &one, BPF_ANY);
	return lb_bump(0);
}

SEC("socket")
int lb_sock(struct __sk_buff *skb)
{
	return lb_bump(1) + (int)(bpf_get_socket_cookie(skb) & 1);
}
