/* Map keys and values <-> JSON through BTF (rules in btf_json.h).
 *
 * Both directions walk the BTF type graph with a depth bound and check
 * every offset against the bytes they were given, so a BTF that does not
 * describe the buffer is an error, never an out-of-bounds access.
 */
#include "btf_json.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/btf.h>

#include "btf_fmt.h"

/* Bits are numbered from the lowest address up, as BTF describes them on
 * little-endian hosts; a big-endian port needs its own read_bits/put_bits. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "bit and byte order assume little-endian");

typedef unsigned __int128 u128;

#define INT_TEXT_BYTES 64       /* an integer given as a string: 128-bit hex is 34 */
#define NAME_LIST_BYTES 160     /* member/enumerator names listed in an error */
#define TYPE_NAME_BYTES 128     /* a type named in an error (cut when longer) */
#define HEX_STACK_BYTES 1024    /* hex text built on the stack below this */

/* ---- shared ------------------------------------------------------------ */

/* The type behind typedefs and modifiers; NULL for an unknown id or a chain
 * longer than BTF_JSON_CHAIN_MAX. */
static const struct btf_type *resolve(const struct btf *btf, uint32_t id)
{
	for (unsigned k = 0; k < BTF_JSON_CHAIN_MAX; k++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t || (!btf_is_mod(t) && !btf_is_typedef(t)))
			return t;
		id = t->type;
	}
	return NULL;
}

static bool is_scalar(const struct btf_type *t)
{
	return btf_is_int(t) || btf_is_any_enum(t) || btf_is_ptr(t);
}

/* A one-byte character type: arrays of it are text. */
static bool is_char(const struct btf *btf, const struct btf_type *t)
{
	if (!t || !btf_is_int(t) || t->size != 1)
		return false;
	const char *n = btf__name_by_offset(btf, t->name_off);
	return (btf_int_encoding(t) & BTF_INT_CHAR) || (n && !strcmp(n, "char"));
}

struct scalar {
	unsigned off, bits;     /* within the bytes at hand */
	bool is_signed, is_bool;
};

/* Layout of a scalar: its own int offset/bits, or a bitfield's. */
static struct scalar scalar_of(const struct btf *btf, const struct btf_type *t, size_t bit_off, unsigned bf_bits)
{
	struct scalar s = { .off = (unsigned)bit_off };
	if (btf_is_int(t)) {
		s.off += btf_int_offset(t);
		s.bits = btf_int_bits(t);
		s.is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
		s.is_bool = btf_int_encoding(t) & BTF_INT_BOOL;
	} else if (btf_is_ptr(t)) {
		size_t ps = btf__pointer_size(btf);
		s.bits = (unsigned)(ps ? ps : sizeof(void *)) * 8;
	} else {
		s.bits = t->size * 8;
		s.is_signed = btf_kflag(t);
	}
	if (bf_bits)
		s.bits = bf_bits;
	return s;
}

static u128 mask_bits(unsigned bits)
{
	return bits >= 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
}

static u128 read_bits(const uint8_t *p, size_t off, unsigned bits)
{
	u128 v = 0;
	if (off % 8 == 0 && bits % 8 == 0) {
		memcpy(&v, p + off / 8, bits / 8);
		return v;
	}
	for (unsigned i = 0; i < bits; i++) {
		size_t b = off + i;
		if (p[b / 8] >> (b % 8) & 1)
			v |= (u128)1 << i;
	}
	return v;
}

static void put_bits(uint8_t *p, size_t off, unsigned bits, u128 v)
{
	if (off % 8 == 0 && bits % 8 == 0) {
		memcpy(p + off / 8, &v, bits / 8);
		return;
	}
	for (unsigned i = 0; i < bits; i++) {
		size_t b = off + i;
		uint8_t m = (uint8_t)(1u << (b % 8));
		p[b / 8] = (uint8_t)(v >> i & 1 ? p[b / 8] | m : p[b / 8] & ~m);
	}
}

static const char *type_name(const struct btf *btf, uint32_t id, char *buf, size_t cap)
{
	if (btf_fmt__type(btf, id, 0, buf, cap) < 0)
		snprintf(buf, cap, "type %u", id);
	return buf;
}

/* ---- decoding ---------------------------------------------------------- */

struct dec {
	struct jw *w;
	const struct btf *btf;
	unsigned depth;
};

static int dec_value(struct dec *c, uint32_t id, const uint8_t *p, size_t n);

