/* Counters for the attach_program tests: each program counts the events it
 * sees per process (tgid) in its own hash map, so a test can read exactly
 * how many times its trigger process fired the hook (bpftool map lookup). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define NR_GETPPID 110   /* x86_64 */

#define COUNTS(name)                                  \
	struct {                                      \
		__uint(type, BPF_MAP_TYPE_HASH);      \
		__uint(max_entries, 1024);            \
		__type(key, __u32);                   \
		__type(value, __u64);                 \
	} name SEC(".maps")

COUNTS(tp_counts);
COUNTS(raw_counts);
COUNTS(btf_counts);
COUNTS(uprobe_counts);
COUNTS(uret_counts);
COUNTS(kprobe_counts);

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} perf_count SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

static __always_inline void bump(void *map)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u64 one = 1, *n = bpf_map_lookup_elem(map, &pid);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(map, &pid, &one, BPF_NOEXIST);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int count_tp(void *ctx)
{
	bump(&tp_counts);
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int count_raw(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == NR_GETPPID)
		bump(&raw_counts);
	return 0;
}

SEC("tp_btf/sys_enter")
int count_btf(__u64 *ctx)
{
	if (ctx[1] == NR_GETPPID)
		bump(&btf_counts);
	return 0;
}

SEC("uprobe")
int count_uprobe(void *ctx)
{
	bump(&uprobe_counts);
	return 0;
}

SEC("uretprobe")
int count_uret(void *ctx)
{
	bump(&uret_counts);
	return 0;
}

SEC("kprobe")
int count_kprobe(void *ctx)
{
	bump(&kprobe_counts);
	return 0;
}

SEC("perf_event")
int count_perf(void *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&perf_count, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}
