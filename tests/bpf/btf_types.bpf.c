/* A BTF object of known shape for the get_btf_types tests: loaded with
 * bpftool, it stands alone (not split on vmlinux) and holds a struct with
 * bitfields and an array, a signed enum, a typedef and a function. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum btft_mode { BTFT_OFF = -1, BTFT_ON = 1, BTFT_AUTO = 7 };

typedef unsigned int btft_u32;

struct btft_val {
	__u64 count;
	btft_u32 flags : 3;
	btft_u32 level : 5;
	enum btft_mode mode;
	char tag[12];
	struct btft_val *next;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct btft_val);
} btft_map SEC(".maps");

char LICENSE[] SEC("license") = "GPL";

SEC("socket")
int btft_prog(struct __sk_buff *skb)
{
	__u32 k = 0;
	struct btft_val *v = bpf_map_lookup_elem(&btft_map, &k);
	if (v)
		v->count++;
	return 0;
}
