/* C type strings from BTF (see btf_fmt.h).
 *
 * A type chain is read from the outside in (pointer -> array -> int), the
 * way a C declarator is written around a name: pointers go to the left of
 * the declarator, arrays and parameter lists to the right, and a pointer to
 * an array or a function needs parentheses. So the declarator grows in both
 * directions inside one buffer that starts in the middle; the base type
 * ("struct foo", "unsigned int") is put in front at the end.
 */
#include "btf_fmt.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

static const char *const kind_names[] = {
	[BTF_KIND_UNKN] = "unknown",     [BTF_KIND_INT] = "int",         [BTF_KIND_PTR] = "ptr",
	[BTF_KIND_ARRAY] = "array",      [BTF_KIND_STRUCT] = "struct",   [BTF_KIND_UNION] = "union",
	[BTF_KIND_ENUM] = "enum",        [BTF_KIND_FWD] = "fwd",         [BTF_KIND_TYPEDEF] = "typedef",
	[BTF_KIND_VOLATILE] = "volatile", [BTF_KIND_CONST] = "const",    [BTF_KIND_RESTRICT] = "restrict",
	[BTF_KIND_FUNC] = "func",        [BTF_KIND_FUNC_PROTO] = "func_proto", [BTF_KIND_VAR] = "var",
	[BTF_KIND_DATASEC] = "datasec",  [BTF_KIND_FLOAT] = "float",     [BTF_KIND_DECL_TAG] = "decl_tag",
	[BTF_KIND_TYPE_TAG] = "type_tag", [BTF_KIND_ENUM64] = "enum64",
};
#define KIND_COUNT (sizeof(kind_names) / sizeof(kind_names[0]))

const char *btf_fmt__kind_name(unsigned kind)
{
	return kind < KIND_COUNT ? kind_names[kind] : "unknown";
}

int btf_fmt__kind_by_name(const char *name)
{
	for (unsigned k = 1; k < KIND_COUNT; k++)
		if (!strcmp(kind_names[k], name))
			return (int)k;
	return -1;
}

/* The declarator: text lives in buf[lo, hi), with room on both sides. */
struct decl {
	char buf[2 * BTF_FMT_TYPE_BYTES];
	size_t lo, hi;
	bool overflow;
};

static void decl_pre(struct decl *d, const char *s)
{
	size_t n = strlen(s);
	if (n > d->lo) {
		d->overflow = true;
		return;
	}
	d->lo -= n;
	memcpy(d->buf + d->lo, s, n);
}

static void decl_app(struct decl *d, const char *s)
{
	size_t n = strlen(s);
	if (n > sizeof(d->buf) - d->hi) {
		d->overflow = true;
		return;
	}
	memcpy(d->buf + d->hi, s, n);
	d->hi += n;
}

static bool decl_starts_alpha(const struct decl *d)
{
	char c = d->hi > d->lo ? d->buf[d->lo] : 0;
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int fmt_type(const struct btf *b, uint32_t id, unsigned flags, unsigned nest, char *out, size_t cap);

/* Skips qualifiers and type tags (and typedefs when they are expanded) to
 * the kind that decides the declarator's shape. */
static int shape_kind(const struct btf *b, uint32_t id, unsigned flags)
{
	for (unsigned k = 0; id && k < BTF_FMT_CHAIN_MAX; k++) {
		const struct btf_type *t = btf__type_by_id(b, id);
		if (!t)
			return -1;
		int kind = btf_kind(t);
		bool see_through = btf_is_mod(t) || btf_is_type_tag(t) ||
				   (kind == BTF_KIND_TYPEDEF && (flags & BTF_FMT_EXPAND_TYPEDEFS));
		if (!see_through)
			return kind;
		id = t->type;
	}
	return BTF_KIND_UNKN;
}

static int fmt_params(const struct btf *b, const struct btf_type *t, unsigned flags, unsigned nest,
		      struct decl *d)
{
	const struct btf_param *p = btf_params(t);
	unsigned vlen = btf_vlen(t);
	char one[BTF_FMT_TYPE_BYTES];
	decl_app(d, "(");
	if (!vlen)
		decl_app(d, "void");
	for (unsigned i = 0; i < vlen && !d->overflow; i++) {
		if (i)
			decl_app(d, ", ");
		if (i == vlen - 1 && !p[i].type) {
			decl_app(d, "...");   /* a trailing void parameter marks varargs */
			break;
		}
		int r = fmt_type(b, p[i].type, flags, nest + 1, one, sizeof(one));
		if (r < 0)
			return r;
		decl_app(d, one);
	}
	decl_app(d, ")");
	return 0;
}

/* Appends s to out[*len..cap) (NUL-terminated); false when it does not fit. */
static bool cat(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
	if (n >= cap - *len)
		return false;
	memcpy(out + *len, s, n);
	*len += n;
	out[*len] = 0;
	return true;
}

static bool cats(char *out, size_t cap, size_t *len, const char *s)
{
	return cat(out, cap, len, s, strlen(s));
}

/* "struct foo", "unsigned int", "void": the part left of the declarator. */
static bool base_name(const struct btf *b, uint32_t id, const struct btf_type *t, char *out, size_t cap,
		      size_t *len)
{
	if (!id)
		return cats(out, cap, len, "void");
	const char *n = btf__name_by_offset(b, t->name_off);
	const char *tag = "";
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT: tag = "struct "; break;
	case BTF_KIND_UNION: tag = "union "; break;
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64: tag = "enum "; break;
	case BTF_KIND_FWD: tag = btf_kflag(t) ? "union " : "struct "; break;
	default: break;
	}
	return cats(out, cap, len, tag) && cats(out, cap, len, n && *n ? n : *tag ? "{...}" : "(anon)");
}

