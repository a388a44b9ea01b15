/* Bounded walk of the bpffs mounts (see bpffs.h). */
#include "bpffs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../limits.h"
#include "../sys/sysfs.h"

struct node {
	struct bpffs_entry e;
	struct node *next;
};

struct walker {
	struct bpffs_walk *bw;
	struct node *head;
	dev_t devs[BPFFS_MAX_MOUNTS];
	ino_t inos[BPFFS_MAX_MOUNTS];
	char path[LIMIT_PATH_BYTES];
};

static int add_entry(struct walker *wk, unsigned char dtype)
{
	struct node *n = arena__alloc(wk->bw->arena, sizeof(*n));
	if (!n || !(n->e.path = arena__strndup(wk->bw->arena, wk->path, strlen(wk->path))))
		return -ENOMEM;
	n->e.dtype = dtype;
	n->next = wk->head;
	wk->head = n;
	wk->bw->n++;
	return 0;
}

/* Reads the directory at wk->path (len bytes), depth levels below a root. */
static int walk_dir(struct walker *wk, size_t len, unsigned depth)
{
	struct bpffs_walk *bw = wk->bw;
	DIR *d = opendir(wk->path);
	if (!d) {
		bw->dirs_unreadable++;
		return 0;
	}
	struct dirent *e;
	int r = 0;
	while (!r && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (++bw->scanned > bw->scan_max) {
			r = -E2BIG;
			break;
		}
		size_t nl = strlen(e->d_name);
		if (len + 1 + nl >= sizeof(wk->path)) {
			bw->names_too_long++;
			continue;
		}
		wk->path[len] = '/';
		memcpy(wk->path + len + 1, e->d_name, nl + 1);
		unsigned char t = e->d_type;
		struct stat st;
		if (t == DT_UNKNOWN && !lstat(wk->path, &st))
			t = (unsigned char)IFTODT(st.st_mode);
		if (t != DT_DIR)
			r = add_entry(wk, t);
		else if (depth + 1 < bw->depth_max)
			r = walk_dir(wk, len + 1 + nl, depth + 1);
		else
			bw->dirs_not_walked++;
		wk->path[len] = 0;
	}
	closedir(d);
	return r;
}

static int walk_mount(const char *dir, void *arg)
{
	struct walker *wk = arg;
	struct bpffs_walk *bw = wk->bw;
	struct stat st;
	if (stat(dir, &st))
		return 0;           /* mounted over or gone since the table was read */
	for (unsigned k = 0; k < bw->n_mounts; k++)
		if (wk->devs[k] == st.st_dev && wk->inos[k] == st.st_ino)
			return 0;
	size_t len = strlen(dir);
	if (bw->n_mounts == BPFFS_MAX_MOUNTS || len >= sizeof(wk->path)) {
		bw->mounts_not_walked++;
		return 0;
	}
	if (!(bw->mounts[bw->n_mounts] = arena__strndup(bw->arena, dir, len)))
		return -ENOMEM;
	wk->devs[bw->n_mounts] = st.st_dev;
	wk->inos[bw->n_mounts] = st.st_ino;
	bw->n_mounts++;
	memcpy(wk->path, dir, len + 1);
	if (len == 1)
		len = 0;             /* "/" itself: children are "/name" */
	return walk_dir(wk, len, 0);
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct bpffs_entry *)a)->path, ((const struct bpffs_entry *)b)->path);
}

int bpffs__walk(struct bpffs_walk *bw)
{
	/* The walker holds a PATH_MAX buffer: keep it off the stack. */
	struct walker *wk = arena__alloc(bw->arena, sizeof(*wk));
	if (!wk)
		return -ENOMEM;
	memset(wk, 0, sizeof(*wk));
	wk->bw = bw;
	bw->n = 0;
	int r = sysfs__each_mount("bpf", walk_mount, wk);
	if (r)
		return r;
	bw->entries = arena__alloc(bw->arena, (bw->n ? bw->n : 1) * sizeof(*bw->entries));
	if (!bw->entries)
		return -ENOMEM;
	size_t i = bw->n;
	for (struct node *n = wk->head; n; n = n->next)
		bw->entries[--i] = n->e;
	qsort(bw->entries, bw->n, sizeof(*bw->entries), by_path);
	return 0;
}
