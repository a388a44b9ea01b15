/* A program the verifier rejects: after a long straight run of map updates
 * (so the verifier's log is several KiB) it reads past the end of an
 * 8-byte map value. The kernel must refuse it with
 * "invalid access to map value". */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lr_array SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getppid")
int lr_oob(void *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&lr_array, &key);
	if (!v)
		return 0;
#pragma unroll
	for (int i = 0; i < 48; i++)
		*(volatile __u64 *)v += i * 3;
	return (int)v[1];   /* out of bounds: the value is 8 bytes */
}
