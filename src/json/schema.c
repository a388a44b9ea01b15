/* Runtime JSON Schema validator over the precompiled tables (schema.h). */
#include "schema.h"

#include "../limits.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SCH_STR_SCRATCH 4096   /* enum values and keys are short */

struct vctx {
	const struct jdoc *d;
	struct sch_err *err;
	size_t plen;               /* current length of err->pointer */
	size_t max_string;         /* 0, or the string_bytes cap for arguments */
};

static int verr(struct vctx *v, const char *fmt, const char *a, double x)
{
	if (a)
		snprintf(v->err->msg, sizeof(v->err->msg), fmt, a);
	else
		snprintf(v->err->msg, sizeof(v->err->msg), fmt, x);
	return -1;
}

/* Appends "/seg" (RFC 6901 escaped) to the pointer; returns the old length. */
static size_t push_seg(struct vctx *v, const char *seg, size_t n)
{
	size_t old = v->plen;
	char *p = v->err->pointer;
	size_t cap = sizeof(v->err->pointer) - 1;
	if (v->plen < cap)
		p[v->plen++] = '/';
	for (size_t i = 0; i < n && v->plen < cap; i++) {
		if (seg[i] == '~' || seg[i] == '/') {
			if (v->plen + 2 > cap)
				break;
			p[v->plen++] = '~';
			p[v->plen++] = seg[i] == '~' ? '0' : '1';
		} else {
			p[v->plen++] = seg[i];
		}
	}
	p[v->plen] = 0;
	return old;
}

static void pop_seg(struct vctx *v, size_t old)
{
	v->plen = old;
	v->err->pointer[old] = 0;
}

static const char *type_name(uint8_t t)
{
	switch (t) {
	case SCH_NULL: return "null";
	case SCH_BOOL: return "boolean";
	case SCH_INT: return "integer";
	case SCH_INT | SCH_NUM: case SCH_NUM: return "number";
	case SCH_STR: return "string";
	case SCH_ARR: return "array";
	case SCH_OBJ: return "object";
	default: return "a different type";
	}
}

static uint8_t type_of(const struct jdoc *d, int i)
{
	if (jdoc__is_obj(d, i)) return SCH_OBJ;
	if (jdoc__is_arr(d, i)) return SCH_ARR;
	if (jdoc__is_str(d, i)) return SCH_STR;
	if (jdoc__is_bool(d, i)) return SCH_BOOL;
	if (jdoc__is_null(d, i)) return SCH_NULL;
	int64_t iv;
	return jdoc__int(d, i, &iv) == 0 ? (SCH_INT | SCH_NUM) : SCH_NUM;
}

static int check(struct vctx *v, int tok, unsigned node);

static int check_string(struct vctx *v, int tok, const struct sch_node *n)
{
	size_t len = jdoc__str_len(v->d, tok);   /* bytes after unescaping */
	/* A schema that allows more than string_bytes can ever be (bulk data,
	 * e.g. a base64 ELF object) bounds that string itself. */
	bool bulk = n->max_len != UINT32_MAX && n->max_len > limit_defs[LIM_STRING_BYTES].max;
	if (v->max_string && len > v->max_string && !bulk)
		return verr(v, "string longer than the string_bytes limit (%.0f bytes; raise --limit string_bytes=N)",
			    NULL, (double)v->max_string);
	if (len < n->min_len)
		return verr(v, "string shorter than %.0f bytes", NULL, n->min_len);
	if (len > n->max_len)
		return verr(v, "string longer than %.0f bytes", NULL, n->max_len);
	if (!n->enum_count)
		return 0;
	char buf[SCH_STR_SCRATCH];
	/* enum values are short: a value too long for buf matches none; the
	 * comparison covers the length, so an embedded NUL cannot cut it */
	if (len < sizeof(buf) && jdoc__str(v->d, tok, buf, sizeof(buf), NULL) == 0)
		for (unsigned k = 0; k < n->enum_count; k++) {
			const char *ev = sch_enums[n->enum_first + k];
			if (strlen(ev) == len && !memcmp(buf, ev, len))
				return 0;
		}
	char allowed[SCH_MSG_BYTES - 32];
	size_t off = 0;
	for (unsigned k = 0; k < n->enum_count && off < sizeof(allowed) - 1; k++)
		off += (size_t)snprintf(allowed + off, sizeof(allowed) - off, "%s%s",
					k ? ", " : "", sch_enums[n->enum_first + k]);
	return verr(v, "must be one of: %s", allowed, 0);
}

