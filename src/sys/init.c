/* Init mode (see init.h). Everything here runs once, before the server
 * starts, in a root that holds nothing but this binary and the modules the
 * kernel needs for its MCP port; what cannot be set up is said on the
 * console, and only a missing MCP port is fatal. */
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sysfs.h"

#define INIT_NAME_MAX 64    /* mcp_port= value and module file names */
#define INIT_POLL_MS  50    /* between looks for the port's device */

/* One write per line: the kernel's own console output can land between
 * separate writes. */
static void say(const char *fmt, const char *a, const char *b)
{
	char line[512], text[448];
	snprintf(text, sizeof(text), fmt, a, b);
	int n = snprintf(line, sizeof(line), "ebpf-mcp init: %s\n", text);
	if (n > 0 && write(STDERR_FILENO, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0)
		return;   /* no console: nothing else to tell */
}

bool init__is_init(const char *argv0)
{
	const char *base = strrchr(argv0, '/');
	return getpid() == 1 && !strcmp(base ? base + 1 : argv0, "init");
}

/* ---- file systems ----------------------------------------------------------- */

static const struct {
	const char *fstype, *dir;
	unsigned long flags;
} mounts[] = {
	{ "proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "sysfs", "/sys", MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "devtmpfs", "/dev", MS_NOSUID },
	{ "bpf", "/sys/fs/bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "tracefs", "/sys/kernel/tracing", MS_NOSUID | MS_NODEV | MS_NOEXEC },
	{ "debugfs", "/sys/kernel/debug", MS_NOSUID | MS_NODEV | MS_NOEXEC },
};

/* Not fatal: a kernel without tracefs still serves the tools that need none,
 * and they say what is missing. */
static void mount_all(void)
{
	for (unsigned i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		if (mkdir(mounts[i].dir, 0755) && errno != EEXIST)
			say("mkdir %s: %s", mounts[i].dir, strerror(errno));
		if (mount(mounts[i].fstype, mounts[i].dir, mounts[i].fstype, mounts[i].flags, NULL) &&
		    errno != EBUSY)
			say("mount %s: %s", mounts[i].dir, strerror(errno));
	}
}

/* The kernel gives init the console as fds 0-2 only when the archive holds
 * /dev/console; this one holds no device nodes, so the console is opened
 * from devtmpfs and becomes stderr. */
static void open_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fd != STDERR_FILENO) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
}

/* ---- modules ---------------------------------------------------------------- */

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static unsigned list_modules(char names[][INIT_NAME_MAX])
{
	DIR *d = opendir("/lib/modules");
	unsigned n = 0;
	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 4 || len >= INIT_NAME_MAX || strcmp(e->d_name + len - 3, ".ko"))
			continue;
		if (n == INIT_MODULES_MAX) {
			say("more than %s modules in /lib/modules; the rest are not loaded%s", "64", "");
			break;
		}
		memcpy(names[n++], e->d_name, len + 1);
	}
	closedir(d);
	qsort(names, n, INIT_NAME_MAX, by_name);
	return n;
}

static int load_module(const char *name)
{
	char path[INIT_NAME_MAX + 16];
	if (snprintf(path, sizeof(path), "/lib/modules/%s", name) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;
	if (fd < 0)
		return -errno;
	if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST)
		rc = -errno;
	close(fd);
	return rc;
}

/* Modules load in name order, then again for those whose dependencies came
 * later, until a pass loads nothing: no dependency list is needed. */
static void load_modules(void)
{
	static char names[INIT_MODULES_MAX][INIT_NAME_MAX];
	int err[INIT_MODULES_MAX];
	unsigned n = list_modules(names), left = n;
	for (unsigned i = 0; i < n; i++)
		err[i] = -EAGAIN;
	for (bool progress = true; left && progress;) {
		progress = false;
		for (unsigned i = 0; i < n; i++) {
			if (!err[i] || (err[i] = load_module(names[i])))
				continue;
			left--;
			progress = true;
		}
	}
	for (unsigned i = 0; i < n; i++)
		if (err[i])
			say("module %s: %s", names[i], strerror(-err[i]));
}

/* ---- the MCP port ----------------------------------------------------------- */

static bool name_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n >= INIT_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!(*s == '-' || *s == '_' || (*s >= '0' && *s <= '9') || ((*s | 32) >= 'a' && (*s | 32) <= 'z')))
			return false;
	return true;
}

/* /dev path of the virtio serial port named name (its "name" in sysfs). */
static int find_vport(const char *name, char *dev, size_t cap)
{
	DIR *d = opendir("/sys/class/virtio-ports");
	int rc = -ENOENT;
	if (!d)
		return rc;
	for (struct dirent *e; rc && (e = readdir(d));) {
		char path[300], got[INIT_NAME_MAX + 2];
		size_t len = 0;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", e->d_name);
		if (sysfs__read(path, got, sizeof(got), &len))
			continue;
		if (len && got[len - 1] == '\n')
			got[--len] = 0;
		if (!strcmp(got, name))
			rc = snprintf(dev, cap, "/dev/%s", e->d_name) < (int)cap ? 0 : -ENAMETOOLONG;
	}
	closedir(d);
	return rc;
}

/* A serial line echoes and rewrites what it carries until set raw. */
static int make_raw(int fd)
{
	struct termios t;
	if (tcgetattr(fd, &t))
		return -errno;
	cfmakeraw(&t);
	return tcsetattr(fd, TCSANOW, &t) ? -errno : 0;
}

static int open_port(const char *name, char *dev, size_t cap)
{
	bool tty = !strncmp(name, "tty", 3) || !strncmp(name, "hvc", 3);
	struct timespec nap = { 0, INIT_POLL_MS * 1000000L };
	for (unsigned waited = 0; waited <= INIT_PORT_WAIT_MS; waited += INIT_POLL_MS) {
		int fd = -1;
		if (tty)
			snprintf(dev, cap, "/dev/%s", name);
		if (tty || !find_vport(name, dev, cap))
			fd = open(dev, O_RDWR | O_NOCTTY);
		if (fd >= 0) {
			int rc = tty ? make_raw(fd) : 0;
			if (rc)
				close(fd);
			return rc ? rc : fd;
		}
		nanosleep(&nap, NULL);
	}
	return -ENOENT;
}

int init__setup(void)
{
	char dev[300];
	const char *name = getenv("mcp_port");
	mount_all();
	open_console();
	load_modules();
	if (!name)
		name = INIT_PORT_DEFAULT;
	if (!name_ok(name)) {
		say("mcp_port=%s: a port name is letters, digits, '-' and '_', under 64 bytes%s", name, "");
		return -1;
	}
	int fd = open_port(name, dev, sizeof(dev));
	if (fd < 0) {
		say("no MCP port %s after 20 s (%s); name a virtio serial port or a tty with mcp_port=",
		    name, strerror(-fd));
		return -1;
	}
	if (dup2(fd, STDIN_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		return say("dup2 %s: %s", dev, strerror(errno)), -1;
	if (fd > STDERR_FILENO)
		close(fd);
	say("serving MCP on %s (%s)", dev, name);
	return 0;
}

void init__poweroff(void)
{
	say("the server has ended (the client left); powering off%s%s", "", "");
	fflush(stderr);
	sync();
	reboot(RB_POWER_OFF);
	/* PID 1 must not exit: that panics the kernel */
	for (;;)
		pause();
}
