/* Init mode: the binary as the whole userland of a rescue initramfs.
 *
 * Run as PID 1 under the name "init" (the initramfs's /init), it mounts what
 * the tools read (proc, sysfs, devtmpfs, bpffs, tracefs, debugfs), loads the
 * kernel modules shipped in /lib/modules/ (the virtio console driver on a
 * distribution kernel), opens the MCP port named on the kernel command line
 * (mcp_port=NAME: a virtio serial port's name, or a tty such as ttyS1, set
 * raw), and serves MCP on it. When the client leaves, it powers off.
 * Kernel messages stay on the console; the MCP port carries protocol only.
 */
#ifndef EBPF_MCP_INIT_H
#define EBPF_MCP_INIT_H

#include <stdbool.h>

#define INIT_PORT_DEFAULT "ebpf-mcp"   /* virtio port name when mcp_port= is absent */
#define INIT_PORT_WAIT_MS 20000        /* a port's device may appear after module probing */
#define INIT_MODULES_MAX  64           /* module files /lib/modules/ may hold */

/* Whether this process is an initramfs's init (PID 1 named init). */
bool init__is_init(const char *argv0);
/* Mounts, loads modules and puts the MCP port on stdin/stdout. The console
 * becomes stderr. 0, or -1 after saying why on the console. */
int init__setup(void);
/* Syncs and powers the machine off; never returns. Registered with atexit
 * in init mode, since PID 1 exiting would panic the kernel. */
void init__poweroff(void) __attribute__((noreturn));

#endif
