/* Resources and completion (see surface.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../kern/bpffs.h"
#include "../kern/objinfo.h"
#include "../kern/btf_cache.h"
#include "../kern/policy.h"
#include "../sys/sysfs.h"
#include "../assert.h"
#include "../json/schema.h"
#include "surface.h"

#define LIST_NAME_BYTES   96     /* "prog 123 name" */
#define COMPLETE_SCAN     (1u << 20)   /* names one completion may look at (BTF: ~130k) */

const struct resource_template resource_templates[] = {
	{ "bpf://prog/{id}", "prog", "A loaded BPF program",
	  "One program in the kernel as inspect_state reports it: type, tag, attach target, load time, "
	  "translated and JITed sizes, verified instructions, run count and time, the maps it uses, and whether "
	  "this caller owns it.", "application/json", { "id" } },
	{ "bpf://map/{id}", "map", "A BPF map and its first entries",
	  "One map's geometry, flags and BTF, and its first 100 entries decoded through BTF (hex without it), as "
	  "map_dump returns them; next_cursor says whether there are more.", "application/json", { "id" } },
	{ "bpf://link/{id}", "link", "A BPF link",
	  "One link in the kernel as inspect_state reports it: type, program, and what it attaches to.",
	  "application/json", { "id" } },
	{ "btf://vmlinux/{type}", "btf-type", "A kernel type as C",
	  "The C declaration of a named type of the running kernel's BTF (struct, union, enum, typedef, function "
	  "prototype), as `bpftool btf dump format c` prints it; every type of that name, in type-id order.",
	  "text/x-c", { "type" } },
	{ "bpf://pin/{+path}", "pin", "A pinned BPF object",
	  "The object pinned at a bpffs path (bpf://pin/sys/fs/bpf/x for /sys/fs/bpf/x): its view as "
	  "bpf://prog, bpf://map or bpf://link gives it, for whatever kind it is.", "application/json", { "path" } },
	{ "tracefs://events/{category}/{name}/format", "tracepoint-format", "A tracepoint's record format",
	  "The format file of a static tracepoint, as tracefs has it: the fields of its record with their C "
	  "types, offsets and sizes, and its print format.", "text/plain", { "category", "name" } },
};
const unsigned resource_template_count = sizeof(resource_templates) / sizeof(resource_templates[0]);

/* ---- reading ------------------------------------------------------------------ */

/* "bpf://prog/123" with prefix "bpf://prog/": 123. */
static bool uri_id(const char *uri, const char *prefix, uint32_t *id)
{
	size_t n = strlen(prefix);
	char *end;
	if (strncmp(uri, prefix, n) || uri[n] < '1' || uri[n] > '9')
		return false;
	unsigned long v = strtoul(uri + n, &end, 10);
	if (*end || v > UINT32_MAX)
		return false;
	*id = (uint32_t)v;
	return true;
}

/* A name tracefs and BTF use: letters, digits and '_' (1..255). */
static bool plain_name(const char *s, size_t n)
{
	if (!n || n > 255)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z')))
			return false;
	return true;
}

static int not_found(struct tool_ctx *ctx, const char *what, const char *uri)
{
	tool__fail(ctx, ERR_NO_SUCH_RESOURCE, "no %s at %s (resources/list names what exists now)", what, uri);
	jw__kstr(&ctx->err->ctx, "uri", uri);
	return 1;
}

/* The tool behind a resource, if this caller may run it. */
static const struct tool *backing(struct tool_ctx *ctx, enum sch_tool_id id)
{
	const struct tool *t = tool_table[id];
	if (tool__allowed(ctx->env, t))
		return t;
	tool__fail(ctx, ERR_NOT_OFFERED, "this resource is read through %s, which this server does not offer "
		   "this caller (--deny-tools or --allow-tools)", t->name);
	return NULL;
}

