/* Bounded readers for /proc, /sys and the mount table.
 *
 * The mount table is /proc/self/mounts. In a root without /proc (a scratch
 * container, a chroot with only /sys mounted) the well-known mount points
 * are checked by filesystem magic instead, so tracefs, bpffs and cgroup2
 * are still found where the tools look for them. */
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "../limits.h"

#define SYSFS_LINE_BYTES 4096   /* one /proc/self/mounts line */

/* Where the tools look for each filesystem; without /proc these are the
 * only mounts that can be found (by statfs). The first entry of a type is
 * its usual place. */
static const struct sysfs_known_mount known[] = {
	{ "sysfs", "/sys", "mount -t sysfs sysfs /sys", SYSFS_MAGIC, ERR_SYSFS_MISSING },
	{ "proc", "/proc", "mount -t proc proc /proc", PROC_SUPER_MAGIC, ERR_PROC_MISSING },
	{ "tracefs", "/sys/kernel/tracing", "mount -t tracefs tracefs /sys/kernel/tracing", TRACEFS_MAGIC, ERR_TRACEFS_MISSING },
	{ "tracefs", "/sys/kernel/debug/tracing", NULL, TRACEFS_MAGIC, ERR_TRACEFS_MISSING },   /* automounted in debugfs */
	{ "debugfs", "/sys/kernel/debug", "mount -t debugfs debugfs /sys/kernel/debug", DEBUGFS_MAGIC, ERR_DEBUGFS_MISSING },
	{ "bpf", "/sys/fs/bpf", "mount -t bpf bpf /sys/fs/bpf", BPF_FS_MAGIC, ERR_BPF_MISSING },
	{ "cgroup2", "/sys/fs/cgroup", "mount -t cgroup2 cgroup2 /sys/fs/cgroup", CGROUP2_SUPER_MAGIC, ERR_CGROUP2_MISSING },
};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

const struct sysfs_known_mount *sysfs__known_mount(const char *fstype)
{
	for (unsigned k = 0; k < N_KNOWN; k++)
		if (!strcmp(known[k].fstype, fstype))
			return &known[k];
	return NULL;
}

/* dir is a mount's root: its parent is on another device (or it is "/"). */
static bool mount_root(const char *dir)
{
	char parent[256];
	struct stat a, b;
	if (snprintf(parent, sizeof(parent), "%s/..", dir) >= (int)sizeof(parent) || stat(dir, &a) ||
	    stat(parent, &b))
		return false;
	return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}

bool sysfs__mounted_at(const char *fstype, const char *dir)
{
	struct statfs sf;
	for (unsigned k = 0; k < N_KNOWN; k++)
		if (!strcmp(known[k].fstype, fstype))
			return statfs(dir, &sf) == 0 && (unsigned long)sf.f_type == known[k].magic &&
			       mount_root(dir);
	return false;
}

/* The mount-table walk without a mount table: the usual places, by magic. */
/* Without /proc: the known places that hold their filesystem. */
static int each_known(int (*fn)(const char *type, const char *dir, void *arg), void *arg)
{
	int rc = 0;
	for (unsigned k = 0; !rc && k < N_KNOWN; k++)
		if (sysfs__mounted_at(known[k].fstype, known[k].dir))
			rc = fn(known[k].fstype, known[k].dir, arg);
	return rc;
}

int sysfs__read(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n == cap - 1) {
			char c;
			ssize_t more = read(fd, &c, 1);
			close(fd);
			buf[n] = 0;
			if (len)
				*len = n;
			return more > 0 ? -EFBIG : 0;
		}
	}
	close(fd);
	buf[n] = 0;
	if (len)
		*len = n;
	return 0;
}

int sysfs__read_int(const char *path, int64_t *v)
{
	char buf[64];
	int r = sysfs__read(path, buf, sizeof(buf), NULL);
	if (r && r != -EFBIG)
		return r;
	char *end;
	errno = 0;
	long long x = strtoll(buf, &end, 0);
	if (end == buf || errno)
		return -EINVAL;
	*v = x;
	return 0;
}

/* /proc/self/mounts writes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *o = s;
	for (; *s; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o = *s;
		}
	}
	*o = 0;
}

/* One mount-table line: fn(type, dir, arg) unless it is malformed. */
static int mount_line(char *line, int (*fn)(const char *type, const char *dir, void *arg), void *arg)
{
	char *save, *dev = strtok_r(line, " ", &save), *dir = strtok_r(NULL, " ", &save);
	char *type = strtok_r(NULL, " ", &save);
	if (!dev || !dir || !type)
		return 0;
	unescape_octal(dir);
	return fn(type, dir, arg);
}

/* read(2), not stdio: musl's fclose seeks a read stream back, and on
 * /proc/self/mounts that renders the whole table again. A line longer
 * than SYSFS_LINE_BYTES is skipped (no mount point is that long). */
