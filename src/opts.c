/* Options (see opts.h): one table, three sources. */
#include "opts.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "config_yaml.h"
#include "limits.h"
#include "yaml.h"

#define OPTS_ERR_BYTES CONFIG_ERR_BYTES
#define CONFIG_BYTES   YAML_MAX_FILE_BYTES   /* one config file, either format; options keep pointers into it */
#define CONFIG_LINES   1024          /* option lines one config file may hold */

struct opt;
typedef int (*opt_set_fn)(struct config *c, const struct opt *o, const char *v, char *err);

struct opt {
	const char *name;     /* without the leading -- */
	const char *arg;      /* what the value is, for --help; NULL: a flag */
	opt_set_fn set;
	const char *help;
};

static bool want_help, want_version;

static int fail(char *err, const char *fmt, const char *a, const char *b)
{
	snprintf(err, OPTS_ERR_BYTES, fmt, a, b);
	return -1;
}

static int set_enum(const char *v, const char *const *names, unsigned n, int *out)
{
	for (unsigned k = 0; k < n; k++)
		if (!strcmp(v, names[k]))
			return *out = (int)k, 0;
	return -1;
}

static const char *const profile_names[] = { "readonly", "observe", "full" };
static const char *const level_names[] = { "debug", "info", "notice", "warning", "error", "critical", "alert",
					    "emergency" };

const char *config__profile_name(enum profile p)
{
	return profile_names[p];
}

const char *config__level_name(enum log_level l)
{
	return level_names[l];
}

static int set_profile(struct config *c, const struct opt *o, const char *v, char *err)
{
	int p;
	if (set_enum(v, profile_names, 3, &p))
		return fail(err, "--%s takes readonly, observe or full, not '%s'", o->name, v);
	c->profile = (enum profile)p;
	return 0;
}

static int set_level(struct config *c, const struct opt *o, const char *v, char *err)
{
	int l;
	if (set_enum(v, level_names, 8, &l))
		return fail(err, "--%s takes debug, info, notice, warning, error, critical, alert or emergency, not '%s'",
			    o->name, v);
	c->stderr_level = (enum log_level)l;
	return 0;
}

static int set_limit(struct config *c, const struct opt *o, const char *v, char *err)
{
	(void)c, (void)o;
	return limits__set(v, err, OPTS_ERR_BYTES) ? -1 : 0;
}

/* A comma list into a fixed table; the words stay in v's storage (argv or
 * the config buffer), so v is split in place. */
static int set_list(const char *v, const char **out, unsigned *n, const char *name, char *err)
{
	char *s = (char *)v;
	for (char *save = NULL, *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n >= CONFIG_MAX_TOOL_LIST)
			return fail(err, "--%s lists more than 64 tools%s", name, "");
		out[(*n)++] = tok;
	}
	return 0;
}

static int set_allow(struct config *c, const struct opt *o, const char *v, char *err)
{
	return set_list(v, c->allow, &c->n_allow, o->name, err);
}

static int set_deny(struct config *c, const struct opt *o, const char *v, char *err)
{
	return set_list(v, c->deny, &c->n_deny, o->name, err);
}

static int set_dir(struct config *c, const struct opt *o, const char *v, char *err)
{
	bool obj = !strcmp(o->name, "object-dir");
	unsigned *n = obj ? &c->n_object_dirs : &c->n_pin_dirs;
	if (*n >= PATHS_MAX_DIRS)
		return fail(err, "--%s given more than 16 times ('%s')", o->name, v);
	(obj ? c->object_dirs : c->pin_dirs)[(*n)++] = v;
	return 0;
}

static int set_audit(struct config *c, const struct opt *o, const char *v, char *err)
{
	(void)o, (void)err;
	c->audit_log = v;
	return 0;
}

static int set_policy(struct config *c, const struct opt *o, const char *v, char *err)
{
	char flag[40];
	snprintf(flag, sizeof(flag), "--%s", o->name);
	return policy__flag(&c->policy, flag, v, err, OPTS_ERR_BYTES) ? -1 : 0;
}

