/* Fuzzes the HTTP/1.1 request head parser and its field lookups. Oracle:
 * a complete head's target and fields lie inside it; an incomplete one
 * asks for more (-1); anything else is a status with a reason. */
#include <string.h>

#include "http/http.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "host", "content-length", "transfer-encoding", "connection",
					     "authorization", "mcp-session-id", "mcp-protocol-version", "origin",
					     "accept", "last-event-id", "mcp-name" };
	struct http_req r;
	const char *why = NULL;
	const char *buf = (const char *)data;
	int rc = http__parse(buf, size, &r, &why);
	if (rc != 0) {
		FUZZ_CHECK(rc == -1 || (rc >= 400 && rc < 600 && why && http__reason(rc)));
		return 0;
	}
	FUZZ_CHECK(r.head_len <= size && r.n <= HTTP_HEADERS_MAX);
	/* "http://host" alone names the root: then the path is a constant "/" */
	FUZZ_CHECK((r.path >= buf && r.path + r.path_len <= buf + size) || (r.path_len == 1 && r.path[0] == '/'));
	for (unsigned k = 0; k < r.n; k++)
		FUZZ_CHECK(r.f[k].value >= buf && r.f[k].value + r.f[k].value_len <= buf + r.head_len);
	for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
		size_t n = 0;
		int count = 0;
		const char *v = http__field(&r, names[k], &n, &count);
		if (v)
			FUZZ_CHECK(v >= buf && v + n <= buf + size);
		(void)http__field_has(&r, names[k], "close");
		(void)http__field_has(&r, names[k], "chunked");
	}
	return 0;
}
