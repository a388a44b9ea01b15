/* Unit tests for the user-space symbolizer (src/tracers/usyms.c) on live
 * processes: this one's own functions by name; a child pinned while it
 * runs and still symbolized after it is gone (and not, when it was never
 * pinned); and how a second pin merges mappings: one replaced in place
 * takes the new file, one only unmapped stays for addresses seen before. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracers/usyms.h"
#include "unit.h"

#define PAGE 4096

/* A function of this binary to look up by address. */
__attribute__((noinline)) int usyms_marker(int x)
{
	return x * 3 + 1;
}

static const char *name_at(struct usyms *u, uint32_t pid, uintptr_t addr, const char **module)
{
	const char *problem = NULL;
	struct uproc *p = usyms__proc(u, pid, &problem);
	struct usym s;
	if (!p)
		return NULL;
	usyms__find(u, p, addr, false, &s);
	if (module)
		*module = s.module;
	return s.name;
}

static void self(void)
{
	struct usyms *u = usyms__new();
	CHECK_INT(usyms__pin(u, (uint32_t)getpid()), 0);
	CHECK_STR(name_at(u, (uint32_t)getpid(), (uintptr_t)usyms_marker + 1, NULL), "usyms_marker");
	CHECK_INT(usyms__pin(u, (uint32_t)getpid()), 0);   /* again: the same mappings, merged */
	CHECK_STR(name_at(u, (uint32_t)getpid(), (uintptr_t)usyms_marker, NULL), "usyms_marker");
	usyms__free(u);
}

/* A child that waits until killed; its pid. */
static pid_t child(void)
{
	int p[2];
	char c;
	if (pipe(p))
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &c, 1) != 1)
		pid = -1;
	close(p[0]);
	return pid;
}

static void gone(void)
{
	struct usyms *pinned = usyms__new(), *late = usyms__new();
	pid_t pid = child();
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	CHECK_INT(usyms__pin(pinned, (uint32_t)pid), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* a fork: usyms_marker is at the same address in the child */
	CHECK_STR(name_at(pinned, (uint32_t)pid, (uintptr_t)usyms_marker + 1, NULL), "usyms_marker");
	CHECK_INT(usyms__pin(pinned, (uint32_t)pid), -ENOENT);
	CHECK_STR(name_at(pinned, (uint32_t)pid, (uintptr_t)usyms_marker + 1, NULL), "usyms_marker");
	const char *problem = NULL;
	CHECK(usyms__proc(late, (uint32_t)pid, &problem) == NULL);
	CHECK(problem && strstr(problem, "memory map was not readable while it ran"));
	usyms__free(pinned);
	usyms__free(late);
}

/* A page of `path` mapped executable at `at` (NULL: anywhere). */
static char *map_exec(const char *path, void *at)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *m = mmap(at, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE | (at ? MAP_FIXED : 0), fd, 0);
	close(fd);
	return m == MAP_FAILED ? NULL : m;
}

static void merge(void)
{
	struct usyms *u = usyms__new();
	uint32_t me = (uint32_t)getpid();
	char *a = map_exec("/proc/self/exe", NULL), *b = map_exec("/proc/self/exe", NULL);
	CHECK(a && b);
	if (!a || !b)
		return;
	const char *mod = NULL, *exe = NULL;
	CHECK_INT(usyms__pin(u, me), 0);
	name_at(u, me, (uintptr_t)a + 16, &exe);
	CHECK(exe != NULL);
	/* a: replaced in place by another file; b: unmapped, nothing in its place */
	CHECK(map_exec("/bin/sh", a) == a);
	CHECK_INT(munmap(b, PAGE), 0);
	CHECK_INT(usyms__pin(u, me), 0);
	name_at(u, me, (uintptr_t)a + 16, &mod);
	CHECK(mod && exe && strcmp(mod, exe) != 0);   /* the new file */
	mod = NULL;
	name_at(u, me, (uintptr_t)b + 16, &mod);
	CHECK(mod && exe && !strcmp(mod, exe));       /* still the old one */
	munmap(a, PAGE);
	usyms__free(u);
}

int main(void)
{
	TEST(self);
	TEST(gone);
	TEST(merge);
	return UNIT_DONE();
}
