/* Shared tool plumbing: errors, argument access, paging fields. */
#include "tool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../assert.h"
#include "../core/clock.h"
#include "../json/schema.h"
#include "../kern/owned.h"
#include "../mem/heap.h"
#include "../sys/caps.h"
#include "../sys/sysfs.h"

const char *tool__cat_name(enum err_cat c)
{
	return err_cat_names[c];
}

static int vfail(struct tool_ctx *ctx, enum err_code code, const char *fmt, va_list ap)
{
	struct tool_err *e = ctx->err;
	if (e->set)
		return -1;     /* the first failure is the one that explains */
	e->set = true;
	e->id = code;
	e->cat = err_defs[code].cat;
	e->recoverable = err_defs[code].recoverable;
	e->code = err_defs[code].name;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	return -1;
}

int tool__fail(struct tool_ctx *ctx, enum err_code code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail(ctx, code, fmt, ap);
	va_end(ap);
	return -1;
}

enum err_code tool__errno_err(int err)
{
	switch (err) {
	case EPERM: return ERR_EPERM;
	case EACCES: return ERR_EACCES;
	case ENOENT: return ERR_ENOENT;
	case ENOMEM: return ERR_ENOMEM;
	case E2BIG: return ERR_E2BIG;
	case EINVAL: return ERR_EINVAL;
	case EBUSY: return ERR_EBUSY;
	case EEXIST: return ERR_EEXIST;
	case ENOSPC: return ERR_ENOSPC;
	case EOPNOTSUPP: return ERR_EOPNOTSUPP;
	case ENODEV: return ERR_ENODEV;
	case ENOTDIR: return ERR_ENOTDIR;
	case EISDIR: return ERR_EISDIR;
	case ENAMETOOLONG: return ERR_ENAMETOOLONG;
	case ELOOP: return ERR_ELOOP;
	case EBADF: return ERR_EBADF;
	case EFAULT: return ERR_EFAULT;
	case ENOSYS: return ERR_ENOSYS;
	case ESRCH: return ERR_ESRCH;
	case ENXIO: return ERR_ENXIO;
	case EAGAIN: return ERR_EAGAIN;
	case ETIMEDOUT: return ERR_ETIMEDOUT;
	case ERANGE: return ERR_ERANGE;
	case EROFS: return ERR_EROFS;
	case 524: return ERR_ENOTSUPP;   /* kernel-internal, leaks out of bpf() */
	default: return ERR_EKERNEL;
	}
}

const char *tool__errno_code(int err)
{
	return err_defs[tool__errno_err(err)].name;
}

void tool__ctx_begin(struct tool_ctx *ctx)
{
	ctx->heap_refused0 = heap__refused_here();
}

/* An ENOMEM after the heap cap refused an allocation this thread asked for
 * since mark is the heap_bytes limit's doing: said as such
 * (LIMIT_HEAP_BYTES), not as an "out of memory" that could be the kernel's.
 * Per thread: a context is made on the worker that runs it, so another
 * call's refusal is never counted. Returns -1 when it answered, else 0. */
static int fail_heap_cap(struct tool_ctx *ctx, uint64_t mark, const char *what)
{
	if (heap__refused_here() == mark)
		return 0;
	struct heap_stats hs;
	heap__stats(&hs);
	tool__fail_limit(ctx, LIM_HEAP_BYTES, "%s: the heap cap (heap_bytes, %llu bytes, %llu in use) refused memory "
			 "this call needed; raise --limit heap_bytes=N, or ask for less (a smaller object, page, map "
			 "or duration)", what, (unsigned long long)hs.cap, (unsigned long long)hs.in_use);
	jw__kint(&ctx->err->ctx, "errno", ENOMEM);
	return -1;
}

