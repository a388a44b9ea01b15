/* The error table (see errors.h). */
#include "errors.h"

#include <string.h>

const struct err_def err_defs[ERR__COUNT] = {
#define X(code, c, rec, m) [ERR_##code] = { .name = #code, .cat = CAT_##c, .recoverable = rec, .meaning = m },
	ERRORS(X)
#undef X
#define X(id, n, d, lo, hi, why) [ERR_LIMIT_##id] = { .name = "LIMIT_" #id, .cat = CAT_RESOURCE, \
	.recoverable = true, .meaning = "hit the " n " limit: " why },
	LIMITS_TABLE(X)
#undef X
};

const char *const err_cat_names[CAT__COUNT] = {
	[CAT_VALIDATION] = "validation", [CAT_PERMISSION] = "permission", [CAT_RESOURCE] = "resource",
	[CAT_KERNEL] = "kernel", [CAT_INTERNAL] = "internal",
};

enum err_code err__find(const char *name)
{
	for (int i = 0; i < ERR__COUNT; i++)
		if (!strcmp(err_defs[i].name, name))
			return (enum err_code)i;
	return ERR__COUNT;
}
