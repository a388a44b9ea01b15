/* Fuzzes the schema validator over every tool's input and output schema.
 * The first input byte picks the tool, the second which schema and the
 * string cap; the rest is the JSON document. Oracle: the error's pointer
 * and message are terminated strings, and a refusal always says why. */
#include <string.h>

#include "json/json.h"
#include "json/schema.h"
#include "fuzz.h"

#define TOKS 4096
static jsmntok_t toks[TOKS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	const struct sch_tool *t = &sch_tools[data[0] % sch_tool_count];
	bool output = data[1] & 1;
	size_t max_string = (data[1] >> 1) ? (size_t)(data[1] >> 1) * 8 : 1 << 20;
	struct jdoc d;
	struct json_perr e;
	if (jdoc__parse(&d, (const char *)data + 2, size - 2, toks, TOKS, 64, &e))
		return 0;
	struct sch_err err;
	memset(&err, 0x5a, sizeof(err));
	int rc = output ? schema__validate(&d, 0, t->output, &err)
			: schema__validate_args(&d, 0, t->input, max_string, &err);
	if (rc) {
		FUZZ_CHECK(memchr(err.pointer, 0, sizeof(err.pointer)) && memchr(err.msg, 0, sizeof(err.msg)));
		FUZZ_CHECK(err.msg[0]);
	}
	return 0;
}
