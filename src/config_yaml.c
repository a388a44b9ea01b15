/* --config in YAML (see config_yaml.h): the table of keys, and a walk over
 * the document that turns each key into option settings, in file order. */
#include "config_yaml.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yaml.h"

#define KEY_PATH_BYTES 128   /* a dotted key path; the longest we know is 45 */
#define VALUE_BYTES    192   /* a value made here: "uid:NAME=PROFILE" (NAME < 64), "call_ms=30000" */

/* What `tools.deploy.enabled: false` denies: the tools that put code into
 * the kernel (load, attach) or keep it there past its session (pin). */
#define DEPLOY_TOOLS "load_program,attach_program,pin_object"
_Static_assert(sizeof(DEPLOY_TOOLS) <= CONFIG_YAML_DENY_BYTES, "the deny buffer holds the deploy tools");

enum kind {
	K_SECTION,    /* a mapping of the keys below it */
	K_STRING,     /* a scalar: the option's value */
	K_INT,        /* an unquoted integer: --limit target=N */
	K_MIB,        /* an unquoted integer of MiB: --limit target=NM */
	K_DURATION,   /* 30s, 500ms, 5m, 1h or a number of seconds: --limit target=MS */
	K_EACH,       /* a list: the option once per item */
	K_ACCESS,     /* a list of users (target "uid") or groups ("gid"): --access per item */
	K_PROFILE,    /* access_control.profile: checked here, used by K_ACCESS */
	K_DEPLOY,     /* true: nothing; false: --deny-tools DEPLOY_TOOLS */
	K_SANDBOX,    /* true: nothing (the default); false: --no-sandbox */
	K_REFUSED,    /* a seed key we do not honour: why says what to do instead */
};

struct ykey {
	const char *path;
	enum kind kind;
	const char *target;   /* the option (K_STRING, K_EACH) or limit (K_INT, K_MIB, K_DURATION) */
	const char *why;      /* K_REFUSED */
};

#define WHY_OPCODES "the verifier and the helper policy decide; opcode lists are not enforced"
#define WHY_TOOLS   "tools are chosen by the profile, --allow-tools and --deny-tools"

static const struct ykey keys[] = {
	{ "server", K_SECTION },
	{ "server.bind_address", K_STRING, "http" },
	{ "server.max_concurrent_requests", K_INT, "http_requests" },
	{ "server.request_timeout", K_DURATION, "call_ms" },
	{ "server.tls", K_REFUSED, NULL, "TLS is terminated in front of ebpf-mcp: see docs/deploy" },
	{ "security", K_SECTION },
	{ "security.audit_log", K_STRING, "audit-log" },
	{ "security.enable_audit", K_REFUSED, NULL, "audit_log turns the audit log on" },
	{ "security.enable_sandboxing", K_SANDBOX },
	{ "security.bytecode_validation", K_SECTION },
	{ "security.bytecode_validation.max_instructions", K_INT, "prog_insns" },
	{ "security.bytecode_validation.blocked_helpers", K_EACH, "block-helper" },
	{ "security.bytecode_validation.allowed_opcodes", K_REFUSED, NULL, WHY_OPCODES },
	{ "security.bytecode_validation.blocked_symbols", K_REFUSED, NULL, WHY_OPCODES },
	{ "security.access_control", K_SECTION },
	{ "security.access_control.permitted_users", K_ACCESS, "uid" },
	{ "security.access_control.permitted_groups", K_ACCESS, "gid" },
	{ "security.access_control.profile", K_PROFILE },
	{ "security.access_control.required_capabilities", K_REFUSED, NULL,
	  "capabilities are checked where a tool needs one, and the error names it (info lists those held)" },
	{ "resources", K_SECTION },
	{ "resources.max_programs", K_INT, "programs" },
	{ "resources.max_maps", K_INT, "maps" },
	{ "resources.max_memory_mb", K_MIB, "map_memory_bytes" },
	{ "resources.max_events_per_second", K_INT, "events_per_second" },
	{ "resources.max_cpu_time_ms", K_REFUSED, NULL,
	  "BPF programs run to completion (the verifier bounds them); server.request_timeout bounds each call" },
	{ "resources.cleanup_interval", K_REFUSED, NULL, "leases: --limit lease_ms" },
	{ "tools", K_SECTION },
	{ "tools.map_dump", K_SECTION },
	{ "tools.map_dump.max_entries", K_INT, "map_entries" },
	{ "tools.map_dump.enabled", K_REFUSED, NULL, WHY_TOOLS },
	{ "tools.map_dump.timeout", K_REFUSED, NULL, "server.request_timeout bounds every call" },
	{ "tools.trace", K_SECTION },
	{ "tools.trace.max_duration", K_DURATION, "trace_ms" },
	{ "tools.trace.max_events", K_INT, "stream_events" },
	{ "tools.trace.enabled", K_REFUSED, NULL, WHY_TOOLS },
	{ "tools.deploy", K_SECTION },
	{ "tools.deploy.enabled", K_DEPLOY },
	{ "tools.deploy.allowed_types", K_EACH, "only-prog-type" },
	{ "ebpf", K_REFUSED, NULL, "BTF and CO-RE are used whenever the kernel has them; what a session loads is "
				   "freed when it ends (leases: --limit lease_ms)" },
	{ "observability", K_REFUSED, NULL, "metrics are on /metrics of --http; logs go to stderr (--log-level) "
					    "and the audit log (security.audit_log)" },
};

