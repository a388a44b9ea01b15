/* Fuzzes base64__decode. Oracle: whatever it accepts is canonical, so
 * encoding the bytes again gives back exactly the input text; and what it
 * refuses names an offset inside the input. */
#include <errno.h>
#include <string.h>

#include "json/base64.h"
#include "fuzz.h"

static size_t encode(const uint8_t *in, size_t n, char *out)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t q = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
			     (i + 2 < n ? in[i + 2] : 0);
		out[o++] = abc[q >> 18 & 63];
		out[o++] = abc[q >> 12 & 63];
		out[o++] = i + 1 < n ? abc[q >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? abc[q & 63] : '=';
	}
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cap = BASE64_DECODED_MAX(size), len = 0, bad = 0;
	uint8_t *out = malloc(cap ? cap : 1);
	/* the first byte trims the room: -ENOSPC must come before any overrun */
	size_t room = size && data[0] < 16 ? cap / (data[0] + 1u) : cap;
	int rc = base64__decode((const char *)data, size, out, room, &len, &bad);
	if (rc == 0) {
		char *again = malloc(size + 4);
		FUZZ_CHECK(len <= room);
		FUZZ_CHECK(encode(out, len, again) == size);
		FUZZ_CHECK(!memcmp(again, data, size));
		free(again);
	} else if (rc == -EINVAL) {
		FUZZ_CHECK(bad <= size);
	} else {
		FUZZ_CHECK(rc == -ENOSPC && room < cap);
	}
	free(out);
	return 0;
}
