/* The object tests/integration/alloc_failure.test.mjs loads, attaches and
 * dumps while failing each heap allocation in turn. Its names (af_*) are
 * used by no other test, so "nothing left in the kernel" is checked by name
 * over the whole kernel. Two programs (a tracepoint and a raw tracepoint),
 * a hash map with BTF-typed key and value, and a global (.bss, an internal
 * map) give libbpf's open, relocation and load steps something to walk. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct af_val {
	__u64 count;
	__u32 last_cpu;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, struct af_val);
} af_counts SEC(".maps");

__u64 af_total;

char LICENSE[] SEC("license") = "GPL";

static __always_inline void bump(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct af_val one = { .count = 1, .last_cpu = bpf_get_smp_processor_id() };
	struct af_val *v = bpf_map_lookup_elem(&af_counts, &pid);
	if (v)
		__sync_fetch_and_add(&v->count, 1);
	else
		bpf_map_update_elem(&af_counts, &pid, &one, BPF_NOEXIST);
	__sync_fetch_and_add(&af_total, 1);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int af_tp(void *ctx)
{
	bump();
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int af_raw(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == 110)   /* getppid on x86_64 */
		bump();
	return 0;
}
