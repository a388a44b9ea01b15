/* JSON reader: strict validation, then jsmn tokens, then typed accessors. */
#define JSON_JSMN_IMPL
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- validator ------------------------------------------------------- */

struct vstate {
	const unsigned char *s;
	size_t n, pos;
	struct json_perr *err;
};

static int fail(struct vstate *v, enum json_perr_kind k, const char *what)
{
	v->err->kind = k;
	v->err->offset = v->pos;
	v->err->what = what;
	return -1;
}

static void skip_ws(struct vstate *v)
{
	while (v->pos < v->n) {
		unsigned char c = v->s[v->pos];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			break;
		v->pos++;
	}
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Reads \uXXXX at v->pos (pointing at 'u'); returns the code unit or -1. */
static int read_u4(struct vstate *v)
{
	if (v->n - v->pos < 5)
		return -1;
	int u = 0;
	for (int k = 1; k <= 4; k++) {
		int h = hexval(v->s[v->pos + k]);
		if (h < 0)
			return -1;
		u = u * 16 + h;
	}
	v->pos += 5;
	return u;
}

static int scan_escape(struct vstate *v)
{
	v->pos++; /* backslash */
	if (v->pos >= v->n)
		return fail(v, JSON_E_SYNTAX, "unterminated escape");
	unsigned char c = v->s[v->pos];
	if (strchr("\"\\/bfnrt", c) && c) {
		v->pos++;
		return 0;
	}
	if (c != 'u')
		return fail(v, JSON_E_SYNTAX, "invalid escape");
	int u = read_u4(v);
	if (u < 0)
		return fail(v, JSON_E_SYNTAX, "invalid \\u escape");
	if (u >= 0xdc00 && u <= 0xdfff)
		return fail(v, JSON_E_UTF8, "lone low surrogate escape");
	if (u >= 0xd800 && u <= 0xdbff) {
		if (v->n - v->pos < 6 || v->s[v->pos] != '\\' || v->s[v->pos + 1] != 'u')
			return fail(v, JSON_E_UTF8, "lone high surrogate escape");
		v->pos++;
		int lo = read_u4(v);
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(v, JSON_E_UTF8, "lone high surrogate escape");
	}
	return 0;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 if invalid. */
size_t json__utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80) return 1;
	if (c >= 0xc2 && c <= 0xdf) len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef) len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4) len = 4, cp = c & 0x07;
	else return 0;
	if (n < len)
		return 0;
	for (size_t k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static int scan_string(struct vstate *v)
{
	v->pos++; /* opening quote */
	while (v->pos < v->n) {
		unsigned char c = v->s[v->pos];
		if (c == '"') {
			v->pos++;
			return 0;
		}
		if (c < 0x20)
			return fail(v, JSON_E_CTRL, c ? "raw control character in string" : "NUL byte in string");
		if (c == '\\') {
			if (scan_escape(v))
				return -1;
			continue;
		}
		size_t l = json__utf8_len(v->s + v->pos, v->n - v->pos);
		if (!l)
			return fail(v, JSON_E_UTF8, "invalid UTF-8 in string");
		v->pos += l;
	}
	return fail(v, JSON_E_SYNTAX, "unterminated string");
}

static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static size_t digits(struct vstate *v)
{
	size_t start = v->pos;
	while (v->pos < v->n && is_digit(v->s[v->pos]))
		v->pos++;
	return v->pos - start;
}

static int scan_number(struct vstate *v)
{
	if (v->s[v->pos] == '-')
		v->pos++;
	if (v->pos < v->n && v->s[v->pos] == '0')
		v->pos++;
	else if (!digits(v))
		return fail(v, JSON_E_SYNTAX, "invalid number");
	if (v->pos < v->n && v->s[v->pos] == '.') {
		v->pos++;
		if (!digits(v))
			return fail(v, JSON_E_SYNTAX, "invalid number fraction");
	}
	if (v->pos < v->n && (v->s[v->pos] == 'e' || v->s[v->pos] == 'E')) {
		v->pos++;
		if (v->pos < v->n && (v->s[v->pos] == '+' || v->s[v->pos] == '-'))
			v->pos++;
		if (!digits(v))
			return fail(v, JSON_E_SYNTAX, "invalid number exponent");
	}
	return 0;
}

static int scan_literal(struct vstate *v)
{
	static const char *const lits[] = { "true", "false", "null" };
	for (unsigned k = 0; k < 3; k++) {
		size_t l = strlen(lits[k]);
		if (v->n - v->pos >= l && !memcmp(v->s + v->pos, lits[k], l)) {
			v->pos += l;
			return 0;
		}
	}
	return fail(v, JSON_E_SYNTAX, "invalid literal");
}

static int scan_scalar(struct vstate *v)
{
	unsigned char c = v->s[v->pos];
	if (c == '"')
		return scan_string(v);
	if (c == '-' || is_digit(c))
		return scan_number(v);
	if (c == 't' || c == 'f' || c == 'n')
		return scan_literal(v);
	return fail(v, JSON_E_SYNTAX, "expected a value");
}

enum vexp { V_VALUE, V_ARR_FIRST, V_OBJ_FIRST, V_KEY, V_COLON, V_AFTER };

#define VSTACK_WORDS 16  /* 1024 levels, the json_depth hard maximum */
_Static_assert(VSTACK_WORDS * 64 >= 1024, "validator stack covers json_depth max");

int json__validate(const char *js, size_t len, unsigned depth_max, struct json_perr *err)
{
	struct vstate v = { .s = (const unsigned char *)js, .n = len, .err = err };
	uint64_t is_obj[VSTACK_WORDS] = { 0 };
	unsigned depth = 0;
	enum vexp exp = V_VALUE;

	err->kind = JSON_OK;
	if (depth_max > VSTACK_WORDS * 64)
		depth_max = VSTACK_WORDS * 64;
	for (;;) {
		skip_ws(&v);
		if (v.pos >= v.n) {
			if (exp == V_AFTER && depth == 0)
				return 0;
			if (exp == V_VALUE && depth == 0 && v.pos == v.n && len == 0)
				return fail(&v, JSON_E_EMPTY, "empty input");
			return fail(&v, JSON_E_SYNTAX, "unexpected end of input");
		}
		unsigned char c = v.s[v.pos];
		switch (exp) {
		case V_ARR_FIRST:
			if (c == ']') {
				v.pos++, depth--, exp = V_AFTER;
				break;
			}
			/* fall through */
		case V_VALUE:
			if (c == '{' || c == '[') {
				if (depth >= depth_max)
					return fail(&v, JSON_E_DEPTH, "nesting deeper than json_depth");
				if (c == '{')
					is_obj[depth / 64] |= 1ull << (depth % 64);
				else
					is_obj[depth / 64] &= ~(1ull << (depth % 64));
				depth++, v.pos++;
				exp = c == '{' ? V_OBJ_FIRST : V_ARR_FIRST;
				break;
			}
			if (scan_scalar(&v))
				return -1;
			exp = V_AFTER;
			break;
		case V_OBJ_FIRST:
			if (c == '}') {
				v.pos++, depth--, exp = V_AFTER;
				break;
			}
			/* fall through */
		case V_KEY:
			if (c != '"')
				return fail(&v, JSON_E_SYNTAX, "expected a string key");
			if (scan_string(&v))
				return -1;
			exp = V_COLON;
			break;
		case V_COLON:
			if (c != ':')
				return fail(&v, JSON_E_SYNTAX, "expected ':'");
			v.pos++, exp = V_VALUE;
			break;
		case V_AFTER: {
			if (depth == 0)
				return fail(&v, JSON_E_SYNTAX, "trailing characters after the value");
			bool obj = is_obj[(depth - 1) / 64] >> ((depth - 1) % 64) & 1;
			if (c == ',') {
				v.pos++, exp = obj ? V_KEY : V_VALUE;
			} else if (c == (obj ? '}' : ']')) {
				v.pos++, depth--;
			} else {
				return fail(&v, JSON_E_SYNTAX, obj ? "expected ',' or '}'" : "expected ',' or ']'");
			}
			break;
		}
		}
	}
}

const char *json__perr_name(enum json_perr_kind k)
{
	switch (k) {
	case JSON_OK: return "ok";
	case JSON_E_SYNTAX: return "syntax";
	case JSON_E_DEPTH: return "depth";
	case JSON_E_UTF8: return "utf8";
	case JSON_E_CTRL: return "control_character";
	case JSON_E_TOKENS: return "tokens";
	case JSON_E_EMPTY: return "empty";
	}
	return "?";
}

/* Strict jsmn wants a delimiter after every primitive, so a document that is
 * one number or literal ending at the last byte comes back as "partial". The
 * validator has accepted it, so it is exactly that primitive: one token. */
static int lone_primitive(const char *js, size_t len, jsmntok_t *t)
{
	size_t a = 0;
	while (a < len && (js[a] == ' ' || js[a] == '\t' || js[a] == '\r' || js[a] == '\n'))
		a++;
	*t = (jsmntok_t){ .type = JSMN_PRIMITIVE, .start = (int)a, .end = (int)len, .size = 0, .parent = -1 };
	return 1;
}

int jdoc__parse(struct jdoc *d, const char *js, size_t len, jsmntok_t *toks,
		unsigned max_tokens, unsigned depth_max, struct json_perr *err)
{
	jsmn_parser p;

	if (json__validate(js, len, depth_max, err))
		return -1;
	jsmn_init(&p);
	int r = jsmn_parse(&p, js, len, toks, max_tokens);
	if (r == JSMN_ERROR_PART && max_tokens > 0)
		r = lone_primitive(js, len, toks);
	if (r == JSMN_ERROR_NOMEM) {
		err->kind = JSON_E_TOKENS;
		err->offset = p.pos;
		err->what = "more JSON tokens than json_tokens";
		return -1;
	}
	if (r <= 0) {
		/* The validator accepted it, so jsmn must too. */
		err->kind = JSON_E_SYNTAX;
		err->offset = p.pos;
		err->what = "tokenizer refused the input";
		return -1;
	}
	d->js = js;
	d->len = len;
	d->t = toks;
	d->n = r;
	return 0;
}

/* ---- accessors ------------------------------------------------------- */

int jdoc__skip(const struct jdoc *d, int i)
{
	int end = d->t[i].end, j = i + 1;
	while (j < d->n && d->t[j].start < end)
		j++;
	return j;
}

static bool prim_first(const struct jdoc *d, int i, const char *set)
{
	return i >= 0 && i < d->n && d->t[i].type == JSMN_PRIMITIVE && strchr(set, d->js[d->t[i].start]);
}

bool jdoc__is_obj(const struct jdoc *d, int i) { return i >= 0 && i < d->n && d->t[i].type == JSMN_OBJECT; }
bool jdoc__is_arr(const struct jdoc *d, int i) { return i >= 0 && i < d->n && d->t[i].type == JSMN_ARRAY; }
bool jdoc__is_str(const struct jdoc *d, int i) { return i >= 0 && i < d->n && d->t[i].type == JSMN_STRING; }
bool jdoc__is_num(const struct jdoc *d, int i) { return prim_first(d, i, "-0123456789"); }
bool jdoc__is_bool(const struct jdoc *d, int i) { return prim_first(d, i, "tf"); }
bool jdoc__is_null(const struct jdoc *d, int i) { return prim_first(d, i, "n"); }
bool jdoc__is_true(const struct jdoc *d, int i) { return prim_first(d, i, "t"); }

static void put_utf8(char *o, size_t *k, uint32_t cp)
{
	if (cp < 0x80) {
		o[(*k)++] = (char)cp;
	} else if (cp < 0x800) {
		o[(*k)++] = (char)(0xc0 | cp >> 6);
		o[(*k)++] = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		o[(*k)++] = (char)(0xe0 | cp >> 12);
		o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[(*k)++] = (char)(0x80 | (cp & 0x3f));
	} else {
		o[(*k)++] = (char)(0xf0 | cp >> 18);
		o[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
		o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[(*k)++] = (char)(0x80 | (cp & 0x3f));
	}
}

static uint32_t hex4(const char *p)
{
	uint32_t u = 0;
	for (int k = 0; k < 4; k++)
		u = u * 16 + (uint32_t)hexval((unsigned char)p[k]);
	return u;
}

/* Decodes one escape at s (after the backslash) into o; returns bytes of
 * input consumed. Input is validated, so escapes are well formed. */
static size_t unescape_one(const char *s, char *o, size_t *k)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *f = strchr(from, *s);
	if (*s != 'u' && f) {
		o[(*k)++] = to[f - from];
		return 1;
	}
	uint32_t cp = hex4(s + 1);
	if (cp >= 0xd800 && cp <= 0xdbff) {
		uint32_t lo = hex4(s + 7);
		put_utf8(o, k, 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00));
		return 11;
	}
	put_utf8(o, k, cp);
	return 5;
}

