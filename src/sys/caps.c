/* Effective capabilities via capget(2) (see caps.h). */
#include "caps.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

uint64_t caps__effective(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = { 0 };
	if (syscall(SYS_capget, &h, d))
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

bool caps__has(unsigned cap)
{
	return cap < 64 && (caps__effective() >> cap & 1);
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