struct walk {
	struct config *c;
	const struct yaml_doc *d;
	const char *file;
	config_set_fn set;
	char *err;            /* CONFIG_ERR_BYTES */
	char *deny;           /* DEPLOY_TOOLS, writable and lasting: --deny-tools splits it in place */
};

/* ---- errors ---------------------------------------------------------------- */

static int vfailf(struct walk *w, uint32_t line, uint32_t col, const char *fmt, va_list ap)
{
	int n = snprintf(w->err, CONFIG_ERR_BYTES, "%.200s:%u:%u: ", w->file, line, col);
	vsnprintf(w->err + n, CONFIG_ERR_BYTES - (size_t)n, fmt, ap);
	return -1;
}

static int failf(struct walk *w, uint32_t line, uint32_t col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfailf(w, line, col, fmt, ap);
	va_end(ap);
	return -1;
}

/* A bad value: at the value, after the key's path. */
static int bad(struct walk *w, const struct yaml_node *n, const char *path, const char *fmt, ...)
{
	char why[CONFIG_ERR_BYTES];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return failf(w, n->line, n->col, "%s: %s", path, why);
}

/* Option `name` = value through the option table; its message on failure. */
static int set_opt(struct walk *w, const struct yaml_node *n, const char *path, const char *name, const char *value)
{
	char why[CONFIG_ERR_BYTES];
	return w->set(w->c, name, value, why) ? bad(w, n, path, "%s", why) : 0;
}

/* ---- values ------------------------------------------------------------------ */

static const char *kind_name(const struct yaml_node *n)
{
	return n->kind == YAML_MAP ? "a mapping" : n->kind == YAML_SEQ ? "a list" : "a single value";
}

static int scalar_of(struct walk *w, const struct yaml_node *n, const char *path, const char *expects, const char **t)
{
	if (n->kind != YAML_SCALAR)
		return bad(w, n, path, "expects %s, not %s", expects, kind_name(n));
	if (!*n->text)
		return bad(w, n, path, "expects %s, and has no value", expects);
	*t = n->text;
	return 0;
}

/* A YAML integer: unquoted decimal digits (a leading 0 would be octal to
 * some readers). */
static int int_of(struct walk *w, const struct yaml_node *n, const char *path, unsigned long long *v)
{
	const char *t;
	if (scalar_of(w, n, path, "an integer", &t))
		return -1;
	size_t len = strlen(t);
	if (n->style != YAML_PLAIN)
		return bad(w, n, path, "expects an integer, not the string '%s' (write it without quotes)", t);
	if (len > 18 || strspn(t, "0123456789") != len || (t[0] == '0' && len > 1))
		return bad(w, n, path, "expects an integer (decimal digits, no leading 0), not '%s'", t);
	*v = strtoull(t, NULL, 10);
	return 0;
}

/* "30s", "500ms", "5m", "1h", or digits alone: seconds. */
static int duration_of(struct walk *w, const struct yaml_node *n, const char *path, unsigned long long *ms)
{
	static const struct {
		const char *unit;
		unsigned long long ms;
	} units[] = { { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 }, { "", 1000 } };
	const char *t;
	if (scalar_of(w, n, path, "a duration", &t))
		return -1;
	size_t d = strspn(t, "0123456789");
	for (unsigned k = 0; d && d <= 12 && k < sizeof(units) / sizeof(units[0]); k++)
		if (!strcmp(t + d, units[k].unit))
			return *ms = strtoull(t, NULL, 10) * units[k].ms, 0;
	return bad(w, n, path, "expects a duration (30s, 500ms, 5m, 1h, or a number of seconds), not '%s'", t);
}

