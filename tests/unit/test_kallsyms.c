/* Unit tests for the kallsyms reader (src/sys/kallsyms.c) over files made
 * here: both line shapes, lines of other shapes skipped, the line-count
 * and line-length bounds; then the symbolizer (src/tracers/ksyms.c) over
 * the running kernel's /proc/kallsyms when it is readable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sys/kallsyms.h"
#include "tracers/ksyms.h"
#include "unit.h"

static char path[64];

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (!f)
		return;
	fputs(text, f);
	fclose(f);
}

static void shapes(void)
{
	write_file("ffffffff81000000 T _stext\n"
		   "ffffffff81000010 t __pfx_do_one\n"
		   "garbage line\n"
		   "ffffffff81000020 t do_one\n"
		   "ffffffffc0001000 t nft_do_chain\t[nf_tables]\n"
		   "ffffffffc0002000 t no_bracket\t[broken\n"
		   "ffffffff81000030 T \n"
		   "0000000000000000 W weak_one");   /* the last line may lack its newline */
	struct kallsyms k;
	struct kallsyms_sym s;
	char io[256];
	CHECK_INT(kallsyms__open(&k, path, 100, io, sizeof(io)), 0);
	CHECK_INT(kallsyms__next(&k, &s), 1);
	CHECK_U64(s.addr, 0xffffffff81000000ull);
	CHECK_INT(s.type, 'T');
	CHECK_STR(s.name, "_stext");
	CHECK(s.module == NULL);
	CHECK_INT(kallsyms__next(&k, &s), 1);
	CHECK_STR(s.name, "__pfx_do_one");
	CHECK(kallsyms__padding(s.name));
	CHECK_INT(kallsyms__next(&k, &s), 1);   /* "garbage line" skipped */
	CHECK_STR(s.name, "do_one");
	CHECK(!kallsyms__padding(s.name));
	CHECK_INT(kallsyms__next(&k, &s), 1);
	CHECK_STR(s.name, "nft_do_chain");
	CHECK_STR(s.module, "nf_tables");
	CHECK_INT(kallsyms__next(&k, &s), 1);   /* no ']' and no name: skipped */
	CHECK_STR(s.name, "weak_one");
	CHECK_INT(s.type, 'W');
	CHECK_U64(s.addr, 0);
	CHECK_INT(kallsyms__next(&k, &s), 0);
	CHECK_U64(k.lines, 8);
	kallsyms__close(&k);
	CHECK(kallsyms__padding("__cfi_x"));
}

/* max_lines lines read; one more is -E2BIG, whatever its shape. */
static void line_bounds(void)
{
	struct kallsyms k;
	struct kallsyms_sym s;
	write_file("1 T a\n2 T b\n3 T c\n");
	CHECK_INT(kallsyms__open(&k, path, 3, NULL, 0), 0);
	int n = 0, r;
	while ((r = kallsyms__next(&k, &s)) > 0)
		n++;
	CHECK_INT(r, 0);
	CHECK_INT(n, 3);
	kallsyms__close(&k);
	CHECK_INT(kallsyms__open(&k, path, 2, NULL, 0), 0);
	CHECK_INT(kallsyms__next(&k, &s), 1);
	CHECK_INT(kallsyms__next(&k, &s), 1);
	CHECK_INT(kallsyms__next(&k, &s), -E2BIG);
	kallsyms__close(&k);

	/* a line of KALLSYMS_LINE_BYTES - 1 bytes with its newline fits; one more does not */
	static char text[3 * KALLSYMS_LINE_BYTES];
	size_t len = KALLSYMS_LINE_BYTES - 1;
	memcpy(text, "1 T ", 4);
	memset(text + 4, 'x', len - 5);
	text[len - 1] = '\n';
	text[len] = 0;
	write_file(text);
	CHECK_INT(kallsyms__open(&k, path, 10, NULL, 0), 0);
	CHECK_INT(kallsyms__next(&k, &s), 1);
	CHECK_INT(strlen(s.name), len - 5);
	kallsyms__close(&k);
	memcpy(text, "1 T ", 4);
	memset(text + 4, 'x', len - 4);
	text[len] = '\n';
	text[len + 1] = 0;
	write_file(text);
	CHECK_INT(kallsyms__open(&k, path, 10, NULL, 0), 0);
	CHECK_INT(kallsyms__next(&k, &s), -EOVERFLOW);
	kallsyms__close(&k);

	CHECK_INT(kallsyms__open(&k, "/nonexistent/kallsyms", 10, NULL, 0), -ENOENT);
}

/* The symbolizer keeps text symbols without padding, and finds each by its
 * own address. BPF programs' symbols ([bpf]) come and go while the test
 * reads (other work on the machine), so only the others are counted: the
 * table holds at least them, and finds every one of them at offset 0. */
static void symbolizer(void)
{
	struct kallsyms k;
	struct kallsyms_sym s;
	if (kallsyms__open(&k, KALLSYMS_PATH, 50000000, NULL, 0)) {
		printf("skip symbolizer: %s unreadable\n", KALLSYMS_PATH);
		return;
	}
	uint64_t text = 0, cap = 1 << 16, *addrs = malloc(cap * sizeof(*addrs));
	CHECK(addrs != NULL);
	while (addrs && kallsyms__next(&k, &s) > 0) {
		if (!strchr("tTwW", s.type) || kallsyms__padding(s.name) || (s.module && !strcmp(s.module, "bpf")))
			continue;
		if (text == cap && !(addrs = realloc(addrs, (cap *= 2) * sizeof(*addrs))))
			break;
		addrs[text++] = s.addr;
	}
	kallsyms__close(&k);
	struct ksyms *ks;
	CHECK_INT(ksyms__load(&ks, 50000000), 0);
	if (!ks || !addrs)
		return free(addrs);
	CHECK(ksyms__count(ks) >= text);
	uint64_t missed = 0;
	for (uint64_t i = 0; i < text; i++) {
		const char *n, *mod;
		uint64_t off;
		/* aliases share an address: any of them, at offset 0 */
		missed += addrs[i] && !(ksyms__find(ks, addrs[i], &n, &mod, &off) && off == 0);
	}
	CHECK_U64(missed, 0);
	CHECK_INT(ksyms__load(&(struct ksyms *){ NULL }, 10), -E2BIG);
	ksyms__free(ks);
	free(addrs);
}

int main(void)
{
	snprintf(path, sizeof(path), "/tmp/test_kallsyms.%d", (int)getpid());
	TEST(shapes);
	TEST(line_bounds);
	TEST(symbolizer);
	unlink(path);
	return UNIT_DONE();
}
