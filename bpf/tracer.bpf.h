/* BPF-side includes and helpers common to the built-in tracers. */
#ifndef EBPF_MCP_BPF_TRACER_BPF_H
#define EBPF_MCP_BPF_TRACER_BPF_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "core.h"
#include "tracer.h"


/* floor(log2(v)) for v > 0, 0 for v == 0, without a loop. */
static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	return r | (v >> 1);
}

/* The histogram slot of a value in ns (see TRACER_HIST_SLOTS). */
static __always_inline __u32 hist_slot(__u64 v)
{
	__u32 hi = v >> 32;
	__u32 s = hi ? log2_u32(hi) + 32 : log2_u32((__u32)v);
	return s < TRACER_HIST_SLOTS ? s : TRACER_HIST_SLOTS - 1;
}

/* Counts v in a log2 histogram. The slot's bound is checked again on the
 * very register that indexes the array, hidden from the compiler's range
 * knowledge: a 6.1 verifier loses a bound carried through a register copy
 * and rejects the access as unbounded. */
static __always_inline void hist_add(__u64 *slots, __u64 v)
{
	__u64 s = hist_slot(v);
	asm volatile("" : "+r"(s));
	if (s < TRACER_HIST_SLOTS)
		__sync_fetch_and_add(&slots[s], 1);
}

/* A negative syscall return that is an errno, as a positive number; 0 if not. */
static __always_inline __s32 errno_of(long ret)
{
	return ret < 0 && ret >= -TRACER_ERRNO_MAX ? (__s32)-ret : 0;
}

/* Task state, read from __state (5.14+) or state (older kernels). */
static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___pre514 *)t, state);
}

char LICENSE[] SEC("license") = "GPL";

#endif
