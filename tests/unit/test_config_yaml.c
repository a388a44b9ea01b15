/* Unit tests for --config in YAML (src/config_yaml.c through src/opts.c):
 * every honoured key lands in the option or limit it stands for, command
 * line options after --config override it, which files read as YAML, and
 * every refusal names FILE:LINE:COL and why. Through opts__parse, the same
 * entry the command line uses. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "limits.h"
#include "opts.h"
#include "unit.h"

#define MAX_ARGS 16

static struct config cfg;
static char errs[4096];        /* what opts__parse said on stderr */
static char dir[] = "/tmp/ebpf-mcp-unit-yaml-XXXXXX";

/* Writes text to dir/name; returns the path (static until the next call). */
static const char *file(const char *name, const char *text)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

/* opts__parse on ebpf-mcp and the given words (NULL-terminated), limits
 * reset first; its exit code, with stderr in errs. */
static int parse(const char *first, ...)
{
	char *argv[MAX_ARGS] = { "ebpf-mcp" };
	int argc = 1;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && argc < MAX_ARGS - 1; a = va_arg(ap, const char *))
		argv[argc++] = strdup(a);   /* options may keep pointers into argv */
	va_end(ap);
	limits__reset();
	fflush(stderr);
	char err_path[64];
	snprintf(err_path, sizeof(err_path), "%s/stderr", dir);
	int saved = dup(2), fd = open(err_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	struct opts_out out;
	int rc = opts__parse(argc, argv, &cfg, &out);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ssize_t n = pread(fd, errs, sizeof(errs) - 1, 0);
	errs[n > 0 ? n : 0] = 0;
	close(fd);
	free(out.words);
	return rc;
}

static const char seed[] =
	"server:\n"
	"  bind_address: \"127.0.0.1:8080\"\n"
	"  max_concurrent_requests: 100\n"
	"  request_timeout: \"30s\"\n"
	"security:\n"
	"  audit_log: \"/var/log/ebpf-mcp/audit.log\"\n"
	"  bytecode_validation:\n"
	"    max_instructions: 4096\n"
	"    blocked_helpers:\n"
	"      - \"bpf_probe_write_user\"\n"
	"      - \"override_return\"\n"
	"  access_control:\n"
	"    permitted_users: [\"root\", \"41001\"]\n"
	"    permitted_groups: [\"root\", \"41002\"]\n"
	"resources:\n"
	"  max_programs: 10\n"
	"  max_maps: 50\n"
	"  max_memory_mb: 64\n"
	"  max_events_per_second: 10000\n"
	"tools:\n"
	"  map_dump:\n"
	"    max_entries: 777\n"
	"  trace:\n"
	"    max_duration: \"60s\"\n"
	"    max_events: 10000\n"
	"  deploy:\n"
	"    enabled: true\n"
	"    allowed_types: [\"kprobe\", \"tracepoint\"]\n";

