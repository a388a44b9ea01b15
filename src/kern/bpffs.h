/* The pins under every bpffs mount: a bounded recursive walk.
 *
 * Each distinct bpffs (device + root inode; the same instance mounted twice
 * is walked once, a bind mount of a subdirectory is walked on its own) is
 * read down to depth_max directory levels; every non-directory entry is
 * recorded, and the list comes back sorted by path so paging is stable.
 */
#ifndef EBPF_MCP_BPFFS_H
#define EBPF_MCP_BPFFS_H

#include <stddef.h>
#include <stdint.h>

#include "../mem/arena.h"

#define BPFFS_MAX_MOUNTS 64   /* distinct bpffs mounts walked */

struct bpffs_entry {
	const char *path;
	unsigned char dtype;      /* DT_REG for pins, DT_LNK, ... */
};

struct bpffs_walk {
	/* in */
	struct arena *arena;      /* paths and the entry array live here */
	unsigned depth_max;       /* directory levels read, the mount root is 1 */
	uint64_t scan_max;        /* directory entries visited at most */
	/* out */
	const char *mounts[BPFFS_MAX_MOUNTS];
	unsigned n_mounts;
	unsigned mounts_not_walked;   /* past BPFFS_MAX_MOUNTS */
	struct bpffs_entry *entries;  /* sorted by path */
	size_t n;
	uint64_t scanned;
	unsigned dirs_not_walked;     /* deeper than depth_max */
	unsigned dirs_unreadable;
	unsigned names_too_long;      /* paths over LIMIT_PATH_BYTES */
};

/* 0; -E2BIG when more than scan_max entries were visited; -ENOMEM when the
 * arena is full. Without /proc only a bpffs at /sys/fs/bpf is found. */
int bpffs__walk(struct bpffs_walk *bw);

#endif
