/* Cgroup ids to paths, container ids and pod UIDs (see cgpath.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../sys/sysfs.h"
#include "cgpath.h"

#define SLOTS (2 * CGPATH_CACHE_MAX)   /* open addressing, at most half full */
#define SLOT_BITS 13
#define TASK_FILE_BYTES (16 * 1024)     /* /proc/<pid>/cgroup: a line per v1 hierarchy and the v2 one */
#define MOUNTINFO_LINE_BYTES (3 * CGPATH_PATH_BYTES)   /* root and mount point, escaped, and the rest */
/* What one entry may take: the reserve kept so an id asked for always fits. */
#define ENTRY_MAX_BYTES (CGPATH_PATH_BYTES + CGPATH_CONTAINER_BYTES + CGPATH_POD_BYTES)

_Static_assert(SLOTS == 1 << SLOT_BITS, "SLOTS is 2^SLOT_BITS");
_Static_assert(CGPATH_PREFILL_MAX < CGPATH_CACHE_MAX, "ids asked for keep room a walk cannot take");
_Static_assert(CGPATH_PREFILL_BYTES + ENTRY_MAX_BYTES <= CGPATH_BYTES_MAX, "and bytes");

struct entry {
	uint64_t id;             /* 0: an empty slot (no cgroup has id 0) */
	char *text;              /* "path\0container\0pod\0", NULL when not found */
	uint16_t container_at;   /* offsets in text; 0: none */
	uint16_t pod_at;
	uint8_t miss;            /* enum cgpath_miss */
};

struct cgpath {
	struct entry *slots;
	size_t n, bytes;
	bool mount_looked;
	enum cgpath_miss mount_miss;
	char mount[CGPATH_PATH_BYTES];   /* where the cgroup2 hierarchy is mounted */
	char mroot[CGPATH_PATH_BYTES];   /* the cgroup that mount shows as its root ("/": the whole tree) */
	char rel[CGPATH_PATH_BYTES];     /* the walk's current path, relative to the mount */
	char full[2 * CGPATH_PATH_BYTES];   /* mount + a path under it */
	char *buf;                       /* TASK_FILE_BYTES, for /proc files */
	struct cgpath_stats st;
};

/* ---- path shapes --------------------------------------------------------- */

static bool all_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return n > 0;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && !memcmp(s + n - k, suffix, k);
}

static bool has(const char *s, size_t n, const char *what)
{
	size_t k = strlen(what);
	for (size_t i = 0; i + k <= n; i++)
		if (!memcmp(s + i, what, k))
			return true;
	return false;
}

static bool copy_out(const char *s, size_t n, char *out, size_t cap)
{
	if (n >= cap)
		return false;
	memcpy(out, s, n);
	out[n] = 0;
	return true;
}

/* The component of path that ends at *end (exclusive), trailing slashes
 * skipped; its start, with *end moved to just before it. NULL at the top. */
static const char *prev_component(const char *path, const char **end, size_t *n)
{
	const char *e = *end;
	while (e > path && e[-1] == '/')
		e--;
	const char *s = e;
	while (s > path && s[-1] != '/')
		s--;
	*n = (size_t)(e - s);
	*end = s;
	return *n ? s : NULL;
}

/* A runtime's scope or directory name: <prefix><hex>[.scope]. */
static bool prefixed_id(const char *s, size_t n, char *out, size_t cap)
{
	static const struct { const char *prefix; size_t min; } shapes[] = {
		{ "docker-", 64 }, { "cri-containerd-", 64 }, { "crio-", 12 }, { "libpod-", 12 },
	};
	if (ends_with(s, n, ".scope"))
		n -= strlen(".scope");
	for (size_t k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++) {
		size_t pl = strlen(shapes[k].prefix), idn = n - pl;
		if (n <= pl || memcmp(s, shapes[k].prefix, pl))
			continue;
		if (idn >= shapes[k].min && idn <= 64 && all_hex(s + pl, idn))
			return copy_out(s + pl, idn, out, cap);
	}
	return false;
}

bool cgpath__container_id(const char *path, char *out, size_t cap)
{
	const char *end = path + strlen(path), *s;
	bool kube = has(path, strlen(path), "kubepods");
	size_t n;
	while ((s = prev_component(path, &end, &n))) {
		if (prefixed_id(s, n, out, cap))
			return true;
		if (n != 64 || !all_hex(s, n))
			continue;
		/* a bare id: the cgroupfs drivers' docker/<id> and kubepods/.../<id> */
		const char *pe = end;
		size_t pn;
		const char *parent = prev_component(path, &pe, &pn);
		if (kube || (parent && pn == 6 && !memcmp(parent, "docker", 6)))
			return copy_out(s, n, out, cap);
	}
	return false;
}