/* Integers wider than 64 bits are written as exact decimal digits. */
static void write_int(struct jw *w, u128 mag, bool neg)
{
	if (!neg && mag <= UINT64_MAX) {
		jw__uint(w, (uint64_t)mag);
		return;
	}
	if (neg && mag <= (u128)1 << 63) {
		jw__int(w, (int64_t)(0 - (uint64_t)mag));
		return;
	}
	char b[48], *q = b + sizeof(b);
	do
		*--q = (char)('0' + (int)(mag % 10));
	while (mag /= 10);
	if (neg)
		*--q = '-';
	jw__raw(w, q, (size_t)(b + sizeof(b) - q));
}

static const char *enum_name(const struct btf *btf, const struct btf_type *t, u128 raw)
{
	uint64_t v = (uint64_t)(raw & mask_bits(t->size * 8));
	uint64_t m = (uint64_t)mask_bits(t->size * 8);
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		uint64_t e;
		uint32_t name_off;
		if (btf_is_enum(t)) {
			e = (uint64_t)(int64_t)btf_enum(t)[i].val;
			name_off = btf_enum(t)[i].name_off;
		} else {
			e = btf_enum64_value(&btf_enum64(t)[i]);
			name_off = btf_enum64(t)[i].name_off;
		}
		if ((e & m) == v)
			return btf__name_by_offset(btf, name_off);
	}
	return NULL;
}

/* t is resolved; bit_off/bf_bits place it (bf_bits 0: its own width). */
static int dec_scalar(struct dec *c, const struct btf_type *t, const uint8_t *p, size_t n, size_t bit_off,
		      unsigned bf_bits)
{
	struct scalar s = scalar_of(c->btf, t, bit_off, bf_bits);
	if (!s.bits || s.bits > 128 || s.off + (size_t)s.bits > n * 8)
		return -EINVAL;
	u128 raw = read_bits(p, s.off, s.bits);
	if (btf_is_any_enum(t)) {
		const char *name = enum_name(c->btf, t, raw);
		if (name && *name) {
			jw__str(c->w, name);
			return 0;
		}
	}
	if (s.is_bool && raw <= 1) {
		jw__bool(c->w, raw == 1);
		return 0;
	}
	bool neg = s.is_signed && (raw >> (s.bits - 1) & 1);
	write_int(c->w, neg ? (~raw + 1) & mask_bits(s.bits) : raw, neg);
	return 0;
}