/* A view of one kernel object through inspect_state. */
static int read_object(struct tool_ctx *ctx, const char *uri, const char *kind, uint32_t id, const char **text,
		       size_t *len)
{
	char args[96];
	const struct tool *t = backing(ctx, SCHEMA_inspect_state);
	if (!t)
		return -1;
	snprintf(args, sizeof(args), "{\"kinds\":[\"%s\"],\"id\":%u}", kind, id);
	if (tool__run_json(ctx, t, args))
		return -1;
	/* inspect_state lists an id that exists; none listed means none */
	char want[32];
	snprintf(want, sizeof(want), "\"total\":0");
	if (memmem(ctx->out->buf, ctx->out->len, want, strlen(want)))
		return not_found(ctx, kind, uri);
	*text = ctx->out->buf, *len = ctx->out->len;
	return 0;
}

static int read_map(struct tool_ctx *ctx, const char *uri, uint32_t id, const char **text, size_t *len)
{
	char args[96];
	const struct tool *t = backing(ctx, SCHEMA_map_dump);
	if (!t)
		return -1;
	snprintf(args, sizeof(args), "{\"map_id\":%u,\"limit\":%d}", id, RESOURCE_MAP_PAGE);
	if (tool__run_json(ctx, t, args)) {
		const char *c = ctx->err->code;
		bool gone = !strcmp(c, "ENOENT") || !strcmp(c, "NO_SUCH_MAP");
		if (gone) {
			ctx->err->set = false;   /* the resource's own message instead */
			return not_found(ctx, "map", uri);
		}
		return -1;
	}
	*text = ctx->out->buf, *len = ctx->out->len;
	return 0;
}

/* The c_decl strings of get_btf_types' result, joined: C text in scratch. */
static int c_decls(struct tool_ctx *ctx, const char **text, size_t *len)
{
	struct jdoc d;
	struct json_perr e;
	unsigned cap = (unsigned)(ctx->out->len / 2 + 16);
	jsmntok_t *tok = arena__alloc(ctx->scratch, cap * sizeof(*tok));
	char *buf = arena__alloc(ctx->scratch, ctx->out->len + 1);
	if (!tok || !buf || jdoc__parse(&d, ctx->out->buf, ctx->out->len, tok, cap, 64, &e))
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory to take the C declarations apart");
	size_t n = 0;
	int types = jdoc__get(&d, 0, "types");
	for (int i = 0, el; (el = jdoc__elem(&d, types, i)) >= 0; i++) {
		size_t l;
		int c = jdoc__get(&d, el, "c_decl");
		if (c >= 0 && !jdoc__str(&d, c, buf + n, ctx->out->len + 1 - n, &l))
			n += l;
	}
	buf[n] = 0;
	*text = buf, *len = n;
	return 0;
}

static int read_btf(struct tool_ctx *ctx, const char *uri, const char *name, const char **text, size_t *len)
{
	char args[320];
	const struct tool *t = backing(ctx, SCHEMA_get_btf_types);
	if (!t)
		return -1;
	if (!plain_name(name, strlen(name)))
		return not_found(ctx, "kernel type", uri);
	snprintf(args, sizeof(args), "{\"name\":\"%s\",\"c_decl\":true,\"limit\":100}", name);
	if (tool__run_json(ctx, t, args) || c_decls(ctx, text, len))
		return -1;
	return *len ? 0 : not_found(ctx, "kernel type", uri);
}

static int read_format(struct tool_ctx *ctx, const char *uri, const char **text, size_t *len)
{
	const char *p = uri + strlen("tracefs://events/"), *slash = strchr(p, '/');
	const char *tail = slash ? strchr(slash + 1, '/') : NULL;
	char root[256], path[1024];
	if (!slash || !tail || strcmp(tail, "/format") || !plain_name(p, (size_t)(slash - p)) ||
	    !plain_name(slash + 1, (size_t)(tail - slash - 1)))
		return not_found(ctx, "tracepoint format", uri);
	int rc = sysfs__tracefs_dir(root, sizeof(root));
	if (rc == -EACCES)
		return tool__tracefs_denied(ctx, "tracefs://events");
	if (rc)
		return tool__need_mount(ctx, "tracefs", "tracefs://events") ? -1 : not_found(ctx, "tracefs", uri);
	snprintf(path, sizeof(path), "%s/events/%.*s/%.*s/format", root, (int)(slash - p), p, (int)(tail - slash - 1),
		 slash + 1);
	char *buf = arena__alloc(ctx->scratch, RESOURCE_TEXT_BYTES);
	if (!buf)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for %s", path);
	rc = sysfs__read(path, buf, RESOURCE_TEXT_BYTES, len);
	if (rc == -ENOENT)
		return not_found(ctx, "tracepoint", uri);
	if (rc)
		return tool__fail_errno(ctx, rc, "reading %s", path);
	*text = buf;
	return 0;
}

