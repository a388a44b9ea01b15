/* Loss on a wire, for the tcp_retransmits tests: an XDP program that drops
 * chosen TCP packets arriving on an interface, so that the sender must send
 * them again (the sender sees nothing but a packet that never arrived).
 * It drops every Nth data segment to `port` (at most data_max of them), the
 * first syn_drops SYNs to `port` and the first synack_drops SYN-ACKs from
 * it, and counts what it dropped. Its settings and counts are globals (.bss),
 * written and read with map_update and map_lookup. */
#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

__u32 port = 0;           /* the server's port */
__u32 every = 0;          /* drop every Nth data segment to port; 0: none */
__u32 data_max = 0;       /* at most this many data segments */
__u32 syn_drops = 0;      /* the first this many SYNs to port */
__u32 synack_drops = 0;   /* the first this many SYN-ACKs from port */

__u64 data_seen = 0, data_dropped = 0, syn_dropped = 0, synack_dropped = 0;

/* The TCP header and payload length of an IPv4 or IPv6 packet, or NULL. */
static __always_inline struct tcphdr *tcp_of(void *data, void *end, __u32 *payload)
{
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		return NULL;
	struct tcphdr *th;
	__u32 l4;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end || ip->protocol != IPPROTO_TCP || ip->ihl < 5)
			return NULL;
		th = (void *)ip + ip->ihl * 4;
		l4 = bpf_ntohs(ip->tot_len) - ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end || ip6->nexthdr != IPPROTO_TCP)
			return NULL;
		th = (void *)(ip6 + 1);
		l4 = bpf_ntohs(ip6->payload_len);
	} else {
		return NULL;
	}
	if ((void *)(th + 1) > end || l4 < th->doff * 4u)
		return NULL;
	*payload = l4 - th->doff * 4;
	return th;
}

static __always_inline bool take(__u64 *dropped, __u32 max)
{
	if (*dropped >= max)
		return false;
	__sync_fetch_and_add(dropped, 1);
	return true;
}

SEC("xdp")
int tcp_drop(struct xdp_md *ctx)
{
	__u32 payload;
	struct tcphdr *th = tcp_of((void *)(long)ctx->data, (void *)(long)ctx->data_end, &payload);
	if (!th || !port)
		return XDP_PASS;
	if (th->syn && !th->ack && th->dest == bpf_htons(port))
		return take(&syn_dropped, syn_drops) ? XDP_DROP : XDP_PASS;
	if (th->syn && th->ack && th->source == bpf_htons(port))
		return take(&synack_dropped, synack_drops) ? XDP_DROP : XDP_PASS;
	if (!payload || th->dest != bpf_htons(port) || !every)
		return XDP_PASS;
	__u64 n = __sync_fetch_and_add(&data_seen, 1) + 1;
	if (n % every == 0 && take(&data_dropped, data_max))
		return XDP_DROP;
	return XDP_PASS;
}
