/* Allowed-directory checks for object files and pins (see paths.h). */
#include "paths.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "../limits.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* child == dir, or child starts with dir followed by '/'. */
static bool below(const char *child, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 1 && dir[0] == '/')
		return true;
	return !strncmp(child, dir, n) && (child[n] == '/' || child[n] == 0);
}

bool paths__inside(const char *resolved, const char *const *dirs, unsigned n)
{
	char d[LIMIT_PATH_BYTES];
	for (unsigned i = 0; i < n && i < PATHS_MAX_DIRS; i++)
		if (realpath(dirs[i], d) && below(resolved, d))
			return true;
	return false;
}

int paths__file_under(const char *path, const char *const *dirs, unsigned n, size_t max_bytes,
		      char *resolved, size_t *size)
{
	char r[LIMIT_PATH_BYTES];
	struct stat st;
	if (!n)
		return -EACCES;
	if (!realpath(path, r))
		return -errno;
	if (!paths__inside(r, dirs, n))
		return -EACCES;
	if (stat(r, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	*size = (size_t)st.st_size;
	if ((uint64_t)st.st_size > max_bytes)
		return -EFBIG;
	memcpy(resolved, r, strlen(r) + 1);
	return 0;
}

int paths__new_under(const char *path, const char *const *dirs, unsigned n, char *resolved)
{
	char parent[LIMIT_PATH_BYTES], r[LIMIT_PATH_BYTES];
	struct statfs sf;
	size_t len = strlen(path);
	if (!n)
		return -EACCES;
	if (!len || len >= sizeof(parent) || path[len - 1] == '/')
		return -EINVAL;
	memcpy(parent, path, len + 1);
	char *slash = strrchr(parent, '/');
	const char *name = slash ? path + (slash - parent) + 1 : path;
	const char *dir = !slash ? "." : slash == parent ? "/" : parent;
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return -EINVAL;
	if (slash)
		*slash = 0;
	if (!realpath(dir, r))
		return -errno;
	if (!paths__inside(r, dirs, n))
		return -EACCES;
	if (statfs(r, &sf))
		return -errno;
	if ((unsigned long)sf.f_type != BPF_FS_MAGIC)
		return -ENOTDIR;
	if (strlen(r) + 1 + strlen(name) >= LIMIT_PATH_BYTES)
		return -ENAMETOOLONG;
	if (strcmp(r, "/"))
		strcat(r, "/");
	strcat(r, name);
	memcpy(resolved, r, strlen(r) + 1);
	return 0;
}