static void write_limits(struct jw *w)
{
	jw__obj(w);
	jw__key(w, "limits");
	jw__arr(w);
	for (int i = 0; i < LIM__COUNT; i++) {
		jw__obj(w);
		jw__kstr(w, "name", limit_defs[i].name);
		jw__kuint(w, "value", limits[i]);
		jw__kuint(w, "default", limit_defs[i].def);
		jw__kuint(w, "min", limit_defs[i].min);
		jw__kuint(w, "max", limit_defs[i].max);
		jw__kstr(w, "why", limit_defs[i].why);
		jw__obj_end(w);
	}
	jw__arr_end(w);
	jw__obj_end(w);
}

static void write_strs(struct jw *w, const char *key, const char *const *v, unsigned n)
{
	jw__key(w, key);
	jw__arr(w);
	for (unsigned i = 0; i < n; i++)
		jw__str(w, v[i]);
	jw__arr_end(w);
}

/* What this caller may do, and the rules behind it. */
static void write_policy(struct tool_ctx *ctx, struct jw *w)
{
	const struct config *c = ctx->env->cfg;
	struct policy_report none = { .insn_cap = limits[LIM_PROG_INSNS] };
	jw__obj(w);
	jw__kstr(w, "profile", config__profile_name(ctx->env->profile));
	jw__kbool(w, "allow_foreign", ctx->env->allow_foreign);
	jw__key(w, "tools");
	jw__arr(w);
	for (unsigned k = 0; k < tool_count; k++)
		if (tool__allowed(ctx->env, tool_table[k]))
			jw__str(w, tool_table[k]->name);
	jw__arr_end(w);
	write_strs(w, "allow_tools", c->allow, c->n_allow);
	write_strs(w, "deny_tools", c->deny, c->n_deny);
	write_strs(w, "object_dirs", c->object_dirs, c->n_object_dirs);
	write_strs(w, "pin_dirs", c->pin_dirs, c->n_pin_dirs);
	jw__key(w, "bytecode");
	policy__write(w, &c->policy, &none);
	jw__key(w, "access");
	jw__arr(w);
	for (unsigned i = 0; i < c->n_access; i++) {
		jw__obj(w);
		jw__kstr(w, "who", c->access[i].group ? "gid" : "uid");
		jw__kstr(w, "name", c->access[i].name);
		jw__kuint(w, "id", c->access[i].id);
		jw__kstr(w, "profile", config__profile_name(c->access[i].profile));
		jw__kbool(w, "allow_foreign", c->access[i].allow_foreign);
		jw__obj_end(w);
	}
	jw__arr_end(w);
	jw__obj_end(w);
}

/* bpf://pin/PATH: the view of what /PATH pins (only on bpffs). */
static int read_pin(struct tool_ctx *ctx, const char *uri, const char **text, size_t *len)
{
	char path[LIMIT_PATH_BYTES];
	struct statfs fs;
	enum obj_kind k;
	snprintf(path, sizeof(path), "/%s", uri + strlen("bpf://pin/"));
	if (strstr(path, "/../") || statfs(path, &fs) || fs.f_type != BPF_FS_MAGIC)
		return not_found(ctx, "pin on bpffs", uri);
	int fd = bpf_obj_get(path);
	if (fd < 0)
		return not_found(ctx, "pin", uri);
	int rc = objinfo__fd_kind(fd, &k);
	uint32_t id = objinfo__fd_id(fd);
	close(fd);
	if (rc == -ENOENT && tool__need_mount(ctx, "proc", "bpf://pin (what a pin holds is read from /proc/self/fd)"))
		return -1;
	if (rc || !id)
		return not_found(ctx, "program, map or link pinned", uri);
	return k == OBJ_MAP ? read_map(ctx, uri, id, text, len)
			    : read_object(ctx, uri, k == OBJ_PROG ? "program" : "link", id, text, len);
}

