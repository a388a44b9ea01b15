/* Attaching a BPF program to a classic tracepoint (see tracepoint.c). */
#ifndef EBPF_MCP_KERN_TRACEPOINT_H
#define EBPF_MCP_KERN_TRACEPOINT_H

#include <bpf/libbpf.h>

/* Attaches prog to tracepoint group/name through a perf event whose id is
 * read from the tracefs mounted now. NULL with errno set: ENOENT when
 * tracefs is not mounted or has no such tracepoint (sysfs__tracefs_dir tells
 * which), EACCES when tracefs may not be read, else the kernel's errno. */
struct bpf_link *tracepoint__attach(const struct bpf_program *prog, const char *group, const char *name);

/* Attaches every autoloaded, autoattached "tracepoint/G/N" or "tp/G/N"
 * program of a skeleton by tracepoint__attach, setting its link, so that
 * bpf_object__attach_skeleton() leaves them be. 0 or -errno (the links made
 * stay in the skeleton and go with it). */
int tracepoint__attach_skeleton(struct bpf_object_skeleton *s);

#endif
