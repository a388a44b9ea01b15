/* Standard base64 (RFC 4648, with padding) decoding for inline objects. */
#ifndef EBPF_MCP_BASE64_H
#define EBPF_MCP_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes that decoding n characters yields at most. */
#define BASE64_DECODED_MAX(n) (((n) / 4) * 3 + 3)

/* Decodes n characters of s into out (room for cap bytes). Whitespace is
 * not allowed, nor padding in the middle, nor non-zero bits in the last
 * character before the padding (RFC 4648 §3.5 canonical form). 0 and *len; -EINVAL with *bad set to the offending offset;
 * -ENOSPC when out is too small. */
int base64__decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *len, size_t *bad);

#endif
