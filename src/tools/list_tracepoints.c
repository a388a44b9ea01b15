/* list_tracepoints: the kernel's static tracepoints, read from tracefs.
 *
 * Walks <tracefs>/events/<category>/<name>/, keeps the matching names in
 * scratch memory (bounded by scan_items and scratch_bytes), sorts them so
 * pages are stable, and reads the id (and optionally the format) file of the
 * returned page only. Until something matches, the names walked are ranked
 * as suggestions for an empty result (search.h): ~2k names here, well under
 * a millisecond.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../sys/sysfs.h"
#include "search.h"
#include "tool.h"

#define TP_FORMAT_BYTES (64u * 1024u)  /* largest format file here is ~5.5 KiB */
#define TP_DECL_BYTES   256u           /* one "field:" declaration */
#define TP_FIRST_CAP    256u           /* initial slots; doubled in scratch */

struct tp_ent {
	const char *cat;
	const char *name;
};

struct tp_list {
	struct tp_ent *v;
	size_t n, cap;
	uint64_t scanned;       /* directory entries visited, against scan_items */
};

struct tp_query {
	const char *root;       /* tracefs directory */
	const char *category;   /* exact, or NULL */
	struct search *s;       /* the pattern: substring or glob */
	bool pattern_full;      /* pattern holds '/': match "category/name" */
};

/* Paths are built from the tracefs root and directory names (each at most
 * NAME_MAX), so they always fit; the check keeps that assumption honest. */
static __attribute__((format(printf, 2, 3))) bool tp_path(char out[LIMIT_PATH_BYTES], const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out, LIMIT_PATH_BYTES, fmt, ap);
	va_end(ap);
	return n >= 0 && n < LIMIT_PATH_BYTES;
}

static int tp_cmp(const void *a, const void *b)
{
	const struct tp_ent *x = a, *y = b;
	int c = strcmp(x->cat, y->cat);
	return c ? c : strcmp(x->name, y->name);
}

/* d_type is reliable on tracefs/eventfs; stat covers filesystems without it. */
static bool is_dir(const char *parent, const struct dirent *e)
{
	if (e->d_type != DT_UNKNOWN)
		return e->d_type == DT_DIR;
	char p[LIMIT_PATH_BYTES];
	struct stat st;
	return tp_path(p, "%s/%s", parent, e->d_name) && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}


static int tp_push(struct tool_ctx *ctx, struct tp_list *l, const char *cat, const char *name)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : TP_FIRST_CAP;
		struct tp_ent *v = arena__alloc(ctx->scratch, cap * sizeof(*v));
		if (!v)
			return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for %zu tracepoint names; "
						"narrow the query with category or pattern", cap);
		if (l->n)
			memcpy(v, l->v, l->n * sizeof(*v));
		l->v = v, l->cap = cap;
	}
	char *n = arena__strndup(ctx->scratch, name, strlen(name));
	if (!n)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for tracepoint names; "
					"narrow the query with category or pattern");
	l->v[l->n++] = (struct tp_ent){ .cat = cat, .name = n };
	return 0;
}

/* Keeps a tracepoint that matches; offers one that does not as a suggestion
 * while nothing has matched (suggestions are shown only then). */
static int tp_consider(struct tool_ctx *ctx, const struct tp_query *q, const char *cat, const char *name,
		       struct tp_list *l)
{
	char full[LIMIT_PATH_BYTES];   /* both parts are single path components */
	if (!tp_path(full, "%s/%s", cat, name))
		return tool__fail_errno(ctx, -ENAMETOOLONG, "tracepoint %s/%s", cat, name);
	size_t key_at = q->pattern_full ? 0 : strlen(cat) + 1;
	if (search__match(q->s, full + key_at))
		return tp_push(ctx, l, cat, name);
	if (!l->n)
		search__offer(q->s, full, key_at);
	return 0;
}

/* Adds the matching events of one category directory. */
static int tp_walk_category(struct tool_ctx *ctx, const struct tp_query *q, const char *cat,
			    struct tp_list *l)
{
	char dir[LIMIT_PATH_BYTES];
	if (!tp_path(dir, "%s/events/%s", q->root, cat))
		return tool__fail_errno(ctx, -ENAMETOOLONG, "category %s", cat);
	DIR *d = opendir(dir);
	if (!d)
		return tool__fail_errno(ctx, -errno, "opening %s", dir);
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		if (++l->scanned > limits[LIM_SCAN_ITEMS]) {
			rc = tool__fail_limit(ctx, LIM_SCAN_ITEMS, "more than %llu entries under %s/events",
					      (unsigned long long)limits[LIM_SCAN_ITEMS], q->root);
			break;
		}
		if (e->d_name[0] == '.' || !is_dir(dir, e))
			continue;
		rc = tp_consider(ctx, q, cat, e->d_name, l);
	}
	closedir(d);
	return rc;
}

