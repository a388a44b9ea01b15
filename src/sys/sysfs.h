/* Small, bounded readers for /proc, /sys and mount points. */
#ifndef EBPF_MCP_SYSFS_H
#define EBPF_MCP_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../errors.h"

/* Reads up to cap-1 bytes of a file, NUL-terminated, trailing newline kept.
 * Returns 0 or -errno; -EFBIG when the file holds more than cap-1 bytes. */
int sysfs__read(const char *path, char *buf, size_t cap, size_t *len);
/* First integer in a file. */
int sysfs__read_int(const char *path, int64_t *v);
/* Mount point of the first mount of fstype ("bpf", "tracefs", "debugfs"),
 * or -ENOENT. */
int sysfs__mount_point(const char *fstype, char *out, size_t cap);
/* Calls fn(dir, arg) for every mount of fstype in mount-table order until fn
 * returns nonzero, which is then returned. Octal escapes in the table (\040
 * for a space) are decoded. When /proc/self/mounts cannot be opened (no
 * /proc), the known mount points of fstype that hold it are visited
 * instead. 0 or fn's value. */
int sysfs__each_mount(const char *fstype, int (*fn)(const char *dir, void *arg), void *arg);
/* The same over every mount, whatever its type: fn(type, dir, arg). */
int sysfs__each_mount_all(int (*fn)(const char *type, const char *dir, void *arg), void *arg);
/* Whether the running kernel knows fstype: 1 or 0 from /proc/filesystems;
 * without /proc, 1 when it is mounted or the kernel's mount-point directory
 * for it is in sysfs, 0 when sysfs is mounted and that directory is not
 * there, -ENOENT when nothing tells. */
int sysfs__fs_supported(const char *fstype);

/* A filesystem's usual place, and the command that mounts it there. */
struct sysfs_known_mount {
	const char *fstype;
	const char *dir;
	const char *command;
	unsigned long magic;       /* statfs f_type */
	enum err_code missing;     /* <FSTYPE>_MISSING, the error when it is not there */
};
/* The usual place of sysfs, proc, tracefs, debugfs, bpf or cgroup2; NULL
 * for another type. */
const struct sysfs_known_mount *sysfs__known_mount(const char *fstype);
/* Whether dir is the root of a mount of fstype (a type sysfs__known_mount
 * knows; checked with statfs, so it works without /proc). */
bool sysfs__mounted_at(const char *fstype, const char *dir);
/* The tracefs root holding "events/": /sys/kernel/tracing, or the debugfs
 * path. -ENOENT when neither is mounted, -EACCES when one is but this
 * process may not read it. */
int sysfs__tracefs_dir(char *out, size_t cap);
/* Whether the kernel offers kprobes ("kprobe") or uprobes ("uprobe"): its
 * perf PMU under /sys/bus/event_source/devices, or the legacy
 * <pmu>_events file in tracefs. */
bool sysfs__probe_pmu(const char *pmu);

#endif