/* One step of the chain: updates the declarator and qualifiers, returns the
 * next id, or 0 with *done set when t is the base type. */
static int fmt_step(const struct btf *b, const struct btf_type *t, unsigned flags, unsigned nest,
		    struct decl *d, char *quals, size_t qcap, bool *done)
{
	char num[24];
	switch (btf_kind(t)) {
	case BTF_KIND_PTR: {
		if (decl_starts_alpha(d))
			decl_pre(d, " ");
		decl_pre(d, "*");
		int sk = shape_kind(b, t->type, flags);
		if (sk == BTF_KIND_ARRAY || sk == BTF_KIND_FUNC_PROTO) {
			decl_pre(d, "(");
			decl_app(d, ")");
		}
		return (int)t->type;
	}
	case BTF_KIND_CONST: case BTF_KIND_VOLATILE: case BTF_KIND_RESTRICT: {
		const char *q = btf_fmt__kind_name(btf_kind(t));
		if (shape_kind(b, t->type, flags) == BTF_KIND_PTR) {
			/* qualifies the pointer itself: "char * const" */
			if (d->hi > d->lo)
				decl_pre(d, " ");
			decl_pre(d, q);
		} else {
			size_t ql = strlen(quals);
			if (snprintf(quals + ql, qcap - ql, "%s ", q) >= (int)(qcap - ql))
				d->overflow = true;
		}
		return (int)t->type;
	}
	case BTF_KIND_TYPE_TAG:
		return (int)t->type;
	case BTF_KIND_ARRAY:
		snprintf(num, sizeof(num), "[%u]", btf_array(t)->nelems);
		decl_app(d, num);
		return (int)btf_array(t)->type;
	case BTF_KIND_FUNC_PROTO: {
		int r = fmt_params(b, t, flags, nest, d);
		return r < 0 ? r : (int)t->type;
	}
	case BTF_KIND_TYPEDEF:
		if (flags & BTF_FMT_EXPAND_TYPEDEFS)
			return (int)t->type;
		/* fall through */
	default:
		*done = true;
		return 0;
	}
}

static int fmt_type(const struct btf *b, uint32_t id, unsigned flags, unsigned nest, char *out, size_t cap)
{
	if (nest > BTF_FMT_NEST_MAX)
		return -ELOOP;
	struct decl d;   /* buf is written before it is read: no need to clear it */
	d.lo = d.hi = BTF_FMT_TYPE_BYTES;
	d.overflow = false;
	char quals[64] = "";
	const struct btf_type *t = NULL;
	bool done = false;
	for (unsigned steps = 0; !done; steps++) {
		if (steps > BTF_FMT_CHAIN_MAX)
			return -ELOOP;
		t = id ? btf__type_by_id(b, id) : NULL;
		if (id && !t)
			return -EINVAL;
		if (!id)
			break;
		int next = fmt_step(b, t, flags, nest, &d, quals, sizeof(quals), &done);
		if (next < 0)
			return next;
		if (!done)
			id = (uint32_t)next;
	}
	if (d.overflow)
		return -ENOSPC;
	size_t len = 0;
	const char *sep = d.hi > d.lo && (d.buf[d.lo] == '*' || d.buf[d.lo] == '(') ? " " : "";
	if (!cap || !cats(out, cap, &len, quals) || !base_name(b, id, t, out, cap, &len) ||
	    !cats(out, cap, &len, sep) || !cat(out, cap, &len, d.buf + d.lo, d.hi - d.lo))
		return -ENOSPC;
	return (int)len;
}

