/* User-space symbols for sampled user stacks: a process's executable
 * mappings from /proc/<pid>/maps, and the function symbols (.symtab, else
 * .dynsym) of the ELF files mapped there, read with libelf.
 *
 * One cache per call, bounded (USYMS_PROCS_MAX processes, USYMS_MODULES_MAX
 * files, USYMS_MODULE_SYMS_MAX symbols per file); a file is read only when
 * a frame lands in it, once however many processes map it; one pinned
 * while its process ran is opened then, so that it outlives the process. */
#ifndef EBPF_MCP_USYMS_H
#define EBPF_MCP_USYMS_H

#include <stdbool.h>
#include <stdint.h>

#define USYMS_PROCS_MAX       1024     /* processes per call */
#define USYMS_MODULES_MAX     256      /* ELF files per call */
#define USYMS_MODULE_SYMS_MAX 262144   /* function symbols per file (16 bytes each) */
#define USYMS_PROC_MAPS_MAX   4096     /* executable mappings per process */

struct usyms;
struct uproc;

struct usym {
	const char *name;     /* the function, or NULL */
	const char *module;   /* file name (no directory), "[vdso]"-style pseudo file, or NULL: not in any */
	uint64_t off;         /* from name; else from module: ELF virtual address, or offset in the mapping */
};

struct usyms *usyms__new(void);
void usyms__free(struct usyms *u);
/* Reads pid's executable mappings now and adds them to what is kept of it
 * (mappings that overlap new ones are replaced: an exec or a munmap; the
 * others stay for addresses sampled before), and opens the files mapped
 * there, so that they stay readable once the process has exited. Called
 * when a process first appears during a run, and again after its exec.
 * 0, or -errno: the process is gone (nothing changes), -ENOSPC past
 * USYMS_PROCS_MAX processes, -ENOMEM. */
int usyms__pin(struct usyms *u, uint32_t pid);
/* A process's mappings: those pinned, else read on first use. NULL with *problem (a string
 * kept until usyms__free) when they cannot be read (the process is gone). */
struct uproc *usyms__proc(struct usyms *u, uint32_t pid, const char **problem);
/* Symbolizes addr in p. `ret`: addr is a return address, looked up at
 * addr - 1 so that a call ending a function still names that function.
 * Returns NULL, or why the frame is not fully symbolized (kept until
 * usyms__free). */
const char *usyms__find(struct usyms *u, struct uproc *p, uint64_t addr, bool ret, struct usym *s);

#endif
