/* ebpf-mcp: the eBPF workflow over the Model Context Protocol (stdio).
 *
 * Start-up: flags -> limits -> heap cap -> fixed buffers -> serve until EOF
 * or a terminating signal. Nothing but protocol goes to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "limits.h"
#include "mcp/server.h"
#include "mem/heap.h"
#include "sys/audit.h"
#include "sys/init.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ebpf-mcp [options]\n"
		"       ebpf-mcp tools [--format table|json] [options]\n"
		"       ebpf-mcp call TOOL [JSON | key=value ...] [--format table|json] [options]\n"
		"Serves the Model Context Protocol on stdin/stdout (newline-delimited JSON-RPC).\n"
		"As an initramfs's /init (PID 1) it mounts proc, sysfs, devtmpfs, bpffs, tracefs and\n"
		"debugfs, loads /lib/modules/*.ko, serves on the port named by mcp_port= on the kernel\n"
		"command line (a virtio serial port's name, default ebpf-mcp, or a tty such as ttyS1)\n"
		"and powers off when the client leaves; options go after `--` on the command line.\n"
		"`tools` lists the tools on offer; `call` runs one (as an MCP client would) and prints\n"
		"its result: JSON (default) or --format table. key=value values that are JSON\n"
		"(numbers, true, [..], {..}) are taken as such, anything else as a string.\n"
		"Exit status: 0 ok, 1 internal error, 2 usage (bad command line, unknown tool),\n"
		"3 the tool refused (validation, permission, resource), 4 the kernel refused.\n\n"
		"  --profile readonly|observe|full   tools on offer (default observe)\n"
		"  --allow-tools a,b,...             only these tools (within the profile)\n"
		"  --deny-tools a,b,...              never these tools\n"
		"  --limit NAME=VALUE                set a cap (K/M suffixes), repeatable\n"
		"  --validate-output                 check every result against its outputSchema\n"
		"  --log-level LEVEL                 stderr threshold (debug..emergency, default warning)\n"
		"  --object-dir DIR                  load_program reads ELF files only under DIR (repeatable)\n"
		"  --pin-dir DIR                     pin_object/unpin_object only under DIR on bpffs (repeatable)\n"
		"  --audit-log FILE|-                one JSON line per tool call to FILE (appended) or stderr\n"
		"  --config FILE                     options from FILE, one per line: `name value` or\n"
		"                                    `name = value` (a long option without --), # comments\n"
		"  --allow-foreign                   (full) also detach, unpin and write maps of objects\n"
		"                                    this session did not create\n"
		"  --allow-helper NAME               load programs calling this helper or kfunc (repeatable)\n"
		"  --block-helper NAME               refuse programs calling it (defaults: load_program's policy)\n"
		"  --allow-prog-type T               load programs of type T (libbpf name, e.g. lsm; repeatable)\n"
		"  --block-prog-type T               refuse programs of type T\n"
		"  --help, --version\n\n"
		"limits (default, range, why):\n");
	for (int i = 0; i < LIM__COUNT; i++)
		fprintf(f, "  %-16s %10llu  [%llu..%llu]  %s\n", limit_defs[i].name,
			(unsigned long long)limit_defs[i].def, (unsigned long long)limit_defs[i].min,
			(unsigned long long)limit_defs[i].max, limit_defs[i].why);
}

static int split_list(char *arg, const char **out, unsigned *n)
{
	for (char *tok = strtok(arg, ","); tok; tok = strtok(NULL, ",")) {
		if (*n >= SERVER_MAX_TOOL_LIST)
			return -1;
		out[(*n)++] = tok;
	}
	return 0;
}

static int parse_profile(const char *v, enum profile *p)
{
	static const char *const names[] = { "readonly", "observe", "full" };
	for (int k = 0; k < 3; k++)
		if (!strcmp(v, names[k])) {
			*p = (enum profile)k;
			return 0;
		}
	return -1;
}

static int parse_level(const char *v, enum log_level *l)
{
	static const char *const names[] = { "debug", "info", "notice", "warning", "error",
					     "critical", "alert", "emergency" };
	for (int k = 0; k < 8; k++)
		if (!strcmp(v, names[k])) {
			*l = (enum log_level)k;
			return 0;
		}
	return -1;
}

static int bad(const char *what, const char *v)
{
	fprintf(stderr, "ebpf-mcp: %s: '%s' (see --help)\n", what, v ? v : "");
	return 2;
}

static int load_config(const char *path, struct server_opts *o);

static int parse_args(int argc, char **argv, struct server_opts *o)
{
	char err[256];
	int rc;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			exit(0);
		} else if (!strcmp(a, "--version")) {
			printf("ebpf-mcp %s (MCP %s)\n", EBPF_MCP_VERSION, MCP_LATEST_VERSION);
			exit(0);
		} else if (!strcmp(a, "--validate-output")) {
			o->validate_output = true;
		} else if (!strcmp(a, "--allow-foreign")) {
			o->allow_foreign = true;
		} else if (!v) {
			return bad("option needs a value", a);
		} else if (!strcmp(a, "--profile")) {
			if (parse_profile(v, &o->profile))
				return bad("unknown profile", v);
			i++;
		} else if (!strcmp(a, "--log-level")) {
			if (parse_level(v, &o->stderr_level))
				return bad("unknown log level", v);
			i++;
		} else if (!strcmp(a, "--limit")) {
			if (limits__set(v, err, sizeof(err)))
				return bad(err, v);
			i++;
		} else if (!strcmp(a, "--object-dir") || !strcmp(a, "--pin-dir")) {
			bool obj = a[2] == 'o';
			unsigned *n = obj ? &o->n_object_dirs : &o->n_pin_dirs;
			if (*n >= PATHS_MAX_DIRS)
				return bad("too many directories (16 at most)", v);
			(obj ? o->object_dirs : o->pin_dirs)[(*n)++] = argv[++i];
		} else if (!strcmp(a, "--config")) {
			if ((rc = load_config(argv[++i], o)))
				return rc;
		} else if (!strcmp(a, "--audit-log")) {
			o->audit_log = argv[++i];
		} else if (!strcmp(a, "--allow-tools")) {
			if (split_list(argv[++i], o->allow, &o->n_allow))
				return bad("too many tools listed", v);
		} else if (!strcmp(a, "--deny-tools")) {
			if (split_list(argv[++i], o->deny, &o->n_deny))
				return bad("too many tools listed", v);
		} else if ((rc = policy__flag(&o->policy, a, v, err, sizeof(err))) <= 0) {
			if (rc)
				return bad(err, v);
			i++;
		} else {
			return bad("unknown option", a);
		}
	}
	return 0;
}

/* ---- --config FILE ------------------------------------------------------- */

