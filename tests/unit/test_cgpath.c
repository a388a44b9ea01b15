/* Unit tests for the cgroup context of tracer events (src/tracers/cgpath.c):
 * the container ids and pod UIDs that cgroup path shapes of docker,
 * containerd, CRI-O, podman and the kubelet name, and shapes that look
 * alike but name none; then, as root on a cgroup v2 mount, the resolver
 * against directories made here: a walk finds a path (and caches the
 * directories it passed), a task's /proc/<pid>/cgroup finds it without a
 * walk, a removed cgroup is not_found, a cgroup below the walk's depth is
 * walk_limit, every id is resolved once, and no descriptor is left open. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sys/sysfs.h"
#include "tracers/cgpath.h"
#include "unit.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ID64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define UUID "1234abcd-5678-90ab-cdef-1234567890ab"
#define UUID_ "1234abcd_5678_90ab_cdef_1234567890ab"

/* container id and pod uid of path; "" when none */
static void expect(const char *path, const char *container, const char *pod)
{
	char c[CGPATH_CONTAINER_BYTES] = "", p[CGPATH_POD_BYTES] = "";
	unit_case = path;
	bool hc = cgpath__container_id(path, c, sizeof(c)), hp = cgpath__pod_uid(path, p, sizeof(p));
	CHECK_INT(hc, container[0] != 0);
	CHECK_STR(hc ? c : "", container);
	CHECK_INT(hp, pod[0] != 0);
	CHECK_STR(hp ? p : "", pod);
}

static void shapes(void)
{
	/* systemd driver: the runtimes' scopes, also with a child cgroup inside */
	expect("/system.slice/docker-" ID64 ".scope", ID64, "");
	expect("/system.slice/docker-" ID64 ".scope/init.scope", ID64, "");
	expect("/system.slice/crio-" ID64 ".scope", ID64, "");
	expect("/machine.slice/libpod-" ID64 ".scope/container", ID64, "");
	expect("/system.slice/cri-containerd-" ID64 ".scope", ID64, "");
	expect("/libpod_parent/libpod-" ID64, ID64, "");   /* cgroupfs podman: no .scope */
	/* the monitors next to them are not containers */
	expect("/machine.slice/libpod-conmon-" ID64 ".scope", "", "");
	expect("/system.slice/crio-conmon-" ID64 ".scope", "", "");
	/* kubelet, systemd driver: the pod's slice holds the UID with _ for - */
	expect("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" UUID_ ".slice/cri-containerd-" ID64
	       ".scope", ID64, UUID);
	expect("/kubepods.slice/kubepods-pod" UUID_ ".slice/crio-" ID64 ".scope", ID64, UUID);
	expect("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" UUID_ ".slice", "", UUID);
	expect("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/kubelet-kubepods-besteffort-pod" UUID_
	       ".slice/cri-containerd-" ID64 ".scope", ID64, UUID);   /* kind */
	/* kubelet, cgroupfs driver: pod<uid>/<id>; a static pod's UID is 32 hex */
	expect("/kubepods/burstable/pod" UUID "/" ID64, ID64, UUID);
	expect("/kubepods/pod" UUID "/" ID64, ID64, UUID);
	expect("/kubepods/besteffort/pod5b4a5ad6e0d6cd9c6ab8fa1d96a3e0e9/" ID64, ID64, "5b4a5ad6e0d6cd9c6ab8fa1d96a3e0e9");
	/* docker, cgroupfs driver; nested (docker in docker): the innermost */
	expect("/docker/" ID64, ID64, "");
	expect("/docker/" ID64 "/docker/" ID64B, ID64B, "");
	expect("/system.slice/docker-" ID64 ".scope/docker/" ID64B, ID64B, "");
	/* look-alikes */
	expect("/", "", "");
	expect("", "", "");
	expect("/user.slice/user-1000.slice/session-2.scope", "", "");
	expect("/other/" ID64, "", "");                          /* a bare id elsewhere */
	expect("/docker-" ID64 "0.scope", "", "");               /* 65 digits */
	expect("/docker-0123456789abcdef.scope", "", "");        /* docker's are 64 */
	expect("/docker-0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef.scope", "", "");
	expect("/crio-0123456789a.scope", "", "");               /* 11 digits */
	expect("/crio-0123456789ab.scope", "0123456789ab", "");  /* 12: the shortest taken */
	expect("/foo/pod" UUID "/x", "", "");                    /* pod<uid> outside kubepods */
	expect("/kubepods/burstable/pod1234", "", "");           /* not a UID */
	expect("/kubepods/burstable/pod" UUID "x/" ID64, ID64, "");
	expect("//docker//" ID64 "//", ID64, "");                /* repeated slashes */

	/* too small a buffer: false, not cut */
	char small[10];
	unit_case = "small buffers";
	CHECK(!cgpath__container_id("/docker/" ID64, small, sizeof(small)));
	CHECK(!cgpath__pod_uid("/kubepods/pod" UUID "/" ID64, small, sizeof(small)));

	unit_case = "reason names";
	CHECK(cgpath__miss_name(CGPATH_FOUND) == NULL);
	CHECK_STR(cgpath__miss_name(CGPATH_NOT_FOUND), "not_found");
	CHECK_STR(cgpath__miss_name(CGPATH_WALK_LIMIT), "walk_limit");
	CHECK_STR(cgpath__miss_name(CGPATH_NO_MEMORY), "no_memory");
}

/* ---- the resolver on the running system's cgroup2 hierarchy ---------------------- */

static char mnt[512];

static int open_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static uint64_t ino_of(const char *path)
{
	struct stat st;
	return stat(path, &st) ? 0 : st.st_ino;
}

