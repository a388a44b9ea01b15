/* offcpu_profile: time threads spent blocked off-CPU, summed per (thread,
 * kernel stack, user stack) in the kernel; shared with userspace. */
#ifndef EBPF_MCP_BPF_OFFCPU_PROFILE_H
#define EBPF_MCP_BPF_OFFCPU_PROFILE_H

#include "stacks.h"

#define OFFCPU_PROFILE_KEYS_MAX  10240   /* distinct (thread, kernel stack, user stack) */
#define OFFCPU_PROFILE_TASKS_MAX 16384   /* threads blocked at once that the run follows */

/* Why a thread was off the CPU: its state at the switch, one bit each. */
#define OFFCPU_STATE_S     (1u << 0)   /* interruptible sleep (TASK_INTERRUPTIBLE) */
#define OFFCPU_STATE_D     (1u << 1)   /* uninterruptible (TASK_UNINTERRUPTIBLE) */
#define OFFCPU_STATE_I     (1u << 2)   /* idle kernel thread (uninterruptible, TASK_NOLOAD) */
#define OFFCPU_STATE_T     (1u << 3)   /* stopped (__TASK_STOPPED) */
#define OFFCPU_STATE_t     (1u << 4)   /* traced (__TASK_TRACED) */
#define OFFCPU_STATE_P     (1u << 5)   /* parked kthread (TASK_PARKED) */
#define OFFCPU_STATE_OTHER (1u << 6)   /* anything else */

/* A thread switched out while blocked (by tid). */
struct offcpu_profile_start {
	__u64 ts;                  /* bpf_ktime_get_ns() at the switch-out */
	struct stacks_key key;     /* who, and the stacks it blocked in */
	__u32 state;               /* OFFCPU_STATE_* */
	__u32 reserved;
};

/* The blocked time of one key. A key names one thread, and a thread
 * switches in on one CPU at a time, so plain updates do not race. */
struct offcpu_profile_val {
	__u64 total_ns;
	__u64 count;               /* blocks */
	__u64 max_ns;              /* the longest one */
	__u32 states;              /* OFFCPU_STATE_* seen */
	__u32 reserved;
};

#endif