int btf_fmt__type(const struct btf *btf, uint32_t id, unsigned flags, char *out, size_t cap)
{
	return fmt_type(btf, id, flags, 0, out, cap);
}

/* ---- bpftool's function signatures ------------------------------------- */

struct sig {
	char *p;
	size_t cap, len;
	int err;
};

static void sig_put(struct sig *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sig_put(struct sig *s, const char *fmt, ...)
{
	if (s->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= s->cap - s->len)
		s->err = -ENOSPC;
	else
		s->len += (size_t)n;
}

static void sig_type(const struct btf *btf, uint32_t id, struct sig *s, unsigned depth);

/* Return type, name, "(", each parameter's type and name, ")". A
 * parameter without a name loses the space its type ends with. */
static void sig_func(const struct btf *btf, const struct btf_type *proto, const char *name, struct sig *s,
		     unsigned depth)
{
	sig_type(btf, proto->type, s, depth + 1);
	sig_put(s, "%s(", name ? name : "");
	const struct btf_param *p = btf_params(proto);
	for (unsigned i = 0; i < btf_vlen(proto) && !s->err; i++) {
		if (i)
			sig_put(s, ", ");
		if (!p[i].type) {
			sig_put(s, "...");
			continue;
		}
		sig_type(btf, p[i].type, s, depth + 1);
		if (p[i].name_off)
			sig_put(s, "%s", btf__name_by_offset(btf, p[i].name_off));
		else if (s->len && s->p[s->len - 1] == ' ')
			s->p[--s->len] = 0;
	}
	sig_put(s, ")");
}

/* Kinds whose text is a keyword or nothing, then the type's own name. */
static const char *sig_keyword(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_INT: case BTF_KIND_TYPEDEF: case BTF_KIND_FLOAT: return "";
	case BTF_KIND_STRUCT: return "struct ";
	case BTF_KIND_UNION: return "union ";
	case BTF_KIND_ENUM: case BTF_KIND_ENUM64: return "enum ";
	case BTF_KIND_FWD: return btf_kflag(t) ? "union " : "struct ";
	default: return NULL;
	}
}

static void sig_type(const struct btf *btf, uint32_t id, struct sig *s, unsigned depth)
{
	const struct btf_type *t = id ? btf__type_by_id(btf, id) : NULL;
	const char *kw = t ? sig_keyword(t) : NULL;
	if (depth > BTF_FMT_CHAIN_MAX) {
		s->err = -ELOOP;
	} else if (!id) {
		sig_put(s, "void ");
	} else if (!t) {
		s->err = -EINVAL;
	} else if (kw) {
		sig_put(s, "%s%s ", kw, btf__name_by_offset(btf, t->name_off));
	} else if (btf_is_array(t)) {
		sig_type(btf, btf_array(t)->type, s, depth + 1);
		sig_put(s, "[%u]", btf_array(t)->nelems);
	} else if (btf_is_ptr(t)) {
		sig_type(btf, t->type, s, depth + 1);
		sig_put(s, "* ");
	} else if (btf_is_mod(t) && !btf_is_type_tag(t)) {
		sig_put(s, "%s ", btf_is_const(t) ? "const" : btf_is_volatile(t) ? "volatile" : "restrict");
		sig_type(btf, t->type, s, depth + 1);
	} else if (btf_is_func_proto(t)) {
		sig_func(btf, t, NULL, s, depth);
	} else if (btf_is_func(t)) {
		const struct btf_type *proto = btf__type_by_id(btf, t->type);
		if (!proto || !btf_is_func_proto(proto))
			s->err = -EINVAL;
		else
			sig_func(btf, proto, btf__name_by_offset(btf, t->name_off), s, depth);
	} else if (btf_is_var(t)) {
		if (btf_var(t)->linkage == BTF_VAR_STATIC)
			sig_put(s, "static ");
		sig_type(btf, t->type, s, depth + 1);
		sig_put(s, " %s", btf__name_by_offset(btf, t->name_off));
	} else if (btf_is_datasec(t)) {
		sig_put(s, "section (\"%s\") ", btf__name_by_offset(btf, t->name_off));
	} else {
		s->err = -EINVAL;
	}
}

int btf_fmt__func_sig(const struct btf *btf, uint32_t id, char *out, size_t cap)
{
	struct sig s = { out, cap, 0, cap ? 0 : -ENOSPC };
	if (cap)
		out[0] = 0;
	sig_type(btf, id, &s, 0);
	if (s.err && cap)
		out[0] = 0;
	return s.err ? s.err : (int)s.len;
}
