/* A strict YAML subset, for --config files in the seed design's shape.
 *
 * Accepted: block mappings by indentation (spaces only), block sequences
 * (`- item`, also `- key: v` and `- - x` on one line), flow sequences of
 * scalars on one line (`[a, "b"]`), scalars plain, 'single' ('' is a quote)
 * or "double" (\\ \" \/ \n \t \r \b \f \a \v \e, "\ ", \xHH, \uHHHH,
 * \UHHHHHHHH), # comments, one optional `---` before the document.
 * Refused, each with "LINE:COL: why": anchors, aliases, tags, block scalars
 * (| and >), multi-line scalars, flow mappings, nested flow sequences,
 * complex keys (?), directives (%), duplicate keys, a second document, a
 * tab in indentation, control bytes, NUL (also as an escape), and anything
 * past the limits below. Lines end in \n or \r\n; columns count bytes from 1.
 *
 * Why a subset: an operator's config file should mean one thing; the YAML
 * features left out are those that make a file mean something other than
 * what it shows (aliases, tags, folding), and none of them is in the seed.
 *
 * No allocation: the caller supplies the yaml_doc (fixed size), and every
 * string lands in its pool. Scalars carry no type: "100", 100 and true are
 * text, with the quoting style kept so a reader can insist on plain ones.
 */
#ifndef EBPF_MCP_YAML_H
#define EBPF_MCP_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define YAML_MAX_FILE_BYTES (64 * 1024)   /* one file: a config is a page, not a data set */
#define YAML_MAX_LINE_BYTES 1024          /* one line, the newline aside */
#define YAML_MAX_DEPTH      8             /* mappings and sequences inside each other (the seed: 4) */
#define YAML_MAX_NODES      1024          /* keys and items in one file, the root counted */
#define YAML_ERR_BYTES      192           /* one error's reason */

/* Decoded text is never longer than its source, and each key and each
 * scalar adds one NUL: the pool cannot overflow. */
#define YAML_POOL_BYTES (YAML_MAX_FILE_BYTES + 2 * YAML_MAX_NODES)

#define YAML_NONE (-1)

enum yaml_kind { YAML_SCALAR, YAML_MAP, YAML_SEQ };
enum yaml_style { YAML_PLAIN, YAML_SINGLE, YAML_DOUBLE };

struct yaml_node {
	enum yaml_kind kind;
	enum yaml_style style;       /* a scalar's quoting */
	uint32_t line, col;          /* where the value starts (an empty value: just after its key's ':') */
	uint32_t key_line, key_col;  /* where its key starts, in a mapping */
	const char *key;             /* in a mapping: its key; else NULL */
	const char *text;            /* a scalar's text ("" for an empty value); else NULL */
	int32_t parent, first, next; /* indexes into nodes[], YAML_NONE when there is none */
	uint32_t n_children;
};

struct yaml_doc {
	struct yaml_node nodes[YAML_MAX_NODES];   /* nodes[0] is the root: a mapping or a sequence */
	uint32_t n_nodes;
	char pool[YAML_POOL_BYTES];
	size_t pool_used;
};

struct yaml_error {
	uint32_t line, col;
	char why[YAML_ERR_BYTES];
};

/* Parses text[0..len) into d. 0, or -1 with e filled. An empty document
 * (blank lines and comments only) is an empty mapping. */
int yaml__parse(struct yaml_doc *d, const char *text, size_t len, struct yaml_error *e);

/* The child of mapping m under key, or YAML_NONE. */
int32_t yaml__get(const struct yaml_doc *d, int32_t m, const char *key);

/* Whether a config file's first significant line (not blank, not a #
 * comment) is `---` or begins with a `word:` key, i.e. reads as YAML rather
 * than `name value` lines (whose option names never hold a ':'). */
bool yaml__sniff(const char *text, size_t len);

#endif
