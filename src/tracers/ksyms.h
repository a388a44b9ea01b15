/* Kernel text symbols from /proc/kallsyms, for symbolizing sampled kernel
 * stacks: loaded once into a sorted table (addresses + a string pool) and
 * searched by address. */
#ifndef EBPF_MCP_KSYMS_H
#define EBPF_MCP_KSYMS_H

#include <stdbool.h>
#include <stdint.h>

struct ksyms;

/* Loads the text symbols (types t, T, w, W) of /proc/kallsyms, reading at
 * most max_lines lines. 0, or -errno: -E2BIG when the file has more lines,
 * -ENOMEM when the table does not fit the heap, else kallsyms__next()'s. */
int ksyms__load(struct ksyms **out, uint64_t max_lines);
void ksyms__free(struct ksyms *k);
/* Every address read as 0: kernel.kptr_restrict (or a missing CAP_SYSLOG)
 * hides them, and nothing can be symbolized. */
bool ksyms__hidden(const struct ksyms *k);
/* The symbol holding addr: its name, its module (NULL for vmlinux) and
 * addr's offset into it. false when no symbol precedes addr closely enough. */
bool ksyms__find(const struct ksyms *k, uint64_t addr, const char **name, const char **mod, uint64_t *off);
/* How many symbols the table holds. */
uint64_t ksyms__count(const struct ksyms *k);

#endif