int tool__fail_errno(struct tool_ctx *ctx, int neg_errno, const char *fmt, ...)
{
	int err = neg_errno < 0 ? -neg_errno : neg_errno;
	char what[LIMIT_ERROR_MSG_BYTES / 2];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ctx->err->set)
		return -1;
	if (err == ENOMEM && fail_heap_cap(ctx, ctx->heap_refused0, what))
		return -1;
	const char *hint = "";
	if (err == EPERM || err == EACCES)
		hint = " (needs root or CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN; see `info` capabilities)";
	else if (err == ENOMEM)
		hint = " (the heap_bytes cap or RLIMIT_MEMLOCK may be too low)";
	tool__fail(ctx, tool__errno_err(err), "%s: %s%s", what, strerror(err), hint);
	jw__kint(&ctx->err->ctx, "errno", err);
	return -1;
}

int tool__need_cap(struct tool_ctx *ctx, unsigned cap, const char *why)
{
	if (caps__has(cap) || caps__has(CAP_SYS_ADMIN))
		return 0;
	tool__fail(ctx, ERR_MISSING_CAPABILITY,
		   "%s needs %s%s, which this server does not hold; run it with that capability",
		   why, caps__name(cap), cap == CAP_SYS_ADMIN ? "" : " (or CAP_SYS_ADMIN)");
	jw__kstr(&ctx->err->ctx, "capability", caps__name(cap));
	return -1;
}

/* The context every missing-filesystem error carries: what, where, the fix. */
static int missing_ctx(struct tool_ctx *ctx, const char *fstype, const char *path, const char *fix)
{
	jw__kstr(&ctx->err->ctx, "missing", fstype);
	jw__kstr(&ctx->err->ctx, "path", path);
	jw__kstr(&ctx->err->ctx, "fix", fix);
	return -1;
}

int tool__need_mount(struct tool_ctx *ctx, const char *fstype, const char *why)
{
	const struct sysfs_known_mount *k = sysfs__known_mount(fstype);
	if (!k || sysfs__mounted_at(fstype, k->dir))
		return 0;
	tool__fail(ctx, k->missing,
		   "%s needs %s mounted at %s, and it is not: mount it (%s; in a container, mount or bind it "
		   "when starting the container) and call again", why, fstype, k->dir, k->command);
	return missing_ctx(ctx, fstype, k->dir, k->command);
}

int tool__tracefs_denied(struct tool_ctx *ctx, const char *why)
{
	tool__fail(ctx, ERR_TRACEFS_DENIED,
		   "%s reads tracefs, which is mounted but not readable by this process (uid %u; tracefs is "
		   "mode 0700 root): run as uid 0, or add CAP_DAC_READ_SEARCH", why, (unsigned)geteuid());
	return -1;
}

int tool__need_btf(struct tool_ctx *ctx, const char *why)
{
	struct stat st;
	const char *cmd = sysfs__known_mount("sysfs")->command;
	if (!stat(BTF_VMLINUX_PATH, &st))
		return 0;
	if (!sysfs__mounted_at("sysfs", "/sys")) {
		tool__fail(ctx, ERR_BTF_MISSING,
			   "%s needs the kernel's BTF at " BTF_VMLINUX_PATH ", and sysfs is not mounted at /sys: "
			   "mount it (%s; in a container, -v /sys:/sys:ro) and call again", why, cmd);
		return missing_ctx(ctx, "sysfs", BTF_VMLINUX_PATH, cmd);
	}
	tool__fail(ctx, ERR_NO_VMLINUX_BTF,
		   "%s needs the kernel's BTF, and this kernel exposes no " BTF_VMLINUX_PATH
		   " (built without CONFIG_DEBUG_INFO_BTF)", why);
	jw__kstr(&ctx->err->ctx, "path", BTF_VMLINUX_PATH);
	return -1;
}

int tool__fail_limit(struct tool_ctx *ctx, enum limit_id lim, const char *fmt, ...)
{
	const char *n = limit_defs[lim].name;
	va_list ap;
	va_start(ap, fmt);
	vfail(ctx, err__limit(lim), fmt, ap);
	va_end(ap);
	jw__kstr(&ctx->err->ctx, "limit", n);
	jw__kuint(&ctx->err->ctx, "value", limits[lim]);
	jw__kuint(&ctx->err->ctx, "max", limit_defs[lim].max);
	return -1;
}

