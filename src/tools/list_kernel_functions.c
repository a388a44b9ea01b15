/* list_kernel_functions: function symbols from /proc/kallsyms, with whether
 * ftrace can hook them and whether BTF describes them.
 *
 * kallsyms (~120k lines) is streamed once, never held: matches are counted
 * and only the requested page is kept in scratch memory. The page's names go
 * into a small hash table, then available_filter_functions is streamed once
 * and the BTF types walked once to set the flags, so the cost stays one pass
 * per source whatever the page size. Until something matches, the names
 * read are ranked as suggestions for an empty result (search.h): at most
 * ~10 ms more over the ~64k function symbols here, paid only while nothing
 * matches.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../sys/kallsyms.h"
#include "../sys/sysfs.h"
#include "search.h"
#include "tool.h"

#define KF_LINE_BYTES    1024u          /* KSYM_NAME_LEN (512) + module name + address */
#define KF_STDIO_BYTES   (64u * 1024u)  /* fewer read() calls over seq_file */
#define KF_NOTES_MAX     4u
#define KF_NOTE_BYTES    384u
#define KF_EXPIRY_EVERY  4096u          /* lines between deadline checks */

enum { KF_UNKNOWN = -1, KF_NO = 0, KF_YES = 1 };

struct kf_ent {
	const char *name;
	int mod;                /* index into kf_page.mods, -1 for the core kernel */
	int next;               /* next entry with the same name, -1 at the end */
	uint64_t addr;
	int8_t traceable, btf;
};

struct kf_page {
	struct kf_ent *v;
	size_t n, cap;
	const char **mods;      /* distinct modules on the page */
	size_t n_mods;
	int *slots;             /* open-addressing table of first entries by name */
	uint32_t mask;
	const char *notes[KF_NOTES_MAX];
	unsigned n_notes;
};

struct kf_query {
	struct search *s;       /* the pattern: substring or glob */
	const char *module;     /* NULL: any; "vmlinux": core kernel only */
	uint64_t offset;
};

struct kf_totals {
	uint64_t matches;
	bool addr_seen;         /* a non-zero address was read */
};

/* Notes explain nulls; past KF_NOTES_MAX the last one says more were cut. */
static __attribute__((format(printf, 3, 4))) void kf_note(struct tool_ctx *ctx, struct kf_page *p,
							  const char *fmt, ...)
{
	if (p->n_notes == KF_NOTES_MAX) {
		p->notes[KF_NOTES_MAX - 1] = "further notes omitted";
		return;
	}
	char *s = arena__alloc(ctx->scratch, KF_NOTE_BYTES);
	if (!s) {
		p->notes[p->n_notes++] = "a note was omitted: no scratch memory";
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, KF_NOTE_BYTES, fmt, ap);
	va_end(ap);
	p->notes[p->n_notes++] = s;
}

static int kf_expired(struct tool_ctx *ctx, uint64_t line)
{
	if (line % KF_EXPIRY_EVERY || !tool__expired(ctx))
		return 0;
	return tool__fail_limit(ctx, LIM_CALL_MS, "listing kernel functions took longer than call_ms; "
				"narrow the query with pattern or module");
}

/* ---- the page's name index -------------------------------------------- */

