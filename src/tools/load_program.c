/* load_program: an ELF object, checked by policy, loaded and kept under a handle.
 *
 * The bytes are read into memory once (from an allowed file or base64) and
 * opened from memory, so what was checked is what is loaded: a file swapped
 * after the path check cannot slip in. The bytecode policy (kern/policy.h)
 * and the caps (programs, maps, map memory) are checked after open, before
 * the kernel is asked for anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "../json/base64.h"
#include "../kern/bpfcode.h"
#include "../kern/policy.h"
#include "../kern/owned.h"
#include "vlog.h"
#include "../core/clock.h"
#include "../sys/caps.h"
#include "tool.h"
#include "vlog.h"

#define LOAD_MAX_PROGRAMS 256   /* programs in one object */
#define KERNEL_LOG_STATS  4     /* BPF_LOG_STATS: verification time, stack depth */

struct loaded {
	uint8_t *bytes;           /* the ELF image (heap) */
	size_t len;
	char name[64];            /* object name shown and given to libbpf */
	struct bpf_object *obj;
	bool verify_only;
	unsigned log_level;       /* asked for: 0 none, 1, 2 */
	struct policy_report policy;
	char *logs[LOAD_MAX_PROGRAMS];   /* per program (iteration order) */
	char *tails[LOAD_MAX_PROGRAMS];  /* a first attempt's logs, cut */
	bool log_cut;
};

static int fail_path(struct tool_ctx *ctx, int rc, const char *arg, const char *path)
{
	if (rc == -EACCES)
		tool__fail(ctx, ERR_PATH_NOT_ALLOWED,
			   "%s '%s' is not inside an allowed directory (%u configured); start the server with "
			   "--object-dir DIR or pass the object inline as base64 `data`", arg, path,
			   ctx->env->cfg->n_object_dirs);
	else if (rc == -EFBIG)
		tool__fail_limit(ctx, LIM_OBJECT_BYTES, "%s '%s' is larger than object_bytes", arg, path);
	else if (rc == -EISDIR || rc == -EINVAL)
		tool__fail(ctx, ERR_NOT_REGULAR_FILE, "%s '%s' is not a regular file", arg, path);
	else
		tool__fail_errno(ctx, rc, "%s '%s'", arg, path);
	jw__kstr(&ctx->err->ctx, "pointer", arg[0] == 'b' ? "/btf_path" : "/path");
	return -1;
}