int resources__read(struct tool_ctx *ctx, const char *uri, const char **text, size_t *len, const char **mime)
{
	uint32_t id;
	*mime = "application/json";
	if (!strncmp(uri, "bpf://pin/", 10))
		return read_pin(ctx, uri, text, len);
	if (uri_id(uri, "bpf://prog/", &id))
		return read_object(ctx, uri, "program", id, text, len);
	if (uri_id(uri, "bpf://link/", &id))
		return read_object(ctx, uri, "link", id, text, len);
	if (uri_id(uri, "bpf://map/", &id))
		return read_map(ctx, uri, id, text, len);
	if (!strncmp(uri, "btf://vmlinux/", 14))
		return *mime = "text/x-c", read_btf(ctx, uri, uri + 14, text, len);
	if (!strncmp(uri, "tracefs://events/", 17))
		return *mime = "text/plain", read_format(ctx, uri, text, len);
	for (unsigned i = 0; i < sch_app_count; i++)
		if (!strcmp(uri, sch_apps[i].uri)) {
			*mime = SCH_APP_MIME;
			*text = sch_apps[i].html, *len = sch_apps[i].len;
			return 0;
		}
	if (!strcmp(uri, "ebpf-mcp://limits") || !strcmp(uri, "ebpf-mcp://policy")) {
		if (uri[11] == 'l')
			write_limits(ctx->out);
		else
			write_policy(ctx, ctx->out);
		*text = ctx->out->buf, *len = ctx->out->len;
		return ctx->out->overflow ? tool__fail_limit(ctx, LIM_RESPONSE_BYTES, "%s does not fit", uri) : 0;
	}
	return not_found(ctx, "resource", uri);
}

/* ---- listing ---------------------------------------------------------------------- */

enum { K_PROG, K_MAP, K_LINK, K_PIN, K__N };
static const char *const kind_uri[K__N] = { "bpf://prog/", "bpf://map/", "bpf://link/" };
static const char *const kind_word[K__N] = { "program", "map", "link" };

static int next_id(unsigned k, uint32_t id, uint32_t *next)
{
	ASSERT(k < K_PIN);
	return k == K_PROG ? bpf_prog_get_next_id(id, next) : k == K_MAP ? bpf_map_get_next_id(id, next)
									  : bpf_link_get_next_id(id, next);
}

/* The object's name and type words, for a listing's title. */
static void describe(unsigned k, uint32_t id, char *name, size_t cap)
{
	int fd = k == K_PROG ? bpf_prog_get_fd_by_id(id) : k == K_MAP ? bpf_map_get_fd_by_id(id)
									: bpf_link_get_fd_by_id(id);
	snprintf(name, cap, "%s %u", kind_word[k], id);
	if (fd < 0)
		return;
	if (k == K_PROG) {
		struct bpf_prog_info i = { 0 };
		__u32 l = sizeof(i);
		if (!bpf_prog_get_info_by_fd(fd, &i, &l))
			snprintf(name, cap, "%s %u %s (%s)", kind_word[k], id, i.name,
				 libbpf_bpf_prog_type_str(i.type) ?: "?");
	} else if (k == K_MAP) {
		struct bpf_map_info i = { 0 };
		__u32 l = sizeof(i);
		if (!bpf_map_get_info_by_fd(fd, &i, &l))
			snprintf(name, cap, "%s %u %s (%s)", kind_word[k], id, i.name, libbpf_bpf_map_type_str(i.type) ?: "?");
	} else {
		struct bpf_link_info i = { 0 };
		__u32 l = sizeof(i);
		if (!bpf_link_get_info_by_fd(fd, &i, &l))
			snprintf(name, cap, "%s %u (%s) of program %u", kind_word[k], id,
				 libbpf_bpf_link_type_str(i.type) ?: "?", i.prog_id);
	}
	close(fd);
}

static void item(struct jw *w, const char *uri, const char *name, const char *title, const char *desc, const char *mime)
{
	jw__obj(w);
	jw__kstr(w, "uri", uri);
	jw__kstr(w, "name", name);
	jw__kstr(w, "title", title);
	jw__kstr(w, "description", desc);
	jw__kstr(w, "mimeType", mime);
	jw__obj_end(w);
}

