/* Where files may come from and pins may go: allowed-directory checks.
 *
 * A path is allowed when its realpath (every symlink resolved) lies inside
 * the realpath of an allowed directory, on a '/' boundary, so neither "..",
 * a symlink pointing out, nor a sibling like /dir-evil for /dir gets out.
 */
#ifndef EBPF_MCP_PATHS_H
#define EBPF_MCP_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#define PATHS_MAX_DIRS 16   /* --object-dir / --pin-dir entries */

/* An existing regular file under one of dirs, at most max_bytes long.
 * resolved gets its realpath (LIMIT_PATH_BYTES). 0; -EACCES outside the
 * dirs (or none given); -EISDIR/-EINVAL not a regular file; -EFBIG over
 * max_bytes; -errno when it cannot be resolved. *size gets its size. */
int paths__file_under(const char *path, const char *const *dirs, unsigned n, size_t max_bytes,
		      char *resolved, size_t *size);

/* A path that need not exist yet (a new pin): its parent directory must
 * resolve inside one of dirs and sit on bpffs; the last component must be a
 * plain name. resolved = realpath(parent) + "/" + name. 0; -EACCES outside;
 * -EINVAL bad name; -ENOTDIR parent not on bpffs; -errno. */
int paths__new_under(const char *path, const char *const *dirs, unsigned n, char *resolved);

/* Whether resolved (already a realpath) is inside one of dirs. */
bool paths__inside(const char *resolved, const char *const *dirs, unsigned n);

#endif
