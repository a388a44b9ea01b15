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

/* The effective set, bit n for capability n (capget(2), so no /proc is
 * needed); 0 if unreadable. */
uint64_t caps__effective(void);
/* Whether capability cap is in the effective set (false if unreadable). */
bool caps__has(unsigned cap);
/* "CAP_BPF", "CAP_SYS_ADMIN", ... for the few the tools check. */
const char *caps__name(unsigned cap);

#endif