static void honoured_keys(void)
{
	CHECK_INT(parse("--config", file("seed.yaml", seed), NULL), 0);
	CHECK_STR(errs, "");
	CHECK_STR(cfg.http_addr, "127.0.0.1:8080");
	CHECK_U64(limits[LIM_HTTP_REQUESTS], 100);
	CHECK_U64(limits[LIM_CALL_MS], 30000);
	CHECK_STR(cfg.audit_log, "/var/log/ebpf-mcp/audit.log");
	CHECK_U64(limits[LIM_PROG_INSNS], 4096);
	CHECK_U64(limits[LIM_PROGRAMS], 10);
	CHECK_U64(limits[LIM_MAPS], 50);
	CHECK_U64(limits[LIM_MAP_MEMORY_BYTES], 64 * MIB);
	CHECK_U64(limits[LIM_EVENTS_PER_SECOND], 10000);
	CHECK_U64(limits[LIM_MAP_ENTRIES], 777);
	CHECK_U64(limits[LIM_TRACE_MS], 60000);
	CHECK_U64(limits[LIM_STREAM_EVENTS], 10000);
	/* the policy rules, in file order, through --block-helper / --only-prog-type */
	CHECK_INT(cfg.policy.n_rules, 4);
	CHECK_INT(cfg.policy.rules[0].kind, POLICY_BLOCK_HELPER);
	CHECK_STR(cfg.policy.rules[1].name, "override_return");
	CHECK_INT(cfg.policy.rules[2].kind, POLICY_ONLY_TYPE);
	CHECK_STR(cfg.policy.rules[3].name, "tracepoint");
	CHECK(!policy__type_allowed(&cfg.policy, "xdp"));
	/* access: users then groups, each with the final --profile */
	CHECK_INT(cfg.n_access, 4);
	CHECK_INT(cfg.access[0].group, false);
	CHECK_INT(cfg.access[0].id, 0);
	CHECK_INT(cfg.access[1].id, 41001);
	CHECK_INT(cfg.access[2].group, true);
	CHECK_INT(cfg.access[3].id, 41002);
	for (unsigned k = 0; k < cfg.n_access; k++) {
		CHECK_INT(cfg.access[k].profile, PROFILE_OBSERVE);
		CHECK_INT(cfg.access[k].allow_foreign, false);
	}
	CHECK_INT(cfg.n_deny, 0);   /* deploy.enabled: true */
}

/* Options are applied in order: after --config they override it (lists
 * add to it); before it, it overrides them. Permitted users take --profile
 * as it ends up, wherever it is given. */
static void command_line_order(void)
{
	const char *seed_path = file("seed.yaml", seed);
	CHECK_INT(parse("--limit", "programs=5", "--config", seed_path, "--profile", "full", "--limit", "maps=7",
			"--block-helper", "bpf_send_signal", NULL), 0);
	CHECK_U64(limits[LIM_PROGRAMS], 10);
	CHECK_U64(limits[LIM_MAPS], 7);
	CHECK_INT(cfg.policy.n_rules, 5);
	CHECK_INT(cfg.access[1].profile, PROFILE_FULL);
	CHECK_INT(cfg.access[3].profile, PROFILE_FULL);
	CHECK_INT(parse("--profile", "readonly", "--config", seed_path, "--access", "uid:41003=full", NULL), 0);
	CHECK_INT(cfg.n_access, 5);
	CHECK_INT(cfg.access[0].profile, PROFILE_READONLY);
	CHECK_INT(cfg.access[4].profile, PROFILE_FULL);   /* a rule with its own profile keeps it */
	/* the same deferred form on the command line */
	CHECK_INT(parse("--access", "gid:41004", "--profile", "full", NULL), 0);
	CHECK_INT(cfg.access[0].profile, PROFILE_FULL);
	CHECK_INT(cfg.access[0].profile_later, true);
	CHECK_INT(cfg.access[0].id, 41004);
}

static void access_profile_key(void)
{
	const char *p = file("ac.yaml", "security:\n  access_control:\n    permitted_users: [41001]\n"
					"    profile: readonly\n");
	CHECK_INT(parse("--config", p, "--profile", "full", NULL), 0);
	CHECK_INT(cfg.n_access, 1);
	CHECK_INT(cfg.access[0].profile, PROFILE_READONLY);
	CHECK_INT(cfg.profile, PROFILE_FULL);   /* the key is not --profile */
	p = file("ac.yaml", "security:\n  access_control:\n    profile: admin\n    permitted_users: [41001]\n");
	CHECK_INT(parse("--config", p, NULL), 2);
	CHECK(strstr(errs, "ac.yaml:3:14: security.access_control.profile: --profile takes readonly, observe or full, "
			   "not 'admin'") != NULL);
	p = file("ac.yaml", "security:\n  access_control:\n    permitted_groups: [\"41001=full\"]\n");
	CHECK_INT(parse("--config", p, NULL), 2);
	CHECK(strstr(errs, "ac.yaml:3:24: security.access_control.permitted_groups: '41001=full' is not a user") != NULL);
}