#define CONFIG_BYTES (64 * 1024)   /* a config file; options keep pointers into it */
#define CONFIG_ARGS  512           /* option words a config file may give */

/* Splits one line into "--name" [value] words appended to argv. */
static int config_line(char *line, char **argv, int *argc, unsigned lineno)
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
	size_t vlen = strlen(p);
	while (vlen && (p[vlen - 1] == ' ' || p[vlen - 1] == '\t' || p[vlen - 1] == '\r'))
		p[--vlen] = 0;
	if (*argc + 2 > CONFIG_ARGS || name - line < 2) {
		/* the two bytes before name hold "--" (see load_config) */
		fprintf(stderr, "ebpf-mcp: config line %u: %s\n", lineno,
			*argc + 2 > CONFIG_ARGS ? "too many options (512 words)" : "bad line");
		return 2;
	}
	name[-2] = '-', name[-1] = '-';
	argv[(*argc)++] = name - 2;
	bool flag = !*p || !strcmp(p, "true");
	if (!strcmp(name, "config"))
		return fprintf(stderr, "ebpf-mcp: config line %u: config files do not nest\n", lineno), 2;
	if (!flag || (strcmp(name, "validate-output") && strcmp(name, "allow-foreign")))
		argv[(*argc)++] = p;
	return 0;
}

