/* map_dump: one page of a map's entries, decoded through BTF (or hex), with
 * a cursor that resumes exactly where the page stopped.
 *
 * Reads use BPF_MAP_LOOKUP_BATCH where the map type has it (hash, LRU,
 * per-CPU, array kinds) and fall back to GET_NEXT_KEY + LOOKUP otherwise.
 * A batch is cut by the kernel at bucket (hash) or key (array) boundaries,
 * so a page that ends inside one keeps the batch's start token plus the
 * number of its entries already returned: the cursor "b.<map>.<skip>.<hex
 * token>" re-reads that batch and skips them. The iterating cursor is
 * "k.<map>.<hex last key>". A page also stops early, with a cursor, before
 * the reply would outgrow response_bytes or the call its deadline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../kern/btf_json.h"
#include "map_common.h"
#include "tool.h"

#define MAP_BATCH_BYTES   (1u << 20)  /* keys + values of one batch read; a page takes several */
#define MAP_BATCH_GROW    (1u << 16)  /* entries a single hash bucket may force one batch to hold */
#define MAP_TOKEN_MIN     4           /* the hash batch token is a u32 bucket index */
#define MAP_REPLY_SLACK   1024        /* JSON-RPC envelope, id and the closing members */
#define MAP_CURSOR_EXTRA  64          /* "b.<id>.<skip>." around the hex */
#define MAP_CLOCK_EVERY   256         /* entries between deadline checks */
#define MAP_INT_ENTRY     64          /* {"key":<20 digits>,"value":<20 digits>} */
#define MAP_ENOTSUPP      524         /* the kernel's "no such operation for this map type" */

enum read_mode { READ_AUTO, READ_BATCH, READ_ITERATE };

struct cursor {
	char kind;                 /* 0: start, 'b' batch, 'k' key */
	uint64_t skip;
	bool have_tok;
	uint8_t *tok;              /* batch token or last key */
};

struct page {
	struct tool_ctx *ctx;
	struct map_ref *m;
	struct jw *w;
	uint64_t limit, count, scanned;
	size_t tok_size;           /* bytes of a batch token */
	size_t esc;                /* bytes the reply's escaped text copy adds */
	size_t reserve;            /* kept free for the members after the entries */
	const char *stopped_by;
	struct cursor next;        /* kind 0: no next page */
};

/* "00".."99": two digits per division (a dump of u32 -> u64 spent a tenth
 * of its time in one digit at a time). */
static const char digit_pairs[] =
	"0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849"
	"5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899";

/* Decimal digits of u, from its bit length (a division per digit was a
 * fifth of a u32 -> u64 dump's formatting). */
static size_t digits(uint64_t u)
{
	static const uint64_t pow10[20] = {
		1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull, 10000000ull, 100000000ull,
		1000000000ull, 10000000000ull, 100000000000ull, 1000000000000ull, 10000000000000ull,
		100000000000000ull, 1000000000000000ull, 10000000000000000ull, 100000000000000000ull,
		1000000000000000000ull, 10000000000000000000ull,
	};
	u |= 1;   /* the same count of digits, and 0 has one */
	unsigned bits = 64 - (unsigned)__builtin_clzll(u);
	size_t t = (bits * 1233) >> 12;   /* 1233 / 4096 ~ log10(2): t or t + 1 digits */
	return t + 1 - (u < pow10[t]);
}

/* A plain integer of `size` bytes as decimal text at o; returns its length.
 * The same digits btf_json__write produces for it. */
static size_t int_text(char *o, const void *p, unsigned size, bool is_signed)
{
	/* fixed-size loads: a memcpy of `size` bytes was a call and a stalled
	 * load per number */
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u;
	switch (size) {
	case 1:
		memcpy(&u8, p, 1);
		u = is_signed ? (uint64_t)(int64_t)(int8_t)u8 : u8;
		break;
	case 2:
		memcpy(&u16, p, 2);
		u = is_signed ? (uint64_t)(int64_t)(int16_t)u16 : u16;
		break;
	case 4:
		memcpy(&u32, p, 4);
		u = is_signed ? (uint64_t)(int64_t)(int32_t)u32 : u32;
		break;
	default:   /* 8: btf_json__int_size allows no other */
		memcpy(&u, p, 8);
		break;
	}
	bool neg = false;
	if (is_signed && (int64_t)u < 0)
		neg = true, u = 0 - u;
	size_t n = digits(u);
	o[0] = '-';
	char *q = o + neg + n;
	for (; u >= 100; u /= 100)
		q -= 2, memcpy(q, digit_pairs + 2 * (u % 100), 2);
	if (u >= 10)
		memcpy(q - 2, digit_pairs + 2 * u, 2);
	else
		q[-1] = (char)('0' + u);
	return n + neg;
}

