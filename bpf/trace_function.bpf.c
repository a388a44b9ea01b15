/* trace_function: calls of one kernel function, whichever it is.
 *
 * Two program pairs in one object, one of them loaded: fentry/fexit
 * (attached through the function's BTF id, set by userspace before load)
 * or kprobe/kretprobe (generic, attached by name). Userspace turns off
 * autoload for the pair it does not use. Both pairs share the code below:
 * entry records the argument registers, the strings userspace asked for,
 * the kernel stack and the time per thread; exit takes the return value,
 * applies the latency and error filters, counts the call in a log2
 * latency histogram, by return value and by stack, and sends a record
 * while fewer than targ_max_events were sent (the rest are counted).
 *
 * The programs are named tf_* (the kernel keeps 15 bytes of a name).
 *
 * A thread is keyed by its id: a recursive call replaces its caller's
 * entry, so the caller's exit finds none and is not counted. Calls that
 * started before the attachment are not counted either. */
#include <linux/ptrace.h>
#include "filter.bpf.h"
#include "trace_function.h"

const volatile __u8 targ_str_mode[TRACE_FUNCTION_ARGS] = {};   /* enum trace_function_str_mode */
const volatile bool targ_strings = false;       /* any targ_str_mode set */
const volatile bool targ_stack = false;         /* record the kernel stack at entry */
const volatile bool targ_retvals = false;       /* count by return value */
const volatile __u8 targ_ret_kind = TRACE_FUNCTION_RET_VOID;   /* enum trace_function_ret_kind */
const volatile __u8 targ_ret_bytes = 8;         /* width of the return type: 1, 2, 4 or 8 */
const volatile bool targ_ret_signed = false;
const volatile __u64 targ_min_latency_ns = 0;   /* calls faster than this are left out */
const volatile bool targ_errors_only = false;   /* only calls returning -errno or ERR_PTR */
const volatile __u64 targ_max_events = 0;       /* records sent at most */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_FUNCTION_INFLIGHT_MAX);
	__type(key, __u32);   /* tid */
	__type(value, struct trace_function_start);
} starts SEC(".maps");

/* Strings per thread; userspace shrinks it to one entry when there are none. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_FUNCTION_STR_INFLIGHT_MAX);
	__type(key, __u32);   /* tid */
	__type(value, struct trace_function_strs);
} start_strs SEC(".maps");

/* Room to build an entry: both are too big for the BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trace_function_start);
} scratch SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct trace_function_strs);
} scratch_strs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_FUNCTION_RETVALS_MAX);
	__type(key, __s64);   /* return value, or the pointer classes of trace_function_ret_kind */
	__type(value, __u64);
} retvals SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_FUNCTION_STACKS_MAX);
	__type(key, __s32);   /* stack id */
	__type(value, __u64);
} stack_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, TRACE_FUNCTION_STACKS_MAX);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, TRACE_FUNCTION_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TRACE_FUNCTION_RING_BYTES);
} events SEC(".maps");

__u64 hist[TRACER_HIST_SLOTS] = {};   /* latencies of the calls kept */
__u64 lat_sum_ns = 0;
__u64 lat_max_ns = 0;                 /* a racing larger value may be lost; counts and sums are exact */
__u64 entered = 0;                    /* entries that passed the task filters */
__u64 returned = 0;                   /* exits matched with their entry */
__u64 kept = 0;                       /* of which passed the latency and error filters */
__u64 filtered_latency = 0;           /* exits left out: faster than targ_min_latency_ns */
__u64 filtered_errors = 0;            /* exits left out: no error returned (errors_only) */
__u64 starts_dropped = 0;             /* entries not kept: `starts` or `start_strs` was full */
__u64 retvals_other = 0;              /* calls not counted by value: `retvals` was full */
__u64 stacks_lost = 0;                /* stacks not stored (hash collision, full table) */
__u64 stack_counts_dropped = 0;       /* calls not counted by stack: `stack_counts` was full */
__u64 events_sent = 0;                /* records reserved in the ring */
__u64 events_over = 0;                /* records not sent: targ_max_events were */
__u64 events_dropped = 0;             /* records that did not fit in the ring buffer */

