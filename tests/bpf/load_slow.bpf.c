/* A program the verifier takes long to accept: a bounded loop it must walk
 * iteration by iteration: 8 instructions each, 800k in all (the limit is
 * 1M), about half a second of verifier time here.
 * Tests load it in one session while another must keep being answered. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int slow_verify(struct __sk_buff *skb)
{
	__u64 acc = skb->len;
#pragma nounroll
	for (int i = 0; i < 100000; i++)
		acc = acc * 31 + i;
	return (int)(acc & 1);
}
