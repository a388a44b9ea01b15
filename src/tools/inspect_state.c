/* inspect_state: every BPF program, map, link and BTF object in the kernel
 * (not only ours) and the pins under every bpffs mount, with details, paged
 * per kind. Ids come from the kernel's id walks; each object is opened by id
 * only when it is listed (or a name/id filter needs it) and closed at once. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../kern/bpffs.h"
#include "../kern/objinfo.h"
#include "../kern/owned.h"
#include "../sys/caps.h"
#include "../sys/sysfs.h"
#include "tool.h"

enum { K_PIN = OBJ__KINDS, K__N };


/* inspect_state's kinds, the session's kinds and the object kinds line up. */
_Static_assert((int)OBJ_PROG == (int)OBJ_PROG && (int)OBJ_MAP == (int)OBJ_MAP &&
	       (int)OBJ_LINK == (int)OBJ_LINK && (int)OBJ_BTF == (int)OBJ_BTF &&
	       (int)OBJ__KINDS == (int)OBJ__KINDS, "kind enums agree");

static const char *const kind_arg[K__N] = { "program", "map", "link", "btf", "pin" };
static const char *const kind_key[K__N] = { "programs", "maps", "links", "btf", "pins" };

/* Read-only fds are enough to read a map's info. */
static int map_fd_by_id(__u32 id)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, o, .open_flags = BPF_F_RDONLY);
	return bpf_map_get_fd_by_id_opts(id, &o);
}

static const struct {
	int (*next)(__u32 start, __u32 *next);
	int (*fd_by_id)(__u32 id);
	enum obj_kind own;
} ops[OBJ__KINDS] = {
	[OBJ_PROG] = { bpf_prog_get_next_id, bpf_prog_get_fd_by_id, OBJ_PROG },
	[OBJ_MAP] = { bpf_map_get_next_id, map_fd_by_id, OBJ_MAP },
	[OBJ_LINK] = { bpf_link_get_next_id, bpf_link_get_fd_by_id, OBJ_LINK },
	[OBJ_BTF] = { bpf_btf_get_next_id, bpf_btf_get_fd_by_id, OBJ_BTF },
};

struct query {
	uint64_t limit, offset;
	int64_t id;                 /* -1: any */
	const char *name;           /* glob, or NULL */
	int64_t boot_to_real_ns;
	struct obj_info *oi;        /* scratch: one object's info */
};

static bool name_matches(const struct query *q, const struct obj_info *oi)
{
	char buf[OBJINFO_STR_BYTES];
	const char *n = objinfo__name(oi, buf, sizeof(buf));
	return !q->name || !n || json__glob(q->name, n);   /* links have no name */
}

/* Opens object id, and writes it when it passes the filters and emit is set.
 * 1 when it passed, 0 when filtered out or gone, -errno on failure. */
static int visit(struct tool_ctx *ctx, enum obj_kind k, uint32_t id, const struct query *q, bool emit)
{
	int fd = ops[k].fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;   /* freed since the id walk saw it */
	int r = objinfo__get(fd, k, q->oi);
	if (!r && name_matches(q, q->oi)) {
		if (emit)
			objinfo__write(ctx->out, fd, q->oi, q->boot_to_real_ns, owned__owns(ctx->objs, ops[k].own, id));
		r = 1;
	}
	close(fd);
	return r == -ENOENT ? 0 : r;
}

static int fail_walk(struct tool_ctx *ctx, enum obj_kind k, int err)
{
	char why[48];
	snprintf(why, sizeof(why), "listing %s by id", kind_key[k]);
	/* the kernel's id walk wants CAP_SYS_ADMIN itself; CAP_BPF is not enough */
	if (err == -EPERM && tool__need_cap(ctx, CAP_SYS_ADMIN, why))
		return -1;
	tool__fail_errno(ctx, err, "listing %s", kind_key[k]);
	jw__kstr(&ctx->err->ctx, "kind", kind_arg[k]);
	return -1;
}

/* Next id to look at: the kernel's id walk, or the one id asked for. */
static int next_id(enum obj_kind k, const struct query *q, uint32_t cur, uint32_t *next)
{
	if (q->id >= 0) {
		*next = (uint32_t)q->id;
		return cur ? -ENOENT : 0;
	}
	return ops[k].next(cur, next) ? -errno : 0;
}