/* A pod UID as Kubernetes writes it: a UUID, or 32 hex digits (a static
 * pod's is its manifest's hash). */
static bool uid_shape(const char *s, size_t n)
{
	if (n == 32)
		return all_hex(s, n);
	if (n != 36)
		return false;
	for (size_t i = 0; i < n; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !all_hex(s + i, 1))
			return false;
	}
	return true;
}

static bool pod_of(const char *s, size_t n, bool kube, char *out, size_t cap)
{
	char uid[CGPATH_POD_BYTES];
	const char *u = NULL;
	size_t un = 0;
	if (kube && n > 3 && !memcmp(s, "pod", 3) && !has(s, n, "kubepods")) {   /* cgroupfs: pod<uid> */
		u = s + 3, un = n - 3;
	} else if (has(s, n, "kubepods") && ends_with(s, n, ".slice")) {   /* systemd: ...-pod<uid>.slice */
		size_t m = n - strlen(".slice");
		for (size_t i = m; i >= 4 && !u; i--)
			if (!memcmp(s + i - 4, "-pod", 4))
				u = s + i, un = m - i;
	}
	if (!u || un >= sizeof(uid))
		return false;
	for (size_t i = 0; i < un; i++)
		uid[i] = u[i] == '_' ? '-' : u[i];   /* systemd unit names cannot hold '-' inside a part */
	return uid_shape(uid, un) && copy_out(uid, un, out, cap);
}

bool cgpath__pod_uid(const char *path, char *out, size_t cap)
{
	const char *end = path + strlen(path), *s;
	bool kube = has(path, strlen(path), "kubepods");
	size_t n;
	if (!kube)
		return false;
	while ((s = prev_component(path, &end, &n)))
		if (pod_of(s, n, kube, out, cap))
			return true;
	return false;
}

const char *cgpath__miss_name(enum cgpath_miss m)
{
	static const char *const names[] = {
		[CGPATH_NOT_FOUND] = "not_found",       [CGPATH_WALK_LIMIT] = "walk_limit",
		[CGPATH_CACHE_FULL] = "cache_full",     [CGPATH_WALKS_SPENT] = "walks_spent",
		[CGPATH_NO_CGROUP2] = "no_cgroup2",     [CGPATH_UNREADABLE] = "unreadable",
		[CGPATH_NO_MEMORY] = "no_memory",
	};
	return m > 0 && (size_t)m < sizeof(names) / sizeof(names[0]) ? names[m] : NULL;
}

/* ---- the cache --------------------------------------------------------------- */

struct cgpath *cgpath__new(void)
{
	struct cgpath *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->slots = calloc(SLOTS, sizeof(*c->slots));
	c->buf = malloc(TASK_FILE_BYTES);
	if (!c->slots || !c->buf) {
		cgpath__free(c);
		return NULL;
	}
	return c;
}

void cgpath__free(struct cgpath *c)
{
	if (!c)
		return;
	for (size_t i = 0; c->slots && i < SLOTS; i++)
		free(c->slots[i].text);
	free(c->slots);
	free(c->buf);
	free(c);
}

/* The slot holding id, or the empty one where it goes. */
static struct entry *slot_of(struct cgpath *c, uint64_t id)
{
	size_t i = (size_t)((id * 0x9E3779B97F4A7C15ull) >> (64 - SLOT_BITS));
	while (c->slots[i].id && c->slots[i].id != id)
		i = (i + 1) & (SLOTS - 1);   /* never full: at most CGPATH_CACHE_MAX of SLOTS used */
	return &c->slots[i];
}

/* Holds id with its path (NULL: not found, for `miss`). `asked`: the id an
 * event needs, which may use the room kept for such ids. NULL when there
 * is no room or memory. */
static struct entry *insert(struct cgpath *c, uint64_t id, const char *path, enum cgpath_miss miss, bool asked)
{
	struct entry *e = slot_of(c, id);
	if (e->id)
		return e;
	char container[CGPATH_CONTAINER_BYTES], pod[CGPATH_POD_BYTES];
	bool has_c = path && cgpath__container_id(path, container, sizeof(container));
	bool has_p = path && cgpath__pod_uid(path, pod, sizeof(pod));
	size_t pl = path ? strlen(path) + 1 : 0, cl = has_c ? strlen(container) + 1 : 0;
	size_t need = pl + cl + (has_p ? strlen(pod) + 1 : 0);
	if (c->n >= (asked ? CGPATH_CACHE_MAX : CGPATH_PREFILL_MAX) ||
	    c->bytes + need > (asked ? CGPATH_BYTES_MAX : CGPATH_PREFILL_BYTES))
		return NULL;
	char *text = need ? malloc(need) : NULL;
	if (need && !text)
		return NULL;
	if (path) {
		memcpy(text, path, pl);
		if (has_c)
			memcpy(text + pl, container, cl);
		if (has_p)
			strcpy(text + pl + cl, pod);
	}
	*e = (struct entry){ .id = id, .text = text, .miss = path ? CGPATH_FOUND : miss,
			     .container_at = has_c ? (uint16_t)pl : 0, .pod_at = has_p ? (uint16_t)(pl + cl) : 0 };
	c->n++;
	c->bytes += need;
	return e;
}