/* Keeps the last entry written if the reply still fits, else takes it back
 * (1). esc: the bytes its escaped text copy adds. */
static int keep(struct page *pg, const struct jw *saved, size_t esc)
{
	struct jw *w = pg->w;
	if (w->overflow || 2 * w->len + pg->esc + esc + pg->reserve > w->cap) {
		*w = *saved;
		return 1;
	}
	pg->esc += esc;
	pg->count++;
	return 0;
}

/* Writes one {key, value}. 0; 1 when it would not fit the reply (nothing
 * written); -1 with the call failed. The reply holds the structuredContent
 * twice, once escaped as text: both copies are counted. */
static int emit(struct page *pg, const void *key, const void *val)
{
	struct jw *w = pg->w, saved = *w;
	const struct map_ref *m = pg->m;
	if (m->key_int && m->value_int && !m->percpu) {
		/* u32 -> u64 and the like: written in place instead of a BTF
		 * walk and a writer call per token (a third of a big dump's time) */
		char b[MAP_INT_ENTRY], *o = jw__reserve(w, MAP_INT_ENTRY), *p = o ? o : b;
		size_t n = 7;
		memcpy(p, "{\"key\":", 7);
		n += int_text(p + n, key, m->key_int, m->key_signed);
		memcpy(p + n, ",\"value\":", 9);
		n += 9;
		n += int_text(p + n, val, m->value_int, m->value_signed);
		p[n++] = '}';
		if (o)
			jw__commit(w, n);
		else
			jw__raw(w, b, n);
		return keep(pg, &saved, 4);
	}
	jw__obj(w);
	jw__key(w, "key");
	if (map_ref__write_key(pg->ctx, w, pg->m, key))
		return -1;
	jw__key(w, "value");
	if (map_ref__write_value(pg->ctx, w, pg->m, val))
		return -1;
	jw__obj_end(w);
	size_t esc = 0;
	for (size_t i = saved.len; i < w->len && !w->overflow; i++)
		esc += w->buf[i] == '"' || w->buf[i] == '\\';
	return keep(pg, &saved, esc);
}

/* Why a page ends before the map does (checked before each entry). */
static const char *page_full(struct page *pg)
{
	if (pg->count >= pg->limit)
		return "limit";
	if (pg->count % MAP_CLOCK_EVERY == 0 && tool__expired(pg->ctx))
		return "deadline";
	return NULL;
}

static void stop_at(struct page *pg, const char *why, char kind, const uint8_t *tok, bool have_tok, uint64_t skip)
{
	size_t n = kind == 'b' ? pg->tok_size : pg->m->info.key_size;
	pg->stopped_by = why;
	pg->next.kind = kind;
	pg->next.skip = skip;
	pg->next.have_tok = have_tok;
	if (have_tok)
		memcpy(pg->next.tok, tok, n);
}

static int no_room(struct page *pg)
{
	if (pg->count)
		return 0;
	return tool__fail_limit(pg->ctx, LIM_RESPONSE_BYTES,
				"one entry of map %u does not fit a reply of response_bytes; raise --limit "
				"response_bytes=N or read it with map_lookup", pg->m->info.id);
}

struct batch_buf {
	uint8_t *keys, *vals;
	uint32_t cap;              /* entries */
};

static int batch_alloc(struct page *pg, struct batch_buf *b, uint64_t want)
{
	size_t per = pg->m->info.key_size + pg->m->value_bytes;
	uint64_t fit = MAP_BATCH_BYTES / per ? MAP_BATCH_BYTES / per : 1;
	b->cap = (uint32_t)(want < fit ? want : fit);
	if (b->cap < want && want <= MAP_BATCH_GROW)
		b->cap = (uint32_t)want;      /* a bucket larger than the budget: read it whole */
	b->keys = arena__alloc(pg->ctx->scratch, (size_t)b->cap * pg->m->info.key_size + 1);
	b->vals = arena__alloc(pg->ctx->scratch, (size_t)b->cap * pg->m->value_bytes + 1);
	if (b->keys && b->vals)
		return 0;
	return tool__fail_limit(pg->ctx, LIM_SCRATCH_BYTES, "no scratch memory for a batch of %u entries of map %u "
				"(%zu bytes each); lower `limit`", b->cap, pg->m->info.id, per);
}

