/* Drops every packet leaving a cgroup, for the skb_drops tests: attached
 * to a cgroup's egress, it makes the kernel free each packet a process of
 * that cgroup sends (reason BPF_CGROUP_EGRESS) in that process's own
 * context, and the sender's sendto() fail with EPERM. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("cgroup_skb/egress")
int drop_egress(struct __sk_buff *skb)
{
	return 0;
}