int jdoc__str(const struct jdoc *d, int i, char *out, size_t cap, size_t *len)
{
	if (!jdoc__is_str(d, i))
		return -EINVAL;
	const char *s = d->js + d->t[i].start, *e = d->js + d->t[i].end;
	size_t k = 0;
	while (s < e) {
		/* decode one step (at most 4 bytes), then check it fits with
		 * room for the NUL: exactly cap - 1 bytes of text is fine */
		char one[4];
		size_t n = 0;
		if (*s == '\\')
			s += 1 + unescape_one(s + 1, one, &n);
		else
			one[n++] = *s++;
		if (k + n + 1 > cap)
			return -ENOSPC;
		memcpy(out + k, one, n);
		k += n;
	}
	if (k + 1 > cap)
		return -ENOSPC;
	out[k] = 0;
	if (len)
		*len = k;
	return 0;
}

size_t jdoc__str_len(const struct jdoc *d, int i)
{
	char tmp[4];
	size_t n = 0;
	const char *s = d->js + d->t[i].start, *e = d->js + d->t[i].end;
	while (s < e) {
		size_t k = 0;
		if (*s == '\\') {
			s += 1 + unescape_one(s + 1, tmp, &k);
			n += k;
		} else {
			s++, n++;
		}
	}
	return n;
}

