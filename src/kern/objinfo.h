/* Kernel BPF objects (programs, maps, links, BTF) as JSON: fetch one
 * object's info from an fd and write it as an item. Shared by the tools that
 * list objects (inspect_state) and those that report what they created. */
#ifndef EBPF_MCP_OBJINFO_H
#define EBPF_MCP_OBJINFO_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "../json/json.h"

#include "kinds.h"

#define OBJINFO_MAX_MAP_IDS 64     /* the verifier's MAX_USED_MAPS */
#define OBJINFO_STR_BYTES   4096   /* a link's tracepoint/function/file name (PATH_MAX) */

struct obj_info {
	enum obj_kind kind;
	union {
		struct bpf_prog_info prog;
		struct bpf_map_info map;
		struct bpf_link_info link;
		struct bpf_btf_info btf;
	};
	uint32_t map_ids[OBJINFO_MAX_MAP_IDS];
	char str[OBJINFO_STR_BYTES];   /* link target name, BTF name or a program's full BTF function name; "" if none */
};

/* Wall clock minus boot clock, to turn a load time into a date. Read once
 * per call: both clocks tick together, so one offset serves all objects. */
int64_t objinfo__boot_to_real_ns(void);

/* Fills oi for fd of kind k (one syscall; two for links that carry a name).
 * 0 or -errno. */
int objinfo__get(int fd, enum obj_kind k, struct obj_info *oi);
/* Which kind of BPF object fd is (from its anon inode name, read through
 * /proc/self/fd). 0, -EINVAL for no BPF object, or -ENOENT without /proc:
 * the kernel has no other way to tell the kind of a pinned object's fd. */
int objinfo__kind_of_fd(int fd, enum obj_kind *k);
uint32_t objinfo__id(const struct obj_info *oi);
/* The object's name (programs, maps, BTF); NULL for links, which have none. */
const char *objinfo__name(const struct obj_info *oi, char *buf, unsigned cap);
/* The type name libbpf uses ("tracepoint", "hash", "perf_event"), or "" for
 * BTF objects and types newer than libbpf. */
const char *objinfo__type_name(const struct obj_info *oi);

/* Writes the object as one JSON object. fd (still open) supplies what only
 * fdinfo tells (memlock, frozen); owned says whether this session made it. */
void objinfo__write(struct jw *w, int fd, const struct obj_info *oi, int64_t boot_to_real_ns, bool owned);

/* What a BPF fd holds, from /proc/self/fd (the info call alone cannot
 * tell: it answers for any kind). 0, -errno (no /proc), -EINVAL (not one
 * of the three). */
int objinfo__fd_kind(int fd, enum obj_kind *k);
/* The id of the object fd holds (prog, map and link info all begin with
 * {type, id}); 0 when unreadable. */
uint32_t objinfo__fd_id(int fd);

#endif