/* A walk can add no more ids nobody asked for. */
static bool prefill_full(const struct cgpath *c)
{
	return c->n >= CGPATH_PREFILL_MAX || c->bytes + ENTRY_MAX_BYTES > CGPATH_PREFILL_BYTES;
}

/* ---- the cgroup2 mount ----------------------------------------------------- */

/* Decodes mountinfo's octal escapes (\040 for a space) of one field in place. */
static void unescape(char *s)
{
	char *o = s;
	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

/* One mountinfo line: "id parent maj:min root mount-point opts [tags] - type source superopts". */
static bool cgroup2_line(struct cgpath *c, char *line)
{
	char *sep = strstr(line, " - "), *save = NULL;
	if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
		return false;
	char *f[5];
	for (int k = 0; k < 5; k++)
		if (!(f[k] = strtok_r(k ? NULL : line, " ", &save)))
			return false;
	unescape(f[3]);
	unescape(f[4]);
	if (strlen(f[3]) >= sizeof(c->mroot) || strlen(f[4]) >= sizeof(c->mount))
		return false;
	strcpy(c->mroot, f[3]);
	strcpy(c->mount, f[4]);
	return true;
}

static void find_mount(struct cgpath *c)
{
	c->mount_looked = true;
	c->mount_miss = CGPATH_NO_CGROUP2;
	char *line = malloc(MOUNTINFO_LINE_BYTES);
	FILE *f = line ? fopen("/proc/self/mountinfo", "re") : NULL;
	bool found = false;
	while (f && !found && fgets(line, MOUNTINFO_LINE_BYTES, f)) {
		size_t n = strlen(line);
		if (n && line[n - 1] != '\n' && !feof(f)) {   /* longer than a line can be: skip it */
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
			continue;
		}
		line[n && line[n - 1] == '\n' ? n - 1 : n] = 0;
		found = cgroup2_line(c, line);
	}
	if (f)
		fclose(f);
	free(line);
	/* no /proc: the mount table's fallbacks (known mount points) */
	if (!found && !f && !sysfs__mount_point("cgroup2", c->mount, sizeof(c->mount))) {
		strcpy(c->mroot, "/");
		found = true;
	}
	if (found)
		c->mount_miss = CGPATH_FOUND;
}

const char *cgpath__mount(const struct cgpath *c)
{
	return c->mount_looked && !c->mount_miss ? c->mount : NULL;
}

/* ---- resolving ------------------------------------------------------------- */

/* The mount-relative path of a path in the hierarchy, or NULL when the
 * mount does not show it. */
static const char *under_mount(const struct cgpath *c, const char *p)
{
	if (!strcmp(c->mroot, "/"))
		return p;
	size_t k = strlen(c->mroot);
	if (strncmp(p, c->mroot, k) || (p[k] && p[k] != '/'))
		return NULL;
	return p[k] ? p + k : "/";
}

/* Through a task that was in the cgroup: its /proc/<pid>/cgroup v2 line
 * ("0::/path"), believed only if that directory's inode is the id. */
static bool by_task(struct cgpath *c, uint64_t id, uint32_t pid)
{
	char file[48];
	snprintf(file, sizeof(file), "/proc/%u/cgroup", pid);
	int r = sysfs__read(file, c->buf, TASK_FILE_BYTES, NULL);
	if (r)
		return false;   /* gone, or too big (-EFBIG): the walk decides */
	char *line = c->buf, *nl;
	for (; line && strncmp(line, "0::", 3); line = (nl = strchr(line, '\n')) ? nl + 1 : NULL)
		;
	if (!line)
		return false;
	line += 3;
	if ((nl = strchr(line, '\n')))
		*nl = 0;
	const char *rel = under_mount(c, line);
	struct stat st;
	if (!rel || strlen(rel) >= CGPATH_PATH_BYTES)
		return false;
	snprintf(c->full, sizeof(c->full), "%s%s", c->mount, rel);
	if (stat(c->full, &st) || !S_ISDIR(st.st_mode) || st.st_ino != id)
		return false;   /* moved since, or another namespace's view */
	c->st.by_task++;
	return insert(c, id, rel, CGPATH_FOUND, true) != NULL;
}

struct walk {
	DIR *dir[CGPATH_WALK_DEPTH + 1];
	size_t len[CGPATH_WALK_DEPTH + 1];   /* c->rel's length at each level */
	int top;
	size_t dirs;   /* read by this walk */
	uint64_t want;
	bool found, cut;
};

/* A child directory's inode: d_ino (kernfs gives the node's id), or a stat
 * where the type is not told. 0: not a directory. */
static uint64_t dir_ino(DIR *d, const struct dirent *de)
{
	struct stat st;
	if (de->d_type == DT_DIR)
		return de->d_ino;
	if (de->d_type != DT_UNKNOWN || fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
		return 0;
	return S_ISDIR(st.st_mode) ? st.st_ino : 0;
}

/* One directory entry of the walk's current level. */
static void visit(struct cgpath *c, struct walk *w, const struct dirent *de)
{
	DIR *d = w->dir[w->top];
	uint64_t ino;
	if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !(ino = dir_ino(d, de)))
		return;
	if (++w->dirs > CGPATH_WALK_DIRS) {
		w->cut = true;   /* and the walk unwinds */
		return;
	}
	size_t len = w->len[w->top], nl = strlen(de->d_name);
	if (len + 1 + nl >= sizeof(c->rel)) {
		w->cut = true;
		return;
	}
	c->rel[len] = '/';
	memcpy(c->rel + len + 1, de->d_name, nl + 1);
	c->st.dirs_read++;
	insert(c, ino, c->rel, CGPATH_FOUND, ino == w->want);
	w->found |= ino == w->want;
	if (w->top == CGPATH_WALK_DEPTH) {
		w->cut = true;   /* its children, if any, are not seen */
		return;
	}
	int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *sub = fd >= 0 ? fdopendir(fd) : NULL;
	if (!sub) {
		if (fd >= 0)
			close(fd);
		w->cut |= errno != ENOENT;   /* removed meanwhile is no loss; denied is */
		return;
	}
	w->top++;
	w->dir[w->top] = sub;
	w->len[w->top] = len + 1 + nl;
}

/* Reads the hierarchy depth first, caching what it passes, until it has
 * seen `want` and can cache nothing more, or has read everything. */
static enum cgpath_miss walk(struct cgpath *c, uint64_t want)
{
	struct walk w = { .want = want };
	struct stat st;
	w.dir[0] = opendir(c->mount);
	if (!w.dir[0] || fstat(dirfd(w.dir[0]), &st)) {
		if (w.dir[0])
			closedir(w.dir[0]);
		return CGPATH_UNREADABLE;
	}
	c->st.walks++;
	insert(c, st.st_ino, "/", CGPATH_FOUND, st.st_ino == want);
	w.found = st.st_ino == want;
	c->rel[0] = 0;
	while (w.top >= 0) {
		struct dirent *de = NULL;
		bool done = (w.found && prefill_full(c)) || w.dirs > CGPATH_WALK_DIRS;
		errno = 0;
		if (!done && !(de = readdir(w.dir[w.top])))
			w.cut |= errno != 0;
		if (!de) {
			closedir(w.dir[w.top--]);
			continue;
		}
		visit(c, &w, de);
	}
	return w.found ? CGPATH_FOUND : w.cut ? CGPATH_WALK_LIMIT : CGPATH_NOT_FOUND;
}

static void answer(const struct entry *e, struct cgpath_info *out)
{
	out->miss = e->miss;
	out->path = e->text;
	out->container_id = e->container_at ? e->text + e->container_at : NULL;
	out->pod_uid = e->pod_at ? e->text + e->pod_at : NULL;
}

void cgpath__resolve(struct cgpath *c, uint64_t id, uint32_t pid, struct cgpath_info *out)
{
	*out = (struct cgpath_info){ .miss = CGPATH_NO_MEMORY };
	c->st.asked++;
	struct entry *e = slot_of(c, id);
	if (e->id) {
		answer(e, out);
		return;
	}
	if (!c->mount_looked)
		find_mount(c);
	if (c->mount_miss) {
		out->miss = c->mount_miss;
		return;
	}
	/* room for this id whatever its path: else it is not looked up at all */
	if (c->n >= CGPATH_CACHE_MAX || c->bytes + ENTRY_MAX_BYTES > CGPATH_BYTES_MAX) {
		out->miss = CGPATH_CACHE_FULL;
		return;
	}
	enum cgpath_miss m = CGPATH_FOUND;
	if (!(pid && by_task(c, id, pid)))
		m = c->st.walks >= CGPATH_WALKS_MAX ? CGPATH_WALKS_SPENT : walk(c, id);
	e = slot_of(c, id);
	if (!e->id && !(e = insert(c, id, NULL, m == CGPATH_FOUND ? CGPATH_NOT_FOUND : m, true)))
		return;   /* no memory */
	answer(e, out);
}

void cgpath__stats(const struct cgpath *c, struct cgpath_stats *out)
{
	*out = c->st;
	out->ids = c->n;
}
