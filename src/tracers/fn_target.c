/* Finding and checking trace_function's target (see fn_target.h). */
#include "fn_target.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/btf.h>

#include "../sys/kallsyms.h"
#include "../sys/sysfs.h"
#include "../tools/search.h"
#include "../tools/tool.h"

#define FT_IO_BYTES       (64u * 1024u)   /* stdio buffer: fewer read()s over seq_file */
#define FT_EXPIRY_EVERY   4096u           /* lines between deadline checks */
#define FT_BTF_IDS        8u              /* types of one name looked at (a FUNC and its kin) */

static int ft_expired(struct tool_ctx *ctx, uint64_t n, const char *what)
{
	if (n % FT_EXPIRY_EVERY || !tool__expired(ctx))
		return 0;
	return tool__fail_limit(ctx, LIM_CALL_MS, "checking the function against %s took longer than call_ms", what);
}

/* The failure of one check, with the neighbours that check offered. */
static int ft_fail(struct tool_ctx *ctx, enum err_code code, const char *check, const struct search *s,
		   const char *over, const char *msg)
{
	tool__fail(ctx, code, "%s", msg);
	struct jw *w = &ctx->err->ctx;
	jw__kstr(w, "function", s->pattern);
	jw__kstr(w, "check", check);
	jw__kstr(w, "pointer", "/function");
	search__write(w, s, over);
	return -1;
}

/* ---- 1. kallsyms ------------------------------------------------------------ */

static bool ft_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

static int ft_kallsyms(struct tool_ctx *ctx, struct fn_target *t, struct search *s)
{
	struct kallsyms k;
	struct kallsyms_sym sym;
	char *io = arena__alloc(ctx->scratch, FT_IO_BYTES);
	int r = kallsyms__open(&k, KALLSYMS_PATH, limits[LIM_SCAN_ITEMS], io, io ? FT_IO_BYTES : 0), rc = 0;
	if (r && tool__need_mount(ctx, "proc", "trace_function (/proc/kallsyms)"))
		return -1;
	if (r)
		return tool__fail_errno(ctx, r, "opening " KALLSYMS_PATH);
	while (!rc && (r = kallsyms__next(&k, &sym)) > 0) {
		rc = ft_expired(ctx, k.lines, KALLSYMS_PATH);
		if (!ft_text(sym.type) || kallsyms__padding(sym.name))
			continue;
		if (strcmp(sym.name, t->name)) {
			if (!t->symbols)
				search__offer(s, sym.name, 0);   /* only shown if it is not there */
			continue;
		}
		if (!t->symbols++ && sym.module)
			snprintf(t->module, sizeof(t->module), "%s", sym.module);
	}
	kallsyms__close(&k);
	if (rc)
		return rc;
	if (r == -E2BIG)
		return tool__fail_limit(ctx, LIM_SCAN_ITEMS, KALLSYMS_PATH " has more than %llu lines",
					(unsigned long long)limits[LIM_SCAN_ITEMS]);
	if (r < 0)
		return tool__fail_errno(ctx, r, "reading " KALLSYMS_PATH);
	if (t->symbols)
		return 0;
	char msg[LIMIT_ERROR_MSG_BYTES];
	snprintf(msg, sizeof(msg), "'%.128s' is not a function symbol in " KALLSYMS_PATH ": there is no such function, "
		 "or the compiler inlined every call to it (an inlined function has no code of its own to attach to)",
		 t->name);
	return ft_fail(ctx, ERR_NO_SUCH_FUNCTION, "kallsyms", s, "function symbols of " KALLSYMS_PATH, msg);
}

/* ---- 2. available_filter_functions -------------------------------------------- */

/* Lines are "name" or "name [module]"; 1 when it names the target. */
static int ft_aff_line(const struct fn_target *t, char *line)
{
	char *sp = line + strcspn(line, " \n"), *mod = NULL;
	if (sp[0] == ' ' && sp[1] == '[') {
		mod = sp + 2;
		mod[strcspn(mod, "]")] = 0;
	}
	*sp = 0;
	if (strcmp(line, t->name))
		return 0;
	return !t->module[0] || (mod && !strcmp(mod, t->module));
}

