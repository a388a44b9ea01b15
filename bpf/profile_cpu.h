/* profile_cpu: sampled kernel and user stacks with counts; shared with
 * userspace. The counts are kept under a struct stacks_key (stacks.h). */
#ifndef EBPF_MCP_BPF_PROFILE_CPU_H
#define EBPF_MCP_BPF_PROFILE_CPU_H

#include "stacks.h"

#define PROFILE_CPU_KEYS_MAX 10240   /* distinct (thread, kernel stack, user stack) */

#endif