static __always_inline void count_in(void *map, const void *key, __u64 *full)
{
	__u64 one = 1, *n = bpf_map_lookup_elem(map, key);
	if (n) {
		__sync_fetch_and_add(n, 1);
		return;
	}
	if (!bpf_map_update_elem(map, key, &one, BPF_NOEXIST))
		return;
	n = bpf_map_lookup_elem(map, key);   /* another CPU inserted it meanwhile */
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		__sync_fetch_and_add(full, 1);
}

/* Reads string i at p; bytes read with the NUL, or -errno. */
static __always_inline long read_str(struct trace_function_start *s, char *dst, __u64 p, __u8 mode, int i)
{
	bool user = mode == TRACE_FUNCTION_STR_USER || (mode == TRACE_FUNCTION_STR_AUTO && (__s64)p >= 0);
	const char *src = (const char *)p;
	char next = 0;
	long n = user ? bpf_probe_read_user_str(dst, TRACE_FUNCTION_STR_BYTES, src)
		      : bpf_probe_read_kernel_str(dst, TRACE_FUNCTION_STR_BYTES, src);
	if (n != TRACE_FUNCTION_STR_BYTES)
		return n;
	/* full: cut unless the NUL was the last byte that fits */
	if (user)
		bpf_probe_read_user(&next, 1, src + TRACE_FUNCTION_STR_BYTES - 1);
	else
		bpf_probe_read_kernel(&next, 1, src + TRACE_FUNCTION_STR_BYTES - 1);
	if (next)
		s->str_cut |= 1 << i;
	return n;
}

static __always_inline int read_strs(struct trace_function_start *s, __u32 tid)
{
	__u32 zero = 0;
	struct trace_function_strs *st = bpf_map_lookup_elem(&scratch_strs, &zero);
	if (!st)
		return -1;
#pragma unroll
	for (int i = 0; i < TRACE_FUNCTION_ARGS; i++)
		if (targ_str_mode[i])
			s->str_len[i] = read_str(s, st->s[i], s->args[i], targ_str_mode[i], i);
	return bpf_map_update_elem(&start_strs, &tid, st, BPF_ANY);
}

static __always_inline int on_entry(void *ctx, const __u64 *args)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 zero = 0, tid = (__u32)pid_tgid;
	struct trace_function_start *s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s || !filter_current(pid_tgid, s->comm))
		return 0;
	__sync_fetch_and_add(&entered, 1);
#pragma unroll
	for (int i = 0; i < TRACE_FUNCTION_ARGS; i++) {
		s->args[i] = args[i];
		s->str_len[i] = 0;
	}
	s->str_cut = 0;
	s->stack_id = -1;
	s->cgroup_id = bpf_get_current_cgroup_id();
	if (targ_stack) {
		s->stack_id = bpf_get_stackid(ctx, &stacks, 0);
		if (s->stack_id < 0)
			__sync_fetch_and_add(&stacks_lost, 1);
	}
	if (targ_strings && read_strs(s, tid)) {
		__sync_fetch_and_add(&starts_dropped, 1);
		return 0;
	}
	s->ts_ns = bpf_ktime_get_ns();   /* last: the reads above are not the function's time */
	if (bpf_map_update_elem(&starts, &tid, s, BPF_ANY))
		__sync_fetch_and_add(&starts_dropped, 1);
	return 0;
}

/* The return register as the return type has it. */
static __always_inline __s64 ret_value(__u64 r)
{
	if (targ_ret_bytes == 1)
		return targ_ret_signed ? (__s64)(__s8)r : (__s64)(__u8)r;
	if (targ_ret_bytes == 2)
		return targ_ret_signed ? (__s64)(__s16)r : (__s64)(__u16)r;
	if (targ_ret_bytes == 4)
		return targ_ret_signed ? (__s64)(__s32)r : (__s64)(__u32)r;
	return (__s64)r;
}

