/* base64 decoding (see base64.h). */
#include "base64.h"

#include <errno.h>
#include <stdbool.h>

static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

int base64__decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len, size_t *bad)
{
	size_t o = 0;
	if (n % 4) {
		*bad = n;
		return -EINVAL;   /* padded input comes in quads */
	}
	for (size_t i = 0; i < n; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			bool last_quad = i + 4 == n;
			if (s[i + k] == '=' && last_quad && k >= 2 && (k == 3 || s[i + 3] == '=')) {
				v[k] = 0, pad++;
				continue;
			}
			if ((v[k] = sextet((unsigned char)s[i + k])) < 0 || pad) {
				*bad = i + k;
				return -EINVAL;
			}
		}
		/* canonical only: the bits a padded quad drops must be zero, or
		 * two different texts would decode to the same bytes */
		if ((pad == 2 && (v[1] & 0xf)) || (pad == 1 && (v[2] & 0x3))) {
			*bad = i + 3 - (size_t)pad;
			return -EINVAL;
		}
		uint32_t q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
		if (o + 3 - (size_t)pad > cap)
			return -ENOSPC;
		out[o++] = (uint8_t)(q >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(q >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)q;
	}
	*len = o;
	return 0;
}
