/* trace_open: file opens with path, flags and result.
 *
 * Hooks: the syscalls/sys_enter_* and sys_exit_* tracepoints of open,
 * openat and openat2. All three matter: musl's open() is the open syscall
 * on x86_64, glibc's is openat. Entry copies the path and flags into a
 * per-thread slot (the user memory may change before exit); exit adds the
 * result and sends the record. */
#include "filter.bpf.h"
#include "trace_open.h"

const volatile bool targ_failed_only = false;   /* only opens that returned an error */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);   /* LRU: a thread that never exits its open ages out */
	__uint(max_entries, TRACE_OPEN_INFLIGHT_MAX);
	__type(key, __u32);   /* tid */
	__type(value, struct trace_open_event);
} inflight SEC(".maps");

/* Scratch space for building an entry: the record is too big for the stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trace_open_event);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TRACE_OPEN_RING_BYTES);
} events SEC(".maps");

__u64 events_dropped = 0;   /* records that did not fit in the ring buffer */

/* struct open_how from <linux/openat2.h>, copied from user memory. */
struct open_how_user {
	__u64 flags;
	__u64 mode;
	__u64 resolve;
};

static __always_inline void read_path(struct trace_open_event *e, const char *upath)
{
	long n = bpf_probe_read_user_str(e->path, sizeof(e->path), upath);
	e->path_unreadable = n < 0;
	e->path_truncated = 0;
	if (n == sizeof(e->path)) {   /* full: cut unless the NUL was the last byte that fits */
		char next = 0;
		bpf_probe_read_user(&next, 1, upath + sizeof(e->path) - 1);
		e->path_truncated = next != 0;
	}
}

static __always_inline int on_enter(__u16 sys, int dfd, const char *upath, __u64 flags, __u64 mode)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 zero = 0, tid = (__u32)pid_tgid;
	struct trace_open_event *e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e || !filter_current(pid_tgid, e->comm))
		return 0;
	e->ts_ns = bpf_ktime_get_ns();
	e->tgid = pid_tgid >> 32;
	e->tid = tid;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->syscall = sys;
	e->dfd = dfd;
	e->flags = flags;
	e->mode = mode;
	read_path(e, upath);
	bpf_map_update_elem(&inflight, &tid, e, BPF_ANY);
	return 0;
}

static __always_inline int on_exit(long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct trace_open_event *in = bpf_map_lookup_elem(&inflight, &tid);
	if (!in)
		return 0;
	if (targ_failed_only && ret >= 0)
		goto done;
	struct trace_open_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&events_dropped, 1);
		goto done;
	}
	__builtin_memcpy(e, in, sizeof(*e));
	e->ret = (__s32)ret;
	e->latency_ns = bpf_ktime_get_ns() - in->ts_ns;
	bpf_ringbuf_submit(e, 0);
done:
	bpf_map_delete_elem(&inflight, &tid);
	return 0;
}

/* open(filename, flags, mode) */
SEC("tracepoint/syscalls/sys_enter_open")
int trace_open_enter_open(struct syscall_trace_enter *ctx)
{
	return on_enter(TRACE_OPEN_SYS_OPEN, TRACE_OPEN_DFD_CWD, (const char *)ctx->args[0],
			(__u32)ctx->args[1], (__u32)ctx->args[2]);
}

/* openat(dfd, filename, flags, mode) */
SEC("tracepoint/syscalls/sys_enter_openat")
int trace_open_enter_openat(struct syscall_trace_enter *ctx)
{
	return on_enter(TRACE_OPEN_SYS_OPENAT, (int)ctx->args[0], (const char *)ctx->args[1],
			(__u32)ctx->args[2], (__u32)ctx->args[3]);
}

/* openat2(dfd, filename, struct open_how *how, size) */
SEC("tracepoint/syscalls/sys_enter_openat2")
int trace_open_enter_openat2(struct syscall_trace_enter *ctx)
{
	struct open_how_user how = {};
	bpf_probe_read_user(&how, sizeof(how), (const void *)ctx->args[2]);
	return on_enter(TRACE_OPEN_SYS_OPENAT2, (int)ctx->args[0], (const char *)ctx->args[1],
			how.flags, how.mode);
}

SEC("tracepoint/syscalls/sys_exit_open")
int trace_open_exit_open(struct syscall_trace_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int trace_open_exit_openat(struct syscall_trace_exit *ctx)
{
	return on_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int trace_open_exit_openat2(struct syscall_trace_exit *ctx)
{
	return on_exit(ctx->ret);
}
