/* Bounded readers for /proc, /sys and the mount table. */
#include "sysfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSFS_LINE_BYTES 4096   /* one /proc/self/mounts line */

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

int sysfs__mount_point(const char *fstype, char *out, size_t cap)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[SYSFS_LINE_BYTES];
	int rc = -ENOENT;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *dev = strtok(line, " "), *dir = strtok(NULL, " "), *type = strtok(NULL, " ");
		if (!dev || !dir || !type || strcmp(type, fstype))
			continue;
		if (strlen(dir) >= cap) {
			rc = -ENAMETOOLONG;
			continue;
		}
		strcpy(out, dir);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
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

int sysfs__each_mount(const char *fstype, int (*fn)(const char *dir, void *arg), void *arg)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[SYSFS_LINE_BYTES];
	int rc = 0;
	if (!f)
		return -errno;
	while (!rc && fgets(line, sizeof(line), f)) {
		char *save, *dev = strtok_r(line, " ", &save), *dir = strtok_r(NULL, " ", &save);
		char *type = strtok_r(NULL, " ", &save);
		if (!dev || !dir || !type || strcmp(type, fstype))
			continue;
		unescape_octal(dir);
		rc = fn(dir, arg);
	}
	fclose(f);
	return rc;
}

bool sysfs__fs_supported(const char *fstype)
{
	char buf[4096], want[64];
	if (sysfs__read("/proc/filesystems", buf, sizeof(buf), NULL) && !buf[0])
		return false;
	snprintf(want, sizeof(want), "\t%s\n", fstype);
	return strstr(buf, want) != NULL;
}

static bool has_events(const char *dir)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/events", dir);
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int sysfs__tracefs_dir(char *out, size_t cap)
{
	static const char *const cands[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char mp[256];
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
	return -ENOENT;
}
