/* Cgroup context for tracer events: a cgroup v2 id (what
 * bpf_get_current_cgroup_id() returns, the inode of the cgroup's directory)
 * turned into its path under the cgroup2 mount, and the container id and
 * Kubernetes pod UID that path shapes name.
 *
 * One resolver belongs to one tracer run and answers each distinct id once:
 * the answer, found or not, is cached. An id is looked up first through a
 * task known to be in it (/proc/<pid>/cgroup, checked against the id), then
 * by walking the hierarchy, which caches every directory it passes so later
 * ids are usually found without a walk. Everything is bounded: the ids kept,
 * the path bytes, the directories and depth of a walk, and the walks of a
 * run. An id that cannot be resolved is answered with the reason.
 *
 * Not thread-safe: a run's events are written one at a time. */
#ifndef EBPF_MCP_CGPATH_H
#define EBPF_MCP_CGPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGPATH_CACHE_MAX     4096          /* ids one run remembers, found or not */
#define CGPATH_PREFILL_MAX   3072          /* of those, ids a walk may add that nobody asked for yet */
#define CGPATH_BYTES_MAX     (1024 * 1024) /* path bytes the cache may hold */
#define CGPATH_PREFILL_BYTES (768 * 1024)  /* of those, for paths nobody asked for yet */
#define CGPATH_WALK_DIRS     16384         /* directories one walk reads */
#define CGPATH_WALK_DEPTH    32            /* levels one walk descends (open directories at once) */
#define CGPATH_WALKS_MAX     64            /* walks in one run; later unknown ids are not walked for */
#define CGPATH_PATH_BYTES    4096          /* one path relative to the mount (PATH_MAX) */
#define CGPATH_CONTAINER_BYTES 65          /* a container id: at most 64 hex digits */
#define CGPATH_POD_BYTES     37            /* a pod UID: 36 characters (UUID), or 32 hex */

/* Why an id has no path. */
enum cgpath_miss {
	CGPATH_FOUND = 0,
	CGPATH_NOT_FOUND,     /* a complete walk did not see it: removed before the event was read */
	CGPATH_WALK_LIMIT,    /* not seen, and the walk stopped at one of its bounds */
	CGPATH_CACHE_FULL,    /* CGPATH_CACHE_MAX ids (or the path bytes) already held */
	CGPATH_WALKS_SPENT,   /* CGPATH_WALKS_MAX walks already made in this run */
	CGPATH_NO_CGROUP2,    /* no cgroup v2 hierarchy is mounted */
	CGPATH_UNREADABLE,    /* the cgroup2 mount could not be read */
	CGPATH_NO_MEMORY,
};

struct cgpath_info {
	const char *path;           /* relative to the mount, "/" its root; NULL when not found */
	const char *container_id;   /* NULL when the path names no container */
	const char *pod_uid;        /* NULL when the path names no pod */
	enum cgpath_miss miss;
};

/* How much work a resolver did (tests check "once per id"). */
struct cgpath_stats {
	uint64_t asked;       /* cgpath__resolve calls */
	uint64_t ids;         /* ids held (asked for, or seen by a walk) */
	uint64_t by_task;     /* ids found through /proc/<pid>/cgroup */
	uint64_t walks;
	uint64_t dirs_read;   /* directories seen by all walks */
};

struct cgpath;

/* NULL when out of memory. The mount is looked up on first use. */
struct cgpath *cgpath__new(void);
void cgpath__free(struct cgpath *c);
/* The path of cgroup `id` (nonzero). pid: a task that was in it when the
 * event happened, or 0. The strings live as long as the resolver. */
void cgpath__resolve(struct cgpath *c, uint64_t id, uint32_t pid, struct cgpath_info *out);
void cgpath__stats(const struct cgpath *c, struct cgpath_stats *out);
/* The cgroup2 mount point in use (after a resolve), or NULL. */
const char *cgpath__mount(const struct cgpath *c);
/* The reason's name as events show it ("not_found", ...); NULL for FOUND. */
const char *cgpath__miss_name(enum cgpath_miss m);

/* The innermost container id a cgroup path names: docker-<64 hex>.scope,
 * cri-containerd-<64 hex>.scope, crio-<hex>.scope, libpod-<hex>.scope (the
 * ".scope" optional), or a bare 64-hex directory under docker/ or a
 * kubepods hierarchy. Writes it NUL-terminated; false when none. */
bool cgpath__container_id(const char *path, char *out, size_t cap);
/* The pod UID of a kubepods path: pod<uid> (cgroupfs driver) or
 * ...kubepods...-pod<uid with _ for ->.slice (systemd driver), written with
 * dashes; a UUID or 32 hex digits (static pods). false when none. */
bool cgpath__pod_uid(const char *path, char *out, size_t cap);

#endif
