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
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "../assert.h"

#define JW_ESC_CHUNK 4096   /* input bytes escaped per bounds check */
#define JW_ESC_WORST 6      /* output bytes per input byte at most ("\u00XX") */
#define JW_UTF8_MAX  4      /* bytes of one UTF-8 character */

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

/* Escapes the one byte or character at u[k] that is not printable ASCII
 * or needs a backslash into o; returns the input bytes taken and moves *o. */
static size_t escape_one(char **out, const unsigned char *u, size_t k, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char *o = *out;
	unsigned char c = u[k];
	size_t l = c < 0x80 ? 1 : json__utf8_len(u + k, n - k);
	if (!l) {
		memcpy(o, "\xef\xbf\xbd", 3);   /* U+FFFD for a stray byte */
		o += 3, l = 1;
	} else if (c >= 0x80) {
		memcpy(o, u + k, l);
		o += l;
	} else if (c == '"' || c == '\\') {
		*o++ = '\\', *o++ = (char)c;
	} else if (c == '\n' || c == '\t' || c == '\r') {
		*o++ = '\\', *o++ = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
	} else {
		memcpy(o, "\\u00", 4);
		o[4] = hex[c >> 4], o[5] = hex[c & 15];
		o += 6;
	}
	*out = o;
	return l;
}

/* Escapes u[*i..end) into o (which has room for JW_ESC_WORST bytes per
 * input byte, plus a multi-byte character that starts before end); a
 * character may run past end up to n. Returns the new end of output.
 * Sixteen bytes at a time are found plain or not with SSE2, and the runs
 * between the ones to escape copied 16 bytes at a time (a dump's text copy
 * is runs of a few bytes between quotes: a byte at a time was most of its
 * escaping). */
#ifdef __SSE2__
/* len (< 16) plain bytes u[k..) to o: one 16-byte load and store when the
 * load stays inside the input (u[0..n)), else a copy of just those bytes.
 * The output always has room for 16 (see escape_into). */
static inline void plain_run(char *o, const unsigned char *u, size_t k, size_t len, size_t n)
{
	if (n - k >= 16)
		_mm_storeu_si128((__m128i *)o, _mm_loadu_si128((const __m128i *)(u + k)));
	else
		memcpy(o, u + k, len);
}
#endif

static char *escape_into(char *o, const unsigned char *u, size_t *i, size_t end, size_t n)
{
	size_t k = *i;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'), space = _mm_set1_epi8(0x20);
	while (k < end && end - k >= 16) {
		size_t blk = k;
		__m128i v = _mm_loadu_si128((const __m128i *)(u + k));
		/* signed: bytes from 0x80 (UTF-8) compare below 0x20 too */
		__m128i sp = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
					  _mm_cmplt_epi8(v, space));
		unsigned m = (unsigned)_mm_movemask_epi8(sp);
		while (m) {
			size_t at = blk + (unsigned)__builtin_ctz(m);
			/* the plain run before it; room: 6 bytes for each input byte */
			plain_run(o, u, k, at - k, n);
			o += at - k, k = at;
			if (u[k] == '"' || u[k] == '\\') {
				o[0] = '\\', o[1] = (char)u[k];
				o += 2, k++;
			} else {
				k += escape_one(&o, u, k, n);
			}
			m = k - blk >= 16 ? 0 : m & ~((2u << (k - blk - 1)) - 1);
		}
		if (k < blk + 16) {
			plain_run(o, u, k, blk + 16 - k, n);
			o += blk + 16 - k, k = blk + 16;
		}
	}
#endif
	while (k < end) {
		if (u[k] >= 0x20 && u[k] < 0x80 && u[k] != '"' && u[k] != '\\')
			*o++ = (char)u[k++];
		else
			k += escape_one(&o, u, k, n);
	}
	*i = k;
	return o;
}

/* Chunks of JW_ESC_CHUNK input bytes are escaped straight into the buffer
 * when the worst case fits (a bounds check per run of a dump's text copy
 * was a fifth of its time);
 * near the end of the buffer, a character at a time through put(), so an
 * overflow is exact. */
void jw__escape(struct jw *w, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n && !w->overflow) {
		size_t k = n - i < JW_ESC_CHUNK ? n - i : JW_ESC_CHUNK;
		if (w->cap - w->len >= JW_ESC_WORST * (k + JW_UTF8_MAX)) {
			char *o = escape_into(w->buf + w->len, u, &i, i + k, n);
			w->len = (size_t)(o - w->buf);
			continue;
		}
		char e[JW_ESC_WORST * JW_UTF8_MAX];
		char *o = escape_into(e, u, &i, i + 1, n);
		put(w, e, (size_t)(o - e));
	}
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

char *jw__reserve(struct jw *w, size_t max)
{
	if (w->overflow || w->cap - w->len < max + 1)
		return NULL;
	sep(w);
	return w->buf + w->len;
}

void jw__commit(struct jw *w, size_t n)
{
	ASSERT(n <= w->cap - w->len);
	w->len += n;
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
