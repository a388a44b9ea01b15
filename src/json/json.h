/* JSON in and out.
 *
 * In: a strict one-pass validator (grammar, depth, UTF-8, control bytes)
 * followed by jsmn over a caller-owned token array. jsmn alone accepts some
 * malformed text; after the validator, its tokens describe valid JSON only.
 *
 * Out: a small state-machine writer over a caller-supplied buffer. Overflow
 * is sticky: once set, nothing more is written and the caller reports it.
 */
#ifndef EBPF_MCP_JSON_H
#define EBPF_MCP_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Declarations only here; reader.c holds jsmn's one definition. */
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#ifndef JSON_JSMN_IMPL
#define JSMN_HEADER
#endif
#include <jsmn.h>

#include "../limits.h"

/* ---- reader ---------------------------------------------------------- */

enum json_perr_kind {
	JSON_OK = 0,
	JSON_E_SYNTAX,   /* not JSON */
	JSON_E_DEPTH,    /* nesting over the json_depth limit */
	JSON_E_UTF8,     /* invalid UTF-8 in a string */
	JSON_E_CTRL,     /* raw control byte (incl. NUL) inside a string */
	JSON_E_TOKENS,   /* more tokens than the json_tokens limit */
	JSON_E_EMPTY,    /* nothing but whitespace */
};

struct json_perr {
	enum json_perr_kind kind;
	size_t offset;       /* byte offset of the problem */
	const char *what;    /* short static description */
};

struct jdoc {
	const char *js;
	size_t len;
	jsmntok_t *t;
	int n;
};

/* Validates then tokenizes js[0..len). Returns 0 or -1 with err filled. */
int json__validate(const char *js, size_t len, unsigned depth_max, struct json_perr *err);
int jdoc__parse(struct jdoc *d, const char *js, size_t len, jsmntok_t *toks,
		unsigned max_tokens, unsigned depth_max, struct json_perr *err);
const char *json__perr_name(enum json_perr_kind k);

/* Index of the first token after the subtree rooted at i. */
int jdoc__skip(const struct jdoc *d, int i);
/* Value token of key in object obj, or -1. */
int jdoc__get(const struct jdoc *d, int obj, const char *key);
bool jdoc__is_obj(const struct jdoc *d, int i);
bool jdoc__is_arr(const struct jdoc *d, int i);
bool jdoc__is_str(const struct jdoc *d, int i);
bool jdoc__is_num(const struct jdoc *d, int i);
bool jdoc__is_bool(const struct jdoc *d, int i);
bool jdoc__is_null(const struct jdoc *d, int i);
bool jdoc__is_true(const struct jdoc *d, int i);
/* String token equals s after unescaping. */
bool jdoc__str_eq(const struct jdoc *d, int i, const char *s);
/* Unescapes a string token into out (NUL-terminated). -ENOSPC if it does not
 * fit in cap-1 bytes, -EINVAL if the token is not a string. */
int jdoc__str(const struct jdoc *d, int i, char *out, size_t cap, size_t *len);
/* Byte length of a string token after unescaping. */
size_t jdoc__str_len(const struct jdoc *d, int i);
/* Integer value; -EINVAL when not an integer, -ERANGE outside int64. */
int jdoc__int(const struct jdoc *d, int i, int64_t *v);
int jdoc__num(const struct jdoc *d, int i, double *v);
/* i-th element of array arr, or -1. */
int jdoc__elem(const struct jdoc *d, int arr, int idx);

/* What strict reading refuses in a request that is valid JSON: a string
 * holding U+0000 once unescaped (it would be cut short as a C string, so
 * the tool could act on other text than the log records), and an object
 * naming one key twice (which of the two counts is not agreed anywhere). */
enum jdoc_strict_kind { JDOC_STRICT_OK = 0, JDOC_STRICT_NUL, JDOC_STRICT_DUP_KEY };
/* First offending token in document order (the string holding U+0000, or
 * the second occurrence of a key), or -1; *kind says which. Work is
 * O(tokens * log) plus the text: duplicate keys are found by sorting the
 * keys of each object (scratch holds d->n ints). */
/* Token `echo` (or -1) is exempt from the U+0000 rule: text that is only
 * ever echoed back verbatim, such as a JSON-RPC id. */
int jdoc__strict(const struct jdoc *d, int *scratch, int echo, enum jdoc_strict_kind *kind);
/* The JSON pointer (RFC 6901) of token i into out, NUL-terminated; a
 * pointer longer than cap ends in "..." (never cut silently). A key token
 * names the member it opens. */
void jdoc__pointer(const struct jdoc *d, int i, char *out, size_t cap);
/* Whether token i lies inside the subtree rooted at token root. */
bool jdoc__within(const struct jdoc *d, int i, int root);

/* ---- writer ---------------------------------------------------------- */

struct jw {
	char *buf;
	size_t cap, len;
	unsigned depth;
	uint64_t has_items;  /* bit d: container at depth d has an element */
	uint64_t is_obj;     /* bit d: container at depth d is an object (else an array) */
	bool after_key;
	bool overflow;       /* sticky */
};

void jw__init(struct jw *w, char *buf, size_t cap);
/* A writer of object members only, for text that goes inside an object
 * written elsewhere: keys may come first, without a leading comma. */
void jw__init_members(struct jw *w, char *buf, size_t cap);
void jw__obj(struct jw *w);
void jw__obj_end(struct jw *w);
void jw__arr(struct jw *w);
void jw__arr_end(struct jw *w);
void jw__key(struct jw *w, const char *k);
void jw__str(struct jw *w, const char *s);
void jw__strn(struct jw *w, const char *s, size_t n);
void jw__int(struct jw *w, int64_t v);
void jw__uint(struct jw *w, uint64_t v);
void jw__double(struct jw *w, double v);
void jw__bool(struct jw *w, bool v);
void jw__null(struct jw *w);
/* Pre-validated JSON text inserted as one value. */
void jw__raw(struct jw *w, const char *json, size_t n);
/* Room for one element of at most max bytes written in place: its
 * separator is emitted and the place returned, to be closed with
 * jw__commit(w, bytes written); NULL (nothing emitted) when it may not
 * fit, and the caller writes through jw__raw instead. */
char *jw__reserve(struct jw *w, size_t max);
void jw__commit(struct jw *w, size_t n);
/* printf into a JSON string value (bounded by LIMIT_ERROR_MSG_BYTES). */
void jw__strf(struct jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* key + value shorthands */
void jw__kstr(struct jw *w, const char *k, const char *v);
void jw__kint(struct jw *w, const char *k, int64_t v);
void jw__kuint(struct jw *w, const char *k, uint64_t v);
void jw__kbool(struct jw *w, const char *k, bool v);

/* Escapes s as the body of a JSON string (no quotes) into w; invalid UTF-8
 * bytes become U+FFFD so our output is always valid JSON. */
void jw__escape(struct jw *w, const char *s, size_t n);

/* ---- small helpers --------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
size_t json__utf8_len(const unsigned char *s, size_t n);

/* Glob match of the whole of s: '*' any run, '?' any byte, and bracket
 * classes ([abc], [a-z], [!x] or [^x]; a ']' first in the class is a
 * member; an unterminated '[' is a literal '['). No escapes. Bounded: at
 * most (strlen(s) + 1) * strlen(pat) steps, no backtracking blow-up. */
bool json__glob(const char *pat, const char *s);
/* The bracket class at p (p[0] == '['): *in says whether byte c is in it;
 * returns the pattern past its ']', or NULL when it has none (then the '['
 * is a literal and *in is untouched). */
const char *json__glob_class(const char *p, unsigned char c, bool *in);

#endif
