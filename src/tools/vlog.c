/* Verifier logs in errors (see vlog.h). */
#include "vlog.h"

#include <errno.h>
#include <string.h>

#include "../limits.h"
#include "tool.h"

bool vlog__full(const char *log)
{
	return strlen(log) + 1 >= limits[LIM_VERIFIER_LOG_BYTES];
}

size_t vlog__tail_from(const char *log, size_t len, size_t keep, bool cut)
{
	size_t from = len > keep ? len - keep : 0;
	const char *nl = from || cut ? memchr(log + from, '\n', len - from) : NULL;
	return nl && (size_t)(nl + 1 - log) < len ? (size_t)(nl + 1 - log) : from;
}

int vlog__reject(struct tool_ctx *ctx, const char *owner, const char *prog, const char *log, int rc)
{
	size_t n = strlen(log);
	bool cut = n > VLOG_TAIL_IN_ERROR || vlog__full(log) || rc == -ENOSPC;
	size_t from = vlog__tail_from(log, n, VLOG_TAIL_IN_ERROR, cut);
	tool__fail(ctx, ERR_VERIFIER_REJECTED,
		   "the verifier rejected program '%s'%s%s (%s); its log's last lines say why", prog,
		   owner ? " of " : "", owner ? owner : "",
		   rc == -ENOSPC ? "its log was longer than verifier_log_bytes" : strerror(-rc));
	jw__kstr(&ctx->err->ctx, "program", prog);
	jw__kint(&ctx->err->ctx, "errno", -rc);
	jw__key(&ctx->err->ctx, "verifier_log");
	jw__strn(&ctx->err->ctx, log + from, n - from);
	jw__kbool(&ctx->err->ctx, "verifier_log_cut", cut);
	return -1;
}
