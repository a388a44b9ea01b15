/* get_btf_types: search the kernel's BTF (vmlinux, a module's, or a loaded
 * object's) by exact name, substring or glob (search.h), kind or id over
 * every type, and describe each match: members with offsets and C type
 * strings, enum values, prototypes, targets, and on request the C
 * declaration from libbpf's btf_dump. A search that matches nothing says
 * what it searched and suggests the closest type names: ranked while the
 * types are scanned (or in one pass over them after an exact name missed),
 * 5 to 15 ms over vmlinux's ~70k named types here. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "../kern/btf_cache.h"
#include "../kern/btf_fmt.h"
#include "../mem/heap.h"
#include "search.h"
#include "tool.h"

#define BTF_DETAIL_AUTO_MAX   8      /* matches shown in full by default: a page a reader takes in */
#define BTF_DEADLINE_EVERY    4096   /* types scanned between deadline checks */
#define BTF_CDECL_TAIL_BYTES  256    /* text kept to spot a block end once over the bound */

struct query {
	const char *name, *pattern, *module;
	struct search *s;        /* name (exact) or pattern (substring or glob) */
	int kind;                /* BTF_KIND_*, or -1 for any */
	uint32_t type_id, btf_id;
	bool detail, detail_set, c_decl;
	uint64_t limit, offset;
};

/* What one call writes with: the BTF, the query and shared scratch. */
struct emit {
	struct tool_ctx *ctx;
	const struct btf *btf;
	const struct query *q;
	char *cdecl;             /* c_decl text, cdecl_cap bytes of scratch */
	size_t cdecl_cap;
	bool offer;              /* rank the names that do not match, while none does */
};

/* ---- arguments and source -------------------------------------------- */

static int read_query(struct tool_ctx *ctx, struct query *q, struct search *s)
{
	*q = (struct query){ .s = s };
	q->name = tool__arg_str(ctx, "name");
	q->pattern = tool__arg_str(ctx, "pattern");
	q->module = tool__arg_str(ctx, "module");
	const char *kind = tool__arg_str(ctx, "kind");
	q->kind = kind ? btf_fmt__kind_by_name(kind) : -1;
	q->type_id = (uint32_t)tool__arg_int(ctx, "type_id", 0);
	q->btf_id = (uint32_t)tool__arg_int(ctx, "btf_id", 0);
	q->detail_set = tool__arg(ctx, "detail") >= 0;
	q->detail = tool__arg_bool(ctx, "detail", false);
	q->c_decl = tool__arg_bool(ctx, "c_decl", false);
	if (!!q->name + !!q->pattern + !!q->type_id > 1)
		return tool__fail(ctx, ERR_CONFLICTING_ARGS,
				  "give at most one of name, pattern and type_id (combine any with kind)");
	search__init(s, q->name ? q->name : q->pattern, q->name != NULL);
	if (q->module && q->btf_id)
		return tool__fail(ctx, ERR_CONFLICTING_ARGS,
				  "give module or btf_id, not both (neither reads vmlinux)");
	return tool__page_args(ctx, 50, &q->limit, &q->offset);
}

static uint64_t heap_refusals(void)
{
	struct heap_stats hs;
	heap__stats(&hs);
	return hs.failures;
}

/* ENOMEM because the heap cap refused (the usual case) names the limit. */
static int fail_nomem(struct tool_ctx *ctx, int r, uint64_t refused_before, const char *what)
{
	if (r == -ENOMEM && heap_refusals() > refused_before)
		return tool__fail_limit(ctx, LIM_HEAP_BYTES,
					"%s was refused by the heap cap (%llu bytes); vmlinux BTF needs about "
					"8 MiB of heap (9 MiB for c_decl of big structs): raise --limit heap_bytes=N",
					what, (unsigned long long)limits[LIM_HEAP_BYTES]);
	return tool__fail_errno(ctx, r, "%s", what);
}

