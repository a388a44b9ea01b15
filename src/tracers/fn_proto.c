/* A kernel function's BTF prototype, for tracing it (see fn_proto.h). */
#include "fn_proto.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "../json/json.h"
#include "../kern/btf_fmt.h"
#include "tracer_run.h"

/* Skips typedefs and modifiers from *id on; sets *user when a type tag
 * "user" (the kernel's __user, in BTF from clang builds) is passed. NULL
 * for a chain longer than btf_fmt's bound or an id outside the BTF. */
static const struct btf_type *skip_mods(const struct btf *btf, uint32_t *id, bool *user)
{
	for (unsigned depth = 0; depth < BTF_FMT_CHAIN_MAX; depth++) {
		const struct btf_type *t = btf__type_by_id(btf, *id);
		if (!t || !*id)
			return t;
		switch (btf_kind(t)) {
		case BTF_KIND_TYPE_TAG:
			if (user && !strcmp(btf__name_by_offset(btf, t->name_off), "user"))
				*user = true;
			/* fall through */
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
			*id = t->type;
			continue;
		default:
			return t;
		}
	}
	return NULL;
}

/* A pointer to (const) char, as `char *` and `const char *` are. */
static void classify_ptr(const struct btf *btf, const struct btf_type *t, struct fn_val *v)
{
	uint32_t to = t->type;
	bool user = false;
	const struct btf_type *pt = skip_mods(btf, &to, &user);
	v->size = 8;
	v->kind = FN_PTR;
	if (pt && to && btf_is_int(pt) && pt->size == 1 && !strcmp(btf__name_by_offset(btf, pt->name_off), "char")) {
		v->kind = FN_STR;
		v->str_mode = user ? TRACE_FUNCTION_STR_USER : TRACE_FUNCTION_STR_AUTO;
	}
}

static int classify(const struct btf *btf, uint32_t type_id, struct fn_val *v)
{
	uint32_t id = type_id;
	const struct btf_type *t = skip_mods(btf, &id, NULL);
	if (!t)
		return -EINVAL;
	if (btf_fmt__type(btf, type_id, 0, v->type, sizeof(v->type)) < 0)
		snprintf(v->type, sizeof(v->type), "...");
	if (!id) {
		v->kind = FN_VOID;
		return 0;
	}
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
		v->size = (uint8_t)(t->size > 255 ? 255 : t->size);
		v->is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
		v->kind = btf_int_encoding(t) & BTF_INT_BOOL ? FN_BOOL : t->size <= 8 ? FN_INT : FN_WORDS;
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		v->size = (uint8_t)t->size;
		v->is_signed = btf_kflag(t);
		v->kind = FN_ENUM;
		v->enum_id = id;
		break;
	case BTF_KIND_PTR:
		classify_ptr(btf, t, v);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		v->size = (uint8_t)(t->size > 255 ? 255 : t->size);
		v->kind = t->size <= 16 ? FN_WORDS : FN_STACK;
		break;
	default:   /* floats travel in SSE registers; nothing else is a parameter */
		v->kind = FN_STACK;
		break;
	}
	v->nregs = v->kind == FN_STACK ? 0 : v->size > 8 ? 2 : 1;
	return 0;
}

int fn_proto__read(const struct btf *btf, uint32_t func_id, struct fn_proto *p)
{
	const struct btf_type *f = btf__type_by_id(btf, func_id);
	const struct btf_type *fp = f && btf_is_func(f) ? btf__type_by_id(btf, f->type) : NULL;
	if (!fp || !btf_is_func_proto(fp))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->btf = btf, p->func_id = func_id;
	p->ret.name = "";
	if (classify(btf, fp->type, &p->ret))
		return -EINVAL;
	const struct btf_param *bp = btf_params(fp);
	unsigned n = btf_vlen(fp), next = 0;
	if (n && !bp[n - 1].type && !bp[n - 1].name_off) {
		p->varargs = true;   /* "..." comes as a last parameter of type void */
		n--;
	}
	if (n > FN_PROTO_PARAMS_MAX)
		return -E2BIG;
	for (unsigned i = 0; i < n; i++) {
		struct fn_val *v = &p->params[i];
		v->name = btf__name_by_offset(btf, bp[i].name_off);
		if (!v->name)
			v->name = "";
		if (classify(btf, bp[i].type, v) || v->kind == FN_VOID)
			return -EINVAL;
		/* one that does not fit the registers left goes on the stack
		 * whole; later ones may still take the registers left */
		if (v->nregs && next + v->nregs <= TRACE_FUNCTION_ARGS) {
			v->reg = (uint8_t)next;
			next += v->nregs;
		} else {
			v->kind = FN_STACK;
			v->nregs = 0;
		}
	}
	p->n_params = n;
	p->regs = next;
	if (p->ret.kind == FN_STR)
		p->ret.kind = FN_PTR;   /* a returned string is not read: it may be gone by then */
	if (p->ret.kind == FN_WORDS)
		p->ret.nregs = 1;       /* only the first return register is recorded */
	return 0;
}

/* Appends s to out[*at..cap), keeping room for "..." when it does not fit. */
static void put(char *out, size_t cap, size_t *at, const char *s, bool *cut)
{
	size_t n = strlen(s);
	if (*cut)
		return;
	if (*at + n + 4 > cap) {
		*cut = true;
		snprintf(out + *at, cap - *at, "...");
		return;
	}
	memcpy(out + *at, s, n + 1);
	*at += n;
}