static int dec_float(struct dec *c, const struct btf_type *t, const uint8_t *p, size_t n)
{
	if (t->size > n)
		return -EINVAL;
	double v;
	int digits;
	if (t->size == sizeof(float)) {
		float f;
		memcpy(&f, p, sizeof(f));
		v = f, digits = 9;
	} else if (t->size == sizeof(double)) {
		memcpy(&v, p, sizeof(v));
		digits = 17;
	} else {
		btf_json__write_hex(c->w, p, t->size);
		return 0;
	}
	if (!isfinite(v)) {
		jw__str(c->w, isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity");
		return 0;
	}
	char b[40];
	int k = snprintf(b, sizeof(b), "%.*g", digits, v);
	jw__raw(c->w, b, (size_t)k);
	return 0;
}

/* A char array as a string when that loses nothing; false otherwise. */
static bool dec_text(struct jw *w, const uint8_t *p, size_t n)
{
	const uint8_t *z = memchr(p, 0, n);
	size_t len = z ? (size_t)(z - p) : n;
	for (size_t i = len; i < n; i++)
		if (p[i])
			return false;
	for (size_t i = 0; i < len;) {
		size_t l = json__utf8_len(p + i, len - i);
		if (!l || p[i] < 0x20 || p[i] == 0x7f)
			return false;
		i += l;
	}
	jw__strn(w, (const char *)p, len);
	return true;
}

static int dec_array(struct dec *c, const struct btf_type *t, const uint8_t *p, size_t n)
{
	const struct btf_array *a = btf_array(t);
	long esz = btf__resolve_size(c->btf, a->type);
	if (esz < 0 || (uint64_t)esz * a->nelems > n)
		return -EINVAL;
	if (is_char(c->btf, resolve(c->btf, a->type)) && a->nelems && dec_text(c->w, p, a->nelems))
		return 0;
	jw__arr(c->w);
	int r = 0;
	for (uint32_t i = 0; i < a->nelems && !r && !c->w->overflow; i++)
		r = dec_value(c, a->type, p + (size_t)esz * i, (size_t)esz);
	jw__arr_end(c->w);
	return r;
}

/* Members of t at base_bits, into the object being written; members of
 * anonymous structs/unions join it. */
static int dec_members(struct dec *c, const struct btf_type *t, const uint8_t *p, size_t n, size_t base_bits)
{
	if (++c->depth > BTF_JSON_DEPTH_MAX)
		return -ELOOP;
	const struct btf_member *m = btf_members(t);
	int r = 0;
	for (unsigned i = 0; i < btf_vlen(t) && !r && !c->w->overflow; i++) {
		size_t boff = base_bits + btf_member_bit_offset(t, i);
		unsigned bsz = btf_member_bitfield_size(t, i);
		const char *name = btf__name_by_offset(c->btf, m[i].name_off);
		const struct btf_type *mt = resolve(c->btf, m[i].type);
		if (!mt)
			return -EINVAL;
		if (!name || !*name) {
			if (!bsz && btf_is_composite(mt))
				r = dec_members(c, mt, p, n, boff);
			continue;   /* an unnamed bitfield is padding */
		}
		jw__key(c->w, name);
		if (bsz || boff % 8)
			r = is_scalar(mt) ? dec_scalar(c, mt, p, n, boff, bsz) : -EINVAL;
		else
			r = boff / 8 <= n ? dec_value(c, m[i].type, p + boff / 8, n - boff / 8) : -EINVAL;
	}
	c->depth--;
	return r;
}

static int dec_datasec(struct dec *c, const struct btf_type *t, const uint8_t *p, size_t n)
{
	const struct btf_var_secinfo *v = btf_var_secinfos(t);
	jw__obj(c->w);
	int r = 0;
	for (unsigned i = 0; i < btf_vlen(t) && !r && !c->w->overflow; i++) {
		const struct btf_type *vt = btf__type_by_id(c->btf, v[i].type);
		if (!vt || !btf_is_var(vt) || (uint64_t)v[i].offset + v[i].size > n)
			return -EINVAL;
		jw__key(c->w, btf__name_by_offset(c->btf, vt->name_off));
		r = dec_value(c, vt->type, p + v[i].offset, v[i].size);
	}
	jw__obj_end(c->w);
	return r;
}

static int dec_value(struct dec *c, uint32_t id, const uint8_t *p, size_t n)
{
	const struct btf_type *t = resolve(c->btf, id);
	if (!t)
		return -EINVAL;
	if (++c->depth > BTF_JSON_DEPTH_MAX)
		return -ELOOP;
	int r;
	if (is_scalar(t)) {
		r = dec_scalar(c, t, p, n, 0, 0);
	} else if (btf_is_float(t)) {
		r = dec_float(c, t, p, n);
	} else if (btf_is_array(t)) {
		r = dec_array(c, t, p, n);
	} else if (btf_is_composite(t)) {
		if (t->size > n) {
			r = -EINVAL;
		} else {
			jw__obj(c->w);
			r = dec_members(c, t, p, n, 0);
			jw__obj_end(c->w);
		}
	} else if (btf_is_datasec(t)) {
		r = dec_datasec(c, t, p, n);
	} else {
		r = -EINVAL;   /* void, fwd, func: no layout to read */
	}
	c->depth--;
	return r;
}

unsigned btf_json__int_size(const struct btf *btf, uint32_t id, bool *is_signed)
{
	const struct btf_type *t = resolve(btf, id);
	if (!t || !btf_is_int(t) || btf_int_offset(t) || btf_int_bits(t) != t->size * 8 ||
	    (btf_int_encoding(t) & (BTF_INT_BOOL | BTF_INT_CHAR)))
		return 0;
	if (t->size != 1 && t->size != 2 && t->size != 4 && t->size != 8)
		return 0;
	*is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
	return t->size;
}

int btf_json__write(struct jw *w, const struct btf *btf, uint32_t id, const void *data, size_t size)
{
	struct dec c = { .w = w, .btf = btf };
	return dec_value(&c, id, data, size);
}

int btf_json__check(const struct btf *btf, uint32_t id, size_t size, const char **why)
{
	const struct btf_type *t = resolve(btf, id);
	if (!t) {
		*why = "its BTF type id is unknown or its typedef chain is too long";
		return -EINVAL;
	}
	if (!is_scalar(t) && !btf_is_float(t) && !btf_is_array(t) && !btf_is_composite(t) && !btf_is_datasec(t)) {
		*why = "its BTF type has no data layout";
		return -EINVAL;
	}
	long sz = btf__resolve_size(btf, id);
	if (sz < 0 || (size_t)sz != size) {
		*why = "its BTF type's size differs from the map's";
		return -EINVAL;
	}
	return 0;
}

/* ---- hex --------------------------------------------------------------- */

void btf_json__hex(const void *data, size_t n, char *hex_out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;
	for (size_t i = 0; i < n; i++) {
		hex_out[2 * i] = digits[p[i] >> 4];
		hex_out[2 * i + 1] = digits[p[i] & 15];
	}
	hex_out[2 * n] = 0;
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int btf_json__unhex(const char *hex, size_t len, void *out, size_t n)
{
	uint8_t *o = out;
	if (len != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		o[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void btf_json__write_hex(struct jw *w, const void *data, size_t n)
{
	char stack[HEX_STACK_BYTES + 1];
	char *b = 2 * n <= HEX_STACK_BYTES ? stack : malloc(2 * n + 1);
	if (!b) {
		w->overflow = true;   /* the heap cap refused: reported like any overflow */
		return;
	}
	btf_json__hex(data, n, b);
	jw__strn(w, b, 2 * n);
	if (b != stack)
		free(b);
}

int btf_json__parse_hex(const struct jdoc *d, int tok, const char *ptr, void *out, size_t n,
			struct btf_json_err *err)
{
	snprintf(err->pointer, sizeof(err->pointer), "%s", ptr);
	const char *s = d->js + d->t[tok].start;
	size_t len = jdoc__is_str(d, tok) ? (size_t)(d->t[tok].end - d->t[tok].start) : 0;
	if (!jdoc__is_str(d, tok) || btf_json__unhex(s, len, out, n)) {
		snprintf(err->msg, sizeof(err->msg),
			 "expected a string of %zu hex digits (%zu bytes in memory order, no prefix or spaces)",
			 2 * n, n);
		return -EINVAL;
	}
	return 0;
}

/* ---- encoding ---------------------------------------------------------- */

struct enc {
	const struct btf *btf;
	const struct jdoc *d;
	struct btf_json_err *err;
	size_t plen;            /* bytes of err->pointer in use */
	unsigned depth;
};

static int efail(struct enc *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int efail(struct enc *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->err->msg, sizeof(e->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Appends "/name" (escaped as RFC 6901 says) to the pointer; returns the
 * length to restore. A pointer too long to hold is kept as its prefix. */
static size_t push(struct enc *e, const char *name, size_t len)
{
	size_t old = e->plen, cap = sizeof(e->err->pointer) - 1;
	char *p = e->err->pointer;
	if (e->plen < cap)
		p[e->plen++] = '/';
	for (size_t i = 0; i < len && e->plen + 2 <= cap; i++) {
		if (name[i] == '~' || name[i] == '/') {
			p[e->plen++] = '~';
			p[e->plen++] = name[i] == '~' ? '0' : '1';
		} else {
			p[e->plen++] = name[i];
		}
	}
	p[e->plen] = 0;
	return old;
}

static size_t push_idx(struct enc *e, unsigned i)
{
	char b[16];
	int k = snprintf(b, sizeof(b), "%u", i);
	return push(e, b, (size_t)k);
}

static void pop(struct enc *e, size_t old)
{
	e->plen = old;
	e->err->pointer[old] = 0;
}

/* The token's text, cut for messages. */
static int tok_len(const struct enc *e, int tok)
{
	int l = e->d->t[tok].end - e->d->t[tok].start;
	return l > 40 ? 40 : l;
}
#define TOK_FMT "%.*s"
#define TOK_ARG(e, tok) tok_len(e, tok), (e)->d->js + (e)->d->t[tok].start

static const char *json_kind(const struct jdoc *d, int tok)
{
	return jdoc__is_obj(d, tok) ? "an object" : jdoc__is_arr(d, tok) ? "an array" : jdoc__is_str(d, tok) ? "a string"
	       : jdoc__is_num(d, tok) ? "a number" : jdoc__is_bool(d, tok) ? "a boolean" : "null";
}

/* Magnitude and sign of an integer given as a JSON number or as a string
 * ("-12", "0x1f"). 0, or -EINVAL with the message set. */
static int parse_int(struct enc *e, int tok, const char *tname, u128 *mag, bool *neg)
{
	char s[INT_TEXT_BYTES];
	size_t len = 0;
	if (jdoc__is_num(e->d, tok)) {
		len = (size_t)(e->d->t[tok].end - e->d->t[tok].start);
		if (len >= sizeof(s))
			return efail(e, TOK_FMT " does not fit %s", TOK_ARG(e, tok), tname);
		memcpy(s, e->d->js + e->d->t[tok].start, len);
		s[len] = 0;
		double v;
		if (strpbrk(s, ".eE")) {   /* 5.0 and 1e3 are integers to JSON Schema too */
			if (jdoc__num(e->d, tok, &v) || v != floor(v) || fabs(v) > 9007199254740992.0)
				return efail(e, "%s is not an integer (%s)", s, tname);
			len = (size_t)snprintf(s, sizeof(s), "%.0f", v);
		}
	} else if (!jdoc__is_str(e->d, tok) || jdoc__str(e->d, tok, s, sizeof(s), &len)) {
		return efail(e, "expected an integer for %s, got %s", tname, json_kind(e->d, tok));
	}
	const char *q = s;
	*neg = *q == '-';
	q += *neg;
	unsigned base = q[0] == '0' && (q[1] == 'x' || q[1] == 'X') ? 16 : 10;
	q += base == 16 ? 2 : 0;
	if (!*q || (base == 10 && q[0] == '0' && q[1]))   /* "0100": hex bytes given by mistake? */
		return efail(e, "\"%s\" is not an integer (%s; decimal without leading zeros, or 0x-prefixed hex)", s,
			     tname);
	*mag = 0;
	for (; *q; q++) {
		int dgt = base == 16 ? nibble(*q) : (*q >= '0' && *q <= '9' ? *q - '0' : -1);
		if (dgt < 0)
			return efail(e, "\"%s\" is not an integer (%s; decimal or 0x-prefixed hex)", s, tname);
		if (*mag > (~(u128)0 - (u128)dgt) / base)
			return efail(e, "%s does not fit %s", s, tname);
		*mag = *mag * base + (u128)dgt;
	}
	return 0;
}

/* v in two's complement of `bits` bits, or -EINVAL when it does not fit. */
static int fit(struct enc *e, int tok, const char *tname, const struct scalar *s, u128 mag, bool neg, u128 *v)
{
	u128 umax = mask_bits(s->bits), smax = umax >> 1;
	bool ok = s->is_signed ? (neg ? mag <= smax + 1 : mag <= smax) : (!neg || !mag) && mag <= umax;
	if (ok) {
		*v = (neg ? ~mag + 1 : mag) & umax;
		return 0;
	}
	if (s->bits > 64)
		return efail(e, TOK_FMT " does not fit %s (%s %u-bit)", TOK_ARG(e, tok), tname,
			     s->is_signed ? "signed" : "unsigned", s->bits);
	if (s->is_signed)
		return efail(e, TOK_FMT " does not fit %s (signed %u-bit: %lld..%llu)", TOK_ARG(e, tok), tname, s->bits,
			     -(long long)(smax) - 1, (unsigned long long)smax);
	return efail(e, TOK_FMT " does not fit %s (unsigned %u-bit: 0..%llu)", TOK_ARG(e, tok), tname, s->bits,
		     (unsigned long long)umax);
}

/* Enumerator value by name; false when no enumerator has that name. */
static bool enum_value(const struct btf *btf, const struct btf_type *t, const char *name, u128 *v)
{
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		bool e32 = btf_is_enum(t);
		uint32_t off = e32 ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off;
		if (strcmp(btf__name_by_offset(btf, off), name))
			continue;
		uint64_t x = e32 ? (uint64_t)(int64_t)btf_enum(t)[i].val : btf_enum64_value(&btf_enum64(t)[i]);
		*v = (u128)x & mask_bits(t->size * 8);
		return true;
	}
	return false;
}

/* Names of the members of t or enumerators, comma-separated, cut to cap. */
static const char *name_list(const struct btf *btf, const struct btf_type *t, char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = 0;
	for (unsigned i = 0; i < btf_vlen(t) && k + 4 < cap; i++) {
		uint32_t off = btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_is_enum64(t) ? btf_enum64(t)[i].name_off
			       : btf_is_datasec(t) ? btf__type_by_id(btf, btf_var_secinfos(t)[i].type)->name_off
			       : btf_members(t)[i].name_off;
		const char *n = btf__name_by_offset(btf, off);
		int w = snprintf(buf + k, cap - k, "%s%s", k ? ", " : "", n && *n ? n : "(anonymous)");
		k = w < 0 || (size_t)w >= cap - k ? cap - 1 : k + (size_t)w;
	}
	if (k + 1 >= cap && cap > 4)
		memcpy(buf + cap - 4, "...", 4);
	return buf;
}

static int enc_scalar(struct enc *e, uint32_t decl, const struct btf_type *t, int tok, uint8_t *out, size_t n,
		      size_t bit_off, unsigned bf_bits)
{
	char tname[TYPE_NAME_BYTES];
	struct scalar s = scalar_of(e->btf, t, bit_off, bf_bits);
	type_name(e->btf, decl, tname, sizeof(tname));
	if (!s.bits || s.bits > 128 || s.off + (size_t)s.bits > n * 8)
		return efail(e, "%s does not describe the bytes at this offset", tname);
	u128 mag = 0, v = 0;
	bool neg = false;
	if (s.is_bool && jdoc__is_bool(e->d, tok)) {
		mag = jdoc__is_true(e->d, tok);
	} else if (btf_is_any_enum(t) && jdoc__is_str(e->d, tok)) {
		char name[TYPE_NAME_BYTES], names[NAME_LIST_BYTES];
		if (!jdoc__str(e->d, tok, name, sizeof(name), NULL) && enum_value(e->btf, t, name, &v)) {
			put_bits(out, s.off, s.bits, v);
			return 0;
		}
		if (parse_int(e, tok, tname, &mag, &neg))
			return efail(e, "\"" TOK_FMT "\" is not an enumerator of %s (%s) nor a number", TOK_ARG(e, tok), tname,
				     name_list(e->btf, t, names, sizeof(names)));
	} else if (parse_int(e, tok, tname, &mag, &neg)) {
		return -EINVAL;
	}
	if (fit(e, tok, tname, &s, mag, neg, &v))
		return -EINVAL;
	put_bits(out, s.off, s.bits, v);
	return 0;
}

static int enc_float(struct enc *e, uint32_t decl, const struct btf_type *t, int tok, uint8_t *out, size_t n)
{
	char tname[TYPE_NAME_BYTES], s[16];
	type_name(e->btf, decl, tname, sizeof(tname));
	double v;
	if (t->size > n || (t->size != sizeof(float) && t->size != sizeof(double)))
		return efail(e, "%s (%u bytes) cannot be given as JSON; use encoding \"hex\"", tname, t->size);
	if (jdoc__is_str(e->d, tok) && !jdoc__str(e->d, tok, s, sizeof(s), NULL) &&
	    (!strcmp(s, "NaN") || !strcmp(s, "Infinity") || !strcmp(s, "-Infinity"))) {
		v = s[0] == 'N' ? NAN : s[0] == '-' ? -INFINITY : INFINITY;
	} else if (jdoc__num(e->d, tok, &v) || !jdoc__is_num(e->d, tok)) {
		return efail(e, "expected a number for %s, got %s", tname, json_kind(e->d, tok));
	}
	if (t->size == sizeof(float)) {
		if (isfinite(v) && fabs(v) > FLT_MAX)
			return efail(e, TOK_FMT " does not fit %s", TOK_ARG(e, tok), tname);
		float f = (float)v;
		memcpy(out, &f, sizeof(f));
	} else {
		memcpy(out, &v, sizeof(v));
	}
	return 0;
}

static int enc_value(struct enc *e, uint32_t id, int tok, uint8_t *out, size_t n);

/* A string into a char array: at most its length, NUL-padded (out is zero). */
static int enc_text(struct enc *e, const struct btf_array *a, int tok, uint8_t *out)
{
	size_t len = jdoc__str_len(e->d, tok);
	if (len > a->nelems)
		return efail(e, "a string of %zu bytes does not fit char[%u]", len, a->nelems);
	char *tmp = malloc(len + 1);
	if (!tmp)
		return efail(e, "out of memory for a %zu-byte string", len);
	jdoc__str(e->d, tok, tmp, len + 1, NULL);
	memcpy(out, tmp, len);
	free(tmp);
	return 0;
}

static int enc_array(struct enc *e, uint32_t decl, const struct btf_type *t, int tok, uint8_t *out, size_t n)
{
	const struct btf_array *a = btf_array(t);
	long esz = btf__resolve_size(e->btf, a->type);
	char tname[TYPE_NAME_BYTES];
	if (esz < 0 || (uint64_t)esz * a->nelems > n)
		return efail(e, "%s does not describe the bytes at this offset", type_name(e->btf, decl, tname, sizeof(tname)));
	if (jdoc__is_str(e->d, tok) && is_char(e->btf, resolve(e->btf, a->type)))
		return enc_text(e, a, tok, out);
	if (!jdoc__is_arr(e->d, tok) || (uint32_t)e->d->t[tok].size != a->nelems)
		return efail(e, "expected an array of %u elements for %s, got %s%s", a->nelems,
			     type_name(e->btf, decl, tname, sizeof(tname)), json_kind(e->d, tok),
			     jdoc__is_arr(e->d, tok) ? " of another length" : "");
	int j = tok + 1;
	for (uint32_t i = 0; i < a->nelems; i++, j = jdoc__skip(e->d, j)) {
		size_t old = push_idx(e, i);
		if (enc_value(e, a->type, j, out + (size_t)esz * i, (size_t)esz))
			return -EINVAL;
		pop(e, old);
	}
	return 0;
}

/* Does name reach a member of t (through anonymous members)? */
static bool has_name(const struct btf *btf, const struct btf_type *t, const char *name, unsigned depth)
{
	if (depth > BTF_JSON_DEPTH_MAX)
		return false;
	const struct btf_member *m = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const char *mn = btf__name_by_offset(btf, m[i].name_off);
		const struct btf_type *mt = resolve(btf, m[i].type);
		if (mn && *mn ? !strcmp(mn, name)
			      : mt && btf_is_composite(mt) && !btf_member_bitfield_size(t, i) && has_name(btf, mt, name, depth + 1))
			return true;
	}
	return false;
}

/* Is member i of t given in obj (an anonymous one: any of its names)? */
static bool member_given(const struct enc *e, const struct btf_type *t, unsigned i, int obj)
{
	const struct btf_member *m = &btf_members(t)[i];
	const char *mn = btf__name_by_offset(e->btf, m->name_off);
	if (mn && *mn)
		return jdoc__get(e->d, obj, mn) >= 0;
	const struct btf_type *mt = resolve(e->btf, m->type);
	if (!mt || !btf_is_composite(mt) || btf_member_bitfield_size(t, i))
		return false;
	int j = obj + 1;
	for (int k = 0; k < e->d->t[obj].size; k++, j = jdoc__skip(e->d, j + 1)) {
		char key[TYPE_NAME_BYTES];
		if (!jdoc__str(e->d, j, key, sizeof(key), NULL) && has_name(e->btf, mt, key, 0))
			return true;
	}
	return false;
}

/* Every key of obj names a member of t (or a variable of a DATASEC). */
static int check_keys(struct enc *e, uint32_t decl, const struct btf_type *t, int obj)
{
	int j = obj + 1;
	for (int k = 0; k < e->d->t[obj].size; k++, j = jdoc__skip(e->d, j + 1)) {
		char key[TYPE_NAME_BYTES], names[NAME_LIST_BYTES], tname[TYPE_NAME_BYTES];
		bool known = false;
		if (!jdoc__str(e->d, j, key, sizeof(key), NULL)) {
			if (!btf_is_datasec(t)) {
				known = has_name(e->btf, t, key, 0);
			} else {
				for (unsigned i = 0; i < btf_vlen(t) && !known; i++) {
					const struct btf_type *vt = btf__type_by_id(e->btf, btf_var_secinfos(t)[i].type);
					known = vt && !strcmp(btf__name_by_offset(e->btf, vt->name_off), key);
				}
			}
		}
		if (!known) {
			push(e, e->d->js + e->d->t[j].start, (size_t)(e->d->t[j].end - e->d->t[j].start));
			return efail(e, "%s has no member by this name (members: %s)",
				     type_name(e->btf, decl, tname, sizeof(tname)), name_list(e->btf, t, names, sizeof(names)));
		}
	}
	return 0;
}

static int enc_member(struct enc *e, const struct btf_type *t, unsigned i, int obj, uint8_t *out, size_t n,
		      size_t base_bits);

/* Members of t at base_bits from obj: all of a struct's, exactly one of a
 * union's; anonymous members read their names from the same obj. */
static int enc_members(struct enc *e, uint32_t decl, const struct btf_type *t, int obj, uint8_t *out, size_t n,
		       size_t base_bits)
{
	char tname[TYPE_NAME_BYTES], names[NAME_LIST_BYTES];
	if (++e->depth > BTF_JSON_DEPTH_MAX)
		return efail(e, "nested deeper than %u levels", BTF_JSON_DEPTH_MAX);
	int r = 0;
	if (btf_is_union(t)) {
		int pick = -1, given = 0;
		for (unsigned i = 0; i < btf_vlen(t); i++)
			if (member_given(e, t, i, obj))
				given++, pick = pick < 0 ? (int)i : pick;
		if (given != 1)
			r = efail(e, "give exactly one member of %s (one of: %s), got %d",
				  type_name(e->btf, decl, tname, sizeof(tname)), name_list(e->btf, t, names, sizeof(names)), given);
		else
			r = enc_member(e, t, (unsigned)pick, obj, out, n, base_bits);
	} else {
		for (unsigned i = 0; i < btf_vlen(t) && !r; i++)
			r = enc_member(e, t, i, obj, out, n, base_bits);
	}
	e->depth--;
	return r;
}

static int enc_member(struct enc *e, const struct btf_type *t, unsigned i, int obj, uint8_t *out, size_t n,
		      size_t base_bits)
{
	const struct btf_member *m = &btf_members(t)[i];
	size_t boff = base_bits + btf_member_bit_offset(t, i);
	unsigned bsz = btf_member_bitfield_size(t, i);
	const char *name = btf__name_by_offset(e->btf, m->name_off);
	const struct btf_type *mt = resolve(e->btf, m->type);
	if (!mt)
		return efail(e, "member %u has a broken BTF type", i);
	if (!name || !*name)   /* padding stays zero; anonymous aggregates share obj */
		return !bsz && btf_is_composite(mt) ? enc_members(e, m->type, mt, obj, out, n, boff) : 0;
	int v = jdoc__get(e->d, obj, name);
	size_t old = push(e, name, strlen(name));
	if (v < 0)
		return efail(e, "missing (every member must be given; padding is zero)");
	int r;
	if (bsz || boff % 8)
		r = is_scalar(mt) ? enc_scalar(e, m->type, mt, v, out, n, boff, bsz)
				  : efail(e, "a bitfield of a non-integer type cannot be encoded");
	else
		r = boff / 8 <= n ? enc_value(e, m->type, v, out + boff / 8, n - boff / 8)
				  : efail(e, "member lies outside the value");
	if (!r)
		pop(e, old);
	return r;
}

static int enc_datasec(struct enc *e, const struct btf_type *t, int obj, uint8_t *out, size_t n)
{
	const struct btf_var_secinfo *v = btf_var_secinfos(t);
	for (unsigned i = 0; i < btf_vlen(t); i++) {
		const struct btf_type *vt = btf__type_by_id(e->btf, v[i].type);
		if (!vt || !btf_is_var(vt) || (uint64_t)v[i].offset + v[i].size > n)
			return efail(e, "variable %u of this section has a broken BTF type", i);
		const char *name = btf__name_by_offset(e->btf, vt->name_off);
		size_t old = push(e, name, strlen(name));
		int tok = jdoc__get(e->d, obj, name);
		if (tok < 0)
			return efail(e, "missing (every variable of the section must be given)");
		if (enc_value(e, vt->type, tok, out + v[i].offset, v[i].size))
			return -EINVAL;
		pop(e, old);
	}
	return 0;
}

static int enc_value(struct enc *e, uint32_t id, int tok, uint8_t *out, size_t n)
{
	char tname[TYPE_NAME_BYTES];
	const struct btf_type *t = resolve(e->btf, id);
	if (!t)
		return efail(e, "type %u is unknown or its typedef chain is too long", id);
	if (e->depth >= BTF_JSON_DEPTH_MAX)
		return efail(e, "nested deeper than %u levels", BTF_JSON_DEPTH_MAX);
	e->depth++;
	int r;
	if (is_scalar(t)) {
		r = enc_scalar(e, id, t, tok, out, n, 0, 0);
	} else if (btf_is_float(t)) {
		r = enc_float(e, id, t, tok, out, n);
	} else if (btf_is_array(t)) {
		r = enc_array(e, id, t, tok, out, n);
	} else if (btf_is_composite(t) || btf_is_datasec(t)) {
		type_name(e->btf, id, tname, sizeof(tname));
		if (t->size > n)
			r = efail(e, "%s does not describe the bytes at this offset", tname);
		else if (!jdoc__is_obj(e->d, tok))
			r = efail(e, "expected an object for %s, got %s", tname, json_kind(e->d, tok));
		else if (!(r = check_keys(e, id, t, tok)))
			r = btf_is_datasec(t) ? enc_datasec(e, t, tok, out, n) : enc_members(e, id, t, tok, out, n, 0);
	} else {
		r = efail(e, "%s has no data layout", type_name(e->btf, id, tname, sizeof(tname)));
	}
	e->depth--;
	return r;
}

int btf_json__parse(const struct btf *btf, uint32_t id, const struct jdoc *d, int tok, const char *ptr,
		    void *out, size_t size, struct btf_json_err *err)
{
	struct enc e = { .btf = btf, .d = d, .err = err };
	memset(out, 0, size);
	err->msg[0] = 0;
	snprintf(err->pointer, sizeof(err->pointer), "%s", ptr);
	e.plen = strlen(err->pointer);
	return enc_value(&e, id, tok, out, size);
}
