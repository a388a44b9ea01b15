/* Fuzzes the JSON-RPC entry: methods__line, which takes one request line
 * of a session (parse, strict reading, envelope, era, method dispatch) and
 * queues its answer. The session is a sink (no descriptor), readonly
 * profile. Methods that would hand work to a worker or the kernel
 * (tools/call, resources/list and read, subscriptions, completion) are left out:
 * the harness skips a line naming one, using the reader's own comparison
 * (duplicate keys are refused before dispatch, so "the first method" is
 * the only one). Oracle: every queued answer is one line of valid JSON. */
#include <string.h>

#include "mcp/mcp.h"
#include "opts.h"
#include "fuzz.h"

static struct config cfg;
static struct server srv;
static struct session *sess;

static bool nothing(struct session *s, char **line, size_t *len, uint64_t *route)
{
	(void)s, (void)line, (void)len, (void)route;
	return false;
}
static void no_scan(struct session *s) { (void)s; }
static void no_deliver(struct session *s) { (void)s; }
static void no_gone(struct session *s) { (void)s; }
static void no_job(struct session *s, uint64_t route) { (void)s, (void)route; }
static const struct sink_ops ops = { .next = nothing, .scan = no_scan, .deliver = no_deliver, .gone = no_gone,
				     .job = no_job };

static void take(void *data, struct session *s, uint64_t route, enum out_kind kind, const char *line, size_t n)
{
	(void)data, (void)s, (void)route, (void)kind;
	struct jdoc d;
	struct json_perr e;
	static jsmntok_t t[65536];
	FUZZ_CHECK(n > 0 && !memchr(line, '\n', n));
	FUZZ_CHECK(jdoc__parse(&d, line, n, t, 65536, 1024, &e) == 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	char *args[] = { "ebpf-mcp", "--profile", "readonly", NULL };
	struct opts_out out;
	FUZZ_CHECK(opts__parse(3, args, &cfg, &out) == 0);
	free(out.words);
	srv.cfg = &cfg;
	srv.mode = "stdio";
	srv.listen_fd = -1;
	srv.tok_cap = (unsigned)limits[LIM_JSON_TOKENS];
	srv.tok = calloc(srv.tok_cap, sizeof(jsmntok_t));
	srv.tok_scratch = calloc(srv.tok_cap, sizeof(int));
	srv.resp_cap = limits[LIM_RESPONSE_BYTES] + 1;
	srv.resp = malloc(srv.resp_cap);
	struct identity who = { .uid = 0, .kind = 0 };
	strcpy(who.user, "fuzz");
	sess = session__new_sink(&srv, &ops, NULL, &who, PROFILE_READONLY, false);
	FUZZ_CHECK(sess && srv.tok && srv.tok_scratch && srv.resp);
	return 0;
}

/* Whether the line names a method the harness leaves out. */
static bool left_out(const char *line, size_t len)
{
	static const char *const skip[] = { "tools/call", "resources/list", "resources/read", "resources/subscribe",
					    "resources/unsubscribe", "subscriptions/listen", "completion/complete" };
	struct jdoc d;
	struct json_perr e;
	jsmntok_t *t = srv.tok;   /* methods__line parses again into it */
	if (jdoc__parse(&d, line, len, t, srv.tok_cap, (unsigned)limits[LIM_JSON_DEPTH], &e))
		return false;
	int m = jdoc__get(&d, 0, "method");
	for (unsigned k = 0; k < sizeof(skip) / sizeof(skip[0]); k++)
		if (jdoc__str_eq(&d, m, skip[k]))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	memcpy(line, data, size);
	line[size] = 0;
	if (!left_out(line, size)) {
		methods__line(sess, line, size, true);    /* the early scan for cancellations */
		methods__line(sess, line, size, false);
		session__drain(sess, take, NULL);
	}
	free(line);
	return 0;
}
