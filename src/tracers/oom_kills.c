/* oom_kills: each victim of the OOM killer, its memory as the kernel
 * computed it, and the task that triggered the kill with its memory cgroup,
 * as events.
 *
 * The memory cgroup comes from the kernel as a cgroup id in the hierarchy
 * that holds the memory controller (a cgroup v1 "memory" mount, else
 * cgroup2); its path is found by opening that id as a file handle on the
 * mount (kernfs exports cgroups by id) and reading the link back. */
#define _GNU_SOURCE   /* open_by_handle_at */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../sys/sysfs.h"
#include "oom_kills.h"
#include "oom_kills.skel.h"
#include "tracer_run.h"

#define FILEID_KERNFS  0xfe   /* include/linux/exportfs.h: a kernfs node by its 64-bit id */
#define MOUNT_DIR_BYTES 256
#define MEMCG_PATH_BYTES 4096

struct oom {
	char mount[MOUNT_DIR_BYTES];   /* the memory controller's hierarchy, "" when not found */
};

/* ---- the memory cgroup's path ------------------------------------------------ */

/* A cgroup v1 mount holding the memory controller: its root has memory.* files. */
static int v1_memory(const char *dir, void *arg)
{
	char p[MOUNT_DIR_BYTES + 32];
	snprintf(p, sizeof(p), "%s/memory.usage_in_bytes", dir);
	if (access(p, F_OK) || strlen(dir) >= MOUNT_DIR_BYTES)
		return 0;
	strcpy(arg, dir);
	return 1;
}

static void find_memcg_mount(struct oom *o)
{
	if (sysfs__each_mount("cgroup", v1_memory, o->mount) == 1)
		return;
	if (sysfs__mount_point("cgroup2", o->mount, sizeof(o->mount)))
		o->mount[0] = 0;
}

/* The cgroup's path below the hierarchy's root ("/" for the root), as the
 * kernel's OOM report names it; false when it cannot be opened (removed
 * since, outside this mount namespace's view, or no memcg). */
static bool memcg_path(const struct oom *o, uint64_t id, char *out, size_t cap)
{
	struct {
		struct file_handle h;
		uint64_t id;
	} fh = { .h = { .handle_bytes = sizeof(uint64_t), .handle_type = FILEID_KERNFS }, .id = id };
	char link[64], full[MEMCG_PATH_BYTES];
	if (!id || !o->mount[0])
		return false;
	int mfd = open(o->mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int fd = mfd < 0 ? -1 : open_by_handle_at(mfd, &fh.h, O_PATH | O_CLOEXEC);
	ssize_t n = -1;
	if (fd >= 0) {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, full, sizeof(full) - 1);
		close(fd);
	}
	if (mfd >= 0)
		close(mfd);
	size_t ml = strlen(o->mount);
	if (n < 0 || (size_t)n < ml || strncmp(full, o->mount, ml) || (full[ml] && full[ml] != '/'))
		return false;
	full[n] = 0;
	snprintf(out, cap, "%s", full[ml] ? full + ml : "/");
	return true;
}

/* ---- events -------------------------------------------------------------------- */

static void write_victim(struct jw *w, const struct oom_kills_event *e)
{
	jw__key(w, "victim");
	jw__obj(w);
	jw__kuint(w, "pid", e->pid);
	if (e->detailed) {
		tracer__kcomm(w, "comm", e->comm);
		jw__kuint(w, "uid", e->uid);
		jw__kuint(w, "total_vm_kb", e->total_vm_kb);
		jw__kuint(w, "anon_rss_kb", e->anon_rss_kb);
		jw__kuint(w, "file_rss_kb", e->file_rss_kb);
		jw__kuint(w, "shmem_rss_kb", e->shmem_rss_kb);
		jw__kuint(w, "pgtables_kb", e->pgtables_kb);
		jw__kint(w, "oom_score_adj", e->oom_score_adj);
	}
	jw__obj_end(w);
}

static void write_trigger(struct jw *w, const struct oom *o, const struct oom_kills_event *e)
{
	char path[MEMCG_PATH_BYTES];
	jw__key(w, "trigger");
	jw__obj(w);
	jw__kuint(w, "pid", e->trigger_tgid);
	jw__kuint(w, "tid", e->trigger_tid);
	tracer__kcomm(w, "comm", e->trigger_comm);
	jw__kuint(w, "cgroup_id", e->trigger_cgroup_id);
	jw__kuint(w, "memcg_id", e->trigger_memcg_id);
	if (memcg_path(o, e->trigger_memcg_id, path, sizeof(path)))
		jw__kstr(w, "memcg", path);
	jw__obj_end(w);
}

static int event(struct tracer *t, struct jw *w, const void *data, size_t size)
{
	const struct oom_kills_event *e = data;
	if (size < sizeof(*e))
		return 1;
	jw__obj(w);
	jw__kuint(w, "ts_ns", e->ts_ns);
	write_victim(w, e);
	write_trigger(w, t->priv, e);
	jw__obj_end(w);
	return 0;
}

static uint64_t ring_dropped(struct tracer *t)
{
	return ((struct oom_kills_bpf *)t->skel)->bss->events_dropped;
}

static void free_oom(void *p)
{
	free(p);
}

static const struct tracer_ops ops = { .max_events_default = 100, .event = event, .free_priv = free_oom,
				       .ring_dropped = ring_dropped };

static int run_oom_kills(struct tool_ctx *ctx)
{
	struct tracer *t = tracer__begin(ctx, "oom_kills", &ops);
	if (!t)
		return -1;
	struct oom *o = calloc(1, sizeof(*o));
	t->priv = o;
	if (!o) {
		errno = ENOMEM;
		return tracer__open_failed(ctx, t);
	}
	find_memcg_mount(o);
	struct oom_kills_bpf *s = oom_kills_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	t->needs_tracefs = true;
	return tracer__start(ctx, t, s, s->skeleton, s->maps.events);
}

const struct tool tool_oom_kills = {
	.name = "oom_kills",
	.schema = SCHEMA_oom_kills,
	.run = run_oom_kills,
};