static int set_socket(struct config *c, const struct opt *o, const char *v, char *err)
{
	if (!*v || strlen(v) >= 108)   /* sun_path */
		return fail(err, "--%s needs a path under 108 bytes, not '%s'", o->name, v);
	c->socket_path = v;
	c->socket_set = true;
	return 0;
}

static int set_http(struct config *c, const struct opt *o, const char *v, char *err)
{
	const char *colon = strrchr(v, ':');
	if (!colon || colon == v || !colon[1] || strlen(v) > 64)
		return fail(err, "--%s takes ADDR:PORT (127.0.0.1:8080, [::1]:8080, localhost:8080), not '%s'", o->name, v);
	c->http_addr = v;
	return 0;
}

static int set_token_file(struct config *c, const struct opt *o, const char *v, char *err)
{
	if (!*v)
		return fail(err, "--%s needs a file of `name token profile` lines%s", o->name, "");
	c->token_file = v;
	return 0;
}

static int set_allow_host(struct config *c, const struct opt *o, const char *v, char *err)
{
	if (c->n_allow_hosts >= CONFIG_MAX_HOSTS)
		return fail(err, "--%s given more than 16 times ('%s')", o->name, v);
	if (!*v || strlen(v) > 255 || strpbrk(v, " \t/@"))
		return fail(err, "--%s takes a host name or HOST:PORT as clients send it in Host, not '%s'", o->name, v);
	c->allow_hosts[c->n_allow_hosts++] = v;
	return 0;
}

static int set_socket_mode(struct config *c, const struct opt *o, const char *v, char *err)
{
	char *end;
	unsigned long m = strtoul(v, &end, 8);
	if (!*v || *end || m > 0777)
		return fail(err, "--%s takes an octal mode such as 0660, not '%s'", o->name, v);
	c->socket_mode = (unsigned)m;
	return 0;
}

/* A user or group by name or number. */
static int lookup_id(const char *v, bool group, uint32_t *id)
{
	char *end;
	unsigned long n = strtoul(v, &end, 10);
	if (*v && !*end && n <= UINT32_MAX)
		return *id = (uint32_t)n, 0;
	if (group) {
		struct group *g = getgrnam(v);
		return g ? (*id = g->gr_gid, 0) : -1;
	}
	struct passwd *p = getpwnam(v);
	return p ? (*id = p->pw_uid, 0) : -1;
}

static int set_socket_group(struct config *c, const struct opt *o, const char *v, char *err)
{
	uint32_t gid;
	if (lookup_id(v, true, &gid))
		return fail(err, "--%s: no group '%s' (in /etc/group, or a number)", o->name, v);
	c->socket_group = gid, c->socket_group_set = true;
	return 0;
}

/* The PROFILE[+foreign] of an --access rule into r. */
static int access_profile(const char *v, const char *eq, struct access_rule *r, char *err)
{
	const char *plus = strchr(eq + 1, '+');
	char prof[16];
	int p;
	snprintf(prof, sizeof(prof), "%.*s", plus ? (int)(plus - eq - 1) : 15, eq + 1);
	if (set_enum(prof, profile_names, 3, &p) || (plus && strcmp(plus, "+foreign")))
		return fail(err, "--access %s: the profile is readonly, observe or full, optionally +foreign%s", v, "");
	r->profile = (enum profile)p;
	r->allow_foreign = plus != NULL;
	return 0;
}

/* uid:NAME|ID=PROFILE[+foreign] or gid:...; without =PROFILE the rule gets
 * --profile as it stands once every option is read (opts__parse), which is
 * what a YAML config's permitted_users and permitted_groups mean. */
