/* tcp_retransmits: TCP segments sent again, IPv4 and IPv6, as events and
 * counted per (local address, remote address, remote port).
 *
 * Hooks (classic tracepoints, which copy addresses and ports into their
 * records; on 6.1 as on newer kernels):
 *   tcp/tcp_retransmit_skb     every retransmission of a queued skb: data,
 *                              SYN or FIN, after a timeout, fast
 *                              retransmit or loss probe. Kernels whose
 *                              record has `err` also fire for attempts that
 *                              sent nothing; older ones only for sent ones.
 *   tcp/tcp_retransmit_synack  a listener sending a SYN-ACK again (TCP
 *                              counts these in RetransSegs too, outside
 *                              tcp_retransmit_skb).
 *   sock/inet_sock_set_state   learns each socket's owner (sock_owner.bpf.h):
 *                              retransmits run in softirq and timers, where
 *                              the current task is whoever was interrupted.
 * The skb's segment count (tcp_skb_pcount) and TCP flags are read from its
 * control block, so the segments counted here add up the way the kernel's
 * RetransSegs counter does. pid/tid/comm filter on the owner (unknown
 * owners are skipped by them), cgroup on the socket's cgroup, port on
 * either port. */
#include "filter.bpf.h"
#include "sock_owner.bpf.h"
#include "tcp_retransmits.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_FLAGS_SYN_ACK 0x12

const volatile __u16 targ_port = 0;   /* local or remote port; 0: any */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TCP_RETRANSMITS_RING_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TCP_RETRANSMITS_FLOWS_MAX);
	__type(key, struct tcp_retransmits_key);
	__type(value, struct tcp_retransmits_count);
} flows SEC(".maps");

__u64 events_dropped = 0;   /* records that did not fit in the ring buffer */
__u64 flows_dropped = 0;    /* retransmits not counted per flow: the table was full */
struct tcp_retransmits_count totals = {};

/* What one hook saw, whichever record it came from. */
struct seen {
	__u64 sk;
	const void *skb;
	__s32 err;
	__u16 family, sport, dport, segments;
	__u8 state, kind, flags;
	__u8 saddr[16], daddr[16];
};

/* The fields every record of these events has under the same names. */
#define READ_RECORD(T, ctx, s)                                                                \
	do {                                                                                  \
		T *r_ = (T *)(ctx);                                                           \
		(s)->sk = (__u64)r_->skaddr;                                                  \
		(s)->family = r_->family;                                                     \
		(s)->sport = r_->sport;                                                       \
		(s)->dport = r_->dport;                                                       \
		if ((s)->family == AF_INET) {                                                 \
			bpf_probe_read_kernel((s)->saddr, 4, r_->saddr);                      \
			bpf_probe_read_kernel((s)->daddr, 4, r_->daddr);                      \
		} else {                                                                      \
			bpf_probe_read_kernel((s)->saddr, 16, r_->saddr_v6);                  \
			bpf_probe_read_kernel((s)->daddr, 16, r_->daddr_v6);                  \
		}                                                                             \
	} while (0)

static __always_inline __u64 sock_cgroup_id(__u64 sk)
{
	if (!bpf_core_field_exists(((struct sock *)0)->sk_cgrp_data.cgroup))
		return 0;   /* before 5.15 the field was a tagged word */
	return BPF_CORE_READ((struct sock *)sk, sk_cgrp_data.cgroup, kn, id);
}

static __always_inline bool wanted(const struct seen *s, __u64 cgroup_id, struct sock_owner *o)
{
	if (s->family != AF_INET && s->family != AF_INET6)
		return false;
	if (targ_port && s->sport != targ_port && s->dport != targ_port)
		return false;
	if (targ_cgroup_id && cgroup_id != targ_cgroup_id)
		return false;
	/* a SYN-ACK's socket is the listener: known by its port too */
	bool known = sock_owner_find(s->sk, s->family, s->kind == TCP_RETRANSMITS_KIND_SYNACK ? s->sport : 0, o);
	if (!targ_tgid && !targ_tid && !targ_comm[0])
		return true;
	return known && filter_task(o->pid, o->tid, o->comm);
}

