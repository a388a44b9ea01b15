/* Programs the default bytecode policy must refuse before the kernel sees
 * them: bpf_send_signal called directly, bpf_send_signal reached only
 * through a subprogram, and bpf_probe_write_user. Never loaded by the
 * tests: the server refuses them and bpftool shows no new program. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

static __attribute__((noinline)) int bl_kill(int sig)
{
	return bpf_send_signal(sig);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int bl_signal(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) == 1)
		return 0;
	return bpf_send_signal(9);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int bl_nested(void *ctx)
{
	__u64 t = bpf_ktime_get_ns();
	return bl_kill(t & 1 ? 9 : 15);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int bl_write(void *ctx)
{
	__u32 v = 0;
	return bpf_probe_write_user((void *)8, &v, sizeof(v));
}