static uint32_t kf_hash(const char *s)
{
	uint32_t h = 2166136261u;   /* FNV-1a */
	while (*s)
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* First page entry named s, or -1. */
static int kf_lookup(const struct kf_page *p, const char *s)
{
	if (!p->slots)
		return -1;
	for (uint32_t h = kf_hash(s) & p->mask;; h = (h + 1) & p->mask) {
		int i = p->slots[h];
		if (i < 0 || !strcmp(p->v[i].name, s))
			return i;
	}
}

/* Load factor stays under 1/2, so probing always reaches an empty slot. */
static int kf_index(struct tool_ctx *ctx, struct kf_page *p)
{
	uint32_t size = 16;
	while (size < 2 * p->n)
		size <<= 1;
	p->slots = arena__alloc(ctx->scratch, size * sizeof(*p->slots));
	if (!p->slots)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for the page's name index");
	p->mask = size - 1;
	memset(p->slots, 0xff, size * sizeof(*p->slots));
	for (size_t i = 0; i < p->n; i++) {
		uint32_t h = kf_hash(p->v[i].name) & p->mask;
		while (p->slots[h] >= 0 && strcmp(p->v[p->slots[h]].name, p->v[i].name))
			h = (h + 1) & p->mask;
		if (p->slots[h] < 0) {
			p->slots[h] = (int)i;
		} else {
			struct kf_ent *head = &p->v[p->slots[h]];
			p->v[i].next = head->next;
			head->next = (int)i;
		}
	}
	return 0;
}

/* ---- kallsyms ------------------------------------------------------------ */

static int kf_intern_mod(struct tool_ctx *ctx, struct kf_page *p, const char *mod)
{
	if (!mod)
		return -1;
	for (size_t k = 0; k < p->n_mods; k++)
		if (!strcmp(p->mods[k], mod))
			return (int)k;
	const char *copy = arena__strndup(ctx->scratch, mod, strlen(mod));
	if (!copy)
		return -2;
	p->mods[p->n_mods] = copy;   /* mods has one slot per page entry */
	return (int)p->n_mods++;
}

static int kf_push(struct tool_ctx *ctx, struct kf_page *p, const char *name, const char *mod, uint64_t addr)
{
	int m = kf_intern_mod(ctx, p, mod);
	const char *copy = arena__strndup(ctx->scratch, name, strlen(name));
	if (m == -2 || !copy)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for the page's names; "
					"use a smaller limit");
	p->v[p->n++] = (struct kf_ent){ .name = copy, .mod = m, .next = -1, .addr = addr,
				       .traceable = KF_UNKNOWN, .btf = KF_NO };
	return 0;
}

/* A function the pattern is tried on: filters other than the pattern. */
static bool kf_candidate(const struct kf_query *q, char type, const char *name, const char *mod)
{
	if (type != 't' && type != 'T' && type != 'W')
		return false;
	if (kallsyms__padding(name))
		return false;
	return !q->module || (!strcmp(q->module, "vmlinux") ? mod == NULL : mod && !strcmp(q->module, mod));
}

/* One line of a stdio stream into buf; -E2BIG when it does not fit. */
static int kf_getline(FILE *f, char *buf)
{
	if (!fgets(buf, KF_LINE_BYTES, f))
		return ferror(f) ? -EIO : 0;
	size_t n = strlen(buf);
	if (n && buf[n - 1] != '\n' && !feof(f))
		return -E2BIG;
	return 1;
}

static FILE *kf_open(struct tool_ctx *ctx, const char *path)
{
	FILE *f = fopen(path, "re");
	char *io = f ? arena__alloc(ctx->scratch, KF_STDIO_BYTES) : NULL;
	if (io)
		setvbuf(f, io, _IOFBF, KF_STDIO_BYTES);
	return f;
}

static int kf_scan(struct tool_ctx *ctx, const struct kf_query *q, struct kf_page *p, struct kf_totals *t)
{
	struct kallsyms k;
	struct kallsyms_sym s;
	char *io = arena__alloc(ctx->scratch, KF_STDIO_BYTES);
	int open_err = kallsyms__open(&k, KALLSYMS_PATH, limits[LIM_SCAN_ITEMS], io, io ? KF_STDIO_BYTES : 0);
	if (open_err && tool__need_mount(ctx, "proc", "list_kernel_functions (/proc/kallsyms)"))
		return -1;
	if (open_err)
		return tool__fail_errno(ctx, open_err, "opening " KALLSYMS_PATH);
	int r, rc = 0;
	while (!rc && (r = kallsyms__next(&k, &s)) > 0) {
		if ((rc = kf_expired(ctx, k.lines)))
			break;
		if (!kf_candidate(q, s.type, s.name, s.module))
			continue;
		if (!search__match(q->s, s.name)) {
			if (!t->matches)
				search__offer(q->s, s.name, 0);   /* shown only if nothing matches */
			continue;
		}
		t->addr_seen |= s.addr != 0;
		if (t->matches++ >= q->offset && p->n < p->cap)
			rc = kf_push(ctx, p, s.name, s.module, s.addr);
	}
	kallsyms__close(&k);
	if (!rc && r == -E2BIG)
		rc = tool__fail_limit(ctx, LIM_SCAN_ITEMS, KALLSYMS_PATH " has more than %llu lines",
				      (unsigned long long)limits[LIM_SCAN_ITEMS]);
	else if (!rc && r < 0)
		rc = tool__fail_errno(ctx, r, "reading " KALLSYMS_PATH);
	return rc;
}

