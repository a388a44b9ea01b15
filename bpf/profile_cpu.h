/* profile_cpu: sampled kernel and user stacks with counts; shared with
 * userspace. Stacks are ids into the `stacks` map (arrays of instruction
 * addresses, innermost first, 0-terminated when shorter than the depth). */
#ifndef EBPF_MCP_BPF_PROFILE_CPU_H
#define EBPF_MCP_BPF_PROFILE_CPU_H

#include "tracer.h"

#define PROFILE_CPU_KEYS_MAX    10240   /* distinct (thread, kernel stack, user stack) */
#define PROFILE_CPU_STACKS_MAX  8192    /* distinct stacks, kernel and user together */
#define PROFILE_CPU_STACK_DEPTH 64      /* frames kept per stack (the kernel caps it at 127) */

struct profile_cpu_key {
	__u32 tgid;
	__u32 tid;
	__s32 kstack_id;   /* < 0: no kernel stack (the sample hit user mode) or -errno */
	__s32 ustack_id;   /* < 0: no user stack (kernel thread) or -errno */
	char comm[TRACER_COMM_BYTES];
};

typedef __u64 profile_cpu_stack[PROFILE_CPU_STACK_DEPTH];

#endif
