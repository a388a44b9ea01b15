/* Map keys and values <-> JSON through BTF, and the raw-hex fallback.
 *
 * Decoding (bytes -> JSON):
 *   - integers are JSON numbers, signed types signed; 64-bit values above
 *     2^53 are written exactly (a JavaScript client's Number loses the low
 *     bits: read them as strings or BigInt); 128-bit integers too;
 *   - bool is true/false (a byte other than 0/1 stays a number);
 *   - enums are the enumerator's name, or the number when no name matches;
 *   - structs are objects by member name; members of anonymous structs and
 *     unions are merged into the enclosing object (C access: `s.x`);
 *     bitfields are numbers (sign-extended when the type is signed); unnamed
 *     bitfields (padding) are left out;
 *   - unions show every member (each is a view of the same bytes);
 *   - arrays are JSON arrays; `char` arrays are strings when the bytes up to
 *     the first NUL are valid UTF-8 without control characters and only
 *     NULs follow; otherwise an array of byte values (never lossy);
 *   - typedefs, const, volatile, restrict and type tags are see-through;
 *     pointers are unsigned numbers; float/double are numbers ("NaN",
 *     "Infinity", "-Infinity" as strings); other float sizes are hex;
 *   - DATASEC (.bss/.data/.rodata maps) is an object by variable name.
 *
 * Encoding (JSON -> bytes) is the inverse, strict so that what is written
 * is exactly what was given: every member must be present (padding is
 * zero), no unknown members, arrays with exactly their element count (char
 * arrays also take a string: NUL-padded, at most the array's length), one
 * member per union. Integers take a number or a string ("-12", "0x1f",
 * exact for any width) and must fit their type; enums take a name or a
 * number; bool takes true/false (or 0/1). Errors name the bad value with a
 * JSON pointer.
 *
 * Hex (maps without BTF, or on request): the bytes in memory order as
 * lowercase hex digits, exactly two per byte, no prefix or separators.
 */
#ifndef EBPF_MCP_BTF_JSON_H
#define EBPF_MCP_BTF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../json/json.h"

struct btf;

#define BTF_JSON_DEPTH_MAX 24    /* nested structs/arrays in one value (writer holds 64) */
#define BTF_JSON_CHAIN_MAX 32    /* typedef/modifier links followed (libbpf's own bound) */
#define BTF_JSON_PTR_BYTES 256   /* JSON pointer of a bad input value; longer ones are cut */
#define BTF_JSON_MSG_BYTES 256

struct btf_json_err {
	char pointer[BTF_JSON_PTR_BYTES];
	char msg[BTF_JSON_MSG_BYTES];
};

/* 0 when type id describes exactly `size` bytes that can be decoded and
 * encoded; else -EINVAL with a short static reason in *why. */
int btf_json__check(const struct btf *btf, uint32_t id, size_t size, const char **why);

/* When type id decodes to a plain JSON integer (an int of 1, 2, 4 or 8
 * bytes that is not bool, char, an enum or a bitfield): its size, and its
 * signedness in *is_signed. 0 otherwise. Lets hot loops format such values
 * themselves with the same result as btf_json__write. */
unsigned btf_json__int_size(const struct btf *btf, uint32_t id, bool *is_signed);

/* Writes data[0..size) of type id as one JSON value. 0; -ELOOP past
 * BTF_JSON_DEPTH_MAX; -EINVAL when the type does not describe the bytes.
 * Writer overflow is left for the caller to see (w->overflow). */
int btf_json__write(struct jw *w, const struct btf *btf, uint32_t id, const void *data, size_t size);

/* Encodes the JSON value at token tok into out[0..size) (zeroed first).
 * ptr is the JSON pointer of tok in the request, the prefix of the
 * pointer an error reports. 0 or -EINVAL with err filled. */
int btf_json__parse(const struct btf *btf, uint32_t id, const struct jdoc *d, int tok, const char *ptr,
		    void *out, size_t size, struct btf_json_err *err);

/* The hex form. */
void btf_json__write_hex(struct jw *w, const void *data, size_t n);
int btf_json__parse_hex(const struct jdoc *d, int tok, const char *ptr, void *out, size_t n,
			struct btf_json_err *err);
/* Plain hex <-> bytes for cursors: hex_out holds 2n+1. 0 or -EINVAL. */
void btf_json__hex(const void *data, size_t n, char *hex_out);
int btf_json__unhex(const char *hex, size_t len, void *out, size_t n);

#endif