bool jdoc__str_eq(const struct jdoc *d, int i, const char *s)
{
	if (!jdoc__is_str(d, i))
		return false;
	size_t n = strlen(s), raw = (size_t)(d->t[i].end - d->t[i].start);
	const char *r = d->js + d->t[i].start;
	if (!memchr(r, '\\', raw))
		return raw == n && !memcmp(r, s, n);
	char buf[LIMIT_TOOL_NAME_BYTES * 4];
	size_t l;
	if (n >= sizeof(buf) || jdoc__str(d, i, buf, sizeof(buf), &l))
		return false;
	return l == n && !memcmp(buf, s, n);
}

int jdoc__get(const struct jdoc *d, int obj, const char *key)
{
	if (!jdoc__is_obj(d, obj))
		return -1;
	int j = obj + 1;
	for (int k = 0; k < d->t[obj].size; k++) {
		if (jdoc__str_eq(d, j, key))
			return j + 1;
		j = jdoc__skip(d, j + 1);
	}
	return -1;
}

int jdoc__elem(const struct jdoc *d, int arr, int idx)
{
	if (!jdoc__is_arr(d, arr) || idx < 0 || idx >= d->t[arr].size)
		return -1;
	int j = arr + 1;
	for (int k = 0; k < idx; k++)
		j = jdoc__skip(d, j);
	return j;
}