void fn_proto__signature(const struct fn_proto *p, const char *name, char *out, size_t cap)
{
	size_t at = 0;
	bool cut = false;
	out[0] = 0;
	put(out, cap, &at, p->ret.type, &cut);
	put(out, cap, &at, p->ret.type[0] && p->ret.type[strlen(p->ret.type) - 1] == '*' ? "" : " ", &cut);
	put(out, cap, &at, name, &cut);
	put(out, cap, &at, "(", &cut);
	for (unsigned i = 0; i < p->n_params; i++) {
		const struct fn_val *v = &p->params[i];
		put(out, cap, &at, i ? ", " : "", &cut);
		put(out, cap, &at, v->type, &cut);
		if (v->name[0]) {
			put(out, cap, &at, v->type[strlen(v->type) - 1] == '*' ? "" : " ", &cut);
			put(out, cap, &at, v->name, &cut);
		}
	}
	put(out, cap, &at, p->varargs ? (p->n_params ? ", ...)" : "...)") : p->n_params ? ")" : "void)", &cut);
}

bool fn_proto__ret_errors(const struct fn_proto *p)
{
	const struct fn_val *r = &p->ret;
	return r->kind == FN_PTR || ((r->kind == FN_INT || r->kind == FN_ENUM) && r->is_signed && r->size >= 4);
}

int64_t fn_proto__int(const struct fn_val *v, uint64_t r)
{
	switch (v->size) {
	case 1:
		return v->is_signed ? (int64_t)(int8_t)r : (int64_t)(uint8_t)r;
	case 2:
		return v->is_signed ? (int64_t)(int16_t)r : (int64_t)(uint16_t)r;
	case 4:
		return v->is_signed ? (int64_t)(int32_t)r : (int64_t)(uint32_t)r;
	default:
		return (int64_t)r;
	}
}

const char *fn_proto__enum_name(const struct btf *btf, uint32_t enum_id, int64_t value)
{
	const struct btf_type *t = btf__type_by_id(btf, enum_id);
	if (!t)
		return NULL;
	unsigned n = btf_vlen(t);
	if (btf_is_enum(t)) {
		const struct btf_enum *e = btf_enum(t);
		for (unsigned i = 0; i < n; i++)
			if ((btf_kflag(t) ? (int64_t)e[i].val : (int64_t)(uint32_t)e[i].val) == value)
				return btf__name_by_offset(btf, e[i].name_off);
	} else if (btf_is_enum64(t)) {
		const struct btf_enum64 *e = btf_enum64(t);
		for (unsigned i = 0; i < n; i++)
			if ((int64_t)btf_enum64_value(&e[i]) == value)
				return btf__name_by_offset(btf, e[i].name_off);
	}
	return NULL;
}

static void write_int(struct jw *w, const char *key, const struct fn_val *v, uint64_t r)
{
	int64_t x = fn_proto__int(v, r);
	jw__key(w, key);
	if (v->is_signed)
		jw__int(w, x);
	else
		jw__uint(w, (uint64_t)x);
}

static void write_str(struct jw *w, const struct fn_val *v, uint64_t addr, const struct fn_str *s)
{
	(void)v;
	jw__key(w, "value");
	if (!addr || !s || s->len <= 0)
		jw__null(w);
	else
		jw__strn(w, s->bytes, strnlen(s->bytes, (size_t)s->len - 1));
	jw__key(w, "address");
	jw__strf(w, "0x%" PRIx64, addr);
	if (addr && s && s->len < 0) {
		const char *e = tracer__errno_name(-s->len);
		jw__key(w, "error");
		jw__strf(w, "unreadable at entry (%s)", e ? e : "error");
	}
	if (s && s->len > 0 && s->cut)
		jw__kbool(w, "truncated", true);
}

void fn_proto__write_value(struct jw *w, const struct fn_proto *p, const struct fn_val *v, const uint64_t *regs,
			   const struct fn_str *s)
{
	uint64_t r = v->nregs ? regs[v->reg] : 0;
	const char *name;
	switch (v->kind) {
	case FN_VOID:
		break;
	case FN_INT:
		write_int(w, "value", v, r);
		break;
	case FN_BOOL:
		jw__kbool(w, "value", fn_proto__int(v, r) != 0);
		break;
	case FN_ENUM:
		name = fn_proto__enum_name(p->btf, v->enum_id, fn_proto__int(v, r));
		if (name && name[0])
			jw__kstr(w, "value", name);
		write_int(w, name && name[0] ? "raw" : "value", v, r);
		break;
	case FN_STR:
		write_str(w, v, r, s);
		break;
	case FN_PTR:
		jw__key(w, "value");
		jw__strf(w, "0x%" PRIx64, r);
		break;
	case FN_WORDS:
		jw__key(w, "value");
		jw__arr(w);
		for (unsigned i = 0; i < v->nregs; i++)
			jw__strf(w, "0x%" PRIx64, regs[v->reg + i]);
		jw__arr_end(w);
		break;
	case FN_STACK:
		jw__key(w, "value");
		jw__null(w);
		jw__kstr(w, "error", "not in the registers recorded (passed in memory, or past the sixth argument "
			 "register): not recorded");
		break;
	}
}
