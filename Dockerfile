# ebpf-mcp as a container image: the one static binary and nothing else.
#
# Build (the binary first; .dockerignore sends only bin/ebpf-mcp as context):
#
#   make && docker build -t ebpf-mcp .
#
# Run it as an MCP server on stdio: -i keeps stdin open, and no -t (the
# protocol is newline-delimited JSON, a terminal would mangle it). An MCP
# client starts this command and talks to its stdin/stdout:
#
#   docker run -i --rm \
#     --cap-add BPF --cap-add PERFMON --cap-add SYS_ADMIN \
#     --pid=host \
#     -v /sys/kernel/tracing:/sys/kernel/tracing \
#     ebpf-mcp
#
# What each part is for:
#   --cap-add BPF --cap-add PERFMON  loading programs and maps, attaching the
#       tracers (kernel 5.8+; Docker 23+ lets bpf(2) and perf_event_open(2)
#       through its seccomp profile with these two).
#   --cap-add SYS_ADMIN  walking BPF objects by id (inspect_state, map and
#       program lookups by id) still needs it on current kernels, as does
#       everything on kernels before 5.8. Leave it out for tracers only.
#   --pid=host  the tracers report and filter by the host's pids, and read
#       /proc/<pid> for user stacks; without it they see the container only.
#   /sys  Docker mounts a read-only sysfs at /sys: vmlinux BTF (get_btf_types,
#       the CO-RE tracers) and the CPU list come from there. A runtime that
#       does not mount it needs -v /sys:/sys:ro.
#   -v /sys/kernel/tracing:/sys/kernel/tracing  tracefs, for tracepoints
#       (list_tracepoints, trace_open, trace_tcp); the host must have it
#       mounted (mount -t tracefs tracefs /sys/kernel/tracing).
#   Optional: -v /sys/fs/bpf:/sys/fs/bpf for pins (pin_object),
#       --network host --cap-add NET_ADMIN to attach to the host's
#       interfaces, --ulimit memlock=-1 on kernels before 5.11.
#   Or, with every right at once: docker run -i --rm --privileged --pid=host
#       -v /sys/kernel/tracing:/sys/kernel/tracing ebpf-mcp
#
# `info` says what the container lacks (filesystems.*.fix, btf.hint,
# capabilities.missing), and a tool that needs a missing mount fails with
# BTF_MISSING, TRACEFS_MISSING, SYSFS_MISSING or PROC_MISSING naming the
# mount that fixes it. tests/integration/scratch.test.mjs runs this same
# binary at this same path in an empty root (a chroot holding only it, with
# sysfs and tracefs mounted and no /proc or /dev) and checks this file's
# shape.
FROM scratch
COPY bin/ebpf-mcp /ebpf-mcp
ENTRYPOINT ["/ebpf-mcp"]
