/* A socket filter calling helpers a socket filter may use: the kernel must
 * accept it (bpf_get_socket_cookie, bpf_ktime_get_ns). Loaded with bpftool as
 * the witness that list_bpf_program_types lists both for socket_filter. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int allowed_sock(struct __sk_buff *skb)
{
	return (int)(bpf_get_socket_cookie(skb) ^ bpf_ktime_get_ns()) & 1;
}