static void deploy_switch(void)
{
	const char *off = file("off.yaml", "tools:\n  deploy:\n    enabled: false\n");
	CHECK_INT(parse("--config", off, NULL), 0);
	CHECK_INT(cfg.n_deny, 3);
	CHECK_STR(cfg.deny[0], "load_program");
	CHECK_STR(cfg.deny[1], "attach_program");
	CHECK_STR(cfg.deny[2], "pin_object");
	/* each file keeps its own copy of the list */
	char copy[256];
	snprintf(copy, sizeof(copy), "%s", off);
	CHECK_INT(parse("--config", copy, "--config", file("off2.yml", "tools:\n  deploy:\n    enabled: False\n"),
			NULL), 0);
	CHECK_INT(cfg.n_deny, 6);
	CHECK_STR(cfg.deny[2], "pin_object");
	CHECK_STR(cfg.deny[5], "pin_object");
	CHECK_INT(parse("--config", file("on.yaml", "tools:\n  deploy:\n    enabled: TRUE\n"), NULL), 0);
	CHECK_INT(cfg.n_deny, 0);
}

/* security.enable_sandboxing: false is --no-sandbox; true, the default. */
static void sandbox_switch(void)
{
	CHECK_INT(parse("--config", file("sb-off.yaml", "security:\n  enable_sandboxing: false\n"), NULL), 0);
	CHECK_INT(cfg.no_sandbox, true);
	CHECK_INT(parse("--config", file("sb-on.yaml", "security:\n  enable_sandboxing: true\n"), NULL), 0);
	CHECK_INT(cfg.no_sandbox, false);
	CHECK_INT(parse("--config", file("sb-bad.yaml", "security:\n  enable_sandboxing: \"no\"\n"), NULL), 2);
}

static void durations(void)
{
	static const struct {
		const char *text;
		uint64_t ms;   /* 0: refused */
		const char *why;
	} cases[] = {
		{ "30s", 30000 }, { "\"500ms\"", 500 }, { "'5m'", 300000 }, { "45", 45000 }, { "10m", 600000 },
		{ "601s", 0, "limit call_ms=601000 is out of range [100, 600000]" },
		{ "1h", 0, "limit call_ms=3600000 is out of range" },
		{ "99ms", 0, "limit call_ms=99 is out of range" },
		{ "30 s", 0, "expects a duration (30s, 500ms, 5m, 1h, or a number of seconds), not '30 s'" },
		{ "s", 0, "expects a duration" }, { "1.5s", 0, "expects a duration" }, { "-1s", 0, "expects a duration" },
		{ "[30s]", 0, "expects a duration, not a list" },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char text[128];
		unit_case = cases[k].text;
		snprintf(text, sizeof(text), "server:\n  request_timeout: %s\n", cases[k].text);
		int rc = parse("--config", file("d.yaml", text), NULL);
		CHECK_INT(rc, cases[k].ms ? 0 : 2);
		if (cases[k].ms)
			CHECK_U64(limits[LIM_CALL_MS], cases[k].ms);
		else
			CHECK(strstr(errs, "d.yaml:2:20: server.request_timeout: ") && strstr(errs, cases[k].why));
	}
	/* the trace cap, at and over its maximum */
	CHECK_INT(parse("--config", file("d.yaml", "tools:\n  trace:\n    max_duration: 600\n"), NULL), 0);
	CHECK_U64(limits[LIM_TRACE_MS], 600000);
	CHECK_INT(parse("--config", file("d.yaml", "tools:\n  trace:\n    max_duration: 601\n"), NULL), 2);
	CHECK(strstr(errs, "d.yaml:3:19: tools.trace.max_duration: limit trace_ms=601000 is out of range") != NULL);
}

