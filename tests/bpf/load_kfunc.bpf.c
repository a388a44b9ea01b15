/* A tracepoint program calling kfuncs (bpf_rcu_read_lock/unlock, usable by
 * every program type): the policy report names them; --block-helper can
 * refuse one by name. The unlock is declared with a flavor suffix, which
 * libbpf drops when it resolves the name: the policy must see through it. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock___flavor(void) __ksym;

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getppid")
int kf_rcu(void *ctx)
{
	bpf_rcu_read_lock();
	__u64 t = bpf_ktime_get_ns();
	bpf_rcu_read_unlock___flavor();
	return (int)(t & 1);
}