/* One kernel batch from `in` (NULL: the start) of at most want entries
 * (and at most what the buffers hold), doubling the request on ENOSPC (a
 * hash bucket larger than it). Returns 0, 1 at the map's end (entries may
 * still have come), or -errno. */
static int batch_read(struct page *pg, struct batch_buf *b, const uint8_t *in, uint8_t *out, uint64_t want,
		      uint32_t *got)
{
	LIBBPF_OPTS(bpf_map_batch_opts, o);
	for (;;) {
		uint32_t count = (uint32_t)(want < b->cap ? want : b->cap), asked = count;
		int r = bpf_map_lookup_batch(pg->m->fd, (void *)in, out, b->keys, b->vals, &count, &o);
		r = r ? -errno : 0;
		*got = r && r != -ENOENT ? 0 : count;
		if (r != -ENOSPC || count)
			return r == -ENOENT ? 1 : r;
		if (2 * (uint64_t)asked > MAP_BATCH_GROW)
			return r;
		want = 2 * (uint64_t)asked;
		if (want > b->cap && batch_alloc(pg, b, want))
			return -ENOMEM;
	}
}

/* Pages through batches. Returns 0, -1 (failed), or 1 when the map type
 * has no batch reads and nothing was read yet. */
static int dump_batch(struct page *pg, const struct cursor *cur, bool may_fall_back)
{
	struct map_ref *m = pg->m;
	uint8_t *in = arena__alloc(pg->ctx->scratch, pg->tok_size), *out = arena__alloc(pg->ctx->scratch, pg->tok_size);
	struct batch_buf b = { 0 };
	uint64_t skip = cur->skip;
	bool have_in = cur->have_tok;
	if (!in || !out || batch_alloc(pg, &b, pg->limit + skip))
		return in && out ? -1 : tool__fail_limit(pg->ctx, LIM_SCRATCH_BYTES, "no scratch memory");
	if (have_in)
		memcpy(in, cur->tok, pg->tok_size);
	for (;;) {
		uint32_t got = 0;
		memset(out, 0, pg->tok_size);
		int r = batch_read(pg, &b, have_in ? in : NULL, out, pg->limit - pg->count + skip, &got);
		bool no_batch = r == -MAP_ENOTSUPP || r == -EOPNOTSUPP;
		if (no_batch && may_fall_back && !have_in)
			return 1;
		if (no_batch) {
			tool__fail(pg->ctx, ERR_NO_BATCH_OPS,
				   "this kernel has no batch reads for %s maps (map %u); use read \"auto\" or \"iterate\"",
				   libbpf_bpf_map_type_str((enum bpf_map_type)m->info.type), m->info.id);
			jw__kint(&pg->ctx->err->ctx, "errno", -r);
			return -1;
		}
		if (r < 0)
			return pg->ctx->err->set ? -1 : tool__fail_errno(pg->ctx, r, "batch read of map %u", m->info.id);
		may_fall_back = false;
		for (uint64_t i = skip; i < got; i++) {
			const char *why = page_full(pg);
			int e = why ? 1 : emit(pg, b.keys + i * m->info.key_size, b.vals + i * m->value_bytes);
			if (e < 0)
				return -1;
			if (e) {
				stop_at(pg, why ? why : "response_bytes", 'b', in, have_in, i);
				return why ? 0 : no_room(pg);
			}
		}
		skip = skip > got ? skip - got : 0;   /* a re-read batch may come back shorter */
		if (r == 1) {
			pg->stopped_by = "end";
			return 0;
		}
		memcpy(in, out, pg->tok_size);
		have_in = true;
		pg->scanned += got ? got : 1;   /* bounds the loop even if a batch came back empty */
		const char *why = pg->scanned > limits[LIM_SCAN_ITEMS] ? "scan_items" : page_full(pg);
		if (why) {
			stop_at(pg, why, 'b', in, true, 0);
			return 0;
		}
	}
}