static int tp_unknown_category(struct tool_ctx *ctx, const struct tp_query *q)
{
	tool__fail(ctx, ERR_UNKNOWN_CATEGORY,
		   "no tracepoint category '%s' in %s/events; call list_tracepoints without category "
		   "(categories: true) to see the categories this kernel has", q->category, q->root);
	jw__kstr(&ctx->err->ctx, "pointer", "/category");
	jw__kstr(&ctx->err->ctx, "category", q->category);
	return -1;
}

static int tp_collect(struct tool_ctx *ctx, const struct tp_query *q, struct tp_list *l)
{
	char events[LIMIT_PATH_BYTES];
	if (!tp_path(events, "%s/events", q->root))
		return tool__fail_errno(ctx, -ENAMETOOLONG, "tracefs root %s", q->root);
	if (q->category) {
		struct stat st;
		char p[LIMIT_PATH_BYTES];
		if (strchr(q->category, '/') || !strcmp(q->category, ".") || !strcmp(q->category, "..") ||
		    !tp_path(p, "%s/%s", events, q->category) || stat(p, &st) || !S_ISDIR(st.st_mode))
			return tp_unknown_category(ctx, q);
		return tp_walk_category(ctx, q, q->category, l);
	}
	DIR *d = opendir(events);
	if (!d)
		return tool__fail_errno(ctx, -errno, "opening %s", events);
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d))) {
		if (++l->scanned > limits[LIM_SCAN_ITEMS]) {
			rc = tool__fail_limit(ctx, LIM_SCAN_ITEMS, "more than %llu entries under %s",
					      (unsigned long long)limits[LIM_SCAN_ITEMS], events);
			break;
		}
		if (e->d_name[0] == '.' || !is_dir(events, e))
			continue;
		char *cat = arena__strndup(ctx->scratch, e->d_name, strlen(e->d_name));
		rc = cat ? tp_walk_category(ctx, q, cat, l)
			 : tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for category names");
	}
	closedir(d);
	return rc;
}

/* ---- format files ------------------------------------------------------ */

static bool is_ident(char c)
{
	return c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Splits a declaration such as "const char * filename", "__u8 saddr[4]" or
 * "__data_loc char[] name" into the name and the type (array suffix kept
 * with the type, as a C cast would spell it). Returns whether it is one of
 * the common_* header fields. */
static bool tp_write_decl(struct jw *w, const char *decl, size_t n)
{
	while (n && decl[n - 1] == ' ')
		n--;
	size_t base = n, suffix = n;
	if (n && decl[n - 1] == ']') {
		size_t lb = n - 1;
		while (lb && decl[lb] != '[')
			lb--;
		if (decl[lb] == '[')
			suffix = base = lb;
	}
	while (base && decl[base - 1] == ' ')
		base--;
	size_t name = base;
	while (name && is_ident(decl[name - 1]))
		name--;
	size_t tend = name;
	while (tend && decl[tend - 1] == ' ')
		tend--;
	char type[TP_DECL_BYTES];
	snprintf(type, sizeof(type), "%.*s%.*s", (int)tend, decl, (int)(n - suffix), decl + suffix);
	jw__key(w, "name");
	jw__strn(w, decl + name, base - name);
	jw__kstr(w, "type", type);
	return base - name > 7 && !strncmp(decl + name, "common_", 7);
}

/* "field:DECL;\toffset:N;\tsize:N;\tsigned:N;" -> one field object. */
static bool tp_write_field(struct jw *w, const char *line)
{
	const char *decl = line + strlen("field:");
	const char *semi = strchr(decl, ';');
	const char *off = strstr(line, "offset:"), *size = strstr(line, "size:"), *sgn = strstr(line, "signed:");
	if (!semi || !off || !size || !sgn || (size_t)(semi - decl) >= TP_DECL_BYTES)
		return false;
	jw__obj(w);
	bool common = tp_write_decl(w, decl, (size_t)(semi - decl));
	jw__kint(w, "offset", strtol(off + 7, NULL, 10));
	jw__kint(w, "size", strtol(size + 5, NULL, 10));
	jw__kbool(w, "signed", strtol(sgn + 7, NULL, 10) != 0);
	jw__kbool(w, "common", common);
	jw__obj_end(w);
	return true;
}

static int tp_write_fields(struct tool_ctx *ctx, const char *dir, char *buf)
{
	char path[LIMIT_PATH_BYTES];
	int r = tp_path(path, "%s/format", dir) ? sysfs__read(path, buf, TP_FORMAT_BYTES, NULL) : -ENAMETOOLONG;
	if (r == -EFBIG)
		return tool__fail(ctx, ERR_FORMAT_TOO_LARGE,
				  "%s is larger than %u bytes", path, TP_FORMAT_BYTES);
	if (r)
		return tool__fail_errno(ctx, r, "reading %s", path);
	struct jw *w = ctx->out;
	jw__key(w, "fields");
	jw__arr(w);
	for (char *line = buf; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncmp(line, "field:", 6))
			continue;
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = 0;
		bool ok = tp_write_field(w, line);
		if (eol)
			*eol = '\n';
		if (!ok)
			return tool__fail(ctx, ERR_FORMAT_UNPARSED,
					  "%s has a field line this server cannot parse: %.120s", path, line);
	}
	jw__arr_end(w);
	return 0;
}

