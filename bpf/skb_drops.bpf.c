/* skb_drops: packets the kernel drops, counted per (location, reason,
 * protocol, context, process) in a hash, with a sample of each drop in a
 * ring buffer.
 *
 * Hook: tp_btf/kfree_skb (skb, location, reason; 6.11+ adds rx_sk). The
 * tracepoint fires for packets freed as dropped; normal frees go to
 * skb:consume_skb instead and are not seen. Its arguments keep their
 * places across kernels, and rx_sk is read only where the tracepoint's
 * record has it (CO-RE), which is where its prototype has it too.
 *
 * Drops happen as often in softirq (receive, timers) as in a task's
 * syscall, and only a task context names a process. BPF cannot read the
 * preempt count where kallsyms lacks data symbols (no KALLSYMS_ALL, as
 * here), so the softirq handlers are bracketed instead: tp_btf/softirq_entry
 * and softirq_exit mark the CPU as serving one (handlers do not nest on a
 * CPU and are not preempted). Process filters (pid, tid, comm, cgroup)
 * keep only process-context drops. */
#include <bpf/bpf_endian.h>

#include "filter.bpf.h"
#include "skb_drops.h"

const volatile __u32 targ_reason = 0;   /* only this reason; 0 (SKB_NOT_DROPPED_YET, never traced): any */
const volatile __u32 targ_netns = 0;    /* only packets of this network namespace (inode); 0: any */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);   /* 1 while this CPU runs a softirq handler */
} in_softirq SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, SKB_DROPS_KEYS_MAX);
	__type(key, struct skb_drops_key);
	__type(value, struct skb_drops_value);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, SKB_DROPS_RING_BYTES);
} samples SEC(".maps");

__u64 drops = 0;             /* drops that passed the filters */
__u64 keys_dropped = 0;      /* drops not counted per key: `counts` was full */
__u64 samples_dropped = 0;   /* drops counted but not sampled: ring full */

static __always_inline void mark_softirq(__u32 on)
{
	__u32 zero = 0;
	__u32 *v = bpf_map_lookup_elem(&in_softirq, &zero);
	if (v)
		*v = on;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(skb_drops_softirq_entry, unsigned int vec)
{
	mark_softirq(1);
	return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(skb_drops_softirq_exit, unsigned int vec)
{
	mark_softirq(0);
	return 0;
}

static __always_inline __u8 context_now(void)
{
	__u32 zero = 0;
	__u32 *v = bpf_map_lookup_elem(&in_softirq, &zero);
	return v && *v ? SKB_DROPS_CTX_SOFTIRQ : SKB_DROPS_CTX_PROCESS;
}

/* The packet's network namespace: its device's, else its socket's (or the
 * receiving socket's) one. */
static __always_inline __u32 netns_of(struct sk_buff *skb, struct sock *rx_sk)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	struct sock *sk = BPF_CORE_READ(skb, sk);
	struct net *net = NULL;
	if (dev)
		net = BPF_CORE_READ(dev, nd_net.net);
	else if (sk || (sk = rx_sk))
		net = BPF_CORE_READ(sk, __sk_common.skc_net.net);
	return net ? BPF_CORE_READ(net, ns.inum) : 0;
}

static __always_inline void count_drop(const struct skb_drops_key *key, const char *comm)
{
	struct skb_drops_value *v = bpf_map_lookup_elem(&counts, key);
	if (!v) {
		struct skb_drops_value init = {};
		__builtin_memcpy(init.comm, comm, TRACER_COMM_BYTES);
		bpf_map_update_elem(&counts, key, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&counts, key);
		if (!v) {
			__sync_fetch_and_add(&keys_dropped, 1);
			return;
		}
	}
	__sync_fetch_and_add(&v->count, 1);
}

static __always_inline void sample(struct sk_buff *skb, const struct skb_drops_key *key, __u64 pid_tgid,
				   __u32 netns, struct sock *rx_sk, const char *comm)
{
	struct skb_drops_sample *s = bpf_ringbuf_reserve(&samples, sizeof(*s), 0);
	if (!s) {
		__sync_fetch_and_add(&samples_dropped, 1);
		return;
	}
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	s->ts_ns = bpf_ktime_get_ns();
	s->location = key->location;
	s->rx_sk = (__u64)rx_sk;
	s->reason = key->reason;
	s->tgid = key->tgid;
	s->tid = key->tgid ? (__u32)pid_tgid : 0;
	s->netns = netns;
	s->len = BPF_CORE_READ(skb, len);
	s->ifindex = dev ? BPF_CORE_READ(dev, ifindex) : 0;
	s->protocol = key->protocol;
	s->context = key->context;
	s->pad = 0;
	__builtin_memcpy(s->comm, comm, TRACER_COMM_BYTES);
	bpf_ringbuf_submit(s, 0);
}

/* Whether a drop in this context passes the process filters; comm is
 * filled in process context, zeroed otherwise. */
static __always_inline bool wanted(__u8 context, __u64 pid_tgid, char *comm)
{
	if (context == SKB_DROPS_CTX_PROCESS)
		return filter_current(pid_tgid, comm);
	__builtin_memset(comm, 0, TRACER_COMM_BYTES);
	return !targ_tgid && !targ_tid && !targ_cgroup_id && !targ_comm[0];
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(skb_drops_kfree, struct sk_buff *skb, void *location, int reason)
{
	struct sock *rx_sk = NULL;
	if (targ_reason && (__u32)reason != targ_reason)
		return 0;
	if (bpf_core_field_exists(((struct trace_event_raw_kfree_skb *)0)->rx_sk))
		rx_sk = (struct sock *)ctx[3];
	__u32 netns = netns_of(skb, rx_sk);
	if (targ_netns && netns != targ_netns)
		return 0;
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u8 context = context_now();
	char comm[TRACER_COMM_BYTES];
	if (!wanted(context, pid_tgid, comm))
		return 0;

	struct skb_drops_key key;
	__builtin_memset(&key, 0, sizeof(key));
	key.location = (__u64)location;
	key.reason = (__u32)reason;
	key.protocol = bpf_ntohs(BPF_CORE_READ(skb, protocol));
	key.context = context;
	if (context == SKB_DROPS_CTX_PROCESS)
		key.tgid = pid_tgid >> 32;
	__sync_fetch_and_add(&drops, 1);
	count_drop(&key, comm);
	sample(skb, &key, pid_tgid, netns, rx_sk, comm);
	return 0;
}
