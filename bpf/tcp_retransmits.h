/* tcp_retransmits: TCP segments sent again; shared with userspace. */
#ifndef EBPF_MCP_BPF_TCP_RETRANSMITS_H
#define EBPF_MCP_BPF_TCP_RETRANSMITS_H

#include "tcp_states.h"
#include "tracer.h"

#define TCP_RETRANSMITS_RING_BYTES (256 * 1024)   /* about 2500 records */
#define TCP_RETRANSMITS_FLOWS_MAX  10240          /* distinct (family, saddr, daddr, dport) */

enum tcp_retransmits_kind {
	TCP_RETRANSMITS_KIND_SEGMENT = 0,   /* tcp_retransmit_skb: data, SYN or FIN sent again */
	TCP_RETRANSMITS_KIND_SYNACK = 1,    /* tcp_retransmit_synack: a listener's SYN-ACK sent again */
};

struct tcp_retransmits_event {
	__u64 ts_ns;
	__u64 skaddr;     /* the socket (the listener for a SYN-ACK) */
	__u64 cgroup_id;  /* the socket's cgroup v2 id (its creator's), 0 when unknown */
	__u32 pid;        /* the socket's owner, 0 when not known (bpf/sock_owner.bpf.h) */
	__u32 tid;
	__s32 err;        /* 0: sent; < 0 an attempt that failed (kernels whose tracepoint says so) */
	__u16 segments;   /* segments the retransmitted skb stands for (tcp_skb_pcount) */
	__u16 sport;      /* local port, host byte order */
	__u16 dport;      /* remote port */
	__u8 family;      /* AF_INET or AF_INET6 */
	__u8 state;       /* enum tcp_state_id */
	__u8 kind;        /* enum tcp_retransmits_kind */
	__u8 flags;       /* TCP header flags of the skb (FIN 0x01, SYN 0x02, ... CWR 0x80) */
	__u8 saddr[16];   /* local address: 4 bytes for AF_INET, 16 for AF_INET6 */
	__u8 daddr[16];
	char comm[TRACER_COMM_BYTES];
};

/* The aggregate rows: per local address, remote address and remote port. */
struct tcp_retransmits_key {
	__u8 family;
	__u8 pad;
	__u16 dport;
	__u8 saddr[16];
	__u8 daddr[16];
};

struct tcp_retransmits_count {
	__u64 retransmits;   /* sent again (err 0), SYN-ACKs included */
	__u64 segments;      /* the segments those stood for */
	__u64 synacks;       /* of which SYN-ACKs */
	__u64 failed;        /* attempts that sent nothing (err != 0) */
};

#endif
