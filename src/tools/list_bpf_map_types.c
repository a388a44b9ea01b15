/* list_bpf_map_types: which BPF map types the running kernel can create
 * (probed through libbpf, cached for the process lifetime). */
#include <string.h>

#include <bpf/libbpf.h>

#include "../kern/probe.h"
#include "tool.h"


/* Short human descriptions by libbpf type name. Only the wording lives here:
 * which types exist and whether they work comes from libbpf and the kernel. */
static const char *const map_desc[][2] = {
	{ "hash", "Hash table of fixed-size keys and values." },
	{ "array", "Array indexed by a u32, preallocated, values zeroed at creation; mmap-able with BPF_F_MMAPABLE." },
	{ "prog_array", "Table of program fds for tail calls (bpf_tail_call)." },
	{ "perf_event_array", "Per-CPU perf event fds: stream records to user space (bpf_perf_event_output) or read counters." },
	{ "percpu_hash", "Hash table with one value slot per CPU (no contention on update)." },
	{ "percpu_array", "Array with one value slot per CPU per index." },
	{ "stack_trace", "Stack traces captured by bpf_get_stackid, keyed by stack id." },
	{ "cgroup_array", "cgroup fds, for bpf_skb_under_cgroup / bpf_current_task_under_cgroup checks." },
	{ "lru_hash", "Hash table that evicts least recently used entries when full." },
	{ "lru_percpu_hash", "LRU hash table with per-CPU values." },
	{ "lpm_trie", "Longest-prefix-match trie (IP routes, CIDR lookups)." },
	{ "array_of_maps", "Array whose values are other maps (map-in-map)." },
	{ "hash_of_maps", "Hash table whose values are other maps (map-in-map)." },
	{ "devmap", "Network devices by index, targets of XDP bpf_redirect_map." },
	{ "sockmap", "Sockets by index, for sk_msg/sk_skb redirection." },
	{ "cpumap", "CPUs as XDP redirect targets (move packet processing to another CPU)." },
	{ "xskmap", "AF_XDP sockets as XDP redirect targets (zero-copy to user space)." },
	{ "sockhash", "Sockets by arbitrary key, for sk_msg/sk_skb redirection." },
	{ "cgroup_storage", "Per-cgroup storage for cgroup programs (legacy; see cgrp_storage)." },
	{ "reuseport_sockarray", "Sockets of a SO_REUSEPORT group, for sk_reuseport selection." },
	{ "percpu_cgroup_storage", "Per-cgroup, per-CPU storage for cgroup programs (legacy)." },
	{ "queue", "FIFO queue of values (push/pop, no keys)." },
	{ "stack", "LIFO stack of values (push/pop, no keys)." },
	{ "sk_storage", "Storage attached to each socket, freed with it." },
	{ "devmap_hash", "Network devices by arbitrary key, XDP redirect targets." },
	{ "struct_ops", "A kernel ops table implemented by BPF programs (e.g. tcp_congestion_ops)." },
	{ "ringbuf", "Multi-producer ring buffer shared by all CPUs: ordered, low-overhead events to user space." },
	{ "inode_storage", "Storage attached to each inode (BPF LSM)." },
	{ "task_storage", "Storage attached to each task, freed with it." },
	{ "bloom_filter", "Bloom filter: probabilistic membership test with no false negatives." },
	{ "user_ringbuf", "Ring buffer written by user space and drained by BPF (bpf_user_ringbuf_drain)." },
	{ "cgrp_storage", "Storage attached to each cgroup (replaces cgroup_storage)." },
	{ "arena", "Sparse shared memory region mapped in both BPF and user space (pointers usable in both)." },
};


static int run_list_bpf_map_types(struct tool_ctx *ctx)
{
	const char *type = tool__arg_str(ctx, "type");
	uint64_t limit, offset;
	if (tool__page_args(ctx, 100, &limit, &offset))
		return -1;
	struct probe_types all;
	bool cached;
	int r = probe__types(PROBE_MAP, &all, &cached);
	if (r)
		return tool__fail_errno(ctx, r, "probing map types");
	const struct probe_type *only = NULL;
	if (type && !(only = probe__find(PROBE_MAP, type))) {
		tool__fail(ctx, ERR_UNKNOWN_MAP_TYPE,
			   "no map type is called \"%s\"; call list_bpf_map_types without `type` for the names", type);
		jw__kstr(&ctx->err->ctx, "pointer", "/type");
		return -1;
	}
	struct jw *w = ctx->out;
	jw__obj(w);
	uint64_t n_supported = 0, seen = 0, shown = 0;
	jw__key(w, "types");
	jw__arr(w);
	for (unsigned i = 0; i < all.n; i++) {
		const struct probe_type *p = &all.types[i];
		n_supported += p->supported == 1;
		if (only && p != only)
			continue;
		if (seen++ < offset || shown >= limit)
			continue;
		probe__write_type(w, PROBE_MAP, p, map_desc, sizeof(map_desc) / sizeof(map_desc[0]));
		shown++;
	}
	jw__arr_end(w);
	tool__page_fields(w, seen, offset, shown);
	jw__kuint(w, "supported_count", n_supported);
	jw__key(w, "probe");
	jw__obj(w);
	jw__kbool(w, "cached", cached);
	jw__kuint(w, "duration_us", all.probe_ns / 1000);
	jw__key(w, "libbpf");
	jw__strf(w, "%u.%u", libbpf_major_version(), libbpf_minor_version());
	jw__obj_end(w);
	jw__obj_end(w);
	return 0;
}

const struct tool tool_list_bpf_map_types = {
	.name = "list_bpf_map_types",
	.schema = SCHEMA_list_bpf_map_types,
	.run = run_list_bpf_map_types,
};
