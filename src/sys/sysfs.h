/* Small, bounded readers for /proc, /sys and mount points. */
#ifndef EBPF_MCP_SYSFS_H
#define EBPF_MCP_SYSFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
 * for a space) are decoded. 0, fn's value, or -errno. */
int sysfs__each_mount(const char *fstype, int (*fn)(const char *dir, void *arg), void *arg);
/* Whether the running kernel knows fstype (/proc/filesystems). */
bool sysfs__fs_supported(const char *fstype);
/* The tracefs root holding "events/": /sys/kernel/tracing, or the debugfs
 * path. -ENOENT when neither is mounted. */
int sysfs__tracefs_dir(char *out, size_t cap);

#endif