static int ft_aff_scan(struct tool_ctx *ctx, struct fn_target *t, struct search *s, FILE *f, const char *path)
{
	char line[KALLSYMS_LINE_BYTES];
	uint64_t lines = 0;
	int rc = 0;
	t->traceable = 0;
	while (!rc && fgets(line, sizeof(line), f)) {
		if (++lines > limits[LIM_SCAN_ITEMS])
			return tool__fail_limit(ctx, LIM_SCAN_ITEMS, "%s has more than %llu lines", path,
						(unsigned long long)limits[LIM_SCAN_ITEMS]);
		rc = ft_expired(ctx, lines, path);
		if (ft_aff_line(t, line))
			t->traceable = 1;
		else if (!t->traceable)
			search__offer(s, line, 0);
	}
	if (!rc && ferror(f))
		rc = tool__fail_errno(ctx, -EIO, "reading %s", path);
	return rc;
}

static int ft_traceable(struct tool_ctx *ctx, struct fn_target *t, struct search *s)
{
	char root[LIMIT_PATH_BYTES], path[LIMIT_PATH_BYTES + 32];
	t->traceable = -1;
	if (sysfs__tracefs_dir(root, sizeof(root))) {
		snprintf(t->note, sizeof(t->note), "not checked against available_filter_functions: tracefs is not "
			 "mounted (mount -t tracefs tracefs /sys/kernel/tracing)");
		return 0;
	}
	snprintf(path, sizeof(path), "%s/available_filter_functions", root);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(t->note, sizeof(t->note), "not checked against available_filter_functions: %.160s: %s", path,
			 strerror(errno));
		return 0;
	}
	char *io = arena__alloc(ctx->scratch, FT_IO_BYTES);
	if (io)
		setvbuf(f, io, _IOFBF, FT_IO_BYTES);
	int rc = ft_aff_scan(ctx, t, s, f, path);
	fclose(f);
	if (rc || t->traceable)
		return rc;
	char msg[LIMIT_ERROR_MSG_BYTES];
	snprintf(msg, sizeof(msg), "'%.128s' is in " KALLSYMS_PATH " but not in %.160s: it is notrace (or in a section "
		 "ftrace does not patch), so fentry cannot attach to it and the kernel keeps kprobes off such code",
		 t->name, path);
	return ft_fail(ctx, ERR_FUNCTION_NOT_TRACEABLE, "available_filter_functions", s,
		       "functions in available_filter_functions", msg);
}

/* ---- 3. BTF ----------------------------------------------------------------------- */

static int ft_btf_open(struct tool_ctx *ctx, struct fn_target *t)
{
	int r = t->module[0] ? btf_cache__module(t->module, &t->btf) : btf_cache__vmlinux(&t->btf);
	if (!r)
		return 0;
	if (!t->module[0] || r != -ENOENT) {
		if (r == -ENOENT || r == -ESRCH)
			return tool__need_btf(ctx, "trace_function") ? -1 : tool__fail_errno(ctx, r, "reading vmlinux BTF");
		return tool__fail_errno(ctx, r, "reading the BTF of %s", t->module[0] ? t->module : "vmlinux");
	}
	tool__fail(ctx, ERR_NOT_IN_BTF, "'%s' is in module %s, which has no BTF (%s/%s is missing: the module was "
		   "built without CONFIG_DEBUG_INFO_BTF_MODULES), so its prototype cannot be decoded", t->name,
		   t->module, BTF_SYSFS_DIR, t->module);
	jw__kstr(&ctx->err->ctx, "function", t->name);
	jw__kstr(&ctx->err->ctx, "module", t->module);
	jw__kstr(&ctx->err->ctx, "check", "btf");
	return -1;
}

/* A name with a compiler suffix (".constprop.0") whose base name BTF
 * describes; the base goes to base. */
