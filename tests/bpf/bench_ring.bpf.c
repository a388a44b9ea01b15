/* Records for the ring buffer benchmark (bench/bench.mjs): every
 * close_range() of a process whose comm is "ring_producer" writes one
 * {pid, tid, comm, seq} record into the ring buffer `events`, seq being the
 * call's first argument (the producer's own counter). `counters` is the
 * witness: [0] records reserved, [1] reservations that failed (ring full).
 * tests/tools/ring_load.c sets the ring's size for the benchmark; loaded as
 * is (the stream_events tests) it holds 8 MiB, about 200k records: a
 * reader that has fallen behind takes a while to catch up. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct ring_event {
	__u32 pid;
	__u32 tid;
	char comm[16];
	__u64 seq;
};

/* Referenced by a global so the object's BTF describes it (stream_events
 * decodes records by this name). */
struct ring_event *ring_event_btf;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 * 1024 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* syscalls/sys_enter_* layout: 8 bytes of common fields, the number, args */
struct sys_enter {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

char LICENSE[] SEC("license") = "GPL";

static void bump(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("tracepoint/syscalls/sys_enter_close_range")
int emit(struct sys_enter *ctx)
{
	static const char want[16] = "ring_producer";
	char comm[16];
	bpf_get_current_comm(comm, sizeof(comm));
	for (int i = 0; i < 16; i++) {
		if (comm[i] != want[i])
			return 0;
		if (!comm[i])
			break;
	}
	struct ring_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		bump(1);
		return 0;
	}
	__u64 id = bpf_get_current_pid_tgid();
	e->pid = id >> 32;
	e->tid = (__u32)id;
	__builtin_memcpy(e->comm, comm, sizeof(e->comm));
	e->seq = (__u32)ctx->args[0];
	bpf_ringbuf_submit(e, 0);
	bump(0);
	return 0;
}