static int bool_of(struct walk *w, const struct yaml_node *n, const char *path, bool *b)
{
	static const char *const yes[] = { "true", "True", "TRUE" }, *const no[] = { "false", "False", "FALSE" };
	const char *t;
	if (scalar_of(w, n, path, "true or false", &t))
		return -1;
	for (unsigned k = 0; n->style == YAML_PLAIN && k < 3; k++)
		if (!strcmp(t, yes[k]) || !strcmp(t, no[k]))
			return *b = !strcmp(t, yes[k]), 0;
	return bad(w, n, path, "expects true or false (unquoted), not '%s'", t);
}

/* A list of names: [a, b] or `- a` lines, each a non-empty scalar. */
static int list_of(struct walk *w, const struct yaml_node *n, const char *path)
{
	if (n->kind == YAML_SCALAR && !*n->text)
		return bad(w, n, path, "expects a list, and has no value");
	if (n->kind != YAML_SEQ)
		return bad(w, n, path, "expects a list ([a, b], or '- a' lines), not %s", kind_name(n));
	unsigned k = 0;
	for (int32_t i = n->first; i != YAML_NONE; i = w->d->nodes[i].next, k++) {
		const struct yaml_node *it = &w->d->nodes[i];
		if (it->kind != YAML_SCALAR || !*it->text)
			return bad(w, it, path, "item %u: expects a name, not %s", k + 1,
				   it->kind == YAML_SCALAR ? "an empty value" : kind_name(it));
	}
	return 0;
}

/* ---- keys that are more than one option ---------------------------------------- */

/* access_control.profile, when given: checked by --profile's own setter on
 * a copy of the config, so that it does not become the server's profile. */
static int profile_of(struct walk *w, int32_t access_control, const char **profile)
{
	static const char path[] = "security.access_control.profile";
	int32_t p = yaml__get(w->d, access_control, "profile");
	*profile = NULL;
	if (p == YAML_NONE)
		return 0;
	const struct yaml_node *n = &w->d->nodes[p];
	struct config scratch = *w->c;
	if (scalar_of(w, n, path, "readonly, observe or full", profile))
		return -1;
	char why[CONFIG_ERR_BYTES];
	return w->set(&scratch, "profile", *profile, why) ? bad(w, n, path, "%s", why) : 0;
}

/* permitted_users / permitted_groups: --access uid:NAME (or gid:), with
 * =PROFILE when access_control.profile says one; else the rule takes the
 * final --profile (opts.c). */
static int access(struct walk *w, const struct yaml_node *n, const struct ykey *k, const char *path)
{
	const char *profile;
	if (list_of(w, n, path) || profile_of(w, n->parent, &profile))
		return -1;
	for (int32_t i = n->first; i != YAML_NONE; i = w->d->nodes[i].next) {
		const struct yaml_node *it = &w->d->nodes[i];
		char rule[VALUE_BYTES];
		if (strchr(it->text, '='))   /* it would read as NAME=PROFILE */
			return bad(w, it, path, "'%s' is not a user or group name", it->text);
		int len = snprintf(rule, sizeof(rule), "%s:%s%s%s", k->target, it->text, profile ? "=" : "",
				   profile ? profile : "");
		if (len >= (int)sizeof(rule))   /* cut, the profile could be lost */
			return bad(w, it, path, "the name '%.40s...' is too long", it->text);
		if (set_opt(w, it, path, "access", rule))
			return -1;
	}
	return 0;
}

static int deploy(struct walk *w, const struct yaml_node *n, const char *path)
{
	bool on = true;
	if (bool_of(w, n, path, &on))
		return -1;
	if (on)
		return 0;
	memcpy(w->deny, DEPLOY_TOOLS, sizeof(DEPLOY_TOOLS));
	return set_opt(w, n, path, "deny-tools", w->deny);
}

/* The sandbox is on unless the file turns it off (for debugging, logged). */
static int sandbox(struct walk *w, const struct yaml_node *n, const char *path)
{
	bool on = true;
	if (bool_of(w, n, path, &on))
		return -1;
	return on ? 0 : set_opt(w, n, path, "no-sandbox", "");
}

/* ---- the walk -------------------------------------------------------------------------- */

static int walk_map(struct walk *w, int32_t m, const char *prefix);

