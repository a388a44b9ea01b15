/* The limits table and its one parser. */
#include "limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct limit_def limit_defs[LIM__COUNT] = {
#define X(id, n, d, lo, hi, w) [LIM_##id] = { .name = n, .def = d, .min = lo, .max = hi, .why = w },
	LIMITS_TABLE(X)
#undef X
};

uint64_t limits[LIM__COUNT] = {
#define X(id, n, d, lo, hi, w) [LIM_##id] = d,
	LIMITS_TABLE(X)
#undef X
};

void limits__reset(void)
{
	for (int i = 0; i < LIM__COUNT; i++)
		limits[i] = limit_defs[i].def;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	uint64_t mult = 1;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end == 'K' || *end == 'k')
		mult = KIB, end++;
	else if (*end == 'M' || *end == 'm')
		mult = MIB, end++;
	if (*end)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -EINVAL;
	*out = v * mult;
	return 0;
}

int limits__set(const char *spec, char *err, unsigned err_len)
{
	const char *eq = strchr(spec, '=');
	uint64_t v;

	if (!eq) {
		snprintf(err, err_len, "limit '%s' must be NAME=VALUE", spec);
		return -EINVAL;
	}
	for (int i = 0; i < LIM__COUNT; i++) {
		const struct limit_def *d = &limit_defs[i];
		if (strlen(d->name) != (size_t)(eq - spec) || strncmp(d->name, spec, eq - spec))
			continue;
		if (parse_size(eq + 1, &v) || v < d->min || v > d->max) {
			snprintf(err, err_len, "limit %s=%s is out of range [%llu, %llu]",
				 d->name, eq + 1, (unsigned long long)d->min, (unsigned long long)d->max);
			return -EINVAL;
		}
		limits[i] = v;
		return 0;
	}
	snprintf(err, err_len, "unknown limit '%.*s' (see --help for the list)", (int)(eq - spec), spec);
	return -EINVAL;
}
