/* The audit log (see audit.h). */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include "../json/json.h"
#include "../config.h"
#include "../kern/owned.h"
#include "../limits.h"

static int audit_fd = -1;
static bool audit_own_fd;
static char line[AUDIT_LINE_BYTES];    /* under lock */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

_Static_assert(AUDIT_LINE_BYTES > 65536 + 8192, "a line holds the largest audit_arg_bytes");

int audit__open(const char *path)
{
	if (path[0] == '-' && !path[1]) {
		audit_fd = STDERR_FILENO;
		return 0;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	audit_fd = fd, audit_own_fd = true;
	return 0;
}

bool audit__enabled(void)
{
	return audit_fd >= 0;
}

void audit__close(void)
{
	if (audit_own_fd)
		close(audit_fd);
	audit_fd = -1, audit_own_fd = false;
}

/* "time": RFC 3339 UTC with milliseconds. */
static void head(struct jw *w, uint64_t session, const struct identity *who, const char *event)
{
	struct timespec ts;
	struct tm tm;
	char t[40];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	jw__obj(w);
	jw__key(w, "time");
	jw__strf(w, "%.*s.%03ldZ", (int)n, t, ts.tv_nsec / 1000000);
	jw__kuint(w, "session", session);
	jw__kstr(w, "event", event);
	jw__key(w, "peer");
	jw__obj(w);
	if (who->kind == IDENT_PEER) {
		jw__kuint(w, "uid", who->uid);
		jw__kuint(w, "gid", who->gid);
		jw__kint(w, "pid", who->pid);
		jw__kstr(w, "user", who->user);
	} else if (who->kind == IDENT_TOKEN) {
		jw__kstr(w, "token", who->user);   /* the token's name, never its value */
	} else {
		jw__kstr(w, "user", who->user);
	}
	jw__obj_end(w);
}

static void emit(struct jw *w)
{
	jw__obj_end(w);
	if (w->overflow)
		return;   /* cannot happen: arguments are capped below the line size */
	line[w->len] = '\n';
	ssize_t rc = write(audit_fd, line, w->len + 1);
	(void)rc;     /* a full disk must not stop the server */
}

static void begin(struct jw *w, uint64_t session, const struct identity *who, const char *event)
{
	pthread_mutex_lock(&lock);
	jw__init(w, line, sizeof(line) - 1);
	head(w, session, who, event);
}

static void end(struct jw *w)
{
	emit(w);
	pthread_mutex_unlock(&lock);
}

void audit__write_objects(struct jw *w, const struct owned *objs, const char *key, bool created)
{
	const struct owned_event *ev = NULL;
	unsigned dropped = 0, n = objs ? owned__journal(objs, &ev, &dropped) : 0;
	jw__key(w, key);
	jw__arr(w);
	for (unsigned i = 0; i < n; i++) {
		if (ev[i].created != created)
			continue;
		jw__obj(w);
		jw__kstr(w, "kind", owned__kind_name(ev[i].kind));
		jw__kuint(w, "id", ev[i].id);
		jw__obj_end(w);
	}
	jw__arr_end(w);
}

static void objects(struct jw *w, const struct owned *objs, bool created)
{
	const struct owned_event *ev;
	unsigned dropped = 0;
	if (objs)
		owned__journal(objs, &ev, &dropped);
	audit__write_objects(w, objs, created ? "created" : "destroyed", created);
	if (dropped && created)
		jw__kuint(w, "objects_not_listed", dropped);
}

void audit__call(const struct audit_call *c)
{
	if (audit_fd < 0)
		return;
	struct jw w;
	begin(&w, c->session, c->who, "tool_call");
	jw__kstr(&w, "tool", c->tool);
	if (c->args && c->args_len <= limits[LIM_AUDIT_ARG_BYTES]) {
		jw__key(&w, "arguments");
		jw__raw(&w, c->args, c->args_len);
	} else if (c->args) {
		/* cut on a UTF-8 boundary so the prefix stays a valid string */
		size_t n = limits[LIM_AUDIT_ARG_BYTES];
		while (n && ((unsigned char)c->args[n] & 0xC0) == 0x80)
			n--;
		jw__key(&w, "arguments_prefix");
		jw__strn(&w, c->args, n);
		jw__kuint(&w, "arguments_bytes", c->args_len);
	}
	jw__kstr(&w, "outcome", c->ok ? "ok" : "error");
	if (!c->ok)
		jw__kstr(&w, "error_code", c->code);
	jw__kuint(&w, "duration_us", c->duration_ns / 1000);
	objects(&w, c->objs, true);
	objects(&w, c->objs, false);
	end(&w);
}

void audit__event(uint64_t session, const struct identity *who, const char *event, const char *detail)
{
	if (audit_fd < 0)
		return;
	struct jw w;
	begin(&w, session, who, event);
	jw__kstr(&w, "detail", detail);
	end(&w);
}

void audit__shutdown(uint64_t session, const struct identity *who, const char *why, unsigned programs,
		     unsigned maps, unsigned links, const struct owned *objs)
{
	if (audit_fd < 0)
		return;
	struct jw w;
	begin(&w, session, who, "shutdown");
	jw__kstr(&w, "reason", why);
	jw__key(&w, "released");
	jw__obj(&w);
	jw__kuint(&w, "programs", programs);
	jw__kuint(&w, "maps", maps);
	jw__kuint(&w, "links", links);
	jw__obj_end(&w);
	jw__key(&w, "pinned");
	jw__arr(&w);
	enum obj_kind k;
	uint32_t id;
	const char *p;
	unsigned i = 0, cut = 0;
	for (; objs && (p = owned__pin_at(objs, i, &k, &id)); i++) {
		if (w.len > sizeof(line) - LIMIT_PATH_BYTES - 256) {
			cut++;
			continue;   /* counted below rather than overflowing the line */
		}
		jw__obj(&w);
		jw__kstr(&w, "kind", owned__kind_name(k));
		jw__kuint(&w, "id", id);
		jw__kstr(&w, "path", p);
		jw__obj_end(&w);
	}
	jw__arr_end(&w);
	if (cut)
		jw__kuint(&w, "pins_not_listed", cut);
	end(&w);
}
