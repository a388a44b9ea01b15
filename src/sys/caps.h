/* The capabilities this process holds, checked before work that needs them
 * so an error can name the missing capability instead of a bare EPERM. */
#ifndef EBPF_MCP_CAPS_H
#define EBPF_MCP_CAPS_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/capability.h>

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

/* Capabilities 0..CAPS_COUNT-1 have names (caps.c holds the one table). */
#define CAPS_COUNT (CAP_CHECKPOINT_RESTORE + 1)

/* The effective set, bit n for capability n (capget(2), so no /proc is
 * needed); 0 if unreadable. */
uint64_t caps__effective(void);
/* Whether capability cap is in the effective set (false if unreadable). */
bool caps__has(unsigned cap);
/* "CAP_BPF", "CAP_SYS_ADMIN", ...; "CAP_?" past the table. */
const char *caps__name(unsigned cap);
/* "bpf", "sys_admin", ... (the name without CAP_, lower-case); NULL past
 * the table. */
const char *caps__short_name(unsigned cap);

#endif