static int open_fail(struct tool_ctx *ctx, const struct query *q, int r, uint64_t refused_before)
{
	const char *what = q->module ? "loading module BTF" : q->btf_id ? "loading the BTF object"
		: "loading vmlinux BTF";
	if (q->module && r == -EINVAL) {
		tool__fail(ctx, ERR_BAD_MODULE_NAME,
			   "'%s' is not a module name (one file name under " BTF_SYSFS_DIR ")", q->module);
		jw__kstr(&ctx->err->ctx, "pointer", "/module");
		return -1;
	}
	if (q->module && r == -ENOENT) {
		tool__fail(ctx, ERR_NO_MODULE_BTF,
			   "no BTF for module '%s' in " BTF_SYSFS_DIR " (not loaded, built in, or built "
			   "without BTF); `info` counts the modules that have BTF", q->module);
		jw__kstr(&ctx->err->ctx, "pointer", "/module");
		return -1;
	}
	if (q->btf_id && r == -ENOENT) {
		tool__fail(ctx, ERR_NO_SUCH_BTF,
			   "no BTF object with id %u is loaded; list them with inspect_state", q->btf_id);
		jw__kstr(&ctx->err->ctx, "pointer", "/btf_id");
		return -1;
	}
	return fail_nomem(ctx, r, refused_before, what);
}

static int open_source(struct tool_ctx *ctx, const struct query *q, struct btf_view *v)
{
	/* vmlinux and module BTF are read from sysfs: say so when it is not
	 * mounted, rather than that the module or the kernel has no BTF */
	if (!q->btf_id && tool__need_btf(ctx, "get_btf_types (vmlinux or module BTF)"))
		return -1;
	uint64_t refused = heap_refusals();
	int r = q->module ? btf_cache__module(q->module, v)
		: q->btf_id ? btf_cache__by_id(q->btf_id, v) : btf_cache__vmlinux(v);
	return r ? open_fail(ctx, q, r, refused) : 0;
}

/* ---- type strings ----------------------------------------------------- */

static int fmt_fail(struct emit *e, uint32_t id, int r)
{
	return tool__fail(e->ctx, ERR_TYPE_STRING,
			  "type %u: its C type string is longer than %d bytes or nests deeper than %d "
			  "levels (%s); follow its type ids instead", id, BTF_FMT_TYPE_BYTES, BTF_FMT_CHAIN_MAX,
			  strerror(-r));
}

/* key: the C type of id; rkey (if given): the same with typedefs expanded,
 * written only when it differs. */
static int put_type(struct emit *e, const char *key, const char *rkey, uint32_t id)
{
	char a[BTF_FMT_TYPE_BYTES], x[BTF_FMT_TYPE_BYTES];
	struct jw *w = e->ctx->out;
	int r = btf_fmt__type(e->btf, id, 0, a, sizeof(a));
	if (r < 0)
		return fmt_fail(e, id, r);
	jw__kstr(w, key, a);
	if (!rkey)
		return 0;
	r = btf_fmt__type(e->btf, id, BTF_FMT_EXPAND_TYPEDEFS, x, sizeof(x));
	if (r < 0)
		return fmt_fail(e, id, r);
	if (strcmp(a, x))
		jw__kstr(w, rkey, x);
	return 0;
}

static const char *name_of(const struct btf *b, uint32_t off)
{
	const char *n = btf__name_by_offset(b, off);
	return n ? n : "";
}

/* ---- detail per kind -------------------------------------------------- */

static int detail_members(struct emit *e, const struct btf_type *t)
{
	struct jw *w = e->ctx->out;
	const struct btf_member *m = btf_members(t);
	jw__key(w, "members");
	jw__arr(w);
	for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
		uint32_t bits = btf_member_bit_offset(t, i), bf = btf_member_bitfield_size(t, i);
		jw__obj(w);
		jw__kstr(w, "name", name_of(e->btf, m->name_off));
		jw__kuint(w, "type_id", m->type);
		if (put_type(e, "type", "resolved_type", m->type))
			return -1;
		jw__kuint(w, "bits_offset", bits);
		jw__kuint(w, "offset", bits / 8);
		if (bf)
			jw__kuint(w, "bitfield_size", bf);
		long long sz = btf__resolve_size(e->btf, m->type);
		if (sz >= 0)
			jw__kuint(w, "size", (uint64_t)sz);
		jw__obj_end(w);
	}
	jw__arr_end(w);
	return 0;
}