/* Cursor "K:ID": the next page starts after object ID of kind K. */
static int parse_cursor(struct tool_ctx *ctx, const char *cursor, unsigned *k, uint32_t *after)
{
	char *end;
	*k = 0, *after = 0;
	if (!cursor)
		return 0;
	unsigned long kk = strtoul(cursor, &end, 10);
	if (end == cursor || *end != ':' || kk >= K__N)
		return tool__fail(ctx, ERR_BAD_CURSOR, "invalid cursor: pass back nextCursor unchanged");
	unsigned long id = strtoul(end + 1, &end, 10);
	if (*end || id > UINT32_MAX)
		return tool__fail(ctx, ERR_BAD_CURSOR, "invalid cursor: pass back nextCursor unchanged");
	*k = (unsigned)kk, *after = (uint32_t)id;
	return 0;
}

/* Pins from index from on (sorted by path, so pages are stable while
 * nothing is pinned or unpinned between them). */
static int list_pins(struct tool_ctx *ctx, struct jw *w, uint32_t from, uint64_t *shown, char *next, size_t next_cap)
{
	struct bpffs_walk bw = { .arena = ctx->scratch, .depth_max = (unsigned)limits[LIM_PIN_WALK_DEPTH],
				 .scan_max = limits[LIM_SCAN_ITEMS] };
	int rc = bpffs__walk(&bw);
	if (rc && rc != -E2BIG)
		return rc == -ENOMEM ? tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory to walk bpffs") : 0;
	for (size_t i = from; i < bw.n; i++) {
		char uri[URI_BYTES], title[URI_BYTES + 16];
		if (bw.entries[i].dtype != DT_REG || strlen(bw.entries[i].path) + 12 > sizeof(uri))
			continue;
		if (*shown >= limits[LIM_LIST_ITEMS]) {
			snprintf(next, next_cap, "%u:%zu", K_PIN, i);
			return 0;
		}
		snprintf(uri, sizeof(uri), "bpf://pin%s", bw.entries[i].path);
		snprintf(title, sizeof(title), "pinned at %s", bw.entries[i].path);
		item(w, uri, "pin", title, "The pinned object's view (program, map or link).", "application/json");
		(*shown)++;
	}
	return 0;
}

int resources__list(struct tool_ctx *ctx, struct jw *w, const char *cursor, char *next, size_t next_cap)
{
	unsigned k;
	uint32_t id;
	uint64_t shown = 0, cap = limits[LIM_LIST_ITEMS];
	*next = 0;
	if (parse_cursor(ctx, cursor, &k, &id))
		return -1;
	if (!cursor) {
		item(w, "ebpf-mcp://limits", "limits", "This server's limits",
		     "Every cap in force (request and reply sizes, programs, maps, links, map memory per session and in "
		     "total, jobs, leases...): value, default, range and why.", "application/json");
		item(w, "ebpf-mcp://policy", "policy", "This server's policy for this caller",
		     "The profile and tools this caller has, the directories objects may come from and pins may go "
		     "to, the bytecode policy (blocked helpers, allowed program types) and the daemon's access rules.",
		     "application/json");
		for (unsigned i = 0; i < sch_app_count; i++)   /* the MCP Apps tools name in their _meta */
			item(w, sch_apps[i].uri, sch_apps[i].name, sch_apps[i].title, sch_apps[i].description,
			     SCH_APP_MIME);
		shown = 2 + sch_app_count;   /* the static items come whole on the first page */
	}
	for (; k < K_PIN; k++, id = 0) {
		for (unsigned n = 0; n < limits[LIM_SCAN_ITEMS] && !next_id(k, id, &id); n++) {
			if (shown >= cap) {
				snprintf(next, next_cap, "%u:%u", k, id - 1);
				return 0;   /* resumes at this id (ids only grow) */
			}
			char uri[64], name[LIST_NAME_BYTES], label[32];
			snprintf(uri, sizeof(uri), "%s%u", kind_uri[k], id);
			snprintf(label, sizeof(label), "%s-%u", kind_word[k], id);
			describe(k, id, name, sizeof(name));
			item(w, uri, label, name, k == K_MAP ? "Geometry and first entries, decoded (map_dump)."
							    : "As inspect_state reports it.", "application/json");
			shown++;
		}
	}
	return list_pins(ctx, w, k == K_PIN ? id : 0, &shown, next, next_cap);
}