/* Reads an allowed file whole, re-checking through the opened descriptor. */
static int read_file(struct tool_ctx *ctx, const char *path, struct loaded *l)
{
	char real[LIMIT_PATH_BYTES];
	size_t size;
	const struct config *o = ctx->env->cfg;
	int rc = paths__file_under(path, o->object_dirs, o->n_object_dirs, limits[LIM_OBJECT_BYTES], real, &size);
	if (rc)
		return fail_path(ctx, rc, "path", path);
	int fd = open(real, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > limits[LIM_OBJECT_BYTES]) {
		rc = fd < 0 ? -errno : -EINVAL;
		if (fd >= 0)
			close(fd);
		return fail_path(ctx, rc == -EINVAL ? -EINVAL : rc, "path", path);
	}
	l->len = (size_t)st.st_size;
	l->bytes = malloc(l->len ? l->len : 1);
	size_t got = 0;
	while (l->bytes && got < l->len) {
		ssize_t n = read(fd, l->bytes + got, l->len - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!l->bytes)
		return tool__fail_errno(ctx, -ENOMEM, "reading '%s'", path);
	if (got != l->len)
		return tool__fail(ctx, ERR_SHORT_READ, "'%s' changed while being read", path);
	const char *base = strrchr(real, '/') ? strrchr(real, '/') + 1 : real;
	snprintf(l->name, sizeof(l->name), "%.*s", (int)strcspn(base, "."), base);
	return 0;
}

static int decode_data(struct tool_ctx *ctx, int tok, struct loaded *l)
{
	const struct jdoc *d = ctx->doc;
	size_t raw = (size_t)(d->t[tok].end - d->t[tok].start), n = 0, bad = 0;
	if (BASE64_DECODED_MAX(raw) > limits[LIM_OBJECT_BYTES] + 3)
		return tool__fail_limit(ctx, LIM_OBJECT_BYTES, "inline data (%zu base64 characters) decodes to more "
					"than object_bytes", raw);
	/* unescaped first: a JSON encoder may write '/' as "\/" */
	char *text = malloc(raw + 1);
	l->bytes = malloc(BASE64_DECODED_MAX(raw));
	int rc = text && l->bytes ? jdoc__str(d, tok, text, raw + 1, &n) : -ENOMEM;
	if (!rc)
		rc = base64__decode(text, n, l->bytes, BASE64_DECODED_MAX(raw), &l->len, &bad);
	free(text);
	if (rc == -ENOMEM)
		return tool__fail_errno(ctx, rc, "decoding data");
	if (rc) {
		tool__fail(ctx, ERR_BAD_BASE64,
			   "data is not standard padded base64 (problem at character %zu)", bad);
		jw__kstr(&ctx->err->ctx, "pointer", "/data");
		return -1;
	}
	if (l->len > limits[LIM_OBJECT_BYTES])
		return tool__fail_limit(ctx, LIM_OBJECT_BYTES, "inline data decodes to %zu bytes", l->len);
	snprintf(l->name, sizeof(l->name), "inline");
	return 0;
}

/* Keeps only the named programs; each name must exist. */
static int select_programs(struct tool_ctx *ctx, struct bpf_object *obj)
{
	int arr = tool__arg(ctx, "programs");
	if (arr < 0)
		return 0;
	const struct jdoc *d = ctx->doc;
	struct bpf_program *p;
	bpf_object__for_each_program(p, obj) {
		bool want = false;
		for (int i = 0, e; !want && (e = jdoc__elem(d, arr, i)) >= 0; i++)
			want = jdoc__str_eq(d, e, bpf_program__name(p));
		bpf_program__set_autoload(p, want);
	}
	char name[256];
	for (int i = 0, e; (e = jdoc__elem(d, arr, i)) >= 0; i++) {
		size_t n;
		if (jdoc__str(d, e, name, sizeof(name), &n) || !bpf_object__find_program_by_name(obj, name)) {
			tool__fail(ctx, ERR_NO_SUCH_PROGRAM,
				   "the object has no program named '%s'; leave `programs` out to load all", name);
			jw__key(&ctx->err->ctx, "pointer");
			jw__strf(&ctx->err->ctx, "/programs/%d", i);
			return -1;
		}
	}
	return 0;
}

static uint64_t map_bytes(const struct bpf_map *m)
{
	uint64_t per = (uint64_t)bpf_map__key_size(m) + bpf_map__value_size(m);
	enum bpf_map_type t = bpf_map__type(m);
	if (t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_ARRAY ||
	    t == BPF_MAP_TYPE_LRU_PERCPU_HASH || t == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE) {
		int cpus = libbpf_num_possible_cpus();
		per = bpf_map__key_size(m) + (uint64_t)((bpf_map__value_size(m) + 7) & ~7u) * (cpus > 0 ? cpus : 1);
	}
	return per * bpf_map__max_entries(m);
}

/* What the object would hold: programs, maps and their memory, admitted
 * against this session's caps and all sessions' totals before the kernel
 * is asked (released with owned__unadmit once registered or refused). */
static int admit(struct tool_ctx *ctx, struct bpf_object *obj, struct owned_need *need)
{
	struct bpf_program *p;
	struct bpf_map *m;
	*need = (struct owned_need){ 0 };
	bpf_object__for_each_program(p, obj)
		need->programs += bpf_program__autoload(p);
	bpf_object__for_each_map(m, obj) {
		if (!bpf_map__autocreate(m))
			continue;
		need->maps++;
		need->map_bytes += map_bytes(m);
	}
	return tool__admit(ctx, need);
}

/* Per-program verifier log buffers of verifier_log_bytes. At level 0 libbpf
 * asks for a log only when a load fails (then at level 1); at any other
 * level the kernel fails the load with ENOSPC when the log does not fit,
 * after keeping its tail (5.19+). */
static int attach_logs(struct tool_ctx *ctx, struct loaded *l, unsigned level)
{
	struct bpf_program *p;
	unsigned i = 0;
	bpf_object__for_each_program(p, l->obj) {
		if (i == LOAD_MAX_PROGRAMS)
			return tool__fail(ctx, ERR_TOO_MANY_PROGRAMS,
					  "the object has more than %u programs", LOAD_MAX_PROGRAMS);
		if (!bpf_program__autoload(p)) {
			i++;
			continue;
		}
		if (!l->logs[i] && !(l->logs[i] = calloc(1, limits[LIM_VERIFIER_LOG_BYTES])))
			return tool__fail_errno(ctx, -ENOMEM, "verifier log buffer");
		l->logs[i][0] = 0;
		bpf_program__set_log_buf(p, l->logs[i], limits[LIM_VERIFIER_LOG_BYTES]);
		bpf_program__set_log_level(p, level);
		i++;
	}
	return 0;
}

static void free_logs(struct loaded *l)
{
	for (unsigned i = 0; i < LOAD_MAX_PROGRAMS; i++) {
		free(l->logs[i]);
		free(l->tails[i]);
	}
}

/* EPERM without a verifier log, although the capabilities were checked: the
 * kernel refuses this kind of program outright (lockdown, or a hook it
 * cannot serve, such as fentry without ftrace direct calls). */
static int fail_refused(struct tool_ctx *ctx, struct bpf_object *obj)
{
	struct bpf_program *p, *bad = NULL;
	bpf_object__for_each_program(p, obj)
		if (!bad && bpf_program__autoload(p) && bpf_program__fd(p) < 0)
			bad = p;
	const char *name = bad ? bpf_program__name(bad) : "?";
	const char *t = bad ? libbpf_bpf_prog_type_str(bpf_program__type(bad)) : NULL;
	const char *at = bad ? libbpf_bpf_attach_type_str(bpf_program__expected_attach_type(bad)) : NULL;
	tool__fail(ctx, ERR_KERNEL_REFUSED,
		   "the kernel refused program '%s' (%s, %s) with EPERM although this server holds the "
		   "capabilities it needs: this kernel does not allow that kind of program (lockdown, or a hook "
		   "it cannot serve); list_bpf_program_types says which types load here",
		   name, t ? t : "?", at ? at : "?");
	jw__kstr(&ctx->err->ctx, "program", name);
	jw__kint(&ctx->err->ctx, "errno", EPERM);
	return -1;
}

static int fail_load(struct tool_ctx *ctx, struct loaded *l, int rc)
{
	struct bpf_program *p, *bad = NULL;
	const char *log = NULL;
	unsigned i = 0;
	bpf_object__for_each_program(p, l->obj) {
		if (bpf_program__autoload(p) && bpf_program__fd(p) < 0 && l->logs[i] && l->logs[i][0] && !bad)
			bad = p, log = l->logs[i];
		i++;
	}
	if (!bad && rc == -EPERM)
		return fail_refused(ctx, l->obj);
	if (!bad)
		return tool__fail_errno(ctx, rc, "loading the object");
	return vlog__reject(ctx, NULL, bpf_program__name(bad), log, rc);
}

/* The verifier's closing statistics (printed at every log level; time and
 * stack depth only with BPF_LOG_STATS), parsed from the log's last lines. */
static void write_verification(struct jw *w, const char *log)
{
	const char *s = NULL;
	for (const char *q = log; (q = strstr(q, "processed ")); q++)
		s = q;
	unsigned long long v[6];
	if (!s || sscanf(s, "processed %llu insns (limit %llu) max_states_per_insn %llu total_states %llu "
			 "peak_states %llu mark_read %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
		return;
	static const char *const keys[] = { "processed_insns", "insn_limit", "max_states_per_insn",
					    "total_states", "peak_states", "mark_read" };
	jw__key(w, "verification");
	jw__obj(w);
	for (unsigned k = 0; k < 6; k++)
		jw__kuint(w, keys[k], v[k]);
	unsigned long long usec;
	const char *t = strstr(log, "verification time ");
	if (t && sscanf(t, "verification time %llu usec", &usec) == 1)
		jw__kuint(w, "time_usec", usec);
	const char *d = strstr(log, "stack depth ");
	if (d) {
		d += strlen("stack depth ");
		jw__key(w, "stack_depth");
		jw__strn(w, d, strcspn(d, "\n"));
	}
	jw__obj_end(w);
}

static void write_program(struct jw *w, const struct bpf_program *p, const char *log)
{
	struct bpf_prog_info pi = { 0 };
	__u32 len = sizeof(pi);
	bpf_prog_get_info_by_fd(bpf_program__fd(p), &pi, &len);
	jw__obj(w);
	jw__kuint(w, "id", pi.id);
	jw__kstr(w, "name", bpf_program__name(p));
	jw__kstr(w, "section", bpf_program__section_name(p));
	const char *t = libbpf_bpf_prog_type_str(bpf_program__type(p));
	jw__kstr(w, "type", t ? t : "unknown");
	/* attach type 0 is cgroup_inet_ingress: meaningful only for cgroup_skb */
	enum bpf_attach_type a = bpf_program__expected_attach_type(p);
	const char *at = libbpf_bpf_attach_type_str(a);
	if (at && (a || bpf_program__type(p) == BPF_PROG_TYPE_CGROUP_SKB))
		jw__kstr(w, "attach_type", at);
	jw__kuint(w, "insns", bpf_program__insn_cnt(p));
	jw__kuint(w, "verified_insns", pi.verified_insns);
	jw__kuint(w, "xlated_bytes", pi.xlated_prog_len);
	jw__kuint(w, "jited_bytes", pi.jited_prog_len);
	if (log && log[0])
		write_verification(w, log);
	jw__obj_end(w);
}

static void write_map(struct jw *w, const struct bpf_map *m)
{
	struct bpf_map_info mi = { 0 };
	__u32 len = sizeof(mi);
	bpf_map_get_info_by_fd(bpf_map__fd(m), &mi, &len);
	jw__obj(w);
	jw__kuint(w, "id", mi.id);
	jw__kstr(w, "name", bpf_map__name(m));
	const char *t = libbpf_bpf_map_type_str(bpf_map__type(m));
	jw__kstr(w, "type", t ? t : "unknown");
	jw__kuint(w, "key_size", bpf_map__key_size(m));
	jw__kuint(w, "value_size", bpf_map__value_size(m));
	jw__kuint(w, "max_entries", bpf_map__max_entries(m));
	jw__obj_end(w);
}

struct log_text {
	char *text;
	size_t len;
	bool cut;
};

/* The logs asked for with log_level as one text, a section per program,
 * within verifier_log_bytes in all: each program gets an equal share, and a
 * log longer than its share keeps its tail from a line start. */
static int join_logs(struct tool_ctx *ctx, struct loaded *l, struct log_text *t)
{
	char **logs = l->log_cut ? l->tails : l->logs;
	unsigned n = 0, i = 0;
	for (unsigned k = 0; k < LOAD_MAX_PROGRAMS; k++)
		n += logs[k] && logs[k][0];
	if (!l->log_level || !n)
		return 0;
	size_t share = limits[LIM_VERIFIER_LOG_BYTES] / n, cap = limits[LIM_VERIFIER_LOG_BYTES] + n * 300;
	if (!(t->text = arena__alloc(ctx->scratch, cap)))
		return tool__fail_limit(ctx, LIM_SCRATCH_BYTES, "no room for the verifier logs (%zu bytes)", cap);
	t->cut = l->log_cut;
	struct bpf_program *p;
	bpf_object__for_each_program(p, l->obj) {
		const char *log = i < LOAD_MAX_PROGRAMS ? logs[i++] : NULL;
		if (!log || !log[0])
			continue;
		size_t len = strlen(log);
		bool cut = l->log_cut || vlog__full(log);
		size_t from = vlog__tail_from(log, len, share, cut);
		t->cut |= cut || from > 0;
		t->len += (size_t)snprintf(t->text + t->len, cap - t->len, "-- program %.255s --\n", bpf_program__name(p));
		memcpy(t->text + t->len, log + from, len - from);
		t->len += len - from;
	}
	return 0;
}

static void write_report(struct tool_ctx *ctx, struct loaded *l, uint32_t handle, const struct log_text *log)
{
	struct jw *w = ctx->out;
	struct bpf_program *p;
	struct bpf_map *m;
	unsigned i = 0;
	jw__obj(w);
	if (!l->verify_only)
		jw__kuint(w, "handle", handle);
	jw__kbool(w, "verify_only", l->verify_only);
	jw__kstr(w, "object", l->name);
	jw__key(w, "programs");
	jw__arr(w);
	bpf_object__for_each_program(p, l->obj) {
		const char *plog = i < LOAD_MAX_PROGRAMS ? l->logs[i++] : NULL;
		if (bpf_program__fd(p) >= 0)
			write_program(w, p, plog);
	}
	jw__arr_end(w);
	jw__key(w, "maps");
	jw__arr(w);
	bpf_object__for_each_map(m, l->obj)
		if (bpf_map__fd(m) >= 0)
			write_map(w, m);
	jw__arr_end(w);
	jw__key(w, "policy");
	policy__write(w, &ctx->env->cfg->policy, &l->policy);
	if (log->text) {
		jw__key(w, "verifier_log");
		jw__strn(w, log->text, log->len);
		jw__kbool(w, "verifier_log_cut", log->cut);
	}
	jw__obj_end(w);
}

static int open_object(struct tool_ctx *ctx, struct loaded *l)
{
	char btf_real[LIMIT_PATH_BYTES];
	const char *btf = tool__arg_str(ctx, "btf_path");
	if (btf) {
		const struct config *o = ctx->env->cfg;
		const char *dirs[PATHS_MAX_DIRS + 1] = { "/sys/kernel/btf" };
		size_t size;
		memcpy(dirs + 1, o->object_dirs, o->n_object_dirs * sizeof(dirs[0]));
		int rc = paths__file_under(btf, dirs, o->n_object_dirs + 1, limits[LIM_OBJECT_BYTES] * 4, btf_real, &size);
		if (rc)
			return fail_path(ctx, rc, "btf_path", btf);
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = l->name, .btf_custom_path = btf ? btf_real : NULL);
	uint64_t mark = tool__heap_mark();
	l->obj = bpf_object__open_mem(l->bytes, l->len, &opts);
	if (!l->obj) {
		int rc = -errno;
		if (tool__fail_heap(ctx, mark, "opening the object"))
			return -1;
		char why[128];   /* libbpf's own codes (4000 and up) have texts of their own */
		libbpf_strerror(rc, why, sizeof(why));
		tool__fail(ctx, ERR_BAD_OBJECT,
			   "the data is not a BPF ELF object libbpf can open (%s); build it with clang -target bpf -g", why);
		jw__kint(&ctx->err->ctx, "errno", -rc);
		return -1;
	}
	return select_programs(ctx, l->obj);
}

static int get_bytes(struct tool_ctx *ctx, struct loaded *l)
{
	const char *path = tool__arg_str(ctx, "path");
	int data = tool__arg(ctx, "data");
	if (!path == (data < 0))
		return tool__fail(ctx, ERR_SCHEMA,
				  "give exactly one of `path` (a file under --object-dir) and `data` (base64)");
	return path ? read_file(ctx, path, l) : decode_data(ctx, data, l);
}

/* Loads with the log level asked for. When that log does not fit, the
 * kernel refuses the load (ENOSPC) after keeping the log's tail: the tails
 * are kept (cut) and the object is opened and loaded again with statistics
 * only, which always fit. */
static int load_object(struct tool_ctx *ctx, struct loaded *l)
{
	unsigned stats = l->log_level || l->verify_only ? KERNEL_LOG_STATS : 0;
	int rc = attach_logs(ctx, l, l->log_level | stats);
	if (rc)
		return rc;
	uint64_t mark = tool__heap_mark();
	rc = bpf_object__load(l->obj);
	if (rc == -ENOSPC && l->log_level) {
		memcpy(l->tails, l->logs, sizeof(l->tails));
		memset(l->logs, 0, sizeof(l->logs));
		l->log_cut = true;
		bpf_object__close(l->obj);
		l->obj = NULL;
		if (open_object(ctx, l) || attach_logs(ctx, l, stats))
			return -1;
		rc = bpf_object__load(l->obj);
	}
	if (rc && tool__fail_heap(ctx, mark, "loading the object"))
		return -1;
	return rc ? fail_load(ctx, l, rc) : 0;
}

/* Why the policy refused, as a tool error naming the program and the call. */
static int fail_policy(struct tool_ctx *ctx, const struct policy_report *r)
{
	struct jw *c = &ctx->err->ctx;
	const char *prog = r->why.program, *fn = r->why.function ? r->why.function : prog;
	switch (r->verdict) {
	case POLICY_TYPE_REFUSED:
		tool__fail(ctx, ERR_PROG_TYPE_NOT_ALLOWED,
			   "program '%s' is of type %s, which this server's policy does not load; leave it out with "
			   "`programs`, or start the server with --allow-prog-type %s", prog, r->why.type, r->why.type);
		jw__kstr(c, "type", r->why.type);
		break;
	case POLICY_CALL_BLOCKED:
		tool__fail(ctx, ERR_HELPER_BLOCKED,
			   "program '%s' calls %s %s (instruction %u of function '%s'), which this server's policy "
			   "blocks; nothing was loaded. Remove the call, or start the server with --allow-helper %s",
			   prog, r->why.kind, r->why.name, r->why.insn, fn, r->why.name);
		jw__kstr(c, "helper", r->why.name);
		if (!strcmp(r->why.kind, "helper"))
			jw__kuint(c, "helper_id", r->why.id);
		jw__kstr(c, "kind", r->why.kind);
		break;
	case POLICY_TOO_MANY_INSNS:
		tool__fail_limit(ctx, LIM_PROG_INSNS, "program '%s' has %llu instructions with its subprograms, over "
				 "prog_insns", prog, (unsigned long long)r->why.insns);
		jw__kuint(c, "insns", r->why.insns);
		break;
	case POLICY_HELPER_UNKNOWN:
		tool__fail(ctx, ERR_UNKNOWN_HELPER, "program '%s' calls helper %u (instruction %u "
			   "of '%s'), which this kernel's BTF does not name", prog, r->why.id, r->why.insn, fn);
		jw__kuint(c, "helper_id", r->why.id);
		break;
	case POLICY_KFUNC_UNNAMED:
	case POLICY_UNRESOLVED_CALL:
		tool__fail(ctx, ERR_BAD_OBJECT, "program '%s' has a %s call (instruction %u of '%s') "
			   "the policy cannot follow to a named function; nothing was loaded", prog, r->why.kind,
			   r->why.insn, fn);
		break;
	default:
		tool__fail(ctx, ERR_POLICY_UNMAPPED, "program '%s' as libbpf opened it is not the "
			   "object's code as the policy read it; nothing was loaded", prog);
		break;
	}
	jw__kstr(c, "program", prog);
	if (r->why.function)
		jw__kstr(c, "function", r->why.function);
	if (r->verdict != POLICY_TYPE_REFUSED && r->verdict != POLICY_TOO_MANY_INSNS && r->verdict != POLICY_UNMAPPED)
		jw__kuint(c, "insn", r->why.insn);
	return -1;
}

static int check_policy(struct tool_ctx *ctx, struct loaded *l)
{
	uint64_t mark = tool__heap_mark();
	int rc = policy__check(&ctx->env->cfg->policy, l->bytes, l->len, l->obj, limits[LIM_PROG_INSNS], ctx->scratch,
			       &l->policy);
	if (rc && tool__fail_heap(ctx, mark, "reading the object's code for the policy"))
		return -1;
	if (rc == -ENOENT)
		return tool__fail(ctx, ERR_POLICY_NO_BTF,
				  "the kernel's BTF names no helpers (enum bpf_func_id), so the policy cannot check "
				  "helper calls; nothing is loaded");
	if (rc == -EINVAL)
		return tool__fail(ctx, ERR_BAD_OBJECT,
				  "the policy cannot read the object's code (it must be a 64-bit relocatable BPF ELF "
				  "in this machine's byte order)");
	if (rc == -E2BIG)
		return tool__fail(ctx, ERR_OBJECT_TOO_COMPLEX,
				  "the object has more than %u functions or sections or %u code relocations, more than "
				  "the policy walks", BPFCODE_MAX_FUNCS, BPFCODE_MAX_RELOCS);
	if (rc)
		return tool__fail_errno(ctx, rc, "checking the object against the policy");
	return l->policy.verdict == POLICY_OK ? 0 : fail_policy(ctx, &l->policy);
}

/* The capability the kernel asks for when loading a program of type t
 * (bpf_prog_load: networking types need CAP_NET_ADMIN, tracing types
 * CAP_PERFMON), or 0 when CAP_BPF suffices. */
static unsigned type_cap(enum bpf_prog_type t)
{
	switch (t) {
	case BPF_PROG_TYPE_KPROBE: case BPF_PROG_TYPE_TRACEPOINT: case BPF_PROG_TYPE_PERF_EVENT:
	case BPF_PROG_TYPE_RAW_TRACEPOINT: case BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE:
	case BPF_PROG_TYPE_TRACING: case BPF_PROG_TYPE_LSM: case BPF_PROG_TYPE_STRUCT_OPS:
	case BPF_PROG_TYPE_EXT:
		return CAP_PERFMON;
	case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT: case BPF_PROG_TYPE_XDP:
	case BPF_PROG_TYPE_LWT_IN: case BPF_PROG_TYPE_LWT_OUT: case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_LWT_SEG6LOCAL: case BPF_PROG_TYPE_SK_SKB: case BPF_PROG_TYPE_SK_MSG:
	case BPF_PROG_TYPE_FLOW_DISSECTOR: case BPF_PROG_TYPE_CGROUP_DEVICE: case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: case BPF_PROG_TYPE_CGROUP_SOCKOPT: case BPF_PROG_TYPE_CGROUP_SYSCTL:
	case BPF_PROG_TYPE_SOCK_OPS: case BPF_PROG_TYPE_CGROUP_SKB: case BPF_PROG_TYPE_NETFILTER:
		return CAP_NET_ADMIN;
	default:
		return 0;
	}
}

/* Names the missing capability before the kernel answers a bare EPERM. */
static int check_prog_caps(struct tool_ctx *ctx, struct bpf_object *obj)
{
	struct bpf_program *p;
	char why[320];
	bpf_object__for_each_program(p, obj) {
		unsigned cap = bpf_program__autoload(p) ? type_cap(bpf_program__type(p)) : 0;
		if (!cap)
			continue;
		const char *t = libbpf_bpf_prog_type_str(bpf_program__type(p));
		snprintf(why, sizeof(why), "loading %s program '%s'", t ? t : "this", bpf_program__name(p));
		if (tool__need_cap(ctx, cap, why))
			return -1;
	}
	return 0;
}

static int run_load_program(struct tool_ctx *ctx)
{
	struct loaded l = { .verify_only = tool__arg_bool(ctx, "verify_only", false),
			    .log_level = (unsigned)tool__arg_int(ctx, "log_level", 0) };
	struct log_text log = { 0 };
	struct owned_need need = { 0 };
	uint32_t handle = 0;
	int rc = tool__need_cap(ctx, CAP_BPF, "loading BPF programs");
	if (!rc)
		rc = get_bytes(ctx, &l);
	if (!rc)
		rc = open_object(ctx, &l);
	if (!rc)
		rc = check_policy(ctx, &l);
	if (!rc)
		rc = check_prog_caps(ctx, l.obj);
	bool admitted = !rc && !l.verify_only && !(rc = admit(ctx, l.obj, &need));
	if (!rc)
		rc = load_object(ctx, &l);
	if (!rc)
		rc = join_logs(ctx, &l, &log);
	if (!rc && !l.verify_only && (rc = owned__add_object(ctx->objs, l.obj, need.map_bytes, &handle)))
		rc = tool__fail_errno(ctx, rc, "registering the object");
	if (admitted)
		owned__unadmit(&need);
	if (!rc)
		write_report(ctx, &l, handle, &log);
	if (rc || l.verify_only)
		bpf_object__close(l.obj);
	free_logs(&l);
	free(l.bytes);
	return rc ? -1 : 0;
}

const struct tool tool_load_program = {
	.name = "load_program",
	.schema = SCHEMA_load_program,
	.run = run_load_program,
};
