/* What every attach function shares (attach.h): failing with the argument
 * named in context.pointer, and the name check. attach_program.c and the
 * per-kind files (attach_trace.c, attach_net.c) call it; it calls none of
 * them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attach.h"

void attach__pointer(struct attach_req *r, const char *field)
{
	jw__key(&r->ctx->err->ctx, "pointer");
	jw__strf(&r->ctx->err->ctx, "/%s", field);
}

int attach__missing(struct attach_req *r, const char *field, const char *what)
{
	tool__fail(r->ctx, ERR_MISSING_TARGET, "type '%s' needs `%s`: %s", r->type, field, what);
	attach__pointer(r, field);
	return -1;
}

int attach__bad(struct attach_req *r, const char *field, enum err_code code, const char *fmt, ...)
{
	char msg[LIMIT_ERROR_MSG_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tool__fail(r->ctx, code, "%s", msg);
	attach__pointer(r, field);
	return -1;
}

int attach__kernel(struct attach_req *r, int neg_errno, const char *field, const char *fmt, ...)
{
	char msg[LIMIT_ERROR_MSG_BYTES / 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tool__fail_errno(r->ctx, neg_errno, "%s", msg);
	if (field)
		attach__pointer(r, field);
	return -1;
}

int attach__unsupported(struct attach_req *r, const char *field, const char *fmt, ...)
{
	char msg[LIMIT_ERROR_MSG_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tool__fail(r->ctx, ERR_ATTACH_UNSUPPORTED, "%s", msg);
	jw__kstr(&r->ctx->err->ctx, "type", r->type);
	attach__pointer(r, field);
	return -1;
}

bool attach__name_ok(const char *s, const char *extra)
{
	if (!s[0] || s[0] == '.')
		return false;
	for (; *s; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '.' || c == '-' || (extra && strchr(extra, c));
		if (!ok)
			return false;
	}
	return true;
}
