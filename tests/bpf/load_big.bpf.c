/* A program with a known large instruction count (an unrolled loop) for the
 * prog_insns cap: the policy counts its instructions before the kernel
 * does. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int big_unrolled(struct __sk_buff *skb)
{
	volatile __u64 acc = skb->len;
#pragma unroll
	for (int i = 0; i < 512; i++)
		acc = acc * 31 + i;
	return (int)(acc & 1);
}