/* ---- completion ------------------------------------------------------------------------ */

struct picks {
	struct jw *w;
	uint64_t total, shown;
	const char *prefix;
	size_t plen;
};

static void pick(struct picks *p, const char *v)
{
	if (strncmp(v, p->prefix, p->plen))
		return;
	p->total++;
	if (p->shown < COMPLETION_VALUES) {
		jw__str(p->w, v);
		p->shown++;
	}
}

static void complete_ids(unsigned k, struct picks *p)
{
	uint32_t id = 0;
	char s[16];
	for (unsigned n = 0; n < limits[LIM_SCAN_ITEMS] && !next_id(k, id, &id); n++) {
		snprintf(s, sizeof(s), "%u", id);
		pick(p, s);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Named vmlinux types starting with the prefix, sorted, each name once. */
static int complete_btf(struct tool_ctx *ctx, struct picks *p)
{
	struct btf_view v;
	if (tool__need_btf(ctx, "completing kernel type names"))
		return -1;
	int rc = btf_cache__vmlinux(&v);
	if (rc)
		return tool__fail_errno(ctx, rc, "loading vmlinux BTF");
	uint32_t n = btf__type_cnt(v.btf), got = 0;
	const char **names = arena__alloc(ctx->scratch, (n < COMPLETE_SCAN ? n : COMPLETE_SCAN) * sizeof(*names));
	if (!names)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for %u type names", n);
	for (uint32_t id = 1; id < n && got < COMPLETE_SCAN; id++) {
		const char *s = btf__name_by_offset(v.btf, btf__type_by_id(v.btf, id)->name_off);
		/* only names btf://vmlinux/{type} reads (not ".data..percpu") */
		if (s && *s && !strncmp(s, p->prefix, p->plen) && plain_name(s, strlen(s)))
			names[got++] = s;
	}
	qsort(names, got, sizeof(*names), cmp_str);
	for (uint32_t i = 0; i < got; i++)
		if (!i || strcmp(names[i], names[i - 1]))
			pick(p, names[i]);
	return 0;
}

/* Directory names under dir (sorted): tracefs categories or events. */
static int complete_dir(struct tool_ctx *ctx, const char *dir, struct picks *p)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);
	if (n < 0)
		return tool__fail_errno(ctx, -errno, "reading %s", dir);
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' && list[i]->d_type == DT_DIR)
			pick(p, list[i]->d_name);
		free(list[i]);
	}
	free(list);
	return 0;
}

static int complete_tracefs(struct tool_ctx *ctx, const char *arg, int context_args, struct picks *p)
{
	char root[256], dir[600], cat[256];
	int rc = sysfs__tracefs_dir(root, sizeof(root));
	if (rc == -EACCES)
		return tool__tracefs_denied(ctx, "completing tracepoints");
	if (rc)
		return tool__need_mount(ctx, "tracefs", "completing tracepoints") ? -1 : 0;
	if (!strcmp(arg, "category")) {
		snprintf(dir, sizeof(dir), "%s/events", root);
		return complete_dir(ctx, dir, p);
	}
	int c = context_args >= 0 ? jdoc__get(ctx->doc, context_args, "category") : -1;
	if (c < 0 || jdoc__str(ctx->doc, c, cat, sizeof(cat), NULL) || !plain_name(cat, strlen(cat)))
		return 0;   /* the name needs its category first: nothing to offer */
	snprintf(dir, sizeof(dir), "%s/events/%s", root, cat);
	return complete_dir(ctx, dir, p);
}