static int check_number(struct vctx *v, int tok, const struct sch_node *n)
{
	double x;
	jdoc__num(v->d, tok, &x);
	if ((n->flags & SCH_F_MIN) && x < n->minimum)
		return verr(v, "must be >= %.17g", NULL, n->minimum);
	if ((n->flags & SCH_F_MAX) && x > n->maximum)
		return verr(v, "must be <= %.17g", NULL, n->maximum);
	return 0;
}

static int check_array(struct vctx *v, int tok, const struct sch_node *n)
{
	unsigned cnt = (unsigned)v->d->t[tok].size;
	if (cnt < n->min_len)
		return verr(v, "needs at least %.0f items", NULL, n->min_len);
	if (cnt > n->max_len)
		return verr(v, "allows at most %.0f items", NULL, n->max_len);
	if (n->items < 0)
		return 0;
	int j = tok + 1;
	for (unsigned k = 0; k < cnt; k++) {
		char idx[16];
		int il = snprintf(idx, sizeof(idx), "%u", k);
		size_t old = push_seg(v, idx, (size_t)il);
		if (check(v, j, (unsigned)n->items))
			return -1;
		pop_seg(v, old);
		j = jdoc__skip(v->d, j);
	}
	return 0;
}

static const struct sch_prop *find_prop(const struct sch_node *n, const struct jdoc *d, int key)
{
	for (unsigned k = 0; k < n->prop_count; k++)
		if (jdoc__str_eq(d, key, sch_props[n->prop_first + k].name))
			return &sch_props[n->prop_first + k];
	return NULL;
}

static int check_required(struct vctx *v, int tok, const struct sch_node *n)
{
	if ((n->flags & SCH_F_OR_ERROR) && jdoc__get(v->d, tok, "error") >= 0)
		return 0;
	for (unsigned k = 0; k < n->prop_count; k++) {
		const struct sch_prop *p = &sch_props[n->prop_first + k];
		if (p->required && jdoc__get(v->d, tok, p->name) < 0) {
			push_seg(v, p->name, strlen(p->name));
			return verr(v, "missing required property '%s'", p->name, 0);
		}
	}
	return 0;
}

static int check_object(struct vctx *v, int tok, const struct sch_node *n)
{
	int j = tok + 1;
	for (int k = 0; k < v->d->t[tok].size; k++) {
		const struct sch_prop *p = find_prop(n, v->d, j);
		/* the decoded key; one too long for the pointer buffer goes in
		 * raw and push_seg cuts it at the buffer's end */
		char key[SCH_POINTER_BYTES];
		size_t klen = 0;
		const char *kp = key;
		if (jdoc__str(v->d, j, key, sizeof(key), &klen)) {
			kp = v->d->js + v->d->t[j].start;
			klen = (size_t)(v->d->t[j].end - v->d->t[j].start);
		}
		size_t old = push_seg(v, kp, klen);
		if (p) {
			if (check(v, j + 1, p->node))
				return -1;
		} else if (n->flags & SCH_F_NO_ADDL) {
			return verr(v, "unknown property (allowed: see the tool's inputSchema)", NULL, 0);
		} else if (n->addl >= 0 && check(v, j + 1, (unsigned)n->addl)) {
			return -1;
		}
		pop_seg(v, old);
		j = jdoc__skip(v->d, j + 1);
	}
	return check_required(v, tok, n);
}

static int check(struct vctx *v, int tok, unsigned node)
{
	const struct sch_node *n = &sch_nodes[node];
	uint8_t t = type_of(v->d, tok);
	if (!(t & n->types))
		return verr(v, "expected %s", type_name(n->types), 0);
	switch (t & (SCH_OBJ | SCH_ARR | SCH_STR | SCH_NUM)) {
	case SCH_OBJ: return check_object(v, tok, n);
	case SCH_ARR: return check_array(v, tok, n);
	case SCH_STR: return check_string(v, tok, n);
	case SCH_NUM: return check_number(v, tok, n);
	}
	return 0;
}

int schema__validate_args(const struct jdoc *d, int tok, unsigned node, size_t max_string,
			  struct sch_err *err)
{
	struct vctx v = { .d = d, .err = err, .max_string = max_string };
	err->pointer[0] = 0;
	err->msg[0] = 0;
	return check(&v, tok, node);
}

int schema__validate(const struct jdoc *d, int tok, unsigned node, struct sch_err *err)
{
	struct vctx v = { .d = d, .err = err };
	err->pointer[0] = 0;
	err->msg[0] = 0;
	return check(&v, tok, node);
}
