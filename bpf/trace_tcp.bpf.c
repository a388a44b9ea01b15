/* trace_tcp: TCP connects, accepts and state changes, IPv4 and IPv6.
 *
 * Hook: tracepoint sock/inet_sock_set_state, which copies the addresses and
 * ports into its record for every state change of an inet socket.
 * Handshakes complete in softirq, where the current task is whoever was
 * interrupted, so the process is taken from where the kernel does run on the
 * owner's behalf: connect() moves the socket CLOSE -> SYN_SENT and listen()
 * moves it to LISTEN. A connection arriving on a listener that was seen going
 * to LISTEN (same family and local port) gets that process; sockets whose
 * owner was not seen (opened before tracing started) are reported with
 * pid 0, and a pid, comm or cgroup filter skips them. The owner's cgroup is
 * the one it was in at connect() or listen(). */
#include "filter.bpf.h"
#include "trace_tcp.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

const volatile __u16 targ_port = 0;   /* local or remote port; 0: any */

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TRACE_TCP_SOCKS_MAX);
	__type(key, __u64);   /* skaddr */
	__type(value, struct trace_tcp_owner);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, TRACE_TCP_LISTENERS_MAX);
	__type(key, struct trace_tcp_listener_key);
	__type(value, struct trace_tcp_owner);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TRACE_TCP_RING_BYTES);
} events SEC(".maps");

__u64 events_dropped = 0;   /* records that did not fit in the ring buffer */

static __always_inline __u8 kind_of(int oldstate, int newstate)
{
	if (newstate == TRACE_TCP_ESTABLISHED && oldstate == TRACE_TCP_SYN_SENT)
		return TRACE_TCP_KIND_CONNECT;
	if (newstate == TRACE_TCP_ESTABLISHED && oldstate == TRACE_TCP_SYN_RECV)
		return TRACE_TCP_KIND_ACCEPT;
	return TRACE_TCP_KIND_STATE;
}

/* The owner of the socket, learning it when this change runs in its context. */
static __always_inline bool find_owner(struct trace_event_raw_inet_sock_set_state *ctx, __u64 sk,
				       struct trace_tcp_owner *o)
{
	int oldstate = ctx->oldstate, newstate = ctx->newstate;
	struct trace_tcp_listener_key lk = { .family = ctx->family, .port = ctx->sport };
	struct trace_tcp_owner *known;

	if ((oldstate == TRACE_TCP_CLOSE && newstate == TRACE_TCP_SYN_SENT) ||
	    newstate == TRACE_TCP_LISTEN) {
		__u64 pid_tgid = bpf_get_current_pid_tgid();
		o->pid = pid_tgid >> 32;
		o->tid = (__u32)pid_tgid;
		o->cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(o->comm, sizeof(o->comm));
		bpf_map_update_elem(&owners, &sk, o, BPF_ANY);
		if (newstate == TRACE_TCP_LISTEN)
			bpf_map_update_elem(&listeners, &lk, o, BPF_ANY);
		return true;
	}
	known = bpf_map_lookup_elem(&owners, &sk);
	if (!known && (newstate == TRACE_TCP_SYN_RECV ||
		       kind_of(oldstate, newstate) == TRACE_TCP_KIND_ACCEPT)) {
		known = bpf_map_lookup_elem(&listeners, &lk);
		if (known)
			bpf_map_update_elem(&owners, &sk, known, BPF_ANY);
	}
	if (!known)
		return false;
	__builtin_memcpy(o, known, sizeof(*o));
	return true;
}

static __always_inline void forget(struct trace_event_raw_inet_sock_set_state *ctx, __u64 sk)
{
	if (ctx->newstate != TRACE_TCP_CLOSE)
		return;
	bpf_map_delete_elem(&owners, &sk);
	if (ctx->oldstate == TRACE_TCP_LISTEN) {
		struct trace_tcp_listener_key lk = { .family = ctx->family, .port = ctx->sport };
		bpf_map_delete_elem(&listeners, &lk);
	}
}

static __always_inline bool wanted(struct trace_event_raw_inet_sock_set_state *ctx, bool known,
				   const struct trace_tcp_owner *o)
{
	if (targ_port && ctx->sport != targ_port && ctx->dport != targ_port)
		return false;
	if (!targ_tgid && !targ_tid && !targ_comm[0] && !targ_cgroup_id)
		return true;
	if (targ_cgroup_id && (!known || o->cgroup_id != targ_cgroup_id))
		return false;
	return known && filter_task(o->pid, o->tid, o->comm);
}

static __always_inline void fill_addrs(struct trace_tcp_event *e,
				       struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (e->family == AF_INET) {
		__builtin_memset(e->saddr, 0, sizeof(e->saddr));
		__builtin_memset(e->daddr, 0, sizeof(e->daddr));
		bpf_probe_read_kernel(e->saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(e->daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(e->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(e->daddr, 16, ctx->daddr_v6);
	}
}

SEC("tracepoint/sock/inet_sock_set_state")
int trace_tcp_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP || (ctx->family != AF_INET && ctx->family != AF_INET6))
		return 0;
	__u64 sk = (__u64)ctx->skaddr;
	struct trace_tcp_owner o = {};
	bool known = find_owner(ctx, sk, &o);
	bool want = wanted(ctx, known, &o);
	forget(ctx, sk);
	if (!want)
		return 0;

	struct trace_tcp_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&events_dropped, 1);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->skaddr = sk;
	e->cgroup_id = o.cgroup_id;
	e->pid = o.pid;
	e->tid = o.tid;
	e->kind = kind_of(ctx->oldstate, ctx->newstate);
	e->oldstate = ctx->oldstate;
	e->newstate = ctx->newstate;
	e->family = ctx->family;
	e->sport = ctx->sport;
	e->dport = ctx->dport;
	fill_addrs(e, ctx);
	__builtin_memcpy(e->comm, o.comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}
