/* Exactly 64 KiB of map memory by the server's count ((4-byte key + 60-byte
 * value) x 1024 entries) and nothing else, for the map_memory_bytes cap. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct mm_val {
	__u8 bytes[60];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, struct mm_val);
} mm_array SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int mm_sock(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct mm_val *v = bpf_map_lookup_elem(&mm_array, &key);
	return v ? v->bytes[0] : 0;
}
