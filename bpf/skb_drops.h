/* skb_drops: dropped packets by reason, place, protocol and process;
 * shared with userspace. */
#ifndef EBPF_MCP_BPF_SKB_DROPS_H
#define EBPF_MCP_BPF_SKB_DROPS_H

#include "tracer.h"

#define SKB_DROPS_KEYS_MAX   10240          /* distinct (location, reason, protocol, context, process) */
#define SKB_DROPS_RING_BYTES (256 * 1024)   /* about 3000 samples */

/* What the CPU was doing when the packet was dropped. Only in process
 * context is the current task the one the drop happened for; a softirq
 * runs on whatever task it interrupted (or in ksoftirqd). Hard interrupts
 * never free packets themselves: dev_kfree_skb_irq() hands them to the
 * NET_TX softirq, which traces the drop. */
enum skb_drops_context {
	SKB_DROPS_CTX_PROCESS = 0,   /* a task, in a syscall or a kernel thread (bottom halves may be off) */
	SKB_DROPS_CTX_SOFTIRQ = 1,   /* inside a softirq handler (NET_RX, NET_TX, TIMER, ...) */
	SKB_DROPS_CTX_COUNT = 2,
};

struct skb_drops_key {
	__u64 location;   /* the kernel address that freed the packet */
	__u32 reason;     /* enum skb_drop_reason of the running kernel */
	__u32 tgid;       /* process in process context, else 0 */
	__u16 protocol;   /* skb->protocol, host byte order (an ETH_P_ value) */
	__u8 context;     /* enum skb_drops_context */
	__u8 pad[5];
};

struct skb_drops_value {
	__u64 count;
	char comm[TRACER_COMM_BYTES];   /* the process's, in process context */
};

struct skb_drops_sample {
	__u64 ts_ns;
	__u64 location;
	__u64 rx_sk;      /* the socket that was to receive it (6.11+), else 0 */
	__u32 reason;
	__u32 tgid;       /* 0 outside process context */
	__u32 tid;
	__u32 netns;      /* inode of the packet's network namespace, 0 when unknown */
	__u32 len;        /* skb->len */
	__s32 ifindex;    /* its device, 0 when it had none */
	__u16 protocol;
	__u8 context;
	__u8 pad;
	char comm[TRACER_COMM_BYTES];
};

#endif
