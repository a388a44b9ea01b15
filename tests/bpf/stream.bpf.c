/* Records for the stream_events tests: every getppid() of a process whose
 * comm starts with "attach_trig" writes `burst` records (config[0], 1 when
 * unset, at most 1024) into a ring buffer and `burst` 264-byte records into a perf event
 * array; `emitted` counts what each was asked to take (the witness). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u32 pid;
	__u32 tid;
	char comm[16];
	__u64 seq;
};

struct big_event {
	struct event e;
	__u8 pad[232];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} perf_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} config SEC(".maps");          /* [0] burst */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} emitted SEC(".maps");         /* [0] ring records reserved, [1] ring reserve failures, [2] perf outputs */

struct big_event scratch_big = {};
__u64 seq = 0;

char LICENSE[] SEC("license") = "GPL";

static __u64 *slot(void *map, __u32 k)
{
	return bpf_map_lookup_elem(map, &k);
}

static __always_inline void one(void *ctx)
{
	__u64 *ok = slot(&emitted, 0), *fail = slot(&emitted, 1), *perf = slot(&emitted, 2);
	struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	__u64 id = bpf_get_current_pid_tgid();
	__u64 n = __sync_fetch_and_add(&seq, 1);
	if (e) {
		e->pid = id >> 32;
		e->tid = (__u32)id;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		e->seq = n;
		bpf_ringbuf_submit(e, 0);
		if (ok)
			__sync_fetch_and_add(ok, 1);
	} else if (fail) {
		__sync_fetch_and_add(fail, 1);
	}
	scratch_big.e.pid = id >> 32;
	scratch_big.e.tid = (__u32)id;
	scratch_big.e.seq = n;
	bpf_get_current_comm(scratch_big.e.comm, sizeof(scratch_big.e.comm));
	bpf_perf_event_output(ctx, &perf_events, BPF_F_CURRENT_CPU, &scratch_big, sizeof(scratch_big));
	if (perf)
		__sync_fetch_and_add(perf, 1);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int emit(void *ctx)
{
	char comm[16];
	bpf_get_current_comm(comm, sizeof(comm));
	const char want[] = "attach_trig";
	for (int i = 0; i < (int)sizeof(want) - 1; i++)
		if (comm[i] != want[i])
			return 0;
	__u64 *b = slot(&config, 0);
	__u32 burst = b && *b ? (__u32)*b : 1;
	for (__u32 i = 0; i < burst && i < 1024; i++)
		one(ctx);
	return 0;
}