/* Each seed key we do not honour, refused at its key with the reason. */
static void refused_keys(void)
{
	static const struct {
		const char *text, *where;
	} cases[] = {
		{ "server:\n  tls:\n    enabled: true\n",
		  "r.yaml:2:3: key 'server.tls' is not supported: TLS is terminated in front of ebpf-mcp: see docs/deploy" },
		{ "security:\n  bytecode_validation:\n    allowed_opcodes:\n      - BPF_ALU\n",
		  "r.yaml:3:5: key 'security.bytecode_validation.allowed_opcodes' is not supported: the verifier and the "
		  "helper policy decide" },
		{ "security:\n  bytecode_validation:\n    blocked_symbols: [kallsyms_lookup_name]\n",
		  "r.yaml:3:5: key 'security.bytecode_validation.blocked_symbols' is not supported: the verifier" },
		{ "security:\n  enable_audit: true\n",
		  "r.yaml:2:3: key 'security.enable_audit' is not supported: audit_log turns the audit log on" },
		{ "security:\n  access_control:\n    required_capabilities: [\"CAP_BPF\"]\n",
		  "r.yaml:3:5: key 'security.access_control.required_capabilities' is not supported" },
		{ "resources:\n  max_cpu_time_ms: 1000\n", "r.yaml:2:3: key 'resources.max_cpu_time_ms' is not supported" },
		{ "resources:\n  cleanup_interval: \"5m\"\n",
		  "r.yaml:2:3: key 'resources.cleanup_interval' is not supported: leases: --limit lease_ms" },
		{ "server:\n  max_concurrent_requests: 1\nebpf:\n  enable_btf: true\n",
		  "r.yaml:3:1: key 'ebpf' is not supported: " },
		{ "observability:\n  metrics:\n    enabled: true\n",
		  "r.yaml:1:1: key 'observability' is not supported: metrics are on /metrics of --http" },
		{ "tools:\n  map_dump:\n    max_entries: 5\n    bogus: 1\n",
		  "r.yaml:4:5: key 'tools.map_dump.bogus' is not supported: unknown key" },
		{ "profile: full\n", "r.yaml:1:1: key 'profile' is not supported: unknown key" },
		{ "server.bind_address: \"127.0.0.1:1\"\n", "r.yaml:1:1: key 'server.bind_address' is not supported: a '.'" },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		unit_case = cases[k].where;
		CHECK_INT(parse("--config", file("r.yaml", cases[k].text), NULL), 2);
		if (!strstr(errs, cases[k].where)) {
			unit_fail_at(__FILE__, __LINE__, "message");
			printf("  got '%s'\n", errs);
		} else {
			unit_passed++;
		}
	}
}

