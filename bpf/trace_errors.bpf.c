/* trace_errors: count failing syscalls per (process, syscall, errno) and
 * sample each failure into a ring buffer.
 *
 * Hook: tp_btf/sys_exit (the raw_syscalls exit tracepoint with typed
 * arguments), which sees every syscall's return whatever its number; the
 * number comes from the saved registers (orig_ax). */
#include "filter.bpf.h"
#include "trace_errors.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_ERRORS_KEYS_MAX);
	__type(key, struct trace_errors_key);
	__type(value, struct trace_errors_value);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TRACE_ERRORS_RING_BYTES);
} samples SEC(".maps");

__u64 keys_dropped = 0;      /* failures not counted: `counts` was full */
__u64 samples_dropped = 0;   /* failures counted but not sampled: ring full */

static __always_inline void count_error(const struct trace_errors_key *key, const char *comm,
					__u64 now)
{
	struct trace_errors_value *v = bpf_map_lookup_elem(&counts, key);
	if (!v) {
		struct trace_errors_value init = { .first_ns = now };
		__builtin_memcpy(init.comm, comm, TRACER_COMM_BYTES);
		bpf_map_update_elem(&counts, key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&counts, key);
		if (!v) {
			__sync_fetch_and_add(&keys_dropped, 1);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
	v->last_ns = now;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(trace_errors_exit, struct pt_regs___core *regs, long ret)
{
	__s32 err = errno_of(ret);
	if (!err)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	char comm[TRACER_COMM_BYTES];
	if (!filter_current(pid_tgid, comm))
		return 0;

	__u64 now = bpf_ktime_get_ns();
	struct trace_errors_key key = {
		.tgid = pid_tgid >> 32,
		.nr = (__s32)regs->orig_ax,
		.err = err,
	};
	count_error(&key, comm, now);

	struct trace_errors_sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s) {
		__sync_fetch_and_add(&samples_dropped, 1);
		return 0;
	}
	s->ts_ns = now;
	s->cgroup_id = bpf_get_current_cgroup_id();
	s->tgid = key.tgid;
	s->tid = (__u32)pid_tgid;
	s->nr = key.nr;
	s->err = err;
	__builtin_memcpy(s->comm, comm, TRACER_COMM_BYTES);
	bpf_ringbuf_submit(s, 0);
	return 0;
}
