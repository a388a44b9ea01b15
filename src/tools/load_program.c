/* load_program: an ELF object, checked by policy, loaded and kept under a handle.
 *
 * The bytes are read into memory once (from an allowed file or base64) and
 * opened from memory, so what was checked is what is loaded: a file swapped
 * after the path check cannot slip in. Caps (programs, maps, map memory)
 * are checked after open, before the kernel is asked for anything.
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
#include "../kern/session.h"
#include "../mcp/server.h"
#include "../sys/caps.h"
#include "tool.h"

struct loaded {
	uint8_t *bytes;           /* the ELF image (heap) */
	size_t len;
	char name[64];            /* object name shown and given to libbpf */
	struct bpf_object *obj;
};

static int fail_path(struct tool_ctx *ctx, int rc, const char *arg, const char *path)
{
	if (rc == -EACCES)
		tool__fail(ctx, ERR_PERMISSION, "PATH_NOT_ALLOWED", true,
			   "%s '%s' is not inside an allowed directory (%u configured); start the server with "
			   "--object-dir DIR or pass the object inline as base64 `data`", arg, path,
			   ctx->srv->opt.n_object_dirs);
	else if (rc == -EFBIG)
		tool__fail_limit(ctx, LIM_OBJECT_BYTES, "%s '%s' is larger than object_bytes", arg, path);
	else if (rc == -EISDIR || rc == -EINVAL)
		tool__fail(ctx, ERR_VALIDATION, "NOT_REGULAR_FILE", true, "%s '%s' is not a regular file", arg, path);
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
	const struct server_opts *o = &ctx->srv->opt;
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
		return tool__fail(ctx, ERR_KERNEL, "SHORT_READ", true, "'%s' changed while being read", path);
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
		tool__fail(ctx, ERR_VALIDATION, "BAD_BASE64", true,
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
			tool__fail(ctx, ERR_VALIDATION, "NO_SUCH_PROGRAM", true,
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

/* programs / maps / map_memory_bytes, before the kernel is asked. */
static int check_caps(struct tool_ctx *ctx, struct bpf_object *obj, uint64_t *bytes)
{
	unsigned progs = 0, maps = 0;
	struct bpf_program *p;
	struct bpf_map *m;
	*bytes = 0;
	bpf_object__for_each_program(p, obj)
		progs += bpf_program__autoload(p);
	bpf_object__for_each_map(m, obj) {
		if (!bpf_map__autocreate(m))
			continue;
		maps++;
		*bytes += map_bytes(m);
	}
	if (session__count(SESSION_PROG) + progs > limits[LIM_PROGRAMS])
		return tool__fail_limit(ctx, LIM_PROGRAMS, "loading %u more programs would exceed programs (%u held); "
					"unload_program some first", progs, session__count(SESSION_PROG));
	if (session__count(SESSION_MAP) + maps > limits[LIM_MAPS])
		return tool__fail_limit(ctx, LIM_MAPS, "creating %u more maps would exceed maps (%u held); "
					"unload_program some first", maps, session__count(SESSION_MAP));
	if (session__map_bytes() + *bytes > limits[LIM_MAP_MEMORY_BYTES])
		return tool__fail_limit(ctx, LIM_MAP_MEMORY_BYTES, "the object's maps need %llu bytes and %llu are held",
					(unsigned long long)*bytes, (unsigned long long)session__map_bytes());
	return 0;
}

#define LOG_TAIL_IN_ERROR (64 * 1024)   /* verifier log kept in an error's context */

/* Per-program verifier log buffers; the kernel (5.19+) keeps the tail of a
 * log longer than the buffer. */
static int attach_logs(struct tool_ctx *ctx, struct bpf_object *obj, char **bufs, unsigned cap)
{
	struct bpf_program *p;
	unsigned i = 0;
	bpf_object__for_each_program(p, obj) {
		if (i == cap)
			return tool__fail(ctx, ERR_VALIDATION, "TOO_MANY_PROGRAMS", true,
					  "the object has more than %u programs", cap);
		if (!bpf_program__autoload(p)) {
			bufs[i++] = NULL;
			continue;
		}
		bufs[i] = calloc(1, limits[LIM_VERIFIER_LOG_BYTES]);
		if (!bufs[i])
			return tool__fail_errno(ctx, -ENOMEM, "verifier log buffer");
		bpf_program__set_log_buf(p, bufs[i++], limits[LIM_VERIFIER_LOG_BYTES]);
	}
	return 0;
}

static void free_logs(char **bufs, unsigned cap)
{
	for (unsigned i = 0; i < cap; i++)
		free(bufs[i]);
}

static int fail_load(struct tool_ctx *ctx, struct bpf_object *obj, char **bufs, int rc)
{
	struct bpf_program *p, *bad = NULL;
	const char *log = NULL;
	unsigned i = 0;
	bpf_object__for_each_program(p, obj) {
		if (bpf_program__autoload(p) && bpf_program__fd(p) < 0 && bufs[i] && bufs[i][0] && !bad)
			bad = p, log = bufs[i];
		i++;
	}
	if (!bad)
		return tool__fail_errno(ctx, rc, "loading the object");
	size_t n = strlen(log), keep = n > LOG_TAIL_IN_ERROR ? LOG_TAIL_IN_ERROR : n;
	tool__fail(ctx, ERR_KERNEL, "VERIFIER_REJECTED", true,
		   "the verifier rejected program '%s' (%s); its log's last lines say why", bpf_program__name(bad),
		   strerror(-rc));
	jw__kstr(&ctx->err->ctx, "program", bpf_program__name(bad));
	jw__kint(&ctx->err->ctx, "errno", -rc);
	jw__key(&ctx->err->ctx, "verifier_log");
	jw__strn(&ctx->err->ctx, log + n - keep, keep);
	jw__kbool(&ctx->err->ctx, "verifier_log_cut", keep < n || n + 1 >= limits[LIM_VERIFIER_LOG_BYTES]);
	return -1;
}

static void write_program(struct jw *w, const struct bpf_program *p)
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

static void write_report(struct tool_ctx *ctx, struct loaded *l, bool verify_only, uint32_t handle)
{
	struct jw *w = ctx->out;
	struct bpf_program *p;
	struct bpf_map *m;
	jw__obj(w);
	if (!verify_only)
		jw__kuint(w, "handle", handle);
	jw__kbool(w, "verify_only", verify_only);
	jw__kstr(w, "object", l->name);
	jw__key(w, "programs");
	jw__arr(w);
	bpf_object__for_each_program(p, l->obj)
		if (bpf_program__fd(p) >= 0)
			write_program(w, p);
	jw__arr_end(w);
	jw__key(w, "maps");
	jw__arr(w);
	bpf_object__for_each_map(m, l->obj)
		if (bpf_map__fd(m) >= 0)
			write_map(w, m);
	jw__arr_end(w);
	jw__key(w, "policy");
	jw__obj(w);
	jw__obj_end(w);
	jw__obj_end(w);
}

#define LOAD_MAX_PROGRAMS 256   /* programs in one object */

static int open_object(struct tool_ctx *ctx, struct loaded *l)
{
	char btf_real[LIMIT_PATH_BYTES];
	const char *btf = tool__arg_str(ctx, "btf_path");
	if (btf) {
		const struct server_opts *o = &ctx->srv->opt;
		const char *dirs[PATHS_MAX_DIRS + 1] = { "/sys/kernel/btf" };
		size_t size;
		memcpy(dirs + 1, o->object_dirs, o->n_object_dirs * sizeof(dirs[0]));
		int rc = paths__file_under(btf, dirs, o->n_object_dirs + 1, limits[LIM_OBJECT_BYTES] * 4, btf_real, &size);
		if (rc)
			return fail_path(ctx, rc, "btf_path", btf);
	}
	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = l->name, .btf_custom_path = btf ? btf_real : NULL);
	l->obj = bpf_object__open_mem(l->bytes, l->len, &opts);
	if (!l->obj) {
		int rc = -errno;
		tool__fail(ctx, ERR_VALIDATION, "BAD_OBJECT", true,
			   "the data is not a BPF ELF object libbpf can open (%s); build it with clang -target bpf -g",
			   strerror(-rc));
		jw__kint(&ctx->err->ctx, "errno", -rc);
		return -1;
	}
	return 0;
}

static int get_bytes(struct tool_ctx *ctx, struct loaded *l)
{
	const char *path = tool__arg_str(ctx, "path");
	int data = tool__arg(ctx, "data");
	if (!path == (data < 0))
		return tool__fail(ctx, ERR_VALIDATION, "SCHEMA", true,
				  "give exactly one of `path` (a file under --object-dir) and `data` (base64)");
	return path ? read_file(ctx, path, l) : decode_data(ctx, data, l);
}

static int run_load_program(struct tool_ctx *ctx)
{
	struct loaded l = { 0 };
	char *logs[LOAD_MAX_PROGRAMS] = { 0 };
	bool verify_only = tool__arg_bool(ctx, "verify_only", false);
	uint64_t bytes = 0;
	uint32_t handle = 0;
	int rc = tool__need_cap(ctx, CAP_BPF, "loading BPF programs");
	if (!rc)
		rc = get_bytes(ctx, &l);
	if (!rc)
		rc = open_object(ctx, &l);
	if (!rc)
		rc = select_programs(ctx, l.obj);
	if (!rc && !verify_only)
		rc = check_caps(ctx, l.obj, &bytes);
	if (!rc)
		rc = attach_logs(ctx, l.obj, logs, LOAD_MAX_PROGRAMS);
	if (!rc && (rc = bpf_object__load(l.obj)))
		rc = fail_load(ctx, l.obj, logs, rc);
	if (!rc && !verify_only && (rc = session__add_object(l.obj, bytes, &handle)))
		rc = tool__fail_errno(ctx, rc, "registering the object");
	if (!rc)
		write_report(ctx, &l, verify_only, handle);
	if (rc || verify_only)
		bpf_object__close(l.obj);
	free_logs(logs, LOAD_MAX_PROGRAMS);
	free(l.bytes);
	return rc ? -1 : 0;
}

const struct tool tool_load_program = {
	.name = "load_program",
	.schema = SCHEMA_load_program,
	.run = run_load_program,
	.min_profile = PROFILE_FULL,
};
