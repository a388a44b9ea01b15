/* --config FILE in the seed design's YAML shape (server:, security:,
 * resources:, tools:).
 *
 * Each key we honour stands for an option or a limit and is set through
 * the option table's own setter (set: opts.c's, by option name), so the
 * command line's checks and messages apply unchanged; every other key is
 * refused, the seed's keys we do not honour with the reason. Errors read
 * "FILE:LINE:COL: why". The table of keys is in config_yaml.c and in the
 * README's "Configuration file".
 */
#ifndef EBPF_MCP_CONFIG_YAML_H
#define EBPF_MCP_CONFIG_YAML_H

#include <stddef.h>

#include "config.h"

/* Sets option `name` to value as a config file line would; 0, or -1 with
 * the reason in err (CONFIG_ERR_BYTES). */
typedef int (*config_set_fn)(struct config *c, const char *name, const char *value, char *err);

/* Parses text[0..len) (the file at path) and applies it to c. Allocates one
 * fixed-size document per file that the options keep pointing into. 0, or
 * -1 with "path:LINE:COL: why" in err (CONFIG_ERR_BYTES). */
int config_yaml__apply(struct config *c, const char *path, const char *text, size_t len, config_set_fn set,
		       char *err);

/* The walk alone, over a document parsed by the caller (config_yaml__apply
 * and the fuzz harness): d and deny (CONFIG_YAML_DENY_BYTES, writable) must
 * outlive what the options keep pointing at. */
#define CONFIG_YAML_DENY_BYTES 64
struct yaml_doc;
int config_yaml__apply_doc(struct config *c, const char *path, const struct yaml_doc *d, char *deny,
			   config_set_fn set, char *err);

#endif
