/* Effective capabilities via capget(2), and the one table of their names
 * (see caps.h). */
#include "caps.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Every capability the kernel numbers, by its constant: the kernel's name
 * comes from the id, the short one is what `info` shows. */
#define CAPS_TABLE(X) \
	X(CHOWN, "chown") X(DAC_OVERRIDE, "dac_override") X(DAC_READ_SEARCH, "dac_read_search") \
	X(FOWNER, "fowner") X(FSETID, "fsetid") X(KILL, "kill") X(SETGID, "setgid") X(SETUID, "setuid") \
	X(SETPCAP, "setpcap") X(LINUX_IMMUTABLE, "linux_immutable") X(NET_BIND_SERVICE, "net_bind_service") \
	X(NET_BROADCAST, "net_broadcast") X(NET_ADMIN, "net_admin") X(NET_RAW, "net_raw") \
	X(IPC_LOCK, "ipc_lock") X(IPC_OWNER, "ipc_owner") X(SYS_MODULE, "sys_module") \
	X(SYS_RAWIO, "sys_rawio") X(SYS_CHROOT, "sys_chroot") X(SYS_PTRACE, "sys_ptrace") \
	X(SYS_PACCT, "sys_pacct") X(SYS_ADMIN, "sys_admin") X(SYS_BOOT, "sys_boot") X(SYS_NICE, "sys_nice") \
	X(SYS_RESOURCE, "sys_resource") X(SYS_TIME, "sys_time") X(SYS_TTY_CONFIG, "sys_tty_config") \
	X(MKNOD, "mknod") X(LEASE, "lease") X(AUDIT_WRITE, "audit_write") X(AUDIT_CONTROL, "audit_control") \
	X(SETFCAP, "setfcap") X(MAC_OVERRIDE, "mac_override") X(MAC_ADMIN, "mac_admin") X(SYSLOG, "syslog") \
	X(WAKE_ALARM, "wake_alarm") X(BLOCK_SUSPEND, "block_suspend") X(AUDIT_READ, "audit_read") \
	X(PERFMON, "perfmon") X(BPF, "bpf") X(CHECKPOINT_RESTORE, "checkpoint_restore")

static const struct { const char *name, *short_name; } cap_names[CAPS_COUNT] = {
#define X(id, low) [CAP_##id] = { "CAP_" #id, low },
	CAPS_TABLE(X)
#undef X
};

/* Every number below CAPS_COUNT has its row: none left out or doubled. */
enum {
#define X(id, low) + 1
	CAPS_ROWS = 0 CAPS_TABLE(X)
#undef X
};
_Static_assert(CAPS_ROWS == CAPS_COUNT, "one row per capability 0..CAPS_COUNT-1");

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
	return cap < CAPS_COUNT ? cap_names[cap].name : "CAP_?";
}

const char *caps__short_name(unsigned cap)
{
	return cap < CAPS_COUNT ? cap_names[cap].short_name : NULL;
}