int jdoc__int(const struct jdoc *d, int i, int64_t *v)
{
	if (!jdoc__is_num(d, i))
		return -EINVAL;
	const char *s = d->js + d->t[i].start;
	size_t n = (size_t)(d->t[i].end - d->t[i].start);
	char buf[32];
	if (n >= sizeof(buf))
		return -ERANGE;
	memcpy(buf, s, n);
	buf[n] = 0;
	if (strpbrk(buf, ".eE")) {
		/* 5.0 and 1e3 are integers in JSON Schema's sense */
		double x = strtod(buf, NULL);
		if (x != floor(x))
			return -EINVAL;
		if (x < -9.2e18 || x > 9.2e18)
			return -ERANGE;
		*v = (int64_t)x;
		return 0;
	}
	errno = 0;
	long long r = strtoll(buf, NULL, 10);
	if (errno == ERANGE)
		return -ERANGE;
	*v = r;
	return 0;
}

int jdoc__num(const struct jdoc *d, int i, double *v)
{
	if (!jdoc__is_num(d, i))
		return -EINVAL;
	char buf[64];
	size_t n = (size_t)(d->t[i].end - d->t[i].start);
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;   /* digits past 63 cannot change a double */
	memcpy(buf, d->js + d->t[i].start, n);
	buf[n] = 0;
	*v = strtod(buf, NULL);
	return 0;
}

