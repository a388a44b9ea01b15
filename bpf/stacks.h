/* Sampled stacks, shared by the stack tracers (profile_cpu, offcpu_profile)
 * in BPF and in userspace: the key their counts are kept under, the stack
 * map's shape, and the notices that announce a process to userspace.
 *
 * Stacks are ids into a BPF_MAP_TYPE_STACK_TRACE map (arrays of instruction
 * addresses, innermost first, 0-terminated when shorter than the depth).
 * A process's memory map is needed to symbolize its user frames; it is read
 * when the process first appears (a notice on the `procs_ring` ring buffer),
 * not when the run ends, so a process that exits meanwhile keeps its names. */
#ifndef EBPF_MCP_BPF_STACKS_H
#define EBPF_MCP_BPF_STACKS_H

#include "tracer.h"

#define STACKS_MAX          8192        /* distinct stacks, kernel and user together */
#define STACKS_DEPTH        64          /* frames kept per stack (the kernel caps it at 127) */
#define STACKS_PROCS_MAX    1024        /* processes announced per run (usyms keeps as many) */
#define STACKS_RING_BYTES   (64 * 1024) /* notices in flight: 4096 of 16 bytes with the header */
#define STACKS_NO_STACK     (-14)       /* -EFAULT from bpf_get_stackid: no stack of that kind */

/* What the counts are kept under (the value is the tracer's own). */
struct stacks_key {
	__u32 tgid;
	__u32 tid;
	__s32 kstack_id;   /* < 0: no kernel stack (the sample hit user mode, not asked) or -errno */
	__s32 ustack_id;   /* < 0: no user stack (kernel thread, not asked) or -errno */
	char comm[TRACER_COMM_BYTES];
};

/* A process seen for the first time, or again after an exec (a new memory
 * map): userspace reads /proc/<tgid>/maps now. */
struct stacks_notice {
	__u32 tgid;
	__u32 reserved;
};

typedef __u64 stacks_ips[STACKS_DEPTH];

#endif
