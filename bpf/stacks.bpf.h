/* BPF side of the stack tracers (see stacks.h): the stack map, the stack
 * ids with their failures counted, and the process notices.
 *
 * Included by exactly one .bpf.c per object; every object gets its own
 * maps and counters. */
#ifndef EBPF_MCP_BPF_STACKS_BPF_H
#define EBPF_MCP_BPF_STACKS_BPF_H

#include "tracer.bpf.h"
#include "stacks.h"

#define EEXIST 17

/* Two stacks that hash alike keep the first one (no BPF_F_REUSE_STACKID):
 * the second is counted as a collision instead of overwriting the first,
 * which counts already refer to. */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, STACKS_MAX);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(stacks_ips));
} stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, STACKS_RING_BYTES);
} procs_ring SEC(".maps");

/* Processes announced, with the memory map (mm_struct) they had then: a
 * different one means an exec, and the process is announced again. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STACKS_PROCS_MAX);
	__type(key, __u32);     /* tgid */
	__type(value, __u64);   /* its mm when announced */
} procs_seen SEC(".maps");

__u64 stack_collisions = 0;  /* stacks not stored: their hash bucket held another */
__u64 stacks_full = 0;       /* stacks not stored: `stacks` was full or the walk failed */
__u64 notices_lost = 0;      /* announcements not made: `procs_seen` or the ring was full */

/* ctx: the program's context (perf_event or raw tracepoint). */
static __always_inline __s32 stacks_id(void *ctx, __u64 flags)
{
	long id = bpf_get_stackid(ctx, &stacks, flags);
	if (id == -EEXIST)
		__sync_fetch_and_add(&stack_collisions, 1);
	else if (id < 0 && id != STACKS_NO_STACK)
		__sync_fetch_and_add(&stacks_full, 1);
	return (__s32)id;
}

/* Announces the current process unless it was announced with this memory
 * map. Called for samples with a user stack. A notice the ring cannot take
 * is forgotten in procs_seen, so a later sample tries again. */
static __always_inline void stacks_notice(__u32 tgid)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	__u64 mm = (__u64)BPF_CORE_READ(task, mm);
	__u64 *seen = bpf_map_lookup_elem(&procs_seen, &tgid);
	if (seen && *seen == mm)
		return;
	if (seen) {
		*seen = mm;   /* two CPUs may both announce it: userspace reads it twice */
	} else if (bpf_map_update_elem(&procs_seen, &tgid, &mm, BPF_NOEXIST)) {
		seen = bpf_map_lookup_elem(&procs_seen, &tgid);
		if (!seen)   /* not a race with another CPU: the table is full */
			__sync_fetch_and_add(&notices_lost, 1);
		return;
	}
	struct stacks_notice *n = bpf_ringbuf_reserve(&procs_ring, sizeof(*n), 0);
	if (!n) {
		bpf_map_delete_elem(&procs_seen, &tgid);
		__sync_fetch_and_add(&notices_lost, 1);
		return;
	}
	n->tgid = tgid;
	n->reserved = 0;
	bpf_ringbuf_submit(n, 0);
}

#endif
