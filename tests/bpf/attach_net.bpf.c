/* Packet and socket counters for the attach_program tests: xdp, tc and
 * cgroup programs that count into one array (slot per program) and let
 * everything pass, so attaching them changes nothing but the counts. */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

enum { SLOT_XDP, SLOT_TC, SLOT_SOCK, SLOT_EGRESS, SLOT_CONNECT, SLOT_TC2, SLOTS = 8 };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} net_counts SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

static __always_inline void bump(__u32 slot)
{
	__u64 *n = bpf_map_lookup_elem(&net_counts, &slot);
	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("xdp")
int count_xdp(struct xdp_md *ctx)
{
	bump(SLOT_XDP);
	return XDP_PASS;
}

SEC("tc")
int count_tc(struct __sk_buff *skb)
{
	bump(SLOT_TC);
	return TC_ACT_OK;
}

SEC("tc")
int count_tc2(struct __sk_buff *skb)
{
	bump(SLOT_TC2);
	return TC_ACT_OK;
}

SEC("cgroup/sock_create")
int count_sock(struct bpf_sock *sk)
{
	bump(SLOT_SOCK);
	return 1;
}

SEC("cgroup_skb/egress")
int count_egress(struct __sk_buff *skb)
{
	bump(SLOT_EGRESS);
	return 1;
}

SEC("cgroup/connect4")
int count_connect(struct bpf_sock_addr *ctx)
{
	bump(SLOT_CONNECT);
	return 1;
}