/* Values of the wrong kind, refused at the value. */
static void wrong_types(void)
{
	static const struct {
		const char *text, *where;
	} cases[] = {
		{ "resources:\n  max_programs: [10]\n", "w.yaml:2:17: resources.max_programs: expects an integer, not a list" },
		{ "resources:\n  max_programs: \"10\"\n", "w.yaml:2:17: resources.max_programs: expects an integer, not the string '10'" },
		{ "resources:\n  max_programs: 010\n", "w.yaml:2:17: resources.max_programs: expects an integer (decimal digits, no leading 0)" },
		{ "resources:\n  max_programs: 10.5\n", "w.yaml:2:17: resources.max_programs: expects an integer" },
		{ "resources:\n  max_programs:\n", "w.yaml:2:16: resources.max_programs: expects an integer, and has no value" },
		{ "resources:\n  max_programs: 0\n", "w.yaml:2:17: resources.max_programs: limit programs=0 is out of range [1, 1024]" },
		{ "resources:\n  max_programs: 1025\n", "w.yaml:2:17: resources.max_programs: limit programs=1025 is out of range" },
		{ "resources:\n  max_programs: 12345678901234567890\n", "w.yaml:2:17: resources.max_programs: expects an integer" },
		{ "resources:\n  max_memory_mb: 0\n", "w.yaml:2:18: resources.max_memory_mb: limit map_memory_bytes=0M is out of range" },
		{ "resources: [a]\n", "w.yaml:1:12: resources: expects keys under it, not a list" },
		{ "security:\n  audit_log:\n    file: x\n", "w.yaml:3:5: security.audit_log: expects a value, not a mapping" },
		{ "security:\n  audit_log: ''\n", "w.yaml:2:14: security.audit_log: expects a value, and has no value" },
		{ "security:\n  bytecode_validation:\n    blocked_helpers: bpf_x\n",
		  "w.yaml:3:22: security.bytecode_validation.blocked_helpers: expects a list ([a, b], or '- a' lines), not a single value" },
		{ "security:\n  bytecode_validation:\n    blocked_helpers:\n      - a\n      -\n",
		  "w.yaml:5:8: security.bytecode_validation.blocked_helpers: item 2: expects a name, not an empty value" },
		{ "security:\n  bytecode_validation:\n    blocked_helpers:\n      - [a]\n",
		  "w.yaml:4:9: security.bytecode_validation.blocked_helpers: item 1: expects a name, not a list" },
		{ "tools:\n  deploy:\n    enabled: \"false\"\n", "w.yaml:3:14: tools.deploy.enabled: expects true or false (unquoted)" },
		{ "tools:\n  deploy:\n    allowed_types: [xdp, tc]\n",
		  "w.yaml:3:26: tools.deploy.allowed_types: --only-prog-type needs a program type libbpf names (e.g. tracepoint, kprobe, xdp, sched_cls for tc" },
		{ "server:\n  bind_address: nope\n", "w.yaml:2:17: server.bind_address: --http takes ADDR:PORT" },
		{ "- server\n", "w.yaml:1:1: expected keys (server:, security:, resources:, tools:), not a list" },
		{ "server:\n  max_concurrent_requests: &a 1\n", "w.yaml:2:28: anchors (&) are not supported" },
	};
	for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		unit_case = cases[k].where;
		CHECK_INT(parse("--config", file("w.yaml", cases[k].text), NULL), 2);
		if (!strstr(errs, cases[k].where)) {
			unit_fail_at(__FILE__, __LINE__, "message");
			printf("  got '%s'\n", errs);
		} else {
			unit_passed++;
		}
	}
}

/* YAML by name (.yaml, .yml) or by its first significant line; else lines. */
static void which_format(void)
{
	CHECK_INT(parse("--config", file("a.conf", "# yaml without the name\n\nresources:\n  max_maps: 9\n"), NULL), 0);
	CHECK_U64(limits[LIM_MAPS], 9);
	CHECK_INT(parse("--config", file("b.conf", "---\nresources:\n  max_maps: 8\n"), NULL), 0);
	CHECK_U64(limits[LIM_MAPS], 8);
	CHECK_INT(parse("--config", file("c.conf", "# lines\nlimit maps=7\nprofile = full\n"), NULL), 0);
	CHECK_U64(limits[LIM_MAPS], 7);
	CHECK_INT(cfg.profile, PROFILE_FULL);
	/* a .yaml file of option lines is read as YAML, and says so */
	CHECK_INT(parse("--config", file("d.yaml", "limit maps=7\n"), NULL), 2);
	CHECK(strstr(errs, "d.yaml:1:1: expected 'key: value' or '- item' here") != NULL);
	CHECK_INT(parse("--config", file("e.yml", ""), NULL), 0);   /* empty: nothing set */
	CHECK_INT(parse("--config", file("f.conf", "resources:\n  max_maps: 8\n  max_maps: 9\n"), NULL), 2);
	CHECK(strstr(errs, "f.conf:3:3: duplicate key 'max_maps' (first at line 2)") != NULL);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 2;
	TEST(honoured_keys);
	TEST(command_line_order);
	TEST(access_profile_key);
	TEST(deploy_switch);
	TEST(sandbox_switch);
	TEST(durations);
	TEST(refused_keys);
	TEST(wrong_types);
	TEST(which_format);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		printf("could not remove %s\n", dir);
	return UNIT_DONE();
}