static void detail_enum(struct emit *e, const struct btf_type *t)
{
	struct jw *w = e->ctx->out;
	bool sig = btf_kflag(t);
	jw__kbool(w, "signed", sig);
	jw__key(w, "values");
	jw__arr(w);
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		jw__obj(w);
		if (btf_is_enum(t)) {
			const struct btf_enum *v = btf_enum(t) + i;
			jw__kstr(w, "name", name_of(e->btf, v->name_off));
			if (sig)
				jw__kint(w, "value", (int32_t)v->val);
			else
				jw__kuint(w, "value", (uint32_t)v->val);
		} else {
			const struct btf_enum64 *v = btf_enum64(t) + i;
			jw__kstr(w, "name", name_of(e->btf, v->name_off));
			if (sig)
				jw__kint(w, "value", (int64_t)btf_enum64_value(v));
			else
				jw__kuint(w, "value", btf_enum64_value(v));
		}
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

/* A prototype's return type and parameters (for func_proto and func). */
static int detail_proto(struct emit *e, uint32_t proto_id)
{
	struct jw *w = e->ctx->out;
	const struct btf_type *p = btf__type_by_id(e->btf, proto_id);
	if (!p || !btf_is_func_proto(p))
		return tool__fail(e->ctx, ERR_BAD_BTF, "type %u is not a function prototype",
				  proto_id);
	jw__kuint(w, "return_type_id", p->type);
	if (put_type(e, "return_type", NULL, p->type))
		return -1;
	const struct btf_param *a = btf_params(p);
	unsigned n = btf_vlen(p);
	bool variadic = n && !a[n - 1].type;
	jw__kbool(w, "variadic", variadic);
	jw__key(w, "params");
	jw__arr(w);
	for (unsigned i = 0; i < n - variadic; i++) {
		jw__obj(w);
		jw__kstr(w, "name", name_of(e->btf, a[i].name_off));
		jw__kuint(w, "type_id", a[i].type);
		if (put_type(e, "type", "resolved_type", a[i].type))
			return -1;
		jw__obj_end(w);
	}
	jw__arr_end(w);
	return 0;
}

static void detail_datasec(struct emit *e, const struct btf_type *t)
{
	struct jw *w = e->ctx->out;
	const struct btf_var_secinfo *v = btf_var_secinfos(t);
	jw__key(w, "vars");
	jw__arr(w);
	for (unsigned i = 0; i < btf_vlen(t); i++, v++) {
		const struct btf_type *vt = btf__type_by_id(e->btf, v->type);
		jw__obj(w);
		jw__kuint(w, "type_id", v->type);
		jw__kstr(w, "name", vt ? name_of(e->btf, vt->name_off) : "");
		jw__kuint(w, "offset", v->offset);
		jw__kuint(w, "size", v->size);
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

static const char *linkage_name(unsigned l)
{
	static const char *const n[] = { "static", "global", "extern" };
	return l < 3 ? n[l] : "unknown";
}

static void detail_int(struct jw *w, const struct btf_type *t)
{
	uint32_t enc = btf_int_encoding(t);
	jw__kuint(w, "size", t->size);
	jw__kuint(w, "bits", btf_int_bits(t));
	jw__kuint(w, "bits_offset", btf_int_offset(t));
	jw__kstr(w, "encoding", enc & BTF_INT_SIGNED ? "signed" : enc & BTF_INT_CHAR ? "char"
				: enc & BTF_INT_BOOL ? "bool" : "none");
}

/* Kinds that point at one other type: ptr, typedef, modifiers, var, tags. */
static int detail_target(struct emit *e, const struct btf_type *t)
{
	struct jw *w = e->ctx->out;
	jw__kuint(w, "type_id", t->type);
	return put_type(e, "type", "resolved_type", t->type);
}

static int detail_array(struct emit *e, uint32_t id, const struct btf_type *t)
{
	struct jw *w = e->ctx->out;
	const struct btf_array *a = btf_array(t);
	long long sz = btf__resolve_size(e->btf, id);
	if (sz >= 0)
		jw__kuint(w, "size", (uint64_t)sz);
	jw__kuint(w, "type_id", a->type);
	if (put_type(e, "type", "resolved_type", a->type))
		return -1;
	jw__kuint(w, "index_type_id", a->index_type);
	jw__kuint(w, "nelems", a->nelems);
	return 0;
}

static int write_detail(struct emit *e, uint32_t id, const struct btf_type *t)
{
	struct jw *w = e->ctx->out;
	int kind = btf_kind(t);
	if (kind != BTF_KIND_FUNC && kind != BTF_KIND_VAR && kind != BTF_KIND_DATASEC && kind != BTF_KIND_DECL_TAG &&
	    put_type(e, "c_type", NULL, id))
		return -1;
	switch (kind) {
	case BTF_KIND_INT: detail_int(w, t); return 0;
	case BTF_KIND_FLOAT: jw__kuint(w, "size", t->size); return 0;
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		jw__kuint(w, "size", t->size);
		return detail_members(e, t);
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64:
		jw__kuint(w, "size", t->size);
		detail_enum(e, t);
		return 0;
	case BTF_KIND_FWD: jw__kstr(w, "fwd_kind", btf_kflag(t) ? "union" : "struct"); return 0;
	case BTF_KIND_ARRAY: return detail_array(e, id, t);
	case BTF_KIND_FUNC_PROTO: return detail_proto(e, id);
	case BTF_KIND_FUNC:
		jw__kstr(w, "linkage", linkage_name(btf_vlen(t)));
		jw__kuint(w, "type_id", t->type);
		return detail_proto(e, t->type);
	case BTF_KIND_VAR:
		jw__kstr(w, "linkage", linkage_name(btf_var(t)->linkage));
		return detail_target(e, t);
	case BTF_KIND_DATASEC:
		jw__kuint(w, "size", t->size);
		detail_datasec(e, t);
		return 0;
	case BTF_KIND_DECL_TAG:
		jw__kint(w, "component_idx", btf_decl_tag(t)->component_idx);
		return detail_target(e, t);
	default:
		return detail_target(e, t);   /* ptr, typedef, const, volatile, restrict, type_tag */
	}
}

/* ---- C declarations through btf_dump ---------------------------------- */

/* btf_dump__dump_type() prints every type the asked one depends on first,
 * each top-level declaration ending in a blank line, and the asked type
 * last. The sink keeps only the block being printed, so the bound applies
 * to the asked declaration, not to its dependencies. */
struct cdecl_sink {
	char *buf;
	size_t cap, len;
	bool overflow, block_done;
	int calls;
};

static void cdecl_printf(void *vctx, const char *fmt, va_list ap)
{
	struct cdecl_sink *s = vctx;
	va_list cp;
	va_copy(cp, ap);
	s->calls++;
	if (s->block_done)
		*s = (struct cdecl_sink){ .buf = s->buf, .cap = s->cap, .calls = s->calls };
	if (!s->overflow) {
		int n = vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
		if (n >= 0 && (size_t)n < s->cap - s->len) {
			s->len += (size_t)n;
			s->block_done = s->len >= 2 && !memcmp(s->buf + s->len - 2, "\n\n", 2);
			va_end(cp);
			return;
		}
		s->overflow = true;
	}
	/* Over the bound: still find where this block ends. */
	char tail[BTF_CDECL_TAIL_BYTES];
	int n = vsnprintf(tail, sizeof(tail), fmt, cp);
	va_end(cp);
	s->block_done = n >= 2 && (size_t)n < sizeof(tail) && !memcmp(tail + n - 2, "\n\n", 2);
}

/* Whether the declaration is printed by btf_dump__dump_type() (its own
 * top-level block) rather than as a type with an optional name. Anonymous
 * structs and unions have no block of their own: they print inline. */
static bool cdecl_is_block(const struct btf *b, const struct btf_type *t)
{
	int kind = btf_kind(t);
	if (kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION)
		return *name_of(b, t->name_off) != 0;
	return kind == BTF_KIND_ENUM || kind == BTF_KIND_ENUM64 || kind == BTF_KIND_TYPEDEF || kind == BTF_KIND_FWD;
}

static int cdecl_emit(struct emit *e, uint32_t id, const struct btf_type *t, struct btf_dump *d)
{
	int kind = btf_kind(t);
	if (cdecl_is_block(e->btf, t))
		return btf_dump__dump_type(d, id);
	/* Functions and variables: their type declared with their name. */
	bool named = kind == BTF_KIND_FUNC || kind == BTF_KIND_VAR;
	LIBBPF_OPTS(btf_dump_emit_type_decl_opts, o, .field_name = named ? name_of(e->btf, t->name_off) : "");
	return btf_dump__emit_type_decl(d, named ? t->type : id, &o);
}

static int write_cdecl(struct emit *e, uint32_t id, const struct btf_type *t)
{
	int kind = btf_kind(t);
	if (kind == BTF_KIND_DATASEC || kind == BTF_KIND_DECL_TAG)
		return 0;   /* no C declaration of their own */
	struct cdecl_sink s = { .buf = e->cdecl, .cap = e->cdecl_cap };
	uint64_t refused = heap_refusals();
	/* A fresh dumper per type: one that has printed a type prints it
	 * only once, and suffixes for clashing names depend on history. */
	struct btf_dump *d = btf_dump__new(e->btf, cdecl_printf, &s, NULL);
	int r = d ? cdecl_emit(e, id, t, d) : -errno;
	btf_dump__free(d);
	if (r)
		return fail_nomem(e->ctx, r, refused, "dumping a C declaration");
	if (s.overflow)
		return tool__fail_limit(e->ctx, LIM_RESPONSE_BYTES,
					"the C declaration of type %u is longer than %zu bytes (half of response_bytes)",
					id, e->cdecl_cap);
	while (s.len && s.buf[s.len - 1] == '\n')
		s.len--;
	/* A type printed on its own is not a declaration until it names something
	 * (func, var) or ends (an anonymous struct or union): those get the ';'. */
	bool semi = !cdecl_is_block(e->btf, t) && (kind == BTF_KIND_FUNC || kind == BTF_KIND_VAR ||
						   kind == BTF_KIND_STRUCT || kind == BTF_KIND_UNION);
	if (semi) {
		if (s.len + 1 >= s.cap)
			return tool__fail_limit(e->ctx, LIM_RESPONSE_BYTES, "the C declaration of type %u is too long",
						id);
		s.buf[s.len++] = ';';
	}
	jw__key(e->ctx->out, "c_decl");
	jw__strn(e->ctx->out, s.buf, s.len);
	return 0;
}

/* ---- matching and paging ---------------------------------------------- */

/* A type named exactly what a substring pattern asks for is what the
 * caller means: it comes in full even when more types contain the pattern
 * (task_struct: the struct, and put_task_struct and the like), unless
 * detail was turned off. */
static bool exact_hit(const struct query *q, const struct btf *b, const struct btf_type *t)
{
	return !q->detail_set && q->pattern && q->s->mode == SEARCH_SUBSTRING &&
	       !strcmp(name_of(b, t->name_off), q->pattern);
}

static int write_type(struct emit *e, uint32_t id)
{
	struct jw *w = e->ctx->out;
	const struct btf_type *t = btf__type_by_id(e->btf, id);
	if (tool__expired(e->ctx))
		return tool__fail_limit(e->ctx, LIM_CALL_MS, "out of time before type %u; ask for fewer types "
					"(limit) or without c_decl", id);
	jw__obj(w);
	jw__kuint(w, "id", id);
	jw__kstr(w, "kind", btf_fmt__kind_name(btf_kind(t)));
	jw__kstr(w, "name", name_of(e->btf, t->name_off));
	if ((e->q->detail || exact_hit(e->q, e->btf, t)) && write_detail(e, id, t))
		return -1;
	if (e->q->c_decl && write_cdecl(e, id, t))
		return -1;
	jw__obj_end(w);
	return 0;
}

/* Whether type t matches. One that could have (its kind, a name) is
 * offered as a suggestion while nothing has matched, when e->offer. */
static bool matches(struct emit *e, const struct btf_type *t, bool none_yet)
{
	const struct query *q = e->q;
	if (q->kind >= 0 && btf_kind(t) != q->kind)
		return false;
	if (q->s->mode == SEARCH_ANY)
		return true;
	const char *n = name_of(e->btf, t->name_off);
	if (!*n)
		return false;   /* anonymous types never match a name */
	if (search__match(q->s, n))
		return true;
	if (e->offer && none_yet)
		search__offer(q->s, n, 0);
	return false;
}

static int scan_limits(struct emit *e, uint32_t first, uint32_t end)
{
	if (end - first > limits[LIM_SCAN_ITEMS])
		return tool__fail_limit(e->ctx, LIM_SCAN_ITEMS, "this BTF holds %u types, more than scan_items",
					end - first);
	return 0;
}

static int scan_expired(struct emit *e, uint32_t id, uint32_t end)
{
	if ((id & (BTF_DEADLINE_EVERY - 1)) || !tool__expired(e->ctx))
		return 0;
	return tool__fail_limit(e->ctx, LIM_CALL_MS, "stopped at type %u of %u; narrow the search", id, end);
}

/* With detail left to the default: the matches if there are at most
 * BTF_DETAIL_AUTO_MAX (then shown in full), or *out NULL past that (the scan
 * stops at the first one over). */
static int collect_few(struct emit *e, uint32_t first, uint32_t end, uint32_t **out, unsigned *count)
{
	uint32_t *ids = arena__alloc(e->ctx->scratch, BTF_DETAIL_AUTO_MAX * sizeof(*ids));
	unsigned n = 0;
	if (!ids)
		return tool__fail_limit(e->ctx, LIM_SCRATCH_BYTES, "no scratch memory for %u type ids",
					BTF_DETAIL_AUTO_MAX);
	if (scan_limits(e, first, end))
		return -1;
	for (uint32_t id = first; id < end; id++) {
		if (scan_expired(e, id, end))
			return -1;
		if (!matches(e, btf__type_by_id(e->btf, id), n == 0))
			continue;
		if (n == BTF_DETAIL_AUTO_MAX) {
			*out = NULL;
			e->offer = false;   /* those before the first match were ranked already */
			return 0;
		}
		ids[n++] = id;
	}
	*out = ids;
	*count = n;
	return 0;
}

/* Every type of this BTF in id order, filtered by kind and pattern. */
static int by_scan(struct emit *e, uint32_t first, uint32_t end, uint64_t *total, uint64_t *returned)
{
	const struct query *q = e->q;
	if (scan_limits(e, first, end))
		return -1;
	for (uint32_t id = first; id < end; id++) {
		if (scan_expired(e, id, end))
			return -1;
		if (!matches(e, btf__type_by_id(e->btf, id), *total == 0))
			continue;
		if (*total >= q->offset && *returned < q->limit) {
			if (write_type(e, id))
				return -1;
			(*returned)++;
		}
		(*total)++;
	}
	return 0;
}

/* Exact name (all kinds carrying it unless kind is given), or one id:
 * the matching ids, ascending, in scratch memory. */
static int collect_ids(struct emit *e, const struct btf_view *v, uint32_t first, uint32_t end, uint32_t **out,
		       unsigned *count)
{
	const struct query *q = e->q;
	unsigned n = 1;
	uint32_t *ids = arena__alloc(e->ctx->scratch, sizeof(*ids));
	if (q->type_id && (q->type_id < first || q->type_id >= end)) {
		tool__fail(e->ctx, ERR_NO_SUCH_TYPE, "type id %u is outside %u..%u of this BTF",
			   q->type_id, first, end - 1);
		jw__kstr(&e->ctx->err->ctx, "pointer", "/type_id");
		return -1;
	}
	if (q->name) {
		btf_cache__find_name(v, q->name, NULL, 0, &n);
		ids = arena__alloc(e->ctx->scratch, (n ? n : 1) * sizeof(*ids));
		if (ids)
			btf_cache__find_name(v, q->name, ids, n, &n);
	} else if (ids) {
		ids[0] = q->type_id;
	}
	if (!ids)
		return tool__fail_limit(e->ctx, LIM_SCRATCH_BYTES, "no scratch memory for %u type ids", n);
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++)
		if (matches(e, btf__type_by_id(e->btf, ids[i]), false))
			ids[k++] = ids[i];
	*out = ids;
	*count = k;
	return 0;
}

static int write_ids(struct emit *e, const uint32_t *ids, unsigned n, uint64_t *returned)
{
	for (uint64_t i = e->q->offset; i < n && *returned < e->q->limit; i++, (*returned)++)
		if (write_type(e, ids[i]))
			return -1;
	return 0;
}

static void write_source(struct jw *w, const struct btf_view *v, uint32_t first, uint32_t end)
{
	jw__key(w, "source");
	jw__obj(w);
	jw__kstr(w, "kind", v->kind);
	jw__kstr(w, "name", v->name);
	if (v->btf_id)
		jw__kuint(w, "btf_id", v->btf_id);
	jw__kuint(w, "first_type_id", first);
	jw__kuint(w, "type_count", end - first);
	jw__obj_end(w);
}

/* An exact name found nothing: one pass over the names it could have been
 * (of the kind, when given) to rank them. */
static int suggest_pass(struct emit *e, uint32_t first, uint32_t end)
{
	if (scan_limits(e, first, end))
		return -1;
	for (uint32_t id = first; id < end; id++) {
		if (scan_expired(e, id, end))
			return -1;
		matches(e, btf__type_by_id(e->btf, id), true);
	}
	return 0;
}

/* What an empty result searched, e.g. "substring 'tsak' in names of struct
 * types in vmlinux", with suggestions. */
static int write_searched(struct emit *e, const struct btf_view *v, uint32_t first, uint32_t end)
{
	const struct query *q = e->q;
	char src[BTF_MODULE_NAME_MAX + 32], over[SEARCH_WHAT_BYTES];
	const char *kind = q->kind >= 0 ? btf_fmt__kind_name(q->kind) : NULL;
	if (q->s->mode == SEARCH_EXACT && suggest_pass(e, first, end))
		return -1;
	if (v->btf_id && strcmp(v->kind, "module"))
		snprintf(src, sizeof(src), "BTF object %u", v->btf_id);
	else
		snprintf(src, sizeof(src), "%s%s", strcmp(v->kind, "module") ? "" : "module ", v->name);
	if (q->type_id) {
		q->s->candidates = 1;   /* the one type asked for */
		snprintf(over, sizeof(over), "type id %u of kind %s in %s: it is a %s", q->type_id, kind, src,
			 btf_fmt__kind_name(btf_kind(btf__type_by_id(e->btf, q->type_id))));
	} else if (q->s->mode == SEARCH_ANY) {
		snprintf(over, sizeof(over), "%s types in %s", kind ? kind : "all", src);
	} else if (kind) {
		snprintf(over, sizeof(over), "names of %s types in %s", kind, src);
	} else {
		snprintf(over, sizeof(over), "type names in %s", src);
	}
	search__write(e->ctx->out, q->s, over);
	return 0;
}

static int search(struct tool_ctx *ctx, struct query *q, const struct btf_view *v)
{
	struct emit e = { .ctx = ctx, .btf = v->btf, .q = q, .offer = true };
	const struct btf *base = btf__base_btf(v->btf);
	uint32_t first = base ? btf__type_cnt(base) : 1, end = btf__type_cnt(v->btf);
	if (q->c_decl) {
		e.cdecl_cap = limits[LIM_RESPONSE_BYTES] / 2;
		e.cdecl = arena__alloc(ctx->scratch, e.cdecl_cap);
		if (!e.cdecl)
			return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch room for a C declaration buffer");
	}
	uint32_t *ids = NULL;
	unsigned n = 0;
	if ((q->name || q->type_id) && collect_ids(&e, v, first, end, &ids, &n))
		return -1;
	if (!ids && !q->detail_set && collect_few(&e, first, end, &ids, &n))
		return -1;
	/* ids NULL: more than BTF_DETAIL_AUTO_MAX match, or detail was given */
	if (!q->detail_set)
		q->detail = ids && (q->type_id || n <= BTF_DETAIL_AUTO_MAX);
	struct jw *w = ctx->out;
	uint64_t total = ids ? n : 0, returned = 0;
	jw__obj(w);
	write_source(w, v, first, end);
	jw__key(w, "types");
	jw__arr(w);
	int r = ids ? write_ids(&e, ids, n, &returned) : by_scan(&e, first, end, &total, &returned);
	if (r)
		return r;
	jw__arr_end(w);
	jw__kbool(w, "detail", q->detail);
	tool__page_fields(w, total, q->offset, returned);
	if (!total && write_searched(&e, v, first, end))
		return -1;
	jw__obj_end(w);
	return 0;
}

static int run_get_btf_types(struct tool_ctx *ctx)
{
	struct query q;
	struct search s;
	struct btf_view v;
	if (read_query(ctx, &q, &s) || open_source(ctx, &q, &v))
		return -1;
	int r = search(ctx, &q, &v);
	btf_cache__close(&v);
	return r;
}

const struct tool tool_get_btf_types = {
	.name = "get_btf_types",
	.schema = SCHEMA_get_btf_types,
	.run = run_get_btf_types,
};