/* GET_NEXT_KEY + LOOKUP from the key after cur (or the first). */
static int dump_iterate(struct page *pg, const struct cursor *cur)
{
	struct map_ref *m = pg->m;
	size_t ks = m->info.key_size;
	uint8_t *prev = arena__alloc(pg->ctx->scratch, ks + 1), *key = arena__alloc(pg->ctx->scratch, ks + 1);
	uint8_t *val = arena__alloc(pg->ctx->scratch, m->value_bytes + 1);
	if (!prev || !key || !val)
		return tool__fail_limit(pg->ctx, LIM_SCRATCH_BYTES, "no scratch memory for one entry of map %u", m->info.id);
	bool have_prev = cur->have_tok;
	if (have_prev)
		memcpy(prev, cur->tok, ks);
	for (;;) {
		const char *why = page_full(pg);
		if (why || ++pg->scanned > limits[LIM_SCAN_ITEMS]) {
			stop_at(pg, why ? why : "scan_items", 'k', prev, have_prev, 0);
			return 0;
		}
		if (bpf_map_get_next_key(m->fd, have_prev ? prev : NULL, key)) {
			if (errno == ENOENT) {
				pg->stopped_by = "end";
				return 0;
			}
			return tool__fail_errno(pg->ctx, -errno, "next key of map %u", m->info.id);
		}
		if (bpf_map_lookup_elem(m->fd, key, val)) {
			if (errno != ENOENT)
				return tool__fail_errno(pg->ctx, -errno, "lookup in map %u", m->info.id);
		} else {
			int e = emit(pg, key, val);
			if (e < 0)
				return -1;
			if (e) {
				stop_at(pg, "response_bytes", 'k', prev, have_prev, 0);
				return no_room(pg);
			}
		}
		uint8_t *t = prev;   /* a key deleted meanwhile is stepped over */
		prev = key, key = t, have_prev = true;
	}
}

/* "b.<map id>.<skip>.<hex token or empty>" | "k.<map id>.<hex key>" */
static int parse_cursor(struct page *pg, const char *s, struct cursor *c)
{
	char kind = s[0];
	char *end;
	unsigned long long id = 0, skip = 0;
	const char *hex = NULL;
	if ((kind == 'b' || kind == 'k') && s[1] == '.') {
		id = strtoull(s + 2, &end, 10);
		if (*end == '.' && kind == 'b') {
			skip = strtoull(end + 1, &end, 10);
			hex = *end == '.' ? end + 1 : NULL;
		} else if (*end == '.') {
			hex = end + 1;
		}
	}
	size_t n = kind == 'b' ? pg->tok_size : pg->m->info.key_size, len = hex ? strlen(hex) : 0;
	c->kind = kind;
	c->skip = skip;
	c->have_tok = len > 0;
	if (!hex || id != pg->m->info.id || (kind == 'k' && !len) || (len && btf_json__unhex(hex, len, c->tok, n)) ||
	    skip > MAP_BATCH_GROW + limits[LIM_MAP_ENTRIES]) {
		tool__fail(pg->ctx, ERR_BAD_CURSOR,
			   "cursor is not one map_dump returned for map %u; pass next_cursor unchanged, "
			   "with the same map_id or pin_path (omit it to start over)", pg->m->info.id);
		jw__kstr(&pg->ctx->err->ctx, "pointer", "/cursor");
		return -1;
	}
	return 0;
}

static const char *cursor_text(struct page *pg)
{
	const struct cursor *c = &pg->next;
	size_t n = c->kind == 'b' ? pg->tok_size : pg->m->info.key_size;
	char *s = arena__alloc(pg->ctx->scratch, 2 * n + MAP_CURSOR_EXTRA);
	if (!s)
		return NULL;
	int k = c->kind == 'b' ? snprintf(s, MAP_CURSOR_EXTRA, "b.%u.%llu.", pg->m->info.id, (unsigned long long)c->skip)
			       : snprintf(s, MAP_CURSOR_EXTRA, "k.%u.", pg->m->info.id);
	if (c->have_tok)
		btf_json__hex(c->tok, n, s + k);
	return s;
}