static int list_objects(struct tool_ctx *ctx, enum obj_kind k, const struct query *q)
{
	struct jw *w = ctx->out;
	uint64_t matched = 0, shown = 0, scanned = 0;
	uint32_t id = 0;
	jw__key(w, kind_key[k]);
	jw__obj(w);
	jw__key(w, "items");
	jw__arr(w);
	for (;;) {
		int r = next_id(k, q, id, &id);
		if (r == -ENOENT)
			break;
		if (r)
			return fail_walk(ctx, k, r);
		if (++scanned > limits[LIM_SCAN_ITEMS])
			return tool__fail_limit(ctx, LIM_SCAN_ITEMS, "more than scan_items %s", kind_key[k]);
		if (scanned % 256 == 0 && tool__expired(ctx))
			return tool__fail_limit(ctx, LIM_CALL_MS, "listing %s took longer than call_ms", kind_key[k]);
		bool emit = matched >= q->offset && shown < q->limit;
		if (!emit && !q->name) {
			matched++;          /* counting needs no more than the id */
			continue;
		}
		if ((r = visit(ctx, k, id, q, emit)) < 0)
			return fail_walk(ctx, k, r);
		matched += (uint64_t)r;
		shown += (uint64_t)(r && emit);
	}
	jw__arr_end(w);
	tool__page_fields(w, matched, q->offset, shown);
	jw__obj_end(w);
	return 0;
}

/* One pin: what object it holds (opened by path, closed at once). Returns
 * the object's id, 0 when it is no BPF object we can read. */
static uint32_t pin_object(const struct bpffs_entry *e, struct obj_info *oi, int *err)
{
	*err = 0;
	if (e->dtype != DT_REG)
		return 0;
	int fd = bpf_obj_get(e->path);
	if (fd < 0) {
		*err = errno;
		return 0;
	}
	enum obj_kind k;
	int r = objinfo__kind_of_fd(fd, &k);
	if (!r)
		r = objinfo__get(fd, k, oi);
	close(fd);
	*err = -r;
	return r ? 0 : objinfo__id(oi);
}

static void write_pin(struct jw *w, const struct bpffs_entry *e, const struct obj_info *oi, uint32_t id, int err)
{
	jw__obj(w);
	jw__kstr(w, "path", e->path);
	if (id) {
		char name[OBJINFO_STR_BYTES];
		const char *n = objinfo__name(oi, name, sizeof(name));
		jw__kstr(w, "kind", kind_arg[oi->kind]);
		jw__kuint(w, "id", id);
		jw__kstr(w, "type", objinfo__type_name(oi));
		if (n)
			jw__kstr(w, "name", n);
	} else if (e->dtype == DT_LNK) {
		char target[LIMIT_PATH_BYTES];
		ssize_t n = readlink(e->path, target, sizeof(target) - 1);
		jw__kstr(w, "kind", "symlink");
		jw__key(w, "target");
		jw__strn(w, target, n > 0 ? (size_t)n : 0);
	} else {
		jw__kstr(w, "kind", "other");
		if (err == ENOENT && !sysfs__mounted_at("proc", "/proc")) {
			/* bpf_obj_get() worked: the kind is what needs /proc */
			jw__kstr(w, "error", "ENOENT: what a pin holds is read from /proc/self/fd, and proc is not "
				 "mounted at /proc (mount -t proc proc /proc)");
		} else if (err) {
			jw__key(w, "error");
			jw__strf(w, "%s: %s", tool__errno_code(err), strerror(err));
		}
	}
	jw__obj_end(w);
}

static void write_walk_facts(struct jw *w, const struct bpffs_walk *bw)
{
	jw__key(w, "mounts");
	jw__arr(w);
	for (unsigned k = 0; k < bw->n_mounts; k++)
		jw__str(w, bw->mounts[k]);
	jw__arr_end(w);
	jw__kuint(w, "mounts_not_walked", bw->mounts_not_walked);
	jw__kuint(w, "dirs_not_walked", bw->dirs_not_walked);
	jw__kuint(w, "dirs_unreadable", bw->dirs_unreadable);
	jw__kuint(w, "names_too_long", bw->names_too_long);
}

static int list_pins(struct tool_ctx *ctx, const struct query *q)
{
	struct bpffs_walk bw = {
		.arena = ctx->scratch,
		.depth_max = (unsigned)limits[LIM_PIN_WALK_DEPTH],
		.scan_max = limits[LIM_SCAN_ITEMS],
	};
	int r = bpffs__walk(&bw);
	if (r == -E2BIG)
		return tool__fail_limit(ctx, LIM_SCAN_ITEMS, "more than scan_items entries under bpffs");
	if (r == -ENOMEM)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "the bpffs listing does not fit in scratch memory");
	if (r)
		return tool__fail_errno(ctx, r, "walking bpffs");
	struct jw *w = ctx->out;
	uint64_t matched = 0, shown = 0;
	jw__key(w, "pins");
	jw__obj(w);
	write_walk_facts(w, &bw);
	jw__key(w, "items");
	jw__arr(w);
	for (size_t i = 0; i < bw.n; i++) {
		const struct bpffs_entry *e = &bw.entries[i];
		if (i % 256 == 255 && tool__expired(ctx))
			return tool__fail_limit(ctx, LIM_CALL_MS, "listing pins took longer than call_ms");
		if (q->name && !json__glob(q->name, e->path))
			continue;
		bool emit = matched >= q->offset && shown < q->limit;
		if (!emit && q->id < 0) {
			matched++;
			continue;
		}
		int err;
		uint32_t id = pin_object(e, q->oi, &err);
		if (q->id >= 0 && id != (uint64_t)q->id)
			continue;
		matched++;
		if (emit) {
			write_pin(w, e, q->oi, id, err);
			shown++;
		}
	}
	jw__arr_end(w);
	tool__page_fields(w, matched, q->offset, shown);
	jw__obj_end(w);
	return 0;
}

