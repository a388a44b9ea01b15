/* Fuzzes the YAML reader and the config walk over what it parsed. Options
 * go to a setter that checks what it is given (a name and a terminated
 * value) and takes them, so the walk covers every key without touching
 * the process. Oracles: a node's links stay inside the document; an error
 * has a reason. */
#include <string.h>

#include "config.h"
#include "config_yaml.h"
#include "yaml.h"
#include "fuzz.h"

static struct yaml_doc doc;
static char deny[CONFIG_YAML_DENY_BYTES];

static int take(struct config *c, const char *name, const char *value, char *err)
{
	(void)c, (void)err;
	FUZZ_CHECK(name && value && strlen(name) < 256);
	return strlen(value) % 7 == 6 ? (snprintf(err, CONFIG_ERR_BYTES, "refused"), -1) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct yaml_error e;
	(void)yaml__sniff((const char *)data, size);
	if (yaml__parse(&doc, (const char *)data, size, &e)) {
		FUZZ_CHECK(e.why[0] && memchr(e.why, 0, sizeof(e.why)));
		return 0;
	}
	FUZZ_CHECK(doc.n_nodes >= 1 && doc.n_nodes <= YAML_MAX_NODES && doc.pool_used <= YAML_POOL_BYTES);
	for (uint32_t i = 0; i < doc.n_nodes; i++) {
		const struct yaml_node *n = &doc.nodes[i];
		FUZZ_CHECK(n->parent == YAML_NONE || (n->parent >= 0 && (uint32_t)n->parent < doc.n_nodes));
		FUZZ_CHECK(n->next == YAML_NONE || (n->next > 0 && (uint32_t)n->next < doc.n_nodes));
		if (n->kind == YAML_MAP)
			(void)yaml__get(&doc, (int32_t)i, "server");
	}
	struct config c;
	memset(&c, 0, sizeof(c));
	char err[CONFIG_ERR_BYTES];
	if (config_yaml__apply_doc(&c, "fuzz.yaml", &doc, deny, take, err))
		FUZZ_CHECK(err[0] && memchr(err, 0, sizeof(err)));
	return 0;
}
