/* Constants shared by every built-in tracer, in BPF and in userspace.
 *
 * The per-tracer headers (<tracer>.h) hold each one's records and map
 * keys/values; this one only what they all agree on. */
#ifndef EBPF_MCP_BPF_TRACER_H
#define EBPF_MCP_BPF_TRACER_H

#include <linux/types.h>

/* TASK_COMM_LEN: a comm is at most 15 bytes and a NUL. */
#define TRACER_COMM_BYTES 16

/* Log2 histograms in nanoseconds: slot k counts values in [2^k, 2^(k+1)),
 * slot 0 also counts 0; the last slot (2^39 ns, about 9 minutes) takes
 * everything above. */
#define TRACER_HIST_SLOTS 40

/* errno values are small: the kernel returns -1..-4095 for errors
 * (MAX_ERRNO); anything below is a real value, e.g. an address. */
#define TRACER_ERRNO_MAX 4095

#endif