/* Processes' comms or pids from /proc, each once. */
static int complete_proc(struct tool_ctx *ctx, bool pids, struct picks *p)
{
	DIR *d = opendir("/proc");
	if (!d)
		return tool__need_mount(ctx, "proc", "completing processes") ? -1 : 0;
	unsigned cap = 4096, got = 0;
	char **seen = arena__alloc(ctx->scratch, cap * sizeof(*seen));
	struct dirent *e;
	for (unsigned n = 0; seen && (e = readdir(d)) && n < limits[LIM_SCAN_ITEMS] && got < cap; n++) {
		char path[300], comm[32];
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		if (!pids && sysfs__read(path, comm, sizeof(comm), NULL))
			continue;   /* gone meanwhile */
		comm[strcspn(comm, "\n")] = 0;
		if (!pids && strlen(comm) > PROMPT_COMM_MAX)
			continue;   /* a worker's long name: the prompts would refuse it */
		seen[got] = arena__strndup(ctx->scratch, pids ? e->d_name : comm, 31);
		got += seen[got] != NULL;
	}
	closedir(d);
	if (!seen)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory to list processes");
	qsort(seen, got, sizeof(*seen), cmp_str);
	for (unsigned i = 0; i < got; i++)
		if (!i || strcmp(seen[i], seen[i - 1]))
			pick(p, seen[i]);
	return 0;
}

/* Pinned paths (without the leading '/', as bpf://pin/{+path} takes them). */
static int complete_pins(struct tool_ctx *ctx, struct picks *p)
{
	struct bpffs_walk bw = { .arena = ctx->scratch, .depth_max = (unsigned)limits[LIM_PIN_WALK_DEPTH],
				 .scan_max = limits[LIM_SCAN_ITEMS] };
	int rc = bpffs__walk(&bw);
	if (rc == -ENOMEM)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory to walk bpffs");
	for (size_t i = 0; i < bw.n; i++)
		if (bw.entries[i].dtype == DT_REG)
			pick(p, bw.entries[i].path + 1);
	return 0;
}

static int complete_prompt(struct tool_ctx *ctx, const char *prompt, const char *arg, struct picks *p)
{
	static const char *const durations[] = { "1000", "5000", "10000", "30000" };
	const struct prompt *pr = prompts__find(prompt);
	bool known = false;
	for (unsigned i = 0; pr && i < pr->n_args; i++)
		known |= !strcmp(pr->args[i].name, arg);
	if (!known)
		return tool__fail(ctx, ERR_NO_SUCH_ARGUMENT, "prompt '%s' has no argument '%s' (prompts/list)", prompt, arg);
	if (!strcmp(arg, "comm"))
		return complete_proc(ctx, false, p);
	if (!strcmp(arg, "pid"))
		return complete_proc(ctx, true, p);
	if (!strcmp(arg, "duration_ms"))
		for (unsigned i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
			pick(p, durations[i]);
	return 0;
}

int resources__complete(struct tool_ctx *ctx, const char *ref_uri, const char *prompt, const char *arg,
			const char *value, int context_args, struct jw *w, uint64_t *total)
{
	struct picks p = { .w = w, .prefix = value, .plen = strlen(value) };
	int rc = 0;
	if (prompt) {
		rc = complete_prompt(ctx, prompt, arg, &p);
	} else {
		const struct resource_template *t = NULL;
		for (unsigned i = 0; i < resource_template_count && !t; i++)
			if (!strcmp(resource_templates[i].uri_template, ref_uri))
				t = &resource_templates[i];
		bool has = t && ((t->args[0] && !strcmp(t->args[0], arg)) || (t->args[1] && !strcmp(t->args[1], arg)));
		if (!has)
			return tool__fail(ctx, ERR_NO_SUCH_ARGUMENT, "no resource template '%s' with argument '%s' "
					  "(resources/templates/list)", ref_uri, arg);
		if (t == &resource_templates[0] || t == &resource_templates[1] || t == &resource_templates[2])
			complete_ids(t == &resource_templates[0] ? K_PROG : t == &resource_templates[1] ? K_MAP : K_LINK, &p);
		else if (t == &resource_templates[3])
			rc = complete_btf(ctx, &p);
		else if (t == &resource_templates[4])
			rc = complete_pins(ctx, &p);
		else
			rc = complete_tracefs(ctx, arg, context_args, &p);
	}
	*total = p.total;
	return rc;
}
