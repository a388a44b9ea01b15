/* A socket filter calling a helper socket filters may not use (they cannot
 * write packets): the kernel must refuse it. The probes test loads it with
 * bpftool as the witness that list_bpf_program_types leaves
 * bpf_skb_store_bytes out of socket_filter's helpers. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int denied_sock(struct __sk_buff *skb)
{
	__u32 v = 0;
	return bpf_skb_store_bytes(skb, 0, &v, sizeof(v), 0) ? 0 : 1;
}
