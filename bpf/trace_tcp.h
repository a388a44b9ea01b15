/* trace_tcp: TCP connects, accepts and state changes; shared with userspace. */
#ifndef EBPF_MCP_BPF_TRACE_TCP_H
#define EBPF_MCP_BPF_TRACE_TCP_H

#include "tcp_states.h"
#include "tracer.h"

#define TRACE_TCP_RING_BYTES    (256 * 1024)   /* about 3000 records */

enum trace_tcp_kind {
	TRACE_TCP_KIND_STATE = 0,     /* any other state change */
	TRACE_TCP_KIND_CONNECT = 1,   /* SYN_SENT -> ESTABLISHED: an active open completed */
	TRACE_TCP_KIND_ACCEPT = 2,    /* SYN_RECV -> ESTABLISHED: a passive open completed */
};

struct trace_tcp_event {
	__u64 ts_ns;
	__u64 skaddr;   /* the socket's kernel address: joins the records of one connection */
	__u64 cgroup_id;   /* the owner's cgroup v2 id, 0 when the owner is not known */
	__u32 pid;      /* owning process, 0 when it is not known (bpf/sock_owner.bpf.h) */
	__u32 tid;
	__u8 kind;      /* enum trace_tcp_kind */
	__u8 oldstate;  /* enum tcp_state_id */
	__u8 newstate;
	__u8 family;    /* AF_INET or AF_INET6 */
	__u16 sport;    /* local port, host byte order */
	__u16 dport;    /* remote port */
	__u8 saddr[16]; /* local address: 4 bytes for AF_INET, 16 for AF_INET6 */
	__u8 daddr[16];
	char comm[TRACER_COMM_BYTES];
};

#endif