/* ---- available_filter_functions ------------------------------------------ */

/* Lines are "name" or "name [module]". */
static void kf_mark_line(struct kf_page *p, char *line)
{
	char *sp = line + strcspn(line, " \n"), *mod = NULL;
	if (sp[0] == ' ' && sp[1] == '[') {
		mod = sp + 2;
		mod[strcspn(mod, "]")] = 0;
	}
	*sp = 0;
	for (int i = kf_lookup(p, line); i >= 0; i = p->v[i].next) {
		const char *m = p->v[i].mod < 0 ? NULL : p->mods[p->v[i].mod];
		if (m == mod || (m && mod && !strcmp(m, mod)))
			p->v[i].traceable = KF_YES;
	}
}

static int kf_mark_traceable(struct tool_ctx *ctx, struct kf_page *p)
{
	char root[LIMIT_PATH_BYTES], path[LIMIT_PATH_BYTES + 32], line[KF_LINE_BYTES];
	if (sysfs__tracefs_dir(root, sizeof(root))) {
		kf_note(ctx, p, "traceable is null: tracefs is not mounted (mount -t tracefs tracefs /sys/kernel/tracing)");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/available_filter_functions", root);
	FILE *f = kf_open(ctx, path);
	if (!f) {
		int e = errno;
		kf_note(ctx, p, "traceable is null: cannot read %s: %s%s", path, strerror(e),
			e == EPERM ? " (the kernel refuses it: lockdown or a security policy)" : "");
		return 0;
	}
	int r, rc = 0;
	uint64_t lines = 0;
	for (size_t i = 0; i < p->n; i++)
		p->v[i].traceable = KF_NO;
	while (!rc && (r = kf_getline(f, line)) > 0) {
		if (++lines > limits[LIM_SCAN_ITEMS])
			rc = tool__fail_limit(ctx, LIM_SCAN_ITEMS, "%s has more than %llu lines", path,
					      (unsigned long long)limits[LIM_SCAN_ITEMS]);
		else if (!(rc = kf_expired(ctx, lines)))
			kf_mark_line(p, line);
	}
	fclose(f);
	if (!rc && r < 0)
		rc = tool__fail_errno(ctx, r, "reading %s", path);
	return rc;
}

/* ---- BTF ------------------------------------------------------------------ */

/* Marks the page entries of module mod (-1: core kernel) named by a FUNC
 * among type ids [from, to) of btf. */
static void kf_btf_walk(struct kf_page *p, const struct btf *btf, uint32_t from, uint32_t to, int mod)
{
	for (uint32_t id = from; id < to; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t || !btf_is_func(t))
			continue;
		for (int i = kf_lookup(p, btf__name_by_offset(btf, t->name_off)); i >= 0; i = p->v[i].next)
			if (p->v[i].mod == mod)
				p->v[i].btf = KF_YES;
	}
}

/* A module's functions are in its own split BTF, if it has one. */
static void kf_btf_module(struct tool_ctx *ctx, struct kf_page *p, struct btf *vml, int m)
{
	char path[LIMIT_PATH_BYTES];
	struct stat st;
	const char *mod = p->mods[m];
	if (strchr(mod, '/') || snprintf(path, sizeof(path), "/sys/kernel/btf/%s", mod) >= (int)sizeof(path) ||
	    stat(path, &st))
		return;   /* no BTF for this module: fentry cannot attach, btf stays false */
	struct btf *mb = btf__load_module_btf(mod, vml);
	if (!mb) {
		int e = errno;
		for (size_t i = 0; i < p->n; i++)
			if (p->v[i].mod == m)
				p->v[i].btf = KF_UNKNOWN;
		kf_note(ctx, p, "btf is null for module %s: loading %s failed: %s", mod, path, strerror(e));
		return;
	}
	kf_btf_walk(p, mb, btf__type_cnt(vml), btf__type_cnt(mb), m);
	btf__free(mb);
}

