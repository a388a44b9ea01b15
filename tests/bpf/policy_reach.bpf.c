/* Blocked calls hidden where only a walk that follows libbpf's linking finds
 * them: in a bpf_loop callback (referenced by address, never called) and in
 * an exception callback (appended by libbpf through a BTF decl tag, neither
 * called nor referenced). The policy must refuse both programs; neither is
 * ever loaded. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

extern void bpf_throw(__u64 cookie) __ksym;

static int pr_loop_cb(__u32 index, void *ctx)
{
	bpf_send_signal(9);
	return 1;
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int pr_loop(void *ctx)
{
	bpf_loop(1, pr_loop_cb, NULL, 0);
	return 0;
}

__attribute__((noinline)) int pr_exc_cb(__u64 cookie)
{
	return bpf_send_signal_thread(9);
}

__attribute__((btf_decl_tag("exception_callback:pr_exc_cb")))
SEC("tc")
int pr_throw(struct __sk_buff *skb)
{
	if (skb->len > 1000)
		bpf_throw(1);
	return 0;
}
