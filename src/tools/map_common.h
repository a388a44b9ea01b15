/* What map_dump, map_lookup, map_update and map_delete share: naming a map
 * (map_id | pin_path), its geometry and BTF, keys and values to and from
 * JSON (through BTF, or hex), and the check before a write.
 *
 * Any map in the kernel can be read, not only this session's: the fd comes
 * from the map's id or its pin. Readers open it read-only. Every fd and BTF
 * taken by map_ref__open is released by map_ref__close on every path.
 */
#ifndef EBPF_MCP_MAP_COMMON_H
#define EBPF_MCP_MAP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/bpf.h>

#include "../kern/btf_cache.h"
#include "tool.h"

#define MAP_PTR_BYTES 48   /* "/entries/99999/value" and the like */

struct map_ref {
	int fd;
	struct bpf_map_info info;
	struct btf_view btf;           /* btf.btf NULL: no BTF loaded */
	bool key_btf, value_btf;       /* decoded through BTF; else hex */
	unsigned key_int, value_int;   /* plain integers of this size (fast path), else 0 */
	bool key_signed, value_signed;
	const char *hex_reason;        /* why a side is hex, or NULL */
	bool percpu;                   /* values are one per possible CPU */
	unsigned ncpus;
	size_t stride;                 /* one CPU's value: value_size rounded up to 8 */
	size_t value_bytes;            /* what a lookup fills: value_size or stride x ncpus */
	bool owned;                    /* this session created it */
};

/* Opens the map named by the map_id or pin_path argument (exactly one),
 * read-only unless write. Reads the `encoding` argument ("btf" | "hex").
 * 0, or -1 with the call failed (nothing left open). */
int map_ref__open(struct tool_ctx *ctx, struct map_ref *m, bool write);
void map_ref__close(struct map_ref *m);

/* Writes are allowed on maps this session created, or on any map when the
 * server runs with --allow-foreign. 0, or -1 with a permission error. */
int map_ref__may_write(struct tool_ctx *ctx, const struct map_ref *m);

/* The "map" member: id, name, type, geometry, BTF and the encodings. */
void map_ref__write_info(struct jw *w, const struct map_ref *m);

/* One key or value as JSON. 0, or -1 with the call failed (a value its BTF
 * does not describe; the message points at encoding "hex"). */
int map_ref__write_key(struct tool_ctx *ctx, struct jw *w, const struct map_ref *m, const void *key);
int map_ref__write_value(struct tool_ctx *ctx, struct jw *w, const struct map_ref *m, const void *val);

/* The JSON at tok into key_size / value_bytes bytes; ptr names tok in the
 * arguments. 0, or -1 with a validation error naming the bad value. */
int map_ref__parse_key(struct tool_ctx *ctx, const struct map_ref *m, int tok, const char *ptr, void *out);
int map_ref__parse_value(struct tool_ctx *ctx, const struct map_ref *m, int tok, const char *ptr, void *out);

/* The array argument `name` (keys/entries) within the map_entries cap:
 * its token, or -1 with the call failed. *n is its length. */
int map_ref__items(struct tool_ctx *ctx, const char *name, unsigned *n);

/* The frame of a writing tool: reads the `items` array, opens the map for
 * writing, checks it may be written, runs fn, closes. 0 or -1. */
typedef int (*map_write_fn)(struct tool_ctx *ctx, const struct map_ref *m, int items_tok, unsigned n);
int map_ref__run_write(struct tool_ctx *ctx, const char *items, map_write_fn fn);

/* A per-entry kernel failure as {code, errno, message} members. */
void map_ref__write_errno(struct jw *w, const struct map_ref *m, int err, const char *op);

#endif
