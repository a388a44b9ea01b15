/* trace_exec: program executions with their arguments, and how those
 * processes ended; shared with userspace.
 *
 * Two record kinds share the ring buffer, told apart by `kind` (the first
 * member of both): an exec record when a process image is replaced, and an
 * exit record when a process whose exec was seen ends. */
#ifndef EBPF_MCP_BPF_TRACE_EXEC_H
#define EBPF_MCP_BPF_TRACE_EXEC_H

#include "tracer.h"

#define TRACE_EXEC_FILENAME_BYTES 256
#define TRACE_EXEC_ARGS_BYTES     1024   /* argv strings, NUL-separated; a power of 2 */
#define TRACE_EXEC_PIDS_MAX       10240  /* processes exec'd and not yet exited */
#define TRACE_EXEC_RING_BYTES     (512 * 1024)   /* about 380 exec records */

enum trace_exec_kind {
	TRACE_EXEC_KIND_EXEC = 1,
	TRACE_EXEC_KIND_EXIT = 2,
};

struct trace_exec_exit {
	__u32 kind;        /* TRACE_EXEC_KIND_EXIT */
	__u32 pid;         /* process (thread group) id */
	__u32 ppid;
	__u32 uid;
	__u64 ts_ns;       /* CLOCK_MONOTONIC */
	__u64 runtime_ns;  /* since the exec record */
	__u64 cgroup_id;   /* the exiting task's cgroup v2 id (its directory's inode) */
	__s32 exit_code;   /* wait status: exit status << 8, or the signal (| 0x80 core) */
	__u32 pad;
	char comm[TRACER_COMM_BYTES];
};

struct trace_exec_exec {
	__u32 kind;        /* TRACE_EXEC_KIND_EXEC */
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u64 ts_ns;
	__u64 cgroup_id;          /* the task's cgroup v2 id (its directory's inode) */
	__u32 argc;               /* the kernel's count, also when args were cut */
	__u32 args_bytes;         /* bytes of args[] filled */
	__u32 args_truncated;     /* argv was longer than TRACE_EXEC_ARGS_BYTES */
	__u32 args_unreadable;    /* the argv pages could not be read */
	char comm[TRACER_COMM_BYTES];
	char filename[TRACE_EXEC_FILENAME_BYTES];   /* as passed to execve, cut to fit */
	char args[TRACE_EXEC_ARGS_BYTES];
};

#endif