static int kf_mark_btf(struct tool_ctx *ctx, struct kf_page *p)
{
	struct btf *vml = btf__load_vmlinux_btf();
	if (!vml) {
		int e = errno;
		if (e == ENOMEM)
			return tool__fail_errno(ctx, -e, "loading vmlinux BTF");
		for (size_t i = 0; i < p->n; i++)
			p->v[i].btf = KF_UNKNOWN;
		kf_note(ctx, p, "btf is null: vmlinux BTF cannot be loaded (%s); %s", strerror(e),
			sysfs__mounted_at("sysfs", "/sys") ? "the kernel needs CONFIG_DEBUG_INFO_BTF"
			: "sysfs is not mounted at /sys (mount -t sysfs sysfs /sys)");
		return 0;
	}
	kf_btf_walk(p, vml, 1, btf__type_cnt(vml), -1);
	for (size_t m = 0; m < p->n_mods; m++)
		kf_btf_module(ctx, p, vml, (int)m);
	btf__free(vml);
	return 0;
}

/* ---- output ------------------------------------------------------------- */

static void kf_flag(struct jw *w, const char *key, int8_t v)
{
	jw__key(w, key);
	if (v == KF_UNKNOWN)
		jw__null(w);
	else
		jw__bool(w, v == KF_YES);
}

/* What an empty result searched, e.g. "function names of module ext4". */
static void kf_write_searched(struct jw *w, const struct kf_query *q)
{
	char over[SEARCH_WHAT_BYTES];
	const char *names = q->s->pattern ? "function names" : "functions";
	if (!q->module)
		snprintf(over, sizeof(over), "%s", names);
	else if (!strcmp(q->module, "vmlinux"))
		snprintf(over, sizeof(over), "%s of the core kernel (vmlinux)", names);
	else
		snprintf(over, sizeof(over), "%s of module %s", names, q->module);
	search__write(w, q->s, over);
}

static void kf_write(struct tool_ctx *ctx, const struct kf_page *p, const struct kf_query *q,
		     const struct kf_totals *t)
{
	struct jw *w = ctx->out;
	jw__obj(w);
	jw__key(w, "functions");
	jw__arr(w);
	for (size_t i = 0; i < p->n; i++) {
		const struct kf_ent *e = &p->v[i];
		jw__obj(w);
		jw__kstr(w, "name", e->name);
		if (e->addr) {
			jw__key(w, "address");
			jw__strf(w, "0x%llx", (unsigned long long)e->addr);
		}
		jw__key(w, "module");
		if (e->mod < 0)
			jw__null(w);
		else
			jw__str(w, p->mods[e->mod]);
		kf_flag(w, "traceable", e->traceable);
		kf_flag(w, "btf", e->btf);
		jw__obj_end(w);
	}
	jw__arr_end(w);
	tool__page_fields(w, t->matches, q->offset, p->n);
	jw__kbool(w, "addresses_visible", t->addr_seen);
	jw__key(w, "notes");
	jw__arr(w);
	for (unsigned k = 0; k < p->n_notes; k++)
		jw__str(w, p->notes[k]);
	jw__arr_end(w);
	if (!t->matches)
		kf_write_searched(w, q);
	jw__obj_end(w);
}

static int run_list_kernel_functions(struct tool_ctx *ctx)
{
	uint64_t limit;
	struct search search;
	search__init(&search, tool__arg_str(ctx, "pattern"), false);
	struct kf_query q = { .s = &search, .module = tool__arg_str(ctx, "module") };
	if (tool__page_args(ctx, 100, &limit, &q.offset))
		return -1;
	struct kf_page p = { .cap = (size_t)limit };
	p.v = arena__alloc(ctx->scratch, p.cap * sizeof(*p.v));
	p.mods = arena__alloc(ctx->scratch, p.cap * sizeof(*p.mods));
	if (!p.v || !p.mods)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for %lld functions", (long long)limit);
	struct kf_totals t = { 0 };
	if (kf_scan(ctx, &q, &p, &t))
		return -1;
	if (p.n && (kf_index(ctx, &p) || kf_mark_traceable(ctx, &p) || kf_mark_btf(ctx, &p)))
		return -1;
	if (!t.addr_seen && t.matches)
		kf_note(ctx, &p, "addresses are hidden: kallsyms shows zeros (kernel.kptr_restrict, or no CAP_SYSLOG)");
	kf_write(ctx, &p, &q, &t);
	return 0;
}

const struct tool tool_list_kernel_functions = {
	.name = "list_kernel_functions",
	.schema = SCHEMA_list_kernel_functions,
	.run = run_list_kernel_functions,
};
