/* block_io_latency: block request latency (issue to completion) as log2
 * histograms aggregated in the kernel; shared with userspace. */
#ifndef EBPF_MCP_BPF_BLOCK_IO_LATENCY_H
#define EBPF_MCP_BPF_BLOCK_IO_LATENCY_H

#include "tracer.h"

#define BLOCK_IO_LATENCY_INFLIGHT_MAX 10240   /* requests issued, not yet completed */
#define BLOCK_IO_LATENCY_HISTS_MAX    1024    /* (disk, operation) pairs */

/* The kernel's dev_t: major << 20 | minor. */
#define BLOCK_IO_LATENCY_MINOR_BITS 20

/* REQ_OP_* values (include/linux/blk_types.h), the low 8 bits of cmd_flags. */
enum block_io_latency_op {
	BLOCK_IO_OP_READ = 0,
	BLOCK_IO_OP_WRITE = 1,
	BLOCK_IO_OP_FLUSH = 2,
	BLOCK_IO_OP_DISCARD = 3,
	BLOCK_IO_OP_SECURE_ERASE = 5,
	BLOCK_IO_OP_ZONE_APPEND = 7,
	BLOCK_IO_OP_WRITE_ZEROES = 9,
};

struct block_io_latency_key {
	__u32 dev;   /* whole disk; 0 unless targ_per_disk */
	__u32 op;    /* enum block_io_latency_op */
};

struct block_io_latency_hist {
	__u64 slots[TRACER_HIST_SLOTS];   /* ns, log2 */
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 bytes;
};

struct block_io_latency_start {
	__u64 ts_ns;
	__u32 dev;
	__u32 op;
	__u64 bytes;
};

#endif