static __always_inline void add(struct tcp_retransmits_count *c, const struct seen *s)
{
	if (s->err) {
		__sync_fetch_and_add(&c->failed, 1);
		return;
	}
	__sync_fetch_and_add(&c->retransmits, 1);
	__sync_fetch_and_add(&c->segments, s->segments);
	if (s->kind == TCP_RETRANSMITS_KIND_SYNACK)
		__sync_fetch_and_add(&c->synacks, 1);
}

static __always_inline void count(const struct seen *s)
{
	struct tcp_retransmits_key k = { .family = s->family, .dport = s->dport };
	struct tcp_retransmits_count zero = {};
	__builtin_memcpy(k.saddr, s->saddr, sizeof(k.saddr));
	__builtin_memcpy(k.daddr, s->daddr, sizeof(k.daddr));
	add(&totals, s);
	struct tcp_retransmits_count *c = bpf_map_lookup_elem(&flows, &k);
	if (!c) {
		bpf_map_update_elem(&flows, &k, &zero, BPF_NOEXIST);   /* another CPU may have made it */
		c = bpf_map_lookup_elem(&flows, &k);
	}
	if (c)
		add(c, s);
	else
		__sync_fetch_and_add(&flows_dropped, 1);
}

static __always_inline int report(struct seen *s)
{
	struct sock_owner o = {};
	__u64 cgroup_id = sock_cgroup_id(s->sk);
	if (!wanted(s, cgroup_id, &o))
		return 0;
	count(s);
	struct tcp_retransmits_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&events_dropped, 1);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->skaddr = s->sk;
	e->cgroup_id = cgroup_id;
	e->pid = o.pid;
	e->tid = o.tid;
	e->err = s->err;
	e->segments = s->segments;
	e->sport = s->sport;
	e->dport = s->dport;
	e->family = s->family;
	e->state = s->state;
	e->kind = s->kind;
	e->flags = s->flags;
	__builtin_memcpy(e->saddr, s->saddr, sizeof(e->saddr));
	__builtin_memcpy(e->daddr, s->daddr, sizeof(e->daddr));
	__builtin_memcpy(e->comm, o.comm, sizeof(e->comm));
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int tcp_retransmit(void *ctx)
{
	struct seen s = { .kind = TCP_RETRANSMITS_KIND_SEGMENT };
	if (bpf_core_type_exists(struct trace_event_raw_tcp_retransmit_skb)) {
		struct trace_event_raw_tcp_retransmit_skb *r = ctx;
		READ_RECORD(struct trace_event_raw_tcp_retransmit_skb, ctx, &s);
		s.skb = r->skbaddr, s.state = r->state, s.err = r->err;
	} else {
		struct trace_event_raw_tcp_event_sk_skb *r = ctx;
		READ_RECORD(struct trace_event_raw_tcp_event_sk_skb, ctx, &s);
		s.skb = r->skbaddr, s.state = r->state;
	}
	const struct sk_buff *skb = s.skb;
	struct tcp_skb_cb *cb = (struct tcp_skb_cb *)&skb->cb;
	s.segments = BPF_CORE_READ(cb, tcp_gso_segs);
	s.flags = BPF_CORE_READ(cb, tcp_flags);
	return report(&s);
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int tcp_retransmit_synack(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	struct seen s = { .kind = TCP_RETRANSMITS_KIND_SYNACK, .state = TCP_STATE_NEW_SYN_RECV,
			  .segments = 1, .flags = TCP_FLAGS_SYN_ACK };
	READ_RECORD(struct trace_event_raw_tcp_retransmit_synack, ctx, &s);
	return report(&s);
}

SEC("tracepoint/sock/inet_sock_set_state")
int tcp_retransmits_owner(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP || (ctx->family != AF_INET && ctx->family != AF_INET6))
		return 0;
	__u64 sk = (__u64)ctx->skaddr;
	struct sock_owner o = {};
	sock_owner_learn(ctx, sk, &o);
	sock_owner_forget(ctx, sk);
	return 0;
}
