/* Test fixture: load a BPF object, attach every program, pin everything.
 *
 *   bpf_attach OBJ DIR
 *
 * Pins each program at DIR/<prog>, its link at DIR/<prog>_link and each map
 * at DIR/<map> (bpffs refuses dots in names: they become '_'), then exits;
 * the pins keep the objects alive until the test removes DIR. bpftool 7.1
 * can load and pin but not auto-attach, so the tests use this to get real
 * links. It creates objects only; the tests read them back with bpftool. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/libbpf.h>

#define PATH_BYTES 4096

static int pin_path(char *out, const char *dir, const char *name, const char *suffix)
{
	int n = snprintf(out, PATH_BYTES, "%s/%s%s", dir, name, suffix);
	if (n < 0 || n >= PATH_BYTES)
		return -ENAMETOOLONG;
	for (char *p = out + strlen(dir) + 1; *p; p++)
		if (*p == '.')
			*p = '_';
	return 0;
}

static int pin_all(struct bpf_object *obj, const char *dir)
{
	char path[PATH_BYTES];
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;
	bpf_object__for_each_map(map, obj) {
		if ((err = pin_path(path, dir, bpf_map__name(map), "")) || (err = bpf_map__pin(map, path)))
			return fprintf(stderr, "pin map %s: %s\n", bpf_map__name(map), strerror(-err)), err;
	}
	bpf_object__for_each_program(prog, obj) {
		const char *name = bpf_program__name(prog);
		if ((err = pin_path(path, dir, name, "")) || (err = bpf_program__pin(prog, path)))
			return fprintf(stderr, "pin prog %s: %s\n", name, strerror(-err)), err;
		struct bpf_link *link = bpf_program__attach(prog);
		if (!link)
			return fprintf(stderr, "attach %s: %s\n", name, strerror(errno)), -errno;
		if ((err = pin_path(path, dir, name, "_link")) || (err = bpf_link__pin(link, path)))
			return fprintf(stderr, "pin link %s: %s\n", name, strerror(-err)), err;
		bpf_link__disconnect(link);   /* the pin holds it now */
		bpf_link__destroy(link);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bpf_attach OBJ DIR\n");
		return 2;
	}
	if (mkdir(argv[2], 0700) && errno != EEXIST) {
		perror(argv[2]);
		return 1;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	int err = bpf_object__load(obj);
	if (err)
		fprintf(stderr, "load %s: %s\n", argv[1], strerror(-err));
	else
		err = pin_all(obj, argv[2]);
	bpf_object__close(obj);
	return err ? 1 : 0;
}