uint64_t tool__heap_mark(void)
{
	return heap__refused_here();
}

int tool__fail_heap(struct tool_ctx *ctx, uint64_t mark, const char *what)
{
	return fail_heap_cap(ctx, mark, what);
}

bool tool__allowed(const struct tool_env *env, const struct tool *t)
{
	const struct config *c = env->cfg;
	ASSERT(t->schema < SCHEMA__COUNT);
	if (sch_tools[t->schema].profile > env->profile)
		return false;
	for (unsigned k = 0; k < c->n_deny; k++)
		if (!strcmp(c->deny[k], t->name))
			return false;
	if (!c->n_allow)
		return true;
	for (unsigned k = 0; k < c->n_allow; k++)
		if (!strcmp(c->allow[k], t->name))
			return true;
	return false;
}

/* Whether object schema node requires a member called name. */
static bool requires(unsigned node, const char *name)
{
	const struct sch_node *n = &sch_nodes[node];
	for (unsigned i = 0; i < n->prop_count; i++) {
		const struct sch_prop *p = &sch_props[n->prop_first + i];
		if (p->required && !strcmp(p->name, name))
			return true;
	}
	return false;
}

/* Whether it describes one (required or not). */
static bool has_prop(unsigned node, const char *name)
{
	const struct sch_node *n = &sch_nodes[node];
	for (unsigned i = 0; i < n->prop_count; i++)
		if (!strcmp(sch_props[n->prop_first + i].name, name))
			return true;
	return false;
}

bool tool__is_tracer(const struct tool *t)
{
	const struct sch_tool *s = &sch_tools[t->schema];
	return requires(s->output, "tracer") && requires(s->output, "stopped_by") && has_prop(s->input, "duration_ms");
}

int tool__defer(struct tool_ctx *ctx, const struct job_ops *ops, void *st, const int *fds, unsigned n_fds,
		uint64_t duration_ms)
{
	return ctx->host->defer(ctx, ops, st, fds, n_fds, duration_ms);
}

int tool__trace_read(struct tool_ctx *ctx, const char *handle, bool stop)
{
	return ctx->host->trace_read(ctx, handle, stop);
}

void tool__trace_list(struct tool_ctx *ctx, struct jw *w)
{
	ctx->host->trace_list(ctx, w);
}

int tool__trace_room(struct tool_ctx *ctx)
{
	return ctx->host->trace_room(ctx);
}

void tool__progress(struct tool_ctx *ctx, uint64_t progress, uint64_t total, const char *message)
{
	if (ctx->progress_token)
		ctx->host->progress(ctx, progress, total, message);
}

int tool__admit(struct tool_ctx *ctx, const struct owned_need *need)
{
	enum limit_id hit;
	uint64_t held;
	if (!owned__admit(ctx->objs, need, &hit, &held))
		return 0;
	uint64_t want = hit == LIM_PROGRAMS || hit == LIM_PROGRAMS_TOTAL ? need->programs
			: hit == LIM_MAPS || hit == LIM_MAPS_TOTAL	 ? need->maps
			: hit == LIM_LINKS || hit == LIM_LINKS_TOTAL	 ? need->links
									 : need->map_bytes;
	bool total = hit == LIM_PROGRAMS_TOTAL || hit == LIM_MAPS_TOTAL || hit == LIM_LINKS_TOTAL ||
		     hit == LIM_MAP_MEMORY_BYTES_TOTAL;
	tool__fail_limit(ctx, hit, "this call needs %llu more against %s (%llu), and %s %llu: %s",
			 (unsigned long long)want, limit_defs[hit].name, (unsigned long long)limits[hit],
			 total ? "all sessions together hold" : "this session holds", (unsigned long long)held,
			 total ? "wait for other sessions to release theirs, or raise the total on the server"
			       : "unload_program or detach_link what this session no longer needs");
	jw__kuint(&ctx->err->ctx, "held", held);
	jw__kuint(&ctx->err->ctx, "needed", want);
	return -1;
}

