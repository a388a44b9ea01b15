/* Fuzzes the ELF bytecode policy walker: libbpf opens the bytes as an
 * object (no kernel involved), then policy__check walks every program's
 * instructions, subprogram calls and relocations, and writes its report.
 * Helper names come from this machine's kernel BTF, read once. Oracles: a
 * verdict other than OK names the program it is about; the report's JSON
 * is always written within its buffer. */
#include <bpf/libbpf.h>
#include <string.h>

#include "json/json.h"
#include "kern/policy.h"
#include "mem/arena.h"
#include "fuzz.h"

static struct arena arena;
static char out[1 << 16];

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level, (void)fmt, (void)ap;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	libbpf_set_print(quiet);
	return arena__init(&arena, 1 << 22);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* policy__check reads the image in place; libbpf wants it writable */
	void *image = malloc(size ? size : 1);
	memcpy(image, data, size);
	struct bpf_object *obj = bpf_object__open_mem(image, size, NULL);
	if (!obj) {
		free(image);
		return 0;
	}
	struct policy_opts o = { 0 };
	struct policy_report r;
	memset(&r, 0, sizeof(r));
	arena__reset(&arena);
	int rc = policy__check(&o, image, size, obj, 4096, &arena, &r);
	if (rc == 0) {
		if (r.verdict != POLICY_OK)
			FUZZ_CHECK(r.why.program || r.verdict == POLICY_UNMAPPED);
		struct jw w;
		jw__init(&w, out, sizeof(out));
		policy__write(&w, &o, &r);
		FUZZ_CHECK(w.len <= sizeof(out));
	}
	bpf_object__close(obj);
	free(image);
	return 0;
}