static int limit(struct walk *w, const struct yaml_node *n, const struct ykey *k, const char *path)
{
	unsigned long long v = 0;
	char spec[VALUE_BYTES];
	int rc = k->kind == K_DURATION ? duration_of(w, n, path, &v) : int_of(w, n, path, &v);
	if (rc)
		return -1;
	snprintf(spec, sizeof(spec), "%s=%llu%s", k->target, v, k->kind == K_MIB ? "M" : "");
	return set_opt(w, n, path, "limit", spec);
}

static int each(struct walk *w, const struct yaml_node *n, const struct ykey *k, const char *path)
{
	if (list_of(w, n, path))
		return -1;
	for (int32_t i = n->first; i != YAML_NONE; i = w->d->nodes[i].next)
		if (set_opt(w, &w->d->nodes[i], path, k->target, w->d->nodes[i].text))
			return -1;
	return 0;
}

static int section(struct walk *w, int32_t i, const char *path)
{
	const struct yaml_node *n = &w->d->nodes[i];
	if (n->kind == YAML_MAP)
		return walk_map(w, i, path);
	if (n->kind == YAML_SCALAR && n->style == YAML_PLAIN && !*n->text)
		return 0;   /* `tools:` with nothing under it */
	return bad(w, n, path, "expects keys under it, not %s", kind_name(n));
}

static int apply(struct walk *w, const struct ykey *k, int32_t i, const char *path)
{
	const struct yaml_node *n = &w->d->nodes[i];
	const char *t;
	switch (k->kind) {
	case K_SECTION: return section(w, i, path);
	case K_STRING: return scalar_of(w, n, path, "a value", &t) || set_opt(w, n, path, k->target, t) ? -1 : 0;
	case K_INT:
	case K_MIB:
	case K_DURATION: return limit(w, n, k, path);
	case K_EACH: return each(w, n, k, path);
	case K_ACCESS: return access(w, n, k, path);
	case K_PROFILE: return profile_of(w, n->parent, &t);
	case K_DEPLOY: return deploy(w, n, path);
	case K_SANDBOX: return sandbox(w, n, path);
	case K_REFUSED: break;
	}
	return failf(w, n->key_line, n->key_col, "key '%s' is not supported: %s", path, k->why);
}

static const struct ykey *find_key(const char *path)
{
	for (unsigned k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
		if (!strcmp(keys[k].path, path))
			return &keys[k];
	return NULL;
}

static int walk_map(struct walk *w, int32_t m, const char *prefix)
{
	for (int32_t i = w->d->nodes[m].first; i != YAML_NONE; i = w->d->nodes[i].next) {
		const struct yaml_node *n = &w->d->nodes[i];
		char path[KEY_PATH_BYTES];
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", n->key);
		/* a dot inside a key would pass for a nested one */
		bool dotted = strchr(n->key, '.') != NULL;
		const struct ykey *k = dotted ? NULL : find_key(path);
		if (!k)
			return failf(w, n->key_line, n->key_col, "key '%s' is not supported: %s", path,
				     dotted ? "a '.' in a key: nest the keys instead, each under the one before" : "unknown key");
		if (apply(w, k, i, path))
			return -1;
	}
	return 0;
}

int config_yaml__apply_doc(struct config *c, const char *path, const struct yaml_doc *d, char *deny,
			  config_set_fn set, char *err)
{
	struct walk w = { .c = c, .d = d, .file = path, .set = set, .err = err, .deny = deny };
	const struct yaml_node *root = &d->nodes[0];
	if (root->kind != YAML_MAP)
		return failf(&w, root->line, root->col, "expected keys (server:, security:, resources:, tools:), not %s",
			     kind_name(root));
	return walk_map(&w, 0, "");
}

int config_yaml__apply(struct config *c, const char *path, const char *text, size_t len, config_set_fn set,
		       char *err)
{
	struct file {
		struct yaml_doc doc;
		char deny[CONFIG_YAML_DENY_BYTES];
	} *f = malloc(sizeof(*f));
	struct yaml_error e;
	if (!f)
		return snprintf(err, CONFIG_ERR_BYTES, "%.200s: no memory for its document", path), -1;
	if (yaml__parse(&f->doc, text, len, &e)) {
		snprintf(err, CONFIG_ERR_BYTES, "%.200s:%u:%u: %s", path, e.line, e.col, e.why);
		free(f);
		return -1;
	}
	/* f stays allocated, even after an error: options may point into it */
	return config_yaml__apply_doc(c, path, &f->doc, f->deny, set, err);
}
