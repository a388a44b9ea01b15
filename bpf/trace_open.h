/* trace_open: file opens with their flags and result; shared with userspace. */
#ifndef EBPF_MCP_BPF_TRACE_OPEN_H
#define EBPF_MCP_BPF_TRACE_OPEN_H

#include "tracer.h"

#define TRACE_OPEN_PATH_BYTES   256           /* path as passed, cut to fit */
#define TRACE_OPEN_INFLIGHT_MAX 10240         /* threads inside an open syscall */
#define TRACE_OPEN_RING_BYTES   (512 * 1024)  /* about 1600 records */

enum trace_open_syscall {
	TRACE_OPEN_SYS_OPEN = 1,
	TRACE_OPEN_SYS_OPENAT = 2,
	TRACE_OPEN_SYS_OPENAT2 = 3,
};

/* AT_FDCWD as the dfd of open(2), which has none. */
#define TRACE_OPEN_DFD_CWD (-100)

struct trace_open_event {
	__u64 ts_ns;           /* at entry, CLOCK_MONOTONIC */
	__u64 latency_ns;      /* entry to exit */
	__u64 flags;           /* O_* flags (open_how.flags for openat2) */
	__u64 mode;
	__u64 cgroup_id;       /* the task's cgroup v2 id (its directory's inode) */
	__u32 tgid;
	__u32 tid;
	__s32 ret;             /* fd, or -errno */
	__s32 dfd;             /* directory fd the path is relative to */
	__u16 syscall;         /* enum trace_open_syscall */
	__u16 path_truncated;  /* the path was longer than TRACE_OPEN_PATH_BYTES - 1 */
	__u32 path_unreadable; /* the path could not be read (bad pointer, or paged out) */
	char comm[TRACER_COMM_BYTES];
	char path[TRACE_OPEN_PATH_BYTES];
};

#endif
