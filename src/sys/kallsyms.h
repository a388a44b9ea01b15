/* A streaming reader of /proc/kallsyms: one symbol at a time, nothing held.
 *
 * Lines are "ADDR TYPE NAME" or "ADDR TYPE NAME\t[MODULE]". The reader bounds
 * the length of a line and the number of lines, and skips lines of any other
 * shape. Its users (list_kernel_functions, the stack symbolizer) filter by
 * type and name themselves.
 */
#ifndef EBPF_MCP_KALLSYMS_H
#define EBPF_MCP_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define KALLSYMS_PATH       "/proc/kallsyms"
#define KALLSYMS_LINE_BYTES 1024   /* KSYM_NAME_LEN (512) + address, type, module name */
#define KALLSYMS_IO_BYTES   (64 * 1024)   /* a stdio buffer: fewer read()s over seq_file */

struct kallsyms_sym {
	uint64_t addr;          /* 0 for every symbol when kptr_restrict hides them */
	char type;              /* 't', 'T', 'w', 'W', 'd', ... */
	const char *name;       /* valid until the next kallsyms__next() */
	const char *module;     /* NULL for the core kernel; valid as name */
};

struct kallsyms {
	FILE *f;
	uint64_t lines;         /* lines read so far */
	uint64_t max_lines;
	char line[KALLSYMS_LINE_BYTES];
};

/* Opens path (KALLSYMS_PATH but in tests) to read at most max_lines lines.
 * io (io_bytes, may be NULL) becomes the stream's buffer and must outlive
 * it. 0, or -errno of the open. */
int kallsyms__open(struct kallsyms *k, const char *path, uint64_t max_lines, char *io, size_t io_bytes);
/* The next symbol: 1 with *s filled; 0 at the end; -E2BIG when the file has
 * more than max_lines lines; -EOVERFLOW for a line longer than
 * KALLSYMS_LINE_BYTES - 1 (kallsyms has none); -EIO when reading fails. */
int kallsyms__next(struct kallsyms *k, struct kallsyms_sym *s);
void kallsyms__close(struct kallsyms *k);
/* The padding the kernel emits before each function (__pfx_, __cfi_): not
 * functions, never executed, and as many as the functions themselves. */
bool kallsyms__padding(const char *name);

#endif
