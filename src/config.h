/* What the command line, --config files and the CLI set: one struct, read
 * by every layer (tools see it through their tool_env, never the server).
 * Filled once at start-up (opts.c), read-only afterwards.
 */
#ifndef EBPF_MCP_CONFIG_H
#define EBPF_MCP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "kern/policy.h"
#include "sys/paths.h"

#define EBPF_MCP_VERSION   "0.2.0"
#define MCP_LATEST_VERSION "2025-11-25"

#define CONFIG_MAX_TOOL_LIST  64     /* --allow-tools / --deny-tools entries */
#define CONFIG_MAX_ACCESS     64     /* --access rules */
#define CONFIG_NAME_BYTES     64     /* a user or group name in a rule */
#define CONFIG_ERR_BYTES      512    /* an option's error: a config file's name, line and column, and the reason */
#define SOCKET_PATH_DEFAULT   "/run/ebpf-mcp.sock"
#define SOCKET_MODE_DEFAULT   0660   /* the socket's group may connect; rules decide the rest */
#define CONFIG_MAX_HOSTS      16     /* --allow-host entries (opts.c's message says 16) */

enum profile { PROFILE_READONLY = 0, PROFILE_OBSERVE = 1, PROFILE_FULL = 2 };

enum log_level { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARNING, LOG_ERROR, LOG_CRITICAL, LOG_ALERT, LOG_EMERGENCY };

enum run_mode { MODE_STDIO, MODE_SERVE, MODE_CONNECT, MODE_TOOLS, MODE_CALL, MODE_SANDBOX };

/* How `ebpf-mcp call` prints a result (--format). */
enum cli_format { FORMAT_JSON, FORMAT_TABLE, FORMAT_SVG };

/* Who may connect to the daemon, and with which profile: --access
 * uid:NAME|ID=PROFILE[+foreign], --access gid:NAME|ID=PROFILE[+foreign]. */
struct access_rule {
	bool group;                     /* gid: (primary or supplementary), else uid: */
	uint32_t id;
	char name[CONFIG_NAME_BYTES];   /* as written, for messages */
	enum profile profile;
	bool allow_foreign;             /* may act on other sessions' objects */
	bool profile_later;             /* written without =PROFILE: --profile as it stands once all options are read */
};

/* How a client proved who it is. */
enum ident_kind {
	IDENT_PEER,       /* its credentials: SO_PEERCRED on the socket, this process's own on stdio */
	IDENT_TOKEN,      /* HTTP: a bearer token from --token-file; user holds the token's name */
	IDENT_ANONYMOUS,  /* HTTP on loopback without --token-file: nobody in particular */
};

/* A client: the peer's credentials on a socket, or this process's own on
 * stdio, or what HTTP knows (a token's name). uid and gid mean something
 * only for IDENT_PEER. */
struct identity {
	uint32_t uid, gid;
	int32_t pid;                    /* 0: unknown */
	char user[CONFIG_NAME_BYTES];   /* from /etc/passwd, or the number; a token's name; "anonymous" */
	enum ident_kind kind;
};

struct config {
	enum run_mode mode;
	enum profile profile;
	const char *allow[CONFIG_MAX_TOOL_LIST];
	unsigned n_allow;
	const char *deny[CONFIG_MAX_TOOL_LIST];
	unsigned n_deny;
	bool validate_output;          /* check every structuredContent (tests) */
	bool no_sandbox;               /* --no-sandbox: no seccomp, no_new_privs or rlimits (debugging) */
	enum log_level stderr_level;
	const char *object_dirs[PATHS_MAX_DIRS];   /* --object-dir: ELF files come only from here */
	unsigned n_object_dirs;
	const char *pin_dirs[PATHS_MAX_DIRS];      /* --pin-dir: pins go only under these */
	unsigned n_pin_dirs;
	const char *audit_log;                     /* --audit-log FILE or "-" (stderr) */
	bool allow_foreign;            /* --allow-foreign: act on objects other sessions made */
	struct policy_opts policy;     /* --allow-/--block-helper, --allow-/--block-prog-type */
	/* serve */
	const char *socket_path;
	unsigned socket_mode;
	bool socket_group_set;
	gid_t socket_group;
	struct access_rule access[CONFIG_MAX_ACCESS];
	unsigned n_access;
	bool socket_set;               /* --socket given: with --http, both are served */
	/* serve --http */
	const char *http_addr;         /* ADDR:PORT: [v6]:port, v4:port or localhost:port */
	const char *token_file;        /* lines `name token profile` */
	const char *allow_hosts[CONFIG_MAX_HOSTS];   /* Host values accepted beside the bind address */
	unsigned n_allow_hosts;
	/* the CLI */
	enum cli_format format;        /* --format */
};

const char *config__profile_name(enum profile p);
const char *config__level_name(enum log_level l);

#endif