/* Whether the '[' at p opens a class: some ']' after the first member
 * (last: the pattern's last ']'). */
static bool glob_closed(const char *p, const char *last)
{
	const char *first = p + 1 + (p[1] == '!' || p[1] == '^');
	return last && last > first;
}

/* A class known to be closed: whether c is in it, and the pattern past it.
 * One pass over the class text. */
static const char *glob_class(const char *p, unsigned char c, bool *in)
{
	const char *q = p + 1;
	bool neg = *q == '!' || *q == '^';
	q += neg;
	const char *first = q;
	bool hit = false;
	while (*q != ']' || q == first) {
		unsigned char lo = (unsigned char)*q, hi = lo;
		if (q[1] == '-' && q[2] && q[2] != ']') {
			hi = (unsigned char)q[2];
			q += 3;
		} else {
			q++;
		}
		hit |= c >= lo && c <= hi;   /* a range written backwards holds nothing */
	}
	*in = hit != neg;
	return q + 1;
}

const char *json__glob_class(const char *p, unsigned char c, bool *in)
{
	return glob_closed(p, strrchr(p, ']')) ? glob_class(p, c, in) : NULL;
}

/* The pattern past its first element when that element (not a '*') matches
 * byte c (not NUL); NULL when it does not or p is at the end. */
static const char *glob_one(const char *p, const char *last, unsigned char c)
{
	if (*p == '[' && glob_closed(p, last)) {
		bool in;
		const char *end = glob_class(p, c, &in);
		return in ? end : NULL;
	}
	return *p == '?' || (unsigned char)*p == c ? p + 1 : NULL;   /* an unterminated '[' is literal */
}

bool json__glob(const char *p, const char *s)
{
	/* Iterative matcher with one backtrack point, the last '*': every other
	 * element matches exactly one byte, so retrying from the last star alone
	 * is enough. Bounded work: a retry moves the star's start in s one byte
	 * on (never back), and between retries each byte of p is read at most
	 * once (whether a '[' opens a class is known from the last ']', found
	 * once), so at most (|s| + 1) * |p| steps, never exponential. */
	const char *last = strrchr(p, ']');
	const char *star = NULL, *ss = NULL, *next;
	while (*s) {
		if (*p == '*')
			star = p++, ss = s;
		else if ((next = glob_one(p, last, (unsigned char)*s)))
			p = next, s++;
		else if (star)
			p = star + 1, s = ++ss;
		else
			return false;
	}
	while (*p == '*')
		p++;
	return !*p;
}

/* ---- strict reading: U+0000 and duplicate keys ------------------------ */

/* Whether string token i holds an escaped U+0000 (a raw NUL never gets
 * past the validator, so the escape is the only way in). */
static bool str_has_nul(const struct jdoc *d, int i)
{
	const char *s = d->js + d->t[i].start, *e = d->js + d->t[i].end;
	while ((s = memchr(s, '\\', (size_t)(e - s)))) {
		if (s[1] == 'u' && hex4(s + 2) == 0)
			return true;
		s += s[1] == 'u' ? 6 : 2;
	}
	return false;
}

/* One unescaped step of a string's text: up to 4 bytes into one. */
static size_t str_step(const char **s, char one[4])
{
	size_t n = 0;
	if (**s == '\\')
		*s += 1 + unescape_one(*s + 1, one, &n);
	else
		one[n++] = *(*s)++;
	return n;
}

/* Compares two string tokens by their unescaped bytes. */
static int str_cmp(const struct jdoc *d, int a, int b)
{
	const char *sa = d->js + d->t[a].start, *ea = d->js + d->t[a].end;
	const char *sb = d->js + d->t[b].start, *eb = d->js + d->t[b].end;
	char ba[4], bb[4];
	size_t na = 0, nb = 0, ka = 0, kb = 0;
	for (;;) {
		if (ka == na && sa < ea)
			na = str_step(&sa, ba), ka = 0;
		if (kb == nb && sb < eb)
			nb = str_step(&sb, bb), kb = 0;
		bool da = ka == na, db = kb == nb;   /* a side is done */
		if (da || db)
			return (int)!da - (int)!db;
		if (ba[ka] != bb[kb])
			return (unsigned char)ba[ka] - (unsigned char)bb[kb];
		ka++, kb++;
	}
}