/* Bit per kind from the `kinds` argument; every kind when absent. */
static unsigned parse_kinds(struct tool_ctx *ctx)
{
	int t = tool__arg(ctx, "kinds");
	if (t < 0)
		return (1u << K__N) - 1;
	unsigned mask = 0;
	for (int i = 0, e; (e = jdoc__elem(ctx->doc, t, i)) >= 0; i++)
		for (unsigned k = 0; k < K__N; k++)
			if (jdoc__str_eq(ctx->doc, e, kind_arg[k]))
				mask |= 1u << k;
	return mask;
}

/* The ids of a handle's programs or maps. */
static void handle_ids(struct jw *w, const char *key, struct bpf_object *obj, bool maps)
{
	struct bpf_program *p;
	struct bpf_map *m;
	jw__key(w, key);
	jw__arr(w);
	if (maps) {
		bpf_object__for_each_map(m, obj) {
			struct bpf_map_info i = { 0 };
			__u32 l = sizeof(i);
			if (bpf_map__fd(m) >= 0 && !bpf_map_get_info_by_fd(bpf_map__fd(m), &i, &l))
				jw__uint(w, i.id);
		}
	} else {
		bpf_object__for_each_program(p, obj) {
			struct bpf_prog_info i = { 0 };
			__u32 l = sizeof(i);
			if (bpf_program__fd(p) >= 0 && !bpf_prog_get_info_by_fd(bpf_program__fd(p), &i, &l))
				jw__uint(w, i.id);
		}
	}
	jw__arr_end(w);
}

/* Each handle the caller holds: its objects, who owns them and, for a
 * modern-era caller's, how long the lease runs without another call. */
static void write_handles(struct tool_ctx *ctx, struct jw *w)
{
	const struct tool_facts *f = ctx->facts;
	uint32_t h;
	jw__key(w, "handles");
	jw__arr(w);
	for (unsigned i = 0; (h = owned__handle_at(ctx->objs, i)); i++) {
		struct bpf_object *obj = owned__object(ctx->objs, h);
		jw__obj(w);
		jw__kuint(w, "handle", h);
		jw__kstr(w, "object", bpf_object__name(obj));
		handle_ids(w, "programs", obj, false);
		handle_ids(w, "maps", obj, true);
		jw__kstr(w, "owner", f && f->owner ? f->owner : "session");
		jw__kuint(w, "owner_id", f ? f->owner_id : 0);
		jw__key(w, "lease_ms");
		if (f && f->lease_ms)
			jw__uint(w, f->lease_ms);
		else
			jw__null(w);
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

static void write_session(struct tool_ctx *ctx, struct jw *w, const struct owned *objs)
{
	int64_t stats;
	jw__key(w, "bpf_stats_enabled");
	if (sysfs__read_int("/proc/sys/kernel/bpf_stats_enabled", &stats))
		jw__null(w);
	else
		jw__bool(w, stats != 0);
	jw__key(w, "owned");
	jw__obj(w);
	for (unsigned k = 0; k < OBJ__KINDS; k++)
		jw__kuint(w, kind_key[k], owned__count(objs, (enum obj_kind)k));
	write_handles(ctx, w);
	jw__key(w, "traces");
	tool__trace_list(ctx, w);
	jw__obj_end(w);
}

static int run_inspect_state(struct tool_ctx *ctx)
{
	struct query q = {
		.id = tool__arg_int(ctx, "id", -1),
		.name = tool__arg_str(ctx, "name"),
		.boot_to_real_ns = objinfo__boot_to_real_ns(),
		.oi = arena__alloc(ctx->scratch, sizeof(struct obj_info)),
	};
	if (tool__page_args(ctx, 100, &q.limit, &q.offset))
		return -1;
	if (!q.oi)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for object info");
	unsigned kinds = parse_kinds(ctx);
	struct jw *w = ctx->out;
	jw__obj(w);
	for (unsigned k = 0; k < OBJ__KINDS; k++)
		if (kinds >> k & 1 && list_objects(ctx, (enum obj_kind)k, &q))
			return -1;
	if (kinds >> K_PIN & 1 && list_pins(ctx, &q))
		return -1;
	write_session(ctx, w, ctx->objs);
	jw__obj_end(w);
	return 0;
}

const struct tool tool_inspect_state = {
	.name = "inspect_state",
	.schema = SCHEMA_inspect_state,
	.run = run_inspect_state,
};
