/* Effective capabilities via capget(2) (see caps.h). */
#include "caps.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

bool caps__has(unsigned cap)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { 0 };
	if (cap >= 32 * _LINUX_CAPABILITY_U32S_3 || syscall(SYS_capget, &h, d))
		return false;
	return d[cap / 32].effective & (1u << (cap % 32));
}

const char *caps__name(unsigned cap)
{
	switch (cap) {
	case CAP_SYS_ADMIN: return "CAP_SYS_ADMIN";
	case CAP_NET_ADMIN: return "CAP_NET_ADMIN";
	case CAP_PERFMON: return "CAP_PERFMON";
	case CAP_BPF: return "CAP_BPF";
	default: return "CAP_?";
	}
}
