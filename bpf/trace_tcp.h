/* trace_tcp: TCP connects, accepts and state changes; shared with userspace. */
#ifndef EBPF_MCP_BPF_TRACE_TCP_H
#define EBPF_MCP_BPF_TRACE_TCP_H

#include "tracer.h"

#define TRACE_TCP_SOCKS_MAX     10240          /* sockets whose owning process is known */
#define TRACE_TCP_LISTENERS_MAX 1024           /* listening ports whose process is known */
#define TRACE_TCP_RING_BYTES    (256 * 1024)   /* about 3000 records */

enum trace_tcp_kind {
	TRACE_TCP_KIND_STATE = 0,     /* any other state change */
	TRACE_TCP_KIND_CONNECT = 1,   /* SYN_SENT -> ESTABLISHED: an active open completed */
	TRACE_TCP_KIND_ACCEPT = 2,    /* SYN_RECV -> ESTABLISHED: a passive open completed */
};

/* The kernel's TCP states (include/net/tcp_states.h), for userspace names. */
enum trace_tcp_state {
	TRACE_TCP_ESTABLISHED = 1,
	TRACE_TCP_SYN_SENT = 2,
	TRACE_TCP_SYN_RECV = 3,
	TRACE_TCP_FIN_WAIT1 = 4,
	TRACE_TCP_FIN_WAIT2 = 5,
	TRACE_TCP_TIME_WAIT = 6,
	TRACE_TCP_CLOSE = 7,
	TRACE_TCP_CLOSE_WAIT = 8,
	TRACE_TCP_LAST_ACK = 9,
	TRACE_TCP_LISTEN = 10,
	TRACE_TCP_CLOSING = 11,
	TRACE_TCP_NEW_SYN_RECV = 12,
	TRACE_TCP_BOUND_INACTIVE = 13,
};

/* Who a socket belongs to, learnt where the kernel runs in the owner's
 * context: connect() (CLOSE -> SYN_SENT) and listen() (-> LISTEN). */
struct trace_tcp_owner {
	__u64 cgroup_id;   /* its cgroup v2 id (the directory's inode) at connect/listen */
	__u32 pid;         /* process id */
	__u32 tid;
	char comm[TRACER_COMM_BYTES];
};

struct trace_tcp_listener_key {
	__u16 family;
	__u16 port;   /* host byte order */
};

struct trace_tcp_event {
	__u64 ts_ns;
	__u64 skaddr;   /* the socket's kernel address: joins the records of one connection */
	__u64 cgroup_id;   /* the owner's cgroup v2 id, 0 when the owner is not known */
	__u32 pid;      /* owning process, 0 when it is not known (see trace_tcp_owner) */
	__u32 tid;
	__u8 kind;      /* enum trace_tcp_kind */
	__u8 oldstate;  /* enum trace_tcp_state */
	__u8 newstate;
	__u8 family;    /* AF_INET or AF_INET6 */
	__u16 sport;    /* local port, host byte order */
	__u16 dport;    /* remote port */
	__u8 saddr[16]; /* local address: 4 bytes for AF_INET, 16 for AF_INET6 */
	__u8 daddr[16];
	char comm[TRACER_COMM_BYTES];
};

#endif