static bool ft_base_in_btf(const struct fn_target *t, char *base)
{
	uint32_t ids[FT_BTF_IDS];
	unsigned total = 0;
	size_t n = strcspn(t->name, ".");
	if (!n || !t->name[n])
		return false;
	memcpy(base, t->name, n);
	base[n] = 0;
	btf_cache__find_name(&t->btf, base, ids, FT_BTF_IDS, &total);
	for (unsigned i = 0; i < total && i < FT_BTF_IDS; i++)
		if (btf_is_func(btf__type_by_id(t->btf.btf, ids[i])))
			return true;
	return false;
}

/* Every FUNC of b (its own types, past a split BTF's base) as a neighbour. */
static void ft_btf_offer(const struct btf *b, struct search *s)
{
	const struct btf *base = btf__base_btf(b);
	uint32_t n = btf__type_cnt(b);
	for (uint32_t id = base ? btf__type_cnt(base) : 1; id < n; id++) {
		const struct btf_type *ty = btf__type_by_id(b, id);
		if (btf_is_func(ty))
			search__offer(s, btf__name_by_offset(b, ty->name_off), 0);
	}
}

static int ft_btf(struct tool_ctx *ctx, struct fn_target *t, struct search *s)
{
	uint32_t ids[FT_BTF_IDS];
	unsigned total = 0;
	if (ft_btf_open(ctx, t))
		return -1;
	const struct btf *b = t->btf.btf;
	btf_cache__find_name(&t->btf, t->name, ids, FT_BTF_IDS, &total);
	for (unsigned i = 0; i < total && i < FT_BTF_IDS; i++)
		if (btf_is_func(btf__type_by_id(b, ids[i]))) {
			t->func_id = ids[i];
			return 0;
		}
	ft_btf_offer(b, s);
	char msg[LIMIT_ERROR_MSG_BYTES], over[128], base[FN_TARGET_NAME_BYTES];
	bool copy = ft_base_in_btf(t, base);
	if (copy)
		snprintf(msg, sizeof(msg), "'%.96s' has no BTF description in %s: it is a copy of %.64s the compiler "
			 "specialized (.constprop, .isra, .part: parameters dropped or changed), which that prototype does "
			 "not describe; trace %.64s itself if it is traceable", t->name, t->btf.name, base, base);
	else
		snprintf(msg, sizeof(msg), "'%.128s' has no BTF description in %s (no FUNC of that name): without its "
			 "prototype the arguments cannot be decoded and fentry cannot attach (pahole leaves out functions "
			 "whose prototype differs between compilation units)", t->name, t->btf.name);
	snprintf(over, sizeof(over), "functions described in the BTF of %s", t->btf.name);
	ft_fail(ctx, ERR_NOT_IN_BTF, "btf", s, over, msg);
	if (copy)
		jw__kstr(&ctx->err->ctx, "copy_of", base);
	return -1;
}

/* ---- the three ---------------------------------------------------------------------- */

int fn_target__find(struct tool_ctx *ctx, const char *name, struct fn_target *t)
{
	memset(t, 0, sizeof(*t));
	if (strlen(name) >= sizeof(t->name))
		return tool__fail(ctx, ERR_BAD_TARGET, "function name is longer than %d bytes", FN_TARGET_NAME_BYTES - 1);
	strcpy(t->name, name);
	struct search *s = arena__alloc(ctx->scratch, sizeof(*s));
	if (!s)
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no scratch memory to check the function");
	search__init(s, name, true);
	if (ft_kallsyms(ctx, t, s))
		return -1;
	search__init(s, name, true);
	if (ft_traceable(ctx, t, s))
		return -1;
	search__init(s, name, true);
	if (ft_btf(ctx, t, s)) {
		fn_target__close(t);
		return -1;
	}
	return 0;
}

void fn_target__close(struct fn_target *t)
{
	if (t->btf.btf)
		btf_cache__close(&t->btf);
	t->btf.btf = NULL;
}