/* -errno from an int/long, or ERR_PTR(-errno) from a pointer. */
static __always_inline bool is_error(__s64 r)
{
	return r < 0 && r >= -TRACER_ERRNO_MAX && (targ_ret_kind == TRACE_FUNCTION_RET_PTR || targ_ret_signed);
}

static __always_inline void count_ret(__s64 r)
{
	__s64 key = r;
	if (targ_ret_kind == TRACE_FUNCTION_RET_PTR && r && !is_error(r))
		key = TRACE_FUNCTION_RET_VALID_PTR;
	count_in(&retvals, &key, &retvals_other);
}

static __always_inline void send(const struct trace_function_start *s, __u32 tid, __u64 lat, __s64 r)
{
	if (events_sent >= targ_max_events) {
		__sync_fetch_and_add(&events_over, 1);
		return;
	}
	struct trace_function_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&events_dropped, 1);
		return;
	}
	__sync_fetch_and_add(&events_sent, 1);
	__builtin_memcpy(&e->start, s, sizeof(*s));
	e->latency_ns = lat;
	e->ret = (__u64)r;
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->tid = tid;
	e->cpu = bpf_get_smp_processor_id();
	e->pad = 0;
	struct trace_function_strs *st = targ_strings ? bpf_map_lookup_elem(&start_strs, &tid) : NULL;
	if (st)
		__builtin_memcpy(&e->strs, st, sizeof(*st));
	bpf_ringbuf_submit(e, 0);
}

static __always_inline bool keep(__u64 lat, __s64 r)
{
	if (lat < targ_min_latency_ns) {
		__sync_fetch_and_add(&filtered_latency, 1);
		return false;
	}
	if (targ_errors_only && !is_error(r)) {
		__sync_fetch_and_add(&filtered_errors, 1);
		return false;
	}
	return true;
}

static __always_inline int on_exit(__u64 raw_ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct trace_function_start *s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return 0;   /* not traced: filtered out, or entered before the attachment */
	__u64 lat = bpf_ktime_get_ns() - s->ts_ns;
	__s64 r = ret_value(raw_ret);
	__sync_fetch_and_add(&returned, 1);
	if (keep(lat, r)) {
		__sync_fetch_and_add(&kept, 1);
		hist_add(hist, lat);
		__sync_fetch_and_add(&lat_sum_ns, lat);
		if (lat > lat_max_ns)
			lat_max_ns = lat;
		if (targ_retvals && targ_ret_kind != TRACE_FUNCTION_RET_VOID)
			count_ret(r);
		if (targ_stack && s->stack_id >= 0)
			count_in(&stack_counts, &s->stack_id, &stack_counts_dropped);
		send(s, tid, lat, r);
	}
	bpf_map_delete_elem(&starts, &tid);
	if (targ_strings)
		bpf_map_delete_elem(&start_strs, &tid);
	return 0;
}

/* ---- fentry/fexit: the target is set with bpf_program__set_attach_target ---- */

SEC("fentry")
int tf_fentry(__u64 *ctx)
{
	__u64 args[TRACE_FUNCTION_ARGS] = {};
#pragma unroll
	for (int i = 0; i < TRACE_FUNCTION_ARGS; i++)
		bpf_get_func_arg(ctx, i, &args[i]);   /* -EINVAL past the function's own: stays 0 */
	return on_entry(ctx, args);
}

SEC("fexit")
int tf_fexit(__u64 *ctx)
{
	__u64 ret = 0;
	bpf_get_func_ret(ctx, &ret);
	return on_exit(ret);
}

/* ---- kprobe/kretprobe: attached by name from userspace ---- */

SEC("kprobe")
int tf_kprobe(struct pt_regs *ctx)
{
	__u64 args[TRACE_FUNCTION_ARGS] = {
		PT_REGS_PARM1(ctx), PT_REGS_PARM2(ctx), PT_REGS_PARM3(ctx),
		PT_REGS_PARM4(ctx), PT_REGS_PARM5(ctx), PT_REGS_PARM6(ctx),
	};
	return on_entry(ctx, args);
}

SEC("kretprobe")
int tf_kretprobe(struct pt_regs *ctx)
{
	return on_exit(PT_REGS_RC(ctx));
}
