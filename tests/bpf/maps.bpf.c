/* Maps for the map_dump/lookup/update/delete tests: plain and per-CPU hash
 * and array maps, a hash whose value is a struct with every BTF shape the
 * JSON decoder handles (nested struct, char array, enum, bitfields, array,
 * union, signed, bool, pointer-sized), a struct key, signed integers, and
 * .data globals
 * (a DATASEC value). One trivial program keeps the object loadable. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include <stdbool.h>

enum mt_color { MT_RED = 0, MT_GREEN = 1, MT_BLUE = 7 };

struct mt_stats {
	__u8 count;
	__s16 delta;
	__u64 bytes;
};

struct mt_key {
	__u32 id;
	char tag[4];
};

struct mt_val {
	char name[16];
	enum mt_color color;
	struct mt_stats stats;
	__u32 lo : 3, mid : 9, hi : 20;
	__s32 neg : 6, pad_bits : 26;
	__u16 hist[4];
	__s64 signed_big;
	bool on;
	union {
		__u32 as_u32;
		__u8 as_bytes[4];
	} u;
	void *ptr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} mt_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} mt_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} mt_pcpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct mt_stats);
} mt_pcpu_array SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, struct mt_val);
} mt_struct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct mt_key);
	__type(value, __s32);
} mt_skey SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __s32);
	__type(value, __s64);
} mt_signed SEC(".maps");

__u64 mt_global_counter = 5;
char mt_global_name[8] = "global";

char LICENSE[] SEC("license") = "GPL";

SEC("tracepoint/syscalls/sys_enter_getppid")
int mt_prog(void *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&mt_hash, &k);
	struct mt_val *s = bpf_map_lookup_elem(&mt_struct, &k);
	struct mt_key sk = {};
	__s32 *sv = bpf_map_lookup_elem(&mt_skey, &sk);
	__u32 *p = bpf_map_lookup_elem(&mt_pcpu_hash, &k);
	struct mt_stats *ps = bpf_map_lookup_elem(&mt_pcpu_array, &k);
	__u64 *a = bpf_map_lookup_elem(&mt_array, &k);
	__s64 *sg = bpf_map_lookup_elem(&mt_signed, &k);
	if (v && s && sv && p && ps && a && sg)
		mt_global_counter += *v + s->stats.count + *sv + *p + ps->count + *a + *sg;
	return 0;
}
