/* Bounded JSON writer: separators from a depth bitmask, sticky overflow.
 *
 * Brackets are asserted (bpftool's json_writer asserts depth > 0): every
 * close matches the container it closes, keys go directly into objects,
 * and nesting stays within LIMIT_WRITER_DEPTH. A bit per depth says which
 * kind of container is open there, beside the bit that says it has items. */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../assert.h"

void jw__init(struct jw *w, char *buf, size_t cap)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->cap = cap;
}

void jw__init_members(struct jw *w, char *buf, size_t cap)
{
	jw__init(w, buf, cap);
	w->depth = 1;
	w->is_obj = 1;   /* the object is whoever embeds these members */
}

/* The innermost open container is an object / an array. */
static bool in_obj(const struct jw *w)
{
	return w->depth && (w->is_obj >> (w->depth - 1) & 1);
}

static bool in_arr(const struct jw *w)
{
	return w->depth && !(w->is_obj >> (w->depth - 1) & 1);
}

static void put(struct jw *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	if (n > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void putc1(struct jw *w, char c) { put(w, &c, 1); }

/* Emits the comma an element needs, unless it follows a key. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (w->depth == 0)
		return;
	uint64_t bit = 1ull << (w->depth - 1);
	if (w->has_items & bit)
		putc1(w, ',');
	w->has_items |= bit;
}

static void open_c(struct jw *w, char c)
{
	ASSERT(w->depth < LIMIT_WRITER_DEPTH);
	sep(w);
	putc1(w, c);
	w->depth++;
	uint64_t bit = 1ull << (w->depth - 1);
	w->has_items &= ~bit;
	if (c == '{')
		w->is_obj |= bit;
	else
		w->is_obj &= ~bit;
}

static void close_c(struct jw *w, char c)
{
	w->depth--;
	putc1(w, c);
}

void jw__obj(struct jw *w) { open_c(w, '{'); }
void jw__arr(struct jw *w) { open_c(w, '['); }

void jw__obj_end(struct jw *w)
{
	ASSERT(w->depth > 0);
	ASSERT(in_obj(w));
	close_c(w, '}');
}

void jw__arr_end(struct jw *w)
{
	ASSERT(w->depth > 0);
	ASSERT(in_arr(w));
	close_c(w, ']');
}

void jw__escape(struct jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < n) {
		unsigned char c = u[i];
		size_t l = c < 0x80 ? 1 : json__utf8_len(u + i, n - i);
		if (c >= 0x20 && c != '"' && c != '\\' && l) {
			i += l;
			continue;
		}
		put(w, s + run, i - run);
		if (!l) {
			put(w, "\xef\xbf\xbd", 3);   /* U+FFFD for a stray byte */
		} else if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };
			put(w, e, 2);
		} else if (c == '\n') {
			put(w, "\\n", 2);
		} else if (c == '\t') {
			put(w, "\\t", 2);
		} else if (c == '\r') {
			put(w, "\\r", 2);
		} else {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
			put(w, e, 6);
		}
		run = ++i;
	}
	put(w, s + run, n - run);
}

void jw__strn(struct jw *w, const char *s, size_t n)
{
	sep(w);
	putc1(w, '"');
	jw__escape(w, s, n);
	putc1(w, '"');
}

void jw__str(struct jw *w, const char *s)
{
	if (!s) {
		jw__null(w);
		return;
	}
	jw__strn(w, s, strlen(s));
}

void jw__key(struct jw *w, const char *k)
{
	ASSERT(in_obj(w));
	jw__str(w, k);
	putc1(w, ':');
	w->after_key = true;
}

/* Decimal digits of v, right-aligned in b[0..24); returns the first.
 * (snprintf was a third of the time of a member-heavy reply.) */
static char *u64_digits(char b[24], uint64_t v)
{
	char *p = b + 24;
	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return p;
}

void jw__int(struct jw *w, int64_t v)
{
	char b[24];
	char *p = u64_digits(b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	if (v < 0)
		*--p = '-';
	sep(w);
	put(w, p, (size_t)(b + 24 - p));
}

void jw__uint(struct jw *w, uint64_t v)
{
	char b[24];
	char *p = u64_digits(b, v);
	sep(w);
	put(w, p, (size_t)(b + 24 - p));
}

void jw__double(struct jw *w, double v)
{
	if (!isfinite(v)) {
		jw__null(w);   /* JSON has no NaN or infinity */
		return;
	}
	char b[32];
	int n = snprintf(b, sizeof(b), "%.17g", v);
	sep(w);
	put(w, b, (size_t)n);
}

void jw__bool(struct jw *w, bool v)
{
	sep(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jw__null(struct jw *w)
{
	sep(w);
	put(w, "null", 4);
}

void jw__raw(struct jw *w, const char *json, size_t n)
{
	sep(w);
	put(w, json, n);
}

void jw__strf(struct jw *w, const char *fmt, ...)
{
	char b[LIMIT_ERROR_MSG_BYTES];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(b))
		n = sizeof(b) - 1;   /* messages are ours and sized to fit */
	jw__strn(w, b, (size_t)n);
}

void jw__kstr(struct jw *w, const char *k, const char *v) { jw__key(w, k); jw__str(w, v); }
void jw__kint(struct jw *w, const char *k, int64_t v) { jw__key(w, k); jw__int(w, v); }
void jw__kuint(struct jw *w, const char *k, uint64_t v) { jw__key(w, k); jw__uint(w, v); }
void jw__kbool(struct jw *w, const char *k, bool v) { jw__key(w, k); jw__bool(w, v); }
