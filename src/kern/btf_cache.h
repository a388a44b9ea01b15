/* Kernel BTF for queries: vmlinux kept for the process, modules and loaded
 * BTF objects opened per call, and a lazily built name index for vmlinux.
 *
 * Nothing is loaded at start-up: the first caller pays for parsing vmlinux
 * BTF (5.5 MB raw, a few ms), so `initialize` never waits for it.
 */
#ifndef EBPF_MCP_BTF_CACHE_H
#define EBPF_MCP_BTF_CACHE_H

#include <stdbool.h>
#include <stdint.h>

struct btf;

#define BTF_SYSFS_DIR        "/sys/kernel/btf"
#define BTF_MODULE_NAME_MAX  64    /* MODULE_NAME_LEN in the kernel */

/* One opened BTF. `owned` ones are freed by btf_cache__close(); vmlinux is
 * borrowed from the cache and stays. */
struct btf_view {
	struct btf *btf;
	bool owned;
	const char *kind;              /* "vmlinux", "module", "btf_id" */
	char name[BTF_MODULE_NAME_MAX];/* vmlinux, the module, or the object's name */
	uint32_t btf_id;               /* kernel object id, 0 when read from sysfs */
};

/* vmlinux BTF, loaded on first use. 0 or -errno (-ENOENT: the kernel has no
 * BTF; -ENOMEM: the heap cap). A failure is not remembered: the next call
 * tries again. */
int btf_cache__vmlinux(struct btf_view *v);
/* /sys/kernel/btf/<name>, split on top of vmlinux. -EINVAL for a name that
 * is not a plain file name, -ENOENT when that module has no BTF. */
int btf_cache__module(const char *name, struct btf_view *v);
/* A BTF object loaded in the kernel, by id (module BTF objects are split on
 * vmlinux, every other one stands alone). */
int btf_cache__by_id(uint32_t id, struct btf_view *v);
void btf_cache__close(struct btf_view *v);

/* Type ids named exactly `name`, ascending, into ids[0..cap). *total counts
 * every match even past cap. Uses the name index for vmlinux (built on the
 * first call; a linear scan from then on if the heap refuses its memory)
 * and a scan otherwise. */
void btf_cache__find_name(const struct btf_view *v, const char *name, uint32_t *ids, unsigned cap,
			  unsigned *total);

#endif