static void found_by_walk(const char *top, const char *leaf)
{
	unit_case = "walk";
	char rel[600];
	snprintf(rel, sizeof(rel), "%s", leaf + strlen(mnt));
	struct cgpath *c = cgpath__new();
	struct cgpath_info a, b, p;
	struct cgpath_stats st;
	cgpath__resolve(c, ino_of(leaf), 0, &a);
	CHECK_STR(cgpath__mount(c), mnt);
	CHECK_INT(a.miss, CGPATH_FOUND);
	CHECK_STR(a.path, rel);
	CHECK_STR(a.container_id, ID64);
	CHECK(a.pod_uid == NULL);
	cgpath__resolve(c, ino_of(leaf), 0, &b);   /* again: the cached answer */
	CHECK(b.path == a.path);
	cgpath__resolve(c, ino_of(top), 0, &p);    /* passed by the walk: no new one */
	CHECK_STR(p.path, top + strlen(mnt));
	CHECK(p.container_id == NULL);
	cgpath__resolve(c, ino_of(mnt), 0, &p);    /* the mount's root */
	CHECK_STR(p.path, "/");
	cgpath__stats(c, &st);
	CHECK_U64(st.walks, 1);
	CHECK_U64(st.asked, 4);
	CHECK_U64(st.by_task, 0);
	CHECK(st.ids >= 3 && st.dirs_read >= 2);
	cgpath__free(c);
}

static void found_by_task(const char *leaf)
{
	unit_case = "by task";
	char procs[800], pid[16];
	pid_t child = fork();
	if (!child) {
		pause();
		_exit(0);
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", leaf);
	snprintf(pid, sizeof(pid), "%d", (int)child);
	int fd = open(procs, O_WRONLY);
	CHECK(fd >= 0 && write(fd, pid, strlen(pid)) == (ssize_t)strlen(pid));
	if (fd >= 0)
		close(fd);
	struct cgpath *c = cgpath__new();
	struct cgpath_info a, b;
	struct cgpath_stats st;
	cgpath__resolve(c, ino_of(leaf), (uint32_t)child, &a);
	CHECK_STR(a.path, leaf + strlen(mnt));
	CHECK_STR(a.container_id, ID64);
	cgpath__stats(c, &st);
	CHECK_U64(st.by_task, 1);
	CHECK_U64(st.walks, 0);
	/* a task that is not in it: the walk answers */
	cgpath__resolve(c, ino_of(mnt), (uint32_t)child, &b);
	CHECK_STR(b.path, "/");
	cgpath__stats(c, &st);
	CHECK_U64(st.walks, 1);
	cgpath__free(c);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);   /* leaves the cgroup empty for rmdir */
}

static void gone(const char *top)
{
	unit_case = "removed";
	char dir[800];
	snprintf(dir, sizeof(dir), "%s/gone", top);
	CHECK_INT(mkdir(dir, 0755), 0);
	uint64_t id = ino_of(dir);
	CHECK_INT(rmdir(dir), 0);
	struct cgpath *c = cgpath__new();
	struct cgpath_info a;
	struct cgpath_stats st;
	cgpath__resolve(c, id, 0, &a);
	CHECK(a.path == NULL);
	CHECK_INT(a.miss, CGPATH_NOT_FOUND);
	cgpath__resolve(c, id, 0, &a);   /* remembered: no second walk */
	CHECK_INT(a.miss, CGPATH_NOT_FOUND);
	cgpath__stats(c, &st);
	CHECK_U64(st.walks, 1);
	cgpath__free(c);
}

/* A cgroup CGPATH_WALK_DEPTH + 2 levels below the mount: the walk does not
 * descend that far and says so; its task finds it all the same. */
static void too_deep(const char *top)
{
	unit_case = "depth";
	char dir[4096];
	size_t len = (size_t)snprintf(dir, sizeof(dir), "%s", top);
	int levels = 0;
	for (; levels < CGPATH_WALK_DEPTH + 1; levels++) {
		len += (size_t)snprintf(dir + len, sizeof(dir) - len, "/d");
		if (mkdir(dir, 0755)) {
			printf("  (cgroup depth %d refused: %s)\n", levels + 2, strerror(errno));
			dir[len -= 2] = 0;
			break;
		}
	}
	struct cgpath *c = cgpath__new();
	struct cgpath_info a;
	cgpath__resolve(c, ino_of(dir), 0, &a);
	if (levels == CGPATH_WALK_DEPTH + 1) {
		CHECK(a.path == NULL);
		CHECK_INT(a.miss, CGPATH_WALK_LIMIT);
	}
	cgpath__free(c);
	for (; levels > 0; levels--) {   /* deepest first */
		CHECK_INT(rmdir(dir), 0);
		dir[len -= 2] = 0;
	}
}

static void live(void)
{
	if (geteuid() != 0 || sysfs__mount_point("cgroup2", mnt, sizeof(mnt))) {
		printf("  (skipped the resolver cases: needs root and a cgroup2 mount)\n");
		return;
	}
	char top[600], leaf[700];
	snprintf(top, sizeof(top), "%s/t-cgpath-%d.slice", mnt, (int)getpid());
	snprintf(leaf, sizeof(leaf), "%s/docker-" ID64 ".scope", top);
	int fds = open_fds();
	unit_case = "setup";
	CHECK_INT(mkdir(top, 0755), 0);
	CHECK_INT(mkdir(leaf, 0755), 0);
	found_by_walk(top, leaf);
	found_by_task(leaf);
	gone(top);
	too_deep(top);
	unit_case = "cleanup";
	CHECK_INT(rmdir(leaf), 0);
	CHECK_INT(rmdir(top), 0);
	CHECK_INT(open_fds(), fds);
}

int main(void)
{
	TEST(shapes);
	TEST(live);
	return UNIT_DONE();
}
