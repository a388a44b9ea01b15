/* The few kernel types the built-in tracers read, declared by hand for CO-RE.
 *
 * Each struct lists only the members used; preserve_access_index makes clang
 * record every access as a BTF relocation, and libbpf rewrites the offsets
 * against the running kernel's BTF at load time, so field order and the
 * members left out do not matter. This replaces a generated vmlinux.h
 * (about 3 MB here) with what the tracers actually touch.
 *
 * A "___suffix" on a type name is a CO-RE flavor: libbpf ignores it when
 * matching, which lets us declare pt_regs without clashing with the UAPI
 * struct pt_regs (different member names) pulled in by <linux/bpf_perf_event.h>,
 * and describe the pre-5.14 task_struct "state" member next to "__state". */
#ifndef EBPF_MCP_BPF_CORE_H
#define EBPF_MCP_BPF_CORE_H

#include <linux/types.h>

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
	int counter;
} atomic_t;

/* The registers saved at syscall entry (x86_64): orig_ax is the syscall
 * number as the task asked for it. */
struct pt_regs___core {
	unsigned long orig_ax;
};

/* The common header of every classic tracepoint record. */
struct trace_entry {
	unsigned short type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
};

/* syscalls/sys_enter_<name>: the number is an int, then the arguments as
 * unsigned longs (the int is followed by padding, hence args[] not at 12). */
struct syscall_trace_enter {
	struct trace_entry ent;
	int nr;
	unsigned long args[6];
};

/* syscalls/sys_exit_<name>. */
struct syscall_trace_exit {
	struct trace_entry ent;
	int nr;
	long ret;
};

/* sock/inet_sock_set_state: the addresses are copied into the record. */
struct trace_event_raw_inet_sock_set_state {
	struct trace_entry ent;
	const void *skaddr;
	int oldstate;
	int newstate;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u16 protocol;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

/* tcp/tcp_retransmit_skb. Kernels before the err field (6.1, ...) share
 * this record with other events of the class tcp_event_sk_skb. */
struct trace_event_raw_tcp_event_sk_skb {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

/* Newer kernels: an event of its own, firing for failed attempts too, with
 * their error in err. */
struct trace_event_raw_tcp_retransmit_skb {
	struct trace_entry ent;
	const void *skbaddr;
	const void *skaddr;
	int state;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
	int err;
};

/* tcp/tcp_retransmit_synack: skaddr is the listener. */
struct trace_event_raw_tcp_retransmit_synack {
	struct trace_entry ent;
	const void *skaddr;
	const void *req;
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 saddr[4];
	__u8 daddr[4];
	__u8 saddr_v6[16];
	__u8 daddr_v6[16];
};

/* TCP's view of an skb it queued (skb->cb): tcp_gso_segs is the segments it
 * stands for (tcp_skb_pcount), inside an anonymous union that CO-RE looks
 * through; tcp_flags grew from u8 to u16 and its low byte holds every flag
 * named here, so one byte is read. */
struct tcp_skb_cb {
	__u32 seq;
	__u32 end_seq;
	__u16 tcp_gso_segs;
	__u8 tcp_flags;
};

/* skb/kfree_skb's record: rx_sk (the receiving socket, when known) came
 * with 6.11 (also in the raw tracepoint's arguments, after reason). */
struct trace_event_raw_kfree_skb {
	struct trace_entry ent;
	void *skbaddr;
	void *location;
	void *rx_sk;
	unsigned short protocol;
	int reason;
};

/* oom/mark_victim's record: only pid before 6.8 (and its stable backports);
 * comm is a __data_loc (offset in the low 16 bits, length in the high). */
struct trace_event_raw_mark_victim {
	struct trace_entry ent;
	int pid;
	__u32 __data_loc_comm;
	unsigned long total_vm;
	unsigned long anon_rss;
	unsigned long file_rss;
	unsigned long shmem_rss;
	__u32 uid;
	unsigned long pgtables;
	short oom_score_adj;
};

struct ns_common {
	unsigned int inum;   /* the namespace's inode: /proc/<pid>/ns/net */
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

struct net_device {
	int ifindex;
	possible_net_t nd_net;
};

struct sock_common {
	possible_net_t skc_net;
};

/* sk_cgrp_data (5.15+): the cgroup v2 the socket's creator was in. */
struct sock_cgroup_data {
	struct cgroup *cgroup;
};

struct sock {
	struct sock_common __sk_common;
	struct sock_cgroup_data sk_cgrp_data;
};

/* dev and sk sit in anonymous unions; CO-RE finds them by name. */
struct sk_buff {
	struct net_device *dev;
	struct sock *sk;
	unsigned int len;
	__u16 protocol;   /* big endian */
	char cb[48];      /* the control block: TCP's struct tcp_skb_cb */
};

struct kernfs_node {
	__u64 id;   /* the cgroup directory's inode number */
};

struct cgroup {
	struct kernfs_node *kn;
};

struct cgroup_subsys_state {
	struct cgroup *cgroup;
};

/* The cgroups of a task, one state per controller (enum cgroup_subsys_id). */
struct css_set {
	struct cgroup *dfl_cgrp;                    /* the cgroup v2 one */
	struct cgroup_subsys_state *subsys[0];
};

enum cgroup_subsys_id {
	memory_cgrp_id = 0,   /* the value is relocated: it depends on the kernel's config */
};

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
};

struct signal_struct {
	atomic_t live;   /* threads still running; 0 once the group is dead */
};

struct task_struct {
	unsigned int __state;
	int pid;
	int tgid;
	int exit_code;
	char comm[16];
	struct task_struct *real_parent;
	struct mm_struct *mm;
	struct signal_struct *signal;
	struct css_set *cgroups;
};

/* Kernels before 5.14 called it "state" (a long). */
struct task_struct___pre514 {
	long state;
};

struct linux_binprm {
	int argc;
	const char *filename;
};

struct gendisk {
	int major;
	int first_minor;
};

struct request_queue {
	struct gendisk *disk;
};

struct request {
	struct request_queue *q;
	unsigned int cmd_flags;
	unsigned int __data_len;
	__u64 __sector;
};

/* The cgroup v2 (default hierarchy) a task is in, for filters on a task
 * that is not the current one: task->cgroups->dfl_cgrp->kn->id is what
 * bpf_get_current_cgroup_id() returns for the current task. A flavor, so
 * task_struct above stays the tracers' common view. kernfs_node.id is a
 * u64 since 5.5. */
struct task_struct___cg {
	struct css_set *cgroups;
};

#pragma clang attribute pop

#endif