static int set_access(struct config *c, const struct opt *o, const char *v, char *err)
{
	struct access_rule r = { 0 };
	const char *eq = strchr(v, '=');
	long name_len = (long)((eq ? eq : v + strlen(v)) - v) - 4;
	if (c->n_access >= CONFIG_MAX_ACCESS)
		return fail(err, "more than 64 --%s rules ('%s')", o->name, v);
	if ((strncmp(v, "uid:", 4) && strncmp(v, "gid:", 4)) || name_len < 1 || name_len >= CONFIG_NAME_BYTES)
		return fail(err, "--%s takes uid:NAME|ID[=PROFILE] or gid:NAME|ID[=PROFILE] (PROFILE readonly, observe "
			    "or full, optionally +foreign; none: --profile), not '%s'%s", o->name, v);
	r.group = v[0] == 'g';
	memcpy(r.name, v + 4, (size_t)name_len);
	r.profile_later = !eq;
	if (eq && access_profile(v, eq, &r, err))
		return -1;
	if (lookup_id(r.name, r.group, &r.id))
		return fail(err, "--access %s: no such %s (in /etc/passwd or /etc/group, or give the number)", v,
			    r.group ? "group" : "user");
	c->access[c->n_access++] = r;
	return 0;
}

static int set_format(struct config *c, const struct opt *o, const char *v, char *err)
{
	static const char *const names[] = { [FORMAT_JSON] = "json", [FORMAT_TABLE] = "table", [FORMAT_SVG] = "svg" };
	for (unsigned k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (!strcmp(v, names[k]))
			return c->format = (enum cli_format)k, 0;
	return fail(err, "--%s takes json, table or svg, not '%s'", o->name, v);
}

/* Flags: v is "" on the command line, or "true"/"false" (config files and
 * --flag=false). */
static int flag_value(const struct opt *o, const char *v, bool *b, char *err)
{
	if (!*v || !strcmp(v, "true"))
		return *b = true, 0;
	if (!strcmp(v, "false"))
		return *b = false, 0;
	return fail(err, "--%s is a flag (true or false), not '%s'", o->name, v);
}

static int set_validate(struct config *c, const struct opt *o, const char *v, char *err)
{
	return flag_value(o, v, &c->validate_output, err);
}

static int set_foreign(struct config *c, const struct opt *o, const char *v, char *err)
{
	return flag_value(o, v, &c->allow_foreign, err);
}

static int set_no_sandbox(struct config *c, const struct opt *o, const char *v, char *err)
{
	return flag_value(o, v, &c->no_sandbox, err);
}

static int set_help(struct config *c, const struct opt *o, const char *v, char *err)
{
	(void)c;
	return flag_value(o, v, o->name[0] == 'h' ? &want_help : &want_version, err);
}

static int load_config(struct config *c, const char *path, char *err);
static int set_by_name(struct config *c, const char *name, const char *v, char *err);

static int set_config(struct config *c, const struct opt *o, const char *v, char *err)
{
	(void)o;
	return load_config(c, v, err);
}

static const struct opt options[] = {
	{ "profile", "readonly|observe|full", set_profile, "tools on offer (default observe); serve: for uid 0 when no --access is "
							   "given, and for --access rules without a profile" },
	{ "allow-tools", "a,b,...", set_allow, "only these tools (within the profile)" },
	{ "deny-tools", "a,b,...", set_deny, "never these tools" },
	{ "limit", "NAME=VALUE", set_limit, "set a cap (K/M suffixes), repeatable; see below" },
	{ "validate-output", NULL, set_validate, "check every result against its outputSchema" },
	{ "log-level", "LEVEL", set_level, "stderr threshold (debug..emergency, default warning)" },
	{ "object-dir", "DIR", set_dir, "load_program reads ELF files only under DIR (repeatable)" },
	{ "pin-dir", "DIR", set_dir, "pin_object/unpin_object only under DIR on bpffs (repeatable)" },
	{ "audit-log", "FILE|-", set_audit, "one JSON line per tool call to FILE (appended) or stderr" },
	{ "config", "FILE", set_config, "options from FILE, one per line: `name value` or `name = value` (# comments); "
					"or the seed's YAML (server:, security:, resources:, tools:), see above" },
	{ "allow-foreign", NULL, set_foreign, "(full) also detach, unpin and write objects other sessions made" },
	{ "allow-helper", "NAME", set_policy, "load programs calling this helper or kfunc (repeatable)" },
	{ "block-helper", "NAME", set_policy, "refuse programs calling it (defaults: load_program's policy)" },
	{ "allow-prog-type", "TYPE", set_policy, "load programs of this type (libbpf name, e.g. lsm; repeatable)" },
	{ "block-prog-type", "TYPE", set_policy, "refuse programs of this type" },
	{ "only-prog-type", "TYPE", set_policy, "load programs of these types only (repeatable), in place of the "
						"default list; --allow-/--block-prog-type apply on top" },
	{ "socket", "PATH", set_socket, "serve: the unix socket (default " SOCKET_PATH_DEFAULT ")" },
	{ "socket-mode", "MODE", set_socket_mode, "serve: the socket's mode (default 0660)" },
	{ "socket-group", "GROUP", set_socket_group, "serve: the socket's group (name or number)" },
	{ "access", "uid:U=PROFILE", set_access, "serve: who may connect: uid:NAME|ID[=PROFILE] or gid:NAME|ID[=PROFILE], "
						 "PROFILE readonly|observe|full[+foreign] (none: --profile); the first match wins" },
	{ "http", "ADDR:PORT", set_http, "serve: Streamable HTTP on /mcp (with /healthz, /metrics); loopback unless "
					 "--token-file is given; beside --socket only when that is given too" },
	{ "token-file", "FILE", set_token_file, "serve --http: bearer tokens, lines `name token profile[+foreign]`" },
	{ "allow-host", "HOST", set_allow_host, "serve --http: a Host value accepted beside the bind address (repeatable)" },
	{ "format", "table|svg|json", set_format, "call: how the result is printed (default json; table draws histograms "
	  "as text bars, svg a flame graph of stacks)" },
	{ "no-sandbox", NULL, set_no_sandbox, "for debugging: no seccomp filter, no_new_privs or rlimits after "
					  "start-up (logged; info reports it)" },
	{ "help", NULL, set_help, "this text" },
	{ "version", NULL, set_help, "the version" },
};

static const struct opt *find_opt(const char *name, size_t len)
{
	for (unsigned k = 0; k < sizeof(options) / sizeof(options[0]); k++)
		if (strlen(options[k].name) == len && !strncmp(options[k].name, name, len))
			return &options[k];
	return NULL;
}

/* ---- config files --------------------------------------------------------- */

/* Option `name` set to v as a config file sets it (a flag takes "",
 * "true" or "false"): the one path from both file formats into the table. */
static int set_by_name(struct config *c, const char *name, const char *v, char *err)
{
	const struct opt *o = find_opt(name, strlen(name));
	if (!o || o->set == set_help)
		return fail(err, "unknown option '%s'%s", name, "");
	if (o->set == set_config)
		return fail(err, "config files do not nest%s%s", "", "");
	if (o->arg && !*v)
		return fail(err, "%s needs a value (%s)", name, o->arg);
	return o->set(c, o, v, err);
}

/* One line: "name value", "name = value" or "name" (a flag); # comments. */
static int config_line(struct config *c, char *line, unsigned lineno, char *err)
{
	char *p = line + strspn(line, " \t");
	if (!*p || *p == '#')
		return 0;
	char *name = p;
	p += strcspn(p, " \t=");
	char *end = p;
	p += strspn(p, " \t");
	if (*p == '=')
		p += 1 + strspn(p + 1, " \t");
	*end = 0;
	/* a comment may follow a value after whitespace: "x = 1  # why" */
	for (char *h = strchr(p, '#'); h; h = strchr(h + 1, '#'))
		if (h == p || h[-1] == ' ' || h[-1] == '\t') {
			*h = 0;
			break;
		}
	size_t vlen = strlen(p);
	while (vlen && (p[vlen - 1] == ' ' || p[vlen - 1] == '\t' || p[vlen - 1] == '\r'))
		p[--vlen] = 0;
	char why[OPTS_ERR_BYTES];
	if (set_by_name(c, name, p, why))
		return snprintf(err, OPTS_ERR_BYTES, "line %u: %.400s", lineno, why), -1;
	return 0;
}

/* YAML by the file's name, or by its first line that holds anything. */
static bool is_yaml(const char *path, const char *text, size_t len)
{
	size_t n = strlen(path);
	return (n > 5 && !strcmp(path + n - 5, ".yaml")) || (n > 4 && !strcmp(path + n - 4, ".yml")) ||
	       yaml__sniff(text, len);
}

static int load_config(struct config *c, const char *path, char *err)
{
	/* the values stay referenced: each file gets its own buffer */
	char *buf = malloc(CONFIG_BYTES + 1);
	FILE *f = fopen(path, "re");
	char why[OPTS_ERR_BYTES];
	int rc = 0;
	if (!buf || !f) {
		free(buf);
		if (f)
			fclose(f);
		return fail(err, "cannot open config file %s: %s", path, strerror(errno));
	}
	size_t n = fread(buf, 1, CONFIG_BYTES + 1, f);
	fclose(f);
	if (is_yaml(path, buf, n)) {
		/* the YAML's values live in its own document, not in buf */
		rc = config_yaml__apply(c, path, buf, n, set_by_name, err);
		free(buf);
		return rc;
	}
	if (n > CONFIG_BYTES)
		rc = fail(err, "config file %s is over 64 KiB%s", path, "");
	buf[n < CONFIG_BYTES ? n : CONFIG_BYTES] = 0;
	unsigned lineno = 0;
	for (char *line = buf, *nl; !rc && line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (++lineno > CONFIG_LINES)
			rc = fail(err, "config file %s has over 1024 lines%s", path, "");
		else if (config_line(c, line, lineno, why))
			rc = fail(err, "config file %.100s: %.380s", path, why);
	}
	return rc;
}

/* ---- the command line -------------------------------------------------------- */

static const char *const commands[] = { "serve", "connect", "tools", "call", "sandbox" };

/* One --option word (and maybe the next word as its value). *i advances. */
static int one_option(struct config *c, int argc, char **argv, int *i, char *err)
{
	const char *a = argv[*i] + 2, *eq = strchr(a, '=');
	const struct opt *o = find_opt(a, eq ? (size_t)(eq - a) : strlen(a));
	if (!strcmp(argv[*i], "-h"))
		o = find_opt("help", 4), eq = NULL;
	if (!o)
		return fail(err, "unknown option '%s'%s", argv[*i], "");
	const char *v = eq ? eq + 1 : "";
	if (o->arg && !eq) {
		if (*i + 1 >= argc)
			return fail(err, "--%s needs a value (%s)", o->name, o->arg);
		v = argv[++*i];
	}
	return o->set(c, o, v, err);
}

int opts__parse(int argc, char **argv, struct config *c, struct opts_out *out)
{
	char err[OPTS_ERR_BYTES];
	bool have_cmd = false, only_words = false;
	*c = (struct config){ .profile = PROFILE_OBSERVE, .stderr_level = LOG_WARNING,
			      .socket_path = SOCKET_PATH_DEFAULT, .socket_mode = SOCKET_MODE_DEFAULT };
	*out = (struct opts_out){ .words = calloc((size_t)argc + 1, sizeof(char *)) };
	if (!out->words)
		return fprintf(stderr, "ebpf-mcp: out of memory\n"), 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!only_words && !strcmp(a, "--")) {
			only_words = true;
		} else if (!only_words && ((a[0] == '-' && a[1] == '-' && a[2]) || !strcmp(a, "-h"))) {
			if (one_option(c, argc, argv, &i, err))
				return fprintf(stderr, "ebpf-mcp: %s (see --help)\n", err), 2;
		} else if (!have_cmd) {
			int m;
			if (set_enum(a, commands, 5, &m))
				return fprintf(stderr, "ebpf-mcp: unknown command or argument '%s' (commands: serve, connect, "
					       "tools, call, sandbox; see --help)\n", a), 2;
			c->mode = (enum run_mode)(MODE_SERVE + m);
			have_cmd = true;
		} else {
			out->words[out->n_words++] = argv[i];
		}
	}
	/* --access rules without a profile take the final --profile */
	for (unsigned k = 0; k < c->n_access; k++)
		if (c->access[k].profile_later)
			c->access[k].profile = c->profile;
	if (want_help)
		opts__usage(stdout);
	else if (want_version)
		printf("ebpf-mcp %s (MCP %s)\n", EBPF_MCP_VERSION, MCP_LATEST_VERSION);
	out->done = want_help || want_version;
	return 0;
}

