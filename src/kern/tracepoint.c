/* Classic tracepoints attached without libbpf's tracefs lookup.
 *
 * libbpf reads a tracepoint's id under /sys/kernel/debug/tracing or
 * /sys/kernel/tracing, choosing once per process (whichever exists at its
 * first lookup) and keeping that choice. A server that starts with debugfs
 * mounted and later sees it unmounted (or tracefs unmounted and mounted back
 * at /sys/kernel/tracing only) would then fail every tracepoint attach with
 * ENOENT, as if the tracepoint did not exist. Here the id comes from the
 * tracefs this server finds at the time of the call (sysfs__tracefs_dir,
 * which also follows a tracefs mounted elsewhere). */
#define _GNU_SOURCE
#include "tracepoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include "../limits.h"
#include "../sys/sysfs.h"

#define TP_NAME_BYTES 256   /* group or name of a tracepoint, with its NUL */

/* The tracepoint's id from <tracefs>/events/G/N/id; -errno. */
static int tp_id(const char *group, const char *name)
{
	char root[LIMIT_PATH_BYTES], path[LIMIT_PATH_BYTES + 2 * TP_NAME_BYTES + 16], buf[32];
	int rc = sysfs__tracefs_dir(root, sizeof(root));
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "%s/events/%s/%s/id", root, group, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char *end = NULL;
	long id = fgets(buf, sizeof(buf), f) ? strtol(buf, &end, 10) : -1;
	fclose(f);
	if (id < 0 || end == buf)
		return -EINVAL;
	return (int)id;
}

struct bpf_link *tracepoint__attach(const struct bpf_program *prog, const char *group, const char *name)
{
	if (strlen(group) >= TP_NAME_BYTES || strlen(name) >= TP_NAME_BYTES) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	int id = tp_id(group, name);
	if (id < 0) {
		errno = -id;
		return NULL;
	}
	/* as libbpf does: every task (pid -1) through CPU 0's event */
	struct perf_event_attr attr = { .type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr), .config = (__u64)id,
					.sample_period = 1, .wakeup_events = 1 };
	int pfd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return NULL;
	struct bpf_link *link = bpf_program__attach_perf_event(prog, pfd);
	if (!link) {
		int err = errno;
		close(pfd);
		errno = err;
	}
	return link;
}

/* "tracepoint/G/N" or "tp/G/N" -> G and N; false for other sections. */
static bool split_section(const char *sec, char *group, const char **name)
{
	const char *rest = !strncmp(sec, "tracepoint/", 11) ? sec + 11 : !strncmp(sec, "tp/", 3) ? sec + 3 : NULL;
	const char *slash = rest ? strchr(rest, '/') : NULL;
	if (!slash || (size_t)(slash - rest) >= TP_NAME_BYTES)
		return false;
	memcpy(group, rest, (size_t)(slash - rest));
	group[slash - rest] = 0;
	*name = slash + 1;
	return true;
}

int tracepoint__attach_skeleton(struct bpf_object_skeleton *s)
{
	char group[TP_NAME_BYTES];
	const char *name;
	for (int i = 0; i < s->prog_cnt; i++) {
		struct bpf_prog_skeleton *ps = (void *)((char *)s->progs + (size_t)i * (size_t)s->prog_skel_sz);
		struct bpf_program *prog = *ps->prog;
		if (*ps->link || !bpf_program__autoload(prog) || !bpf_program__autoattach(prog) ||
		    !split_section(bpf_program__section_name(prog), group, &name))
			continue;
		*ps->link = tracepoint__attach(prog, group, name);
		if (!*ps->link)
			return -errno;
	}
	return 0;
}