static int read_args(struct page *pg, enum read_mode *mode, struct cursor *cur)
{
	struct tool_ctx *ctx = pg->ctx;
	uint64_t cap = limits[LIM_MAP_ENTRIES];
	pg->limit = (uint64_t)tool__arg_int(ctx, "limit", (int64_t)cap);
	if (pg->limit > cap) {
		tool__fail_limit(ctx, LIM_MAP_ENTRIES, "limit %llu is over the map_entries cap; page with the cursor "
				 "or raise --limit map_entries=N", (unsigned long long)pg->limit);
		jw__kstr(&ctx->err->ctx, "pointer", "/limit");
		return -1;
	}
	const char *r = tool__arg_str(ctx, "read");
	*mode = !r || !strcmp(r, "auto") ? READ_AUTO : !strcmp(r, "batch") ? READ_BATCH : READ_ITERATE;
	const char *cs = tool__arg_str(ctx, "cursor");
	cur->tok = arena__alloc(ctx->scratch, pg->tok_size > pg->m->info.key_size ? pg->tok_size : pg->m->info.key_size);
	pg->next.tok = arena__alloc(ctx->scratch, pg->tok_size > pg->m->info.key_size ? pg->tok_size : pg->m->info.key_size);
	if (!cur->tok || !pg->next.tok)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory");
	if (cs && parse_cursor(pg, cs, cur))
		return -1;
	if (cs && ((cur->kind == 'b' && *mode == READ_ITERATE) || (cur->kind == 'k' && *mode == READ_BATCH))) {
		tool__fail(ctx, ERR_CONFLICTING_ARGS,
			   "the cursor continues a %s read; drop `read` or start over without the cursor",
			   cur->kind == 'b' ? "batch" : "iterate");
		jw__kstr(&ctx->err->ctx, "pointer", "/read");
		return -1;
	}
	return 0;
}

static int dump(struct page *pg)
{
	enum read_mode mode;
	struct cursor cur = { 0 };
	struct map_ref *m = pg->m;
	if (!m->info.key_size || !m->info.value_size)
		return tool__fail(pg->ctx, ERR_NO_ENTRIES,
				  "map %u has no keys or no values to list (queue, stack, ring buffer, bloom filter kinds); "
				  "use stream_events for ring buffers", m->info.id);
	if (read_args(pg, &mode, &cur))
		return -1;
	pg->reserve = MAP_REPLY_SLACK + 4 * (2 * (pg->tok_size > m->info.key_size ? pg->tok_size : m->info.key_size) +
					     MAP_CURSOR_EXTRA);
	for (size_t i = 0; i < pg->w->len; i++)   /* what precedes the entries is escaped too */
		pg->esc += pg->w->buf[i] == '"' || pg->w->buf[i] == '\\';
	jw__key(pg->w, "entries");
	jw__arr(pg->w);
	bool batch = cur.kind == 'b' || (cur.kind == 0 && mode != READ_ITERATE);
	int r = batch ? dump_batch(pg, &cur, mode == READ_AUTO) : 0;
	if (r == 1)
		batch = false;
	if (r < 0 || (!batch && dump_iterate(pg, &cur) < 0))
		return -1;
	if (pg->ctx->err->set)
		return -1;
	jw__arr_end(pg->w);
	jw__kuint(pg->w, "count", pg->count);
	jw__kstr(pg->w, "read", batch ? "batch" : "iterate");
	jw__kbool(pg->w, "done", pg->next.kind == 0);
	jw__kstr(pg->w, "stopped_by", pg->stopped_by ? pg->stopped_by : "end");
	if (pg->next.kind) {
		const char *c = cursor_text(pg);
		if (!c)
			return tool__fail_limit(pg->ctx, LIM_SCRATCH_BYTES, "no scratch memory for the cursor");
		jw__kstr(pg->w, "next_cursor", c);
	}
	return 0;
}

static int run_map_dump(struct tool_ctx *ctx)
{
	struct map_ref m;
	if (map_ref__open(ctx, &m, false))
		return -1;
	struct page pg = { .ctx = ctx, .m = &m, .w = ctx->out };
	pg.tok_size = m.info.key_size > MAP_TOKEN_MIN ? m.info.key_size : MAP_TOKEN_MIN;
	jw__obj(ctx->out);
	map_ref__write_info(ctx->out, &m);
	int r = dump(&pg);
	if (!r)   /* a failure leaves its containers open: its output is dropped */
		jw__obj_end(ctx->out);
	map_ref__close(&m);
	return r ? -1 : 0;
}

const struct tool tool_map_dump = {
	.name = "map_dump",
	.schema = SCHEMA_map_dump,
	.run = run_map_dump,
};