void opts__usage(FILE *f)
{
	fprintf(f,
		"usage: ebpf-mcp [options]                 serve MCP on stdin/stdout\n"
		"       ebpf-mcp serve [options]           a daemon: one MCP session per unix-socket connection\n"
		"       ebpf-mcp connect [PATH]            bridge stdin/stdout to the daemon's socket\n"
		"       ebpf-mcp tools [options]           list the tools on offer\n"
		"       ebpf-mcp call TOOL [JSON | key=value ...] [options]   run one tool, print its result\n"
		"       ebpf-mcp sandbox [MODE [PROBE]]    each mode's seccomp lists; with PROBE, make that call in it\n"
		"Options go before or after the command, as --name value or --name=value.\n"
		"MCP is newline-delimited JSON-RPC. `serve` listens on --socket (default " SOCKET_PATH_DEFAULT
		"),\nor on the socket systemd passes (LISTEN_FDS); --access rules map a peer's uid or groups to a\n"
		"profile (no match: refused); SIGTERM, SIGINT or SIGHUP frees every session's objects and exits.\n"
		"`connect` is for stdio MCP clients running as ordinary users; it exits 0 when either side closes.\n"
		"`call`: key=value values that are JSON (numbers, true, [..], {..}) are taken as such, anything\n"
		"else as a string. --format table prints the result as tables and its histograms as text bars;\n"
		"--format svg writes a flame graph of a stack-sampling tool's result (call profile_cpu ... > cpu.svg).\n"
		"Exit status: 0 ok, 1 internal error, 2 usage (bad command line, unknown tool, nothing to draw),\n"
		"3 the tool refused (validation, permission, resource), 4 the kernel refused.\n"
		"As an initramfs's /init (PID 1) it mounts proc, sysfs, devtmpfs, bpffs, tracefs and debugfs,\n"
		"loads /lib/modules/*.ko, serves on the port named by mcp_port= on the kernel command line (a\n"
		"virtio serial port's name, default ebpf-mcp, or a tty such as ttyS1) and powers off when the\n"
		"client leaves; options go after `--` on the kernel command line.\n"
		"--config FILE is read as YAML when FILE ends in .yaml or .yml, or when its first line that is not\n"
		"blank or a # comment is `---` or begins with `key:`; else as `name value` lines. The YAML keys\n"
		"(server.bind_address, resources.max_programs, ... as in the README's table) set the options and\n"
		"limits they stand for, through the same checks; any other key is refused as FILE:LINE:COL.\n"
		"Durations: 30s, 500ms, 5m, 1h, or a bare number of seconds. permitted_users/permitted_groups get\n"
		"--profile (or access_control.profile). Options after --config on the command line override it.\n\n");
	for (unsigned k = 0; k < sizeof(options) / sizeof(options[0]); k++) {
		char left[48];
		snprintf(left, sizeof(left), "--%s%s%s", options[k].name, options[k].arg ? " " : "",
			 options[k].arg ? options[k].arg : "");
		fprintf(f, "  %-32s %s\n", left, options[k].help);
	}
	fprintf(f, "\nlimits (default, range, why):\n");
	for (int i = 0; i < LIM__COUNT; i++)
		fprintf(f, "  %-22s %10llu  [%llu..%llu]  %s\n", limit_defs[i].name,
			(unsigned long long)limit_defs[i].def, (unsigned long long)limit_defs[i].min,
			(unsigned long long)limit_defs[i].max, limit_defs[i].why);
}