int sysfs__each_mount_all(int (*fn)(const char *type, const char *dir, void *arg), void *arg)
{
	int fd = open("/proc/self/mounts", O_RDONLY | O_CLOEXEC);
	char buf[SYSFS_LINE_BYTES + 1];
	size_t have = 0;
	bool skipping = false;
	int rc = 0;
	if (fd < 0)
		return each_known(fn, arg);
	for (ssize_t r; !rc && (r = read(fd, buf + have, SYSFS_LINE_BYTES - have)) != 0;) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		have += (size_t)r;
		char *p = buf, *nl;
		while (!rc && (nl = memchr(p, '\n', have - (size_t)(p - buf)))) {
			*nl = 0;
			if (!skipping)
				rc = mount_line(p, fn, arg);
			skipping = false;
			p = nl + 1;
		}
		have -= (size_t)(p - buf);
		memmove(buf, p, have);
		if (have == SYSFS_LINE_BYTES)
			have = 0, skipping = true;
	}
	close(fd);
	return rc;
}

struct one_type {
	const char *fstype;
	int (*fn)(const char *dir, void *arg);
	void *arg;
};

static int of_type(const char *type, const char *dir, void *arg)
{
	struct one_type *o = arg;
	return strcmp(type, o->fstype) ? 0 : o->fn(dir, o->arg);
}

int sysfs__each_mount(const char *fstype, int (*fn)(const char *dir, void *arg), void *arg)
{
	struct one_type o = { fstype, fn, arg };
	return sysfs__each_mount_all(of_type, &o);
}

struct first_mount {
	char *out;
	size_t cap;
	int rc;
};

static int take_first(const char *dir, void *arg)
{
	struct first_mount *m = arg;
	if (strlen(dir) >= m->cap) {
		m->rc = -ENAMETOOLONG;
		return 0;
	}
	strcpy(m->out, dir);
	m->rc = 0;
	return 1;
}

int sysfs__mount_point(const char *fstype, char *out, size_t cap)
{
	struct first_mount m = { out, cap, -ENOENT };
	int r = sysfs__each_mount(fstype, take_first, &m);
	return r < 0 ? r : m.rc;
}

static int found(const char *dir, void *arg)
{
	(void)dir, (void)arg;
	return 1;
}

int sysfs__fs_supported(const char *fstype)
{
	char buf[4096], want[64];
	int r = sysfs__read("/proc/filesystems", buf, sizeof(buf), NULL);
	snprintf(want, sizeof(want), "\t%s\n", fstype);
	if (!r || r == -EFBIG)
		return strstr(buf, want) != NULL;
	/* No /proc: a type that is mounted is known; and the kernel makes an
	 * empty directory in sysfs for each of tracefs, debugfs, bpf and
	 * cgroup2 when it registers the type (sysfs_create_mount_point). */
	if (sysfs__each_mount(fstype, found, NULL) == 1)
		return 1;
	const struct sysfs_known_mount *k = sysfs__known_mount(fstype);
	struct stat st;
	if (!k || strncmp(k->dir, "/sys/", 5) || !sysfs__mounted_at("sysfs", "/sys"))
		return -ENOENT;
	return stat(k->dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A tracefs root whose events/ this process may not enter (tracefs is
 * mode 0700 root) is remembered: not mounted and not allowed are told apart. */
static __thread bool tracefs_denied;   /* per thread: set and read within one call */

static bool has_events(const char *dir)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/events", dir);
	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
		return true;
	tracefs_denied |= errno == EACCES;
	return false;
}

int sysfs__tracefs_dir(char *out, size_t cap)
{
	static const char *const cands[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char mp[256];
	tracefs_denied = false;
	/* A tracefs mounted somewhere else counts too (e.g. an initramfs). */
	if (!sysfs__mount_point("tracefs", mp, sizeof(mp)) && has_events(mp) && strlen(mp) < cap) {
		strcpy(out, mp);
		return 0;
	}
	for (unsigned k = 0; k < 2; k++)
		if (has_events(cands[k]) && strlen(cands[k]) < cap) {
			strcpy(out, cands[k]);
			return 0;
		}
	return tracefs_denied ? -EACCES : -ENOENT;
}

bool sysfs__probe_pmu(const char *pmu)
{
	char path[LIMIT_PATH_BYTES], dir[LIMIT_PATH_BYTES];
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s", pmu);
	if (!access(path, F_OK))
		return true;
	if (sysfs__tracefs_dir(dir, sizeof(dir)))
		return false;
	if (snprintf(path, sizeof(path), "%s/%s_events", dir, pmu) >= (int)sizeof(path))
		return false;
	return !access(path, F_OK);
}