static __thread const struct jdoc *sort_doc;

/* Keys ordered by their object, then their text, then where they stand. */
static int key_order(const void *pa, const void *pb)
{
	int a = *(const int *)pa, b = *(const int *)pb;
	const struct jdoc *d = sort_doc;
	if (d->t[a].parent != d->t[b].parent)
		return d->t[a].parent < d->t[b].parent ? -1 : 1;
	int c = str_cmp(d, a, b);
	return c ? c : (a > b) - (a < b);
}

int jdoc__strict(const struct jdoc *d, int *scratch, int echo, enum jdoc_strict_kind *kind)
{
	int first = -1, nkeys = 0;
	*kind = JDOC_STRICT_OK;
	for (int i = 0; i < d->n; i++) {
		if (d->t[i].type != JSMN_STRING)
			continue;
		if (i != echo && str_has_nul(d, i)) {
			*kind = JDOC_STRICT_NUL;
			first = i;
			break;   /* nothing after it can come first */
		}
		int p = d->t[i].parent;
		if (p >= 0 && d->t[p].type == JSMN_OBJECT)
			scratch[nkeys++] = i;
	}
	sort_doc = d;
	qsort(scratch, (size_t)nkeys, sizeof(*scratch), key_order);
	for (int k = 1; k < nkeys; k++) {
		int a = scratch[k - 1], b = scratch[k];
		if (d->t[a].parent == d->t[b].parent && !str_cmp(d, a, b) && (first < 0 || b < first)) {
			*kind = JDOC_STRICT_DUP_KEY;
			first = b;
		}
	}
	return first;
}

bool jdoc__within(const struct jdoc *d, int i, int root)
{
	while (i >= 0 && i != root)
		i = d->t[i].parent;
	return i >= 0;
}

struct ptr_out {
	char *o;
	size_t cap, len;
	bool cut;
};

static void ptr_put(struct ptr_out *p, const char *s, size_t n)
{
	if (p->cut || p->len + n + 4 > p->cap) {   /* room for "..." and the NUL */
		if (!p->cut && p->cap >= 4)
			memcpy(p->o + p->len, "...", 3), p->len += 3;
		p->cut = true;
		return;
	}
	memcpy(p->o + p->len, s, n);
	p->len += n;
}

/* One reference token: '~' and '/' escaped as RFC 6901 says, control
 * bytes (U+0000 among them) written as \uXXXX text so the pointer stays
 * one readable C string. */
static void ptr_key(struct ptr_out *p, const struct jdoc *d, int key)
{
	const char *s = d->js + d->t[key].start, *e = d->js + d->t[key].end;
	char one[4], esc[8];
	while (s < e) {
		size_t n = str_step(&s, one);
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char)one[k];
			if (c == '~' || c == '/')
				ptr_put(p, c == '~' ? "~0" : "~1", 2);
			else if (c < 0x20)
				ptr_put(p, esc, (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c));
			else
				ptr_put(p, one + k, 1);
		}
	}
}

static void ptr_walk(struct ptr_out *p, const struct jdoc *d, int i, unsigned depth)
{
	int up = d->t[i].parent;
	if (up < 0 || depth > 2 * VSTACK_WORDS * 64 + 2)
		return;
	if (d->t[up].type == JSMN_OBJECT) {       /* i is a key */
		ptr_walk(p, d, up, depth + 1);
		ptr_put(p, "/", 1);
		ptr_key(p, d, i);
	} else if (d->t[up].type == JSMN_STRING) { /* i is a member's value */
		ptr_walk(p, d, up, depth + 1);
	} else {                                   /* an array element */
		ptr_walk(p, d, up, depth + 1);
		int idx = 0;
		for (int j = up + 1; j < i; j = jdoc__skip(d, j))
			idx++;
		char num[16];
		ptr_put(p, num, (size_t)snprintf(num, sizeof(num), "/%d", idx));
	}
}

void jdoc__pointer(const struct jdoc *d, int i, char *out, size_t cap)
{
	struct ptr_out p = { .o = out, .cap = cap };
	if (!cap)
		return;
	if (i >= 0 && i < d->n)
		ptr_walk(&p, d, i, 0);
	out[p.len < cap ? p.len : cap - 1] = 0;
}
