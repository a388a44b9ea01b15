/* trace_exec: executions with argv, and the exit code of what was exec'd.
 *
 * Hooks: tp_btf/sched_process_exec, which fires once the new image is in
 * place (only for execs that succeeded, execve and execveat alike), and
 * tp_btf/sched_process_exit for the exit status. The arguments are read
 * from the new process's own memory (mm->arg_start..arg_end), where the
 * kernel has just copied them, so no per-thread state from syscall entry is
 * needed and argc is the kernel's count (bprm->argc). */
#include "filter.bpf.h"
#include "trace_exec.h"

const volatile __u32 targ_ppid = 0;    /* parent process id; 0: any */
const volatile __s64 targ_uid = -1;    /* -1: any */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, TRACE_EXEC_PIDS_MAX);
	__type(key, __u32);     /* pid */
	__type(value, __u64);   /* exec time */
} execd SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, TRACE_EXEC_RING_BYTES);
} events SEC(".maps");

__u64 events_dropped = 0;   /* records that did not fit in the ring buffer */
__u64 exits_untracked = 0;  /* execs whose exit cannot be reported: `execd` full */

static __always_inline void read_args(struct trace_exec_exec *e, struct task_struct *task)
{
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	unsigned long len = end > start ? end - start : 0;

	if (len > TRACE_EXEC_ARGS_BYTES) {
		len = TRACE_EXEC_ARGS_BYTES;
		e->args_truncated = 1;
	}
	if (len && bpf_probe_read_user(e->args, len, (void *)start)) {
		e->args_unreadable = 1;
		len = 0;
	}
	e->args_bytes = len;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(trace_exec_exec, struct task_struct *task, int old_pid, struct linux_binprm *bprm)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u32 ppid = task->real_parent->tgid;
	char comm[TRACER_COMM_BYTES];

	if (!filter_current(pid_tgid, comm))
		return 0;
	if ((targ_ppid && ppid != targ_ppid) || (targ_uid >= 0 && uid != (__u32)targ_uid))
		return 0;

	struct trace_exec_exec *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		__sync_fetch_and_add(&events_dropped, 1);
		return 0;
	}
	e->kind = TRACE_EXEC_KIND_EXEC;
	e->pid = pid_tgid >> 32;
	e->ppid = ppid;
	e->uid = uid;
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->argc = bprm->argc;
	e->args_truncated = 0;
	e->args_unreadable = 0;
	__builtin_memcpy(e->comm, comm, TRACER_COMM_BYTES);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), bprm->filename);
	read_args(e, task);

	__u32 pid = e->pid;   /* map arguments must not point into the ring buffer */
	__u64 ts = e->ts_ns;
	if (bpf_map_update_elem(&execd, &pid, &ts, BPF_ANY))
		__sync_fetch_and_add(&exits_untracked, 1);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Fires for every exiting thread; the process has ended when the last one
 * goes (signal->live already decremented to 0), and its exit code is then
 * in exit_code. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(trace_exec_exit, struct task_struct *task)
{
	if (task->signal->live.counter != 0)
		return 0;
	__u32 pid = task->tgid;
	__u64 *started = bpf_map_lookup_elem(&execd, &pid);
	if (!started)
		return 0;
	__u64 start = *started;
	bpf_map_delete_elem(&execd, &pid);

	struct trace_exec_exit *x = bpf_ringbuf_reserve(&events, sizeof(*x), 0);
	if (!x) {
		__sync_fetch_and_add(&events_dropped, 1);
		return 0;
	}
	x->kind = TRACE_EXEC_KIND_EXIT;
	x->pid = pid;
	x->ppid = task->real_parent->tgid;
	x->uid = (__u32)bpf_get_current_uid_gid();
	x->ts_ns = bpf_ktime_get_ns();
	x->runtime_ns = x->ts_ns - start;
	x->cgroup_id = bpf_get_current_cgroup_id();   /* current is the exiting task */
	x->exit_code = task->exit_code;
	x->pad = 0;
	bpf_probe_read_kernel(x->comm, sizeof(x->comm), task->comm);
	bpf_ringbuf_submit(x, 0);
	return 0;
}