/* ---- output ------------------------------------------------------------ */

static int tp_write_one(struct tool_ctx *ctx, const struct tp_query *q, const struct tp_ent *t,
			char *fmtbuf)
{
	struct jw *w = ctx->out;
	char dir[LIMIT_PATH_BYTES], path[LIMIT_PATH_BYTES];
	int64_t id;
	if (!tp_path(dir, "%s/events/%s/%s", q->root, t->cat, t->name) || !tp_path(path, "%s/id", dir))
		return tool__fail_errno(ctx, -ENAMETOOLONG, "tracepoint %s/%s", t->cat, t->name);
	jw__obj(w);
	jw__kstr(w, "category", t->cat);
	jw__kstr(w, "name", t->name);
	jw__key(w, "id");
	if (sysfs__read_int(path, &id))
		jw__null(w);
	else
		jw__int(w, id);
	if (fmtbuf && tp_write_fields(ctx, dir, fmtbuf))
		return -1;
	jw__obj_end(w);
	return 0;
}

static void tp_write_categories(struct jw *w, const struct tp_list *l, bool counts)
{
	uint64_t ncat = 0;
	if (counts) {
		jw__key(w, "category_counts");
		jw__arr(w);
	}
	for (size_t i = 0, j; i < l->n; i = j) {
		for (j = i + 1; j < l->n && !strcmp(l->v[j].cat, l->v[i].cat); j++)
			;
		ncat++;
		if (counts) {
			jw__obj(w);
			jw__kstr(w, "category", l->v[i].cat);
			jw__kuint(w, "count", j - i);
			jw__obj_end(w);
		}
	}
	if (counts)
		jw__arr_end(w);
	jw__kuint(w, "categories", ncat);
}

/* What an empty result searched, e.g. "tracepoint names in category syscalls". */
static void tp_write_searched(struct jw *w, const struct tp_query *q)
{
	char over[SEARCH_WHAT_BYTES];
	const char *names = !q->s->pattern ? "tracepoints" : q->pattern_full ? "category/name of tracepoints"
		: "tracepoint names";
	if (q->category)
		snprintf(over, sizeof(over), "%s in category %s", names, q->category);
	else
		snprintf(over, sizeof(over), "%s", names);
	search__write(w, q->s, over);
}

static int tp_fail_no_tracefs(struct tool_ctx *ctx)
{
	return tool__fail(ctx, ERR_TRACEFS_NOT_MOUNTED,
			  "tracefs is not mounted; mount it with `mount -t tracefs tracefs /sys/kernel/tracing` "
			  "(or mount debugfs: `mount -t debugfs debugfs /sys/kernel/debug`) and call again");
}

static int run_list_tracepoints(struct tool_ctx *ctx)
{
	char root[LIMIT_PATH_BYTES];
	int rc = sysfs__tracefs_dir(root, sizeof(root));
	if (rc == -EACCES)
		return tool__tracefs_denied(ctx, "list_tracepoints");
	/* tracefs mounts on a directory of sysfs: that comes first */
	if (rc && tool__need_mount(ctx, "sysfs", "list_tracepoints"))
		return -1;
	if (rc)
		return tp_fail_no_tracefs(ctx);
	uint64_t limit, offset;
	if (tool__page_args(ctx, 100, &limit, &offset))
		return -1;
	struct search search;
	const char *pattern = tool__arg_str(ctx, "pattern");
	search__init(&search, pattern, false);
	struct tp_query q = { .root = root, .category = tool__arg_str(ctx, "category"), .s = &search,
			      .pattern_full = pattern && strchr(pattern, '/') };
	struct tp_list l = { 0 };
	if (tp_collect(ctx, &q, &l))
		return -1;
	qsort(l.v, l.n, sizeof(*l.v), tp_cmp);
	char *fmtbuf = NULL;
	if (tool__arg_bool(ctx, "include_format", false) &&
	    !(fmtbuf = arena__alloc(ctx->scratch, TP_FORMAT_BYTES)))
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory to read format files");
	size_t first = (uint64_t)offset < l.n ? (size_t)offset : l.n;
	size_t end = l.n - first < (uint64_t)limit ? l.n : first + (size_t)limit;
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__kstr(w, "tracefs", root);
	jw__key(w, "tracepoints");
	jw__arr(w);
	for (size_t i = first; i < end; i++)
		if (tp_write_one(ctx, &q, &l.v[i], fmtbuf))
			return -1;
	jw__arr_end(w);
	tool__page_fields(w, l.n, (uint64_t)offset, end - first);
	tp_write_categories(w, &l, tool__arg_bool(ctx, "categories", false));
	if (!l.n)
		tp_write_searched(w, &q);
	jw__obj_end(w);
	return 0;
}

const struct tool tool_list_tracepoints = {
	.name = "list_tracepoints",
	.schema = SCHEMA_list_tracepoints,
	.run = run_list_tracepoints,
};