static int load_config(const char *path, struct server_opts *o)
{
	static char buf[CONFIG_BYTES + 1];
	static char *argv[CONFIG_ARGS + 1];
	int argc = 1, rc = 0;
	FILE *f = path ? fopen(path, "re") : NULL;
	if (!f)
		return bad("cannot open config file", path);
	/* each line is stored two bytes in, so "--" can go before its name */
	char *w = buf;
	unsigned lineno = 0;
	while (!rc && fgets(w + 2, (int)(buf + sizeof(buf) - w - 2), f)) {
		size_t n = strlen(w + 2);
		lineno++;
		if (n && w[2 + n - 1] != '\n' && !feof(f)) {
			rc = bad("config file line too long or file over 64 KiB", path);
			break;
		}
		if (n && w[2 + n - 1] == '\n')
			w[2 + --n] = 0;
		w[0] = w[1] = ' ';
		rc = config_line(w, argv, &argc, lineno);
		w += n + 3;
		if (w + 3 >= buf + sizeof(buf))
			rc = rc ? rc : bad("config file over 64 KiB", path);
	}
	fclose(f);
	return rc ? rc : parse_args(argc, argv, o);
}

/* The CLI's words: options go to parse_args (flags alone, the others with
 * their value), --format is its own, the rest are the command's words. */
static int split_cli(int argc, char **argv, char **opts, int *n_opts, char **words, int *n_words, bool *table)
{
	static const char *const flags[] = { "--validate-output", "--allow-foreign", "--help", "-h", "--version" };
	opts[(*n_opts)++] = argv[0];
	for (int i = 1; i < argc; i++) {
		bool flag = false;
		for (unsigned k = 0; k < sizeof(flags) / sizeof(flags[0]); k++)
			flag |= !strcmp(argv[i], flags[k]);
		if (!strcmp(argv[i], "--format")) {
			if (i + 1 >= argc || (strcmp(argv[i + 1], "table") && strcmp(argv[i + 1], "json")))
				return bad("--format takes table or json", i + 1 < argc ? argv[i + 1] : "");
			*table = !strcmp(argv[++i], "table");
		} else if (argv[i][0] == '-' && argv[i][1] == '-' && argv[i][2]) {
			opts[(*n_opts)++] = argv[i];
			if (!flag && i + 1 < argc)
				opts[(*n_opts)++] = argv[++i];
		} else if (flag) {
			opts[(*n_opts)++] = argv[i];
		} else {
			words[(*n_words)++] = argv[i];
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct server srv;
	struct server_opts o = { .profile = PROFILE_OBSERVE, .stderr_level = LOG_WARNING };
	bool cli = argc > 1 && cli__is_command(argv[1]), table = false;
	char **opts = cli ? calloc((size_t)argc + 1, sizeof(char *)) : argv;
	char **words = cli ? calloc((size_t)argc + 1, sizeof(char *)) : NULL;
	int n_opts = 0, n_words = 0, rc;
	if (init__is_init(argv[0])) {
		/* every way out of main, --help included, then powers off */
		atexit(init__poweroff);
		if (init__setup())
			return 1;
	}
	if (cli && (!opts || !words))
		return 1;
	rc = cli ? split_cli(argc, argv, opts, &n_opts, words, &n_words, &table) : 0;
	if (!rc)
		rc = parse_args(cli ? n_opts : argc, opts, &o);
	if (rc)
		return rc;
	heap__set_cap(limits[LIM_HEAP_BYTES]);
	if (o.audit_log && (rc = audit__open(o.audit_log))) {
		fprintf(stderr, "ebpf-mcp: --audit-log %s: %s\n", o.audit_log, strerror(-rc));
		return 1;
	}
	if (cli) {
		rc = cli__run(&o, n_words, words, table);
		audit__close();
		free(opts);
		free(words);
		return rc;
	}
	if (server__init(&srv, &o, STDIN_FILENO, STDOUT_FILENO)) {
		fprintf(stderr, "ebpf-mcp: cannot reserve the request/response buffers\n");
		return 1;
	}
	rc = server__run(&srv);
	server__release(&srv);
	server__fini(&srv);
	audit__close();
	return rc;
}
