/* Which process owns a TCP socket, for tracers whose hooks run where the
 * current task is not the owner (softirq, timers).
 *
 * Learnt from sock/inet_sock_set_state, which fires in the owner's context
 * where the kernel does run on its behalf: connect() moves a socket CLOSE ->
 * SYN_SENT and listen() moves it to LISTEN. A connection arriving on a
 * listener that was seen going to LISTEN (same family and local port) gets
 * that process. Sockets whose owner was not seen (opened before tracing
 * began) have none. The include's tracer attaches sock_owner_learn() from
 * its inet_sock_set_state program (or uses the tracepoint program below). */
#ifndef EBPF_MCP_BPF_SOCK_OWNER_H
#define EBPF_MCP_BPF_SOCK_OWNER_H

#include "tracer.bpf.h"
#include "tcp_states.h"

#define SOCK_OWNER_SOCKS_MAX     10240   /* sockets whose owning process is known */
#define SOCK_OWNER_LISTENERS_MAX 1024    /* listening ports whose process is known */

struct sock_owner {
	__u64 cgroup_id;   /* its cgroup v2 id (the directory's inode) at connect/listen */
	__u32 pid;         /* process id */
	__u32 tid;
	char comm[TRACER_COMM_BYTES];
};

struct sock_owner_listener_key {
	__u16 family;
	__u16 port;   /* host byte order */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCK_OWNER_SOCKS_MAX);
	__type(key, __u64);   /* skaddr */
	__type(value, struct sock_owner);
} owners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SOCK_OWNER_LISTENERS_MAX);
	__type(key, struct sock_owner_listener_key);
	__type(value, struct sock_owner);
} listeners SEC(".maps");

/* A passive open that completed: SYN_RECV -> ESTABLISHED. */
static __always_inline bool sock_owner_is_accept(int oldstate, int newstate)
{
	return newstate == TCP_STATE_ESTABLISHED && oldstate == TCP_STATE_SYN_RECV;
}

/* The owner of the socket sk changing state in ctx, learning it when this
 * change runs in its context: true with *o filled when known. */
static __always_inline bool sock_owner_learn(struct trace_event_raw_inet_sock_set_state *ctx, __u64 sk,
					     struct sock_owner *o)
{
	int oldstate = ctx->oldstate, newstate = ctx->newstate;
	struct sock_owner_listener_key lk = { .family = ctx->family, .port = ctx->sport };
	struct sock_owner *known;

	if ((oldstate == TCP_STATE_CLOSE && newstate == TCP_STATE_SYN_SENT) || newstate == TCP_STATE_LISTEN) {
		__u64 pid_tgid = bpf_get_current_pid_tgid();
		o->pid = pid_tgid >> 32;
		o->tid = (__u32)pid_tgid;
		o->cgroup_id = bpf_get_current_cgroup_id();
		bpf_get_current_comm(o->comm, sizeof(o->comm));
		bpf_map_update_elem(&owners, &sk, o, BPF_ANY);
		if (newstate == TCP_STATE_LISTEN)
			bpf_map_update_elem(&listeners, &lk, o, BPF_ANY);
		return true;
	}
	known = bpf_map_lookup_elem(&owners, &sk);
	if (!known && (newstate == TCP_STATE_SYN_RECV || sock_owner_is_accept(oldstate, newstate))) {
		known = bpf_map_lookup_elem(&listeners, &lk);
		if (known)
			bpf_map_update_elem(&owners, &sk, known, BPF_ANY);
	}
	if (!known)
		return false;
	__builtin_memcpy(o, known, sizeof(*o));
	return true;
}

/* A socket going to CLOSE is forgotten (and its port, if it listened). */
static __always_inline void sock_owner_forget(struct trace_event_raw_inet_sock_set_state *ctx, __u64 sk)
{
	if (ctx->newstate != TCP_STATE_CLOSE)
		return;
	bpf_map_delete_elem(&owners, &sk);
	if (ctx->oldstate == TCP_STATE_LISTEN) {
		struct sock_owner_listener_key lk = { .family = ctx->family, .port = ctx->sport };
		bpf_map_delete_elem(&listeners, &lk);
	}
}

/* The known owner of sk, or of the listener on (family, port) for a
 * request that has no socket of its own yet: true with *o filled. */
static __always_inline bool sock_owner_find(__u64 sk, __u16 family, __u16 listen_port, struct sock_owner *o)
{
	struct sock_owner *known = bpf_map_lookup_elem(&owners, &sk);
	if (!known && listen_port) {
		struct sock_owner_listener_key lk = { .family = family, .port = listen_port };
		known = bpf_map_lookup_elem(&listeners, &lk);
	}
	if (!known)
		return false;
	__builtin_memcpy(o, known, sizeof(*o));
	return true;
}

#endif