#define RUN_JSON_TOKENS 64   /* arguments a resource passes to its tool */

int tool__run_json(struct tool_ctx *ctx, const struct tool *t, const char *args_json)
{
	struct json_perr e;
	struct jdoc *d = arena__alloc(ctx->scratch, sizeof(*d));
	jsmntok_t *tok = arena__alloc(ctx->scratch, RUN_JSON_TOKENS * sizeof(*tok));
	if (!d || !tok)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory for %s's arguments", t->name);
	ASSERT(!jdoc__parse(d, args_json, strlen(args_json), tok, RUN_JSON_TOKENS, 8, &e));
	ctx->doc = d, ctx->args = 0, ctx->tool = t;
	return t->run(ctx);
}

int tool__arg(struct tool_ctx *ctx, const char *key)
{
	return ctx->args < 0 ? -1 : jdoc__get(ctx->doc, ctx->args, key);
}

const char *tool__arg_str(struct tool_ctx *ctx, const char *key)
{
	int t = tool__arg(ctx, key);
	if (!jdoc__is_str(ctx->doc, t))
		return NULL;
	/* Unescaping never lengthens the text: raw length bounds the copy. */
	size_t cap = (size_t)(ctx->doc->t[t].end - ctx->doc->t[t].start) + 8;
	char *buf = arena__alloc(ctx->scratch, cap);
	if (!buf || jdoc__str(ctx->doc, t, buf, cap, NULL))
		return NULL;
	return buf;
}

int64_t tool__arg_int(struct tool_ctx *ctx, const char *key, int64_t dflt)
{
	int64_t v;
	int t = tool__arg(ctx, key);
	return t >= 0 && !jdoc__int(ctx->doc, t, &v) ? v : dflt;
}

int tool__duration_ms(struct tool_ctx *ctx, uint64_t dflt, uint64_t *out)
{
	uint64_t cap = limits[LIM_TRACE_MS];
	if (tool__in_background(ctx))
		dflt = cap;
	*out = (uint64_t)tool__arg_int(ctx, "duration_ms", (int64_t)(dflt < cap ? dflt : cap));
	if (*out <= cap)
		return 0;
	return tool__fail_limit(ctx, LIM_TRACE_MS, "duration_ms %llu is over the trace_ms cap (%llu); ask for less, "
				"or start the server with a higher --limit trace_ms", (unsigned long long)*out,
				(unsigned long long)cap);
}

bool tool__arg_bool(struct tool_ctx *ctx, const char *key, bool dflt)
{
	int t = tool__arg(ctx, key);
	return jdoc__is_bool(ctx->doc, t) ? jdoc__is_true(ctx->doc, t) : dflt;
}

bool tool__expired(struct tool_ctx *ctx)
{
	return now_ns() > ctx->deadline_ns;
}

int tool__page_args(struct tool_ctx *ctx, uint64_t dflt, uint64_t *limit, uint64_t *offset)
{
	uint64_t cap = limits[LIM_LIST_ITEMS];
	*limit = (uint64_t)tool__arg_int(ctx, "limit", (int64_t)(dflt < cap ? dflt : cap));
	*offset = (uint64_t)tool__arg_int(ctx, "offset", 0);
	if (*limit > cap)
		return tool__fail_limit(ctx, LIM_LIST_ITEMS, "limit %llu is over the list_items cap; page with offset",
					(unsigned long long)*limit);
	return 0;
}

void tool__page_fields(struct jw *w, uint64_t total, uint64_t offset, uint64_t returned)
{
	jw__kuint(w, "total", total);
	jw__kuint(w, "offset", offset);
	jw__kuint(w, "returned", returned);
	jw__kbool(w, "truncated", offset + returned < total);
}

const struct tool *tool__find(const char *name, size_t len)
{
	for (unsigned k = 0; k < tool_count; k++)
		if (strlen(tool_table[k]->name) == len && !memcmp(tool_table[k]->name, name, len))
			return tool_table[k];
	return NULL;
}
