/* Shared plumbing of the map tools (see map_common.h). */
#include "map_common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../kern/btf_fmt.h"
#include "../kern/btf_json.h"
#include "../kern/objinfo.h"
#include "../kern/owned.h"
#include "../core/clock.h"

static bool is_percpu(uint32_t type)
{
	return type == BPF_MAP_TYPE_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH || type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE;
}

static int open_by_id(struct tool_ctx *ctx, int64_t id, bool write)
{
	LIBBPF_OPTS(bpf_get_fd_by_id_opts, o, .open_flags = write ? 0 : BPF_F_RDONLY);
	int fd = bpf_map_get_fd_by_id_opts((uint32_t)id, &o);
	if (fd >= 0)
		return fd;
	if (errno == ENOENT) {
		tool__fail(ctx, ERR_NO_SUCH_MAP,
			   "no map with id %lld in the kernel (it may have been freed); list maps with inspect_state",
			   (long long)id);
		jw__kstr(&ctx->err->ctx, "pointer", "/map_id");
		return -1;
	}
	tool__fail_errno(ctx, -errno, "opening map id %lld", (long long)id);
	return -1;
}

static int open_by_pin(struct tool_ctx *ctx, const char *path, bool write)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = write ? 0 : BPF_F_RDONLY);
	int fd = bpf_obj_get_opts(path, &o);
	if (fd < 0) {
		if (errno == ENOENT)
			tool__fail(ctx, ERR_NO_SUCH_PIN,
				   "nothing is pinned at %s; list pins with inspect_state {kinds:[\"pin\"]}", path);
		else
			tool__fail_errno(ctx, -errno, "opening pin %s (pins live on a bpffs mount)", path);
		jw__kstr(&ctx->err->ctx, "pointer", "/pin_path");
		return -1;
	}
	enum obj_kind k;
	int r = objinfo__kind_of_fd(fd, &k);
	if (r && r != -EINVAL) {
		close(fd);
		if (tool__need_mount(ctx, "proc", "opening a pin by path (what it holds is read from /proc/self/fd)"))
			return -1;
		return tool__fail_errno(ctx, r, "reading what %s holds", path);
	}
	if (r || k != OBJ_MAP) {
		close(fd);
		tool__fail(ctx, ERR_NOT_A_MAP, "%s is pinned, but it is not a map", path);
		jw__kstr(&ctx->err->ctx, "pointer", "/pin_path");
		return -1;
	}
	return fd;
}

/* Key and value encodings: BTF when the map has a usable type for that
 * side and hex was not asked for. Never fails: hex is always possible. */
static void pick_encodings(struct tool_ctx *ctx, struct map_ref *m)
{
	const char *enc = tool__arg_str(ctx, "encoding");
	const char *why = NULL;
	if (enc && !strcmp(enc, "hex")) {
		m->hex_reason = "encoding \"hex\" was asked for";
		return;
	}
	if (!m->info.btf_id) {
		m->hex_reason = "the map has no BTF";
		return;
	}
	int r = btf_cache__by_id(m->info.btf_id, &m->btf);
	if (r) {
		m->btf.btf = NULL;
		m->hex_reason = r == -ENOMEM ? "its BTF did not fit the heap cap" : "its BTF could not be read";
		return;
	}
	if (!m->info.btf_key_type_id)
		m->hex_reason = "the map's BTF has no key type";
	else if (!btf_json__check(m->btf.btf, m->info.btf_key_type_id, m->info.key_size, &why))
		m->key_btf = true;
	else
		m->hex_reason = why;
	if (!m->info.btf_value_type_id)
		m->hex_reason = "the map's BTF has no value type";
	else if (!btf_json__check(m->btf.btf, m->info.btf_value_type_id, m->info.value_size, &why))
		m->value_btf = true;
	else
		m->hex_reason = why;
	if (m->key_btf)
		m->key_int = btf_json__int_size(m->btf.btf, m->info.btf_key_type_id, &m->key_signed);
	if (m->value_btf)
		m->value_int = btf_json__int_size(m->btf.btf, m->info.btf_value_type_id, &m->value_signed);
}

int map_ref__open(struct tool_ctx *ctx, struct map_ref *m, bool write)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	int id_tok = tool__arg(ctx, "map_id");
	const char *pin = tool__arg_str(ctx, "pin_path");
	if ((id_tok >= 0) == (pin != NULL)) {
		tool__fail(ctx, pin ? ERR_CONFLICTING_ARGS : ERR_MAP_REQUIRED,
			   "name the map with exactly one of map_id (see inspect_state) or pin_path");
		jw__kstr(&ctx->err->ctx, "pointer", pin ? "/pin_path" : "/map_id");
		return -1;
	}
	m->fd = pin ? open_by_pin(ctx, pin, write) : open_by_id(ctx, tool__arg_int(ctx, "map_id", 0), write);
	if (m->fd < 0)
		return -1;
	uint32_t len = sizeof(m->info);
	if (bpf_map_get_info_by_fd(m->fd, &m->info, &len)) {
		tool__fail_errno(ctx, -errno, "reading the map's info");
		map_ref__close(m);
		return -1;
	}
	m->percpu = is_percpu(m->info.type);
	int n = libbpf_num_possible_cpus();
	m->ncpus = n > 0 ? (unsigned)n : 1;
	m->stride = ((size_t)m->info.value_size + 7) & ~(size_t)7;
	m->value_bytes = m->percpu ? m->stride * m->ncpus : m->info.value_size;
	pick_encodings(ctx, m);
	m->owned = owned__owns(ctx->objs, OBJ_MAP, m->info.id);
	return 0;
}

void map_ref__close(struct map_ref *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	btf_cache__close(&m->btf);
}

int map_ref__may_write(struct tool_ctx *ctx, const struct map_ref *m)
{
	if (m->owned || ctx->env->allow_foreign)
		return 0;
	tool__fail(ctx, ERR_NOT_OWNED,
		   "map %u (%s) was not created by this session; writing maps the session does not own needs "
		   "the full profile and " TOOL_FOREIGN_HINT, m->info.id, m->info.name);
	jw__kuint(&ctx->err->ctx, "map_id", m->info.id);
	return -1;
}

static void write_type(struct jw *w, const struct map_ref *m, const char *key, bool on, uint32_t id)
{
	char buf[BTF_FMT_TYPE_BYTES];
	if (on && btf_fmt__type(m->btf.btf, id, 0, buf, sizeof(buf)) >= 0)
		jw__kstr(w, key, buf);
}

void map_ref__write_info(struct jw *w, const struct map_ref *m)
{
	const char *type = libbpf_bpf_map_type_str((enum bpf_map_type)m->info.type);
	jw__key(w, "map");
	jw__obj(w);
	jw__kuint(w, "id", m->info.id);
	jw__kstr(w, "name", m->info.name);
	jw__kstr(w, "type", type ? type : "unknown");
	jw__kuint(w, "key_size", m->info.key_size);
	jw__kuint(w, "value_size", m->info.value_size);
	jw__kuint(w, "max_entries", m->info.max_entries);
	jw__kuint(w, "flags", m->info.map_flags);
	jw__kuint(w, "btf_id", m->info.btf_id);
	jw__kbool(w, "owned", m->owned);
	jw__kbool(w, "percpu", m->percpu);
	if (m->percpu)
		jw__kuint(w, "cpus", m->ncpus);
	jw__kstr(w, "key_encoding", m->key_btf ? "btf" : "hex");
	jw__kstr(w, "value_encoding", m->value_btf ? "btf" : "hex");
	write_type(w, m, "key_type", m->key_btf, m->info.btf_key_type_id);
	write_type(w, m, "value_type", m->value_btf, m->info.btf_value_type_id);
	if (m->hex_reason && (!m->key_btf || !m->value_btf))
		jw__kstr(w, "hex_reason", m->hex_reason);
	jw__obj_end(w);
}

static int write_one(struct tool_ctx *ctx, struct jw *w, const struct map_ref *m, bool btf, uint32_t type_id,
		     const void *data, size_t n)
{
	if (!btf) {
		btf_json__write_hex(w, data, n);
		return 0;
	}
	int r = btf_json__write(w, m->btf.btf, type_id, data, n);
	if (!r)
		return 0;
	tool__fail(ctx, ERR_BTF_DECODE,
		   "map %u: its BTF type %u %s; read it with encoding \"hex\"", m->info.id, type_id,
		   r == -ELOOP ? "nests deeper than the decoder's bound" : "does not describe its bytes");
	return -1;
}

int map_ref__write_key(struct tool_ctx *ctx, struct jw *w, const struct map_ref *m, const void *key)
{
	return write_one(ctx, w, m, m->key_btf, m->info.btf_key_type_id, key, m->info.key_size);
}

int map_ref__write_value(struct tool_ctx *ctx, struct jw *w, const struct map_ref *m, const void *val)
{
	if (!m->percpu)
		return write_one(ctx, w, m, m->value_btf, m->info.btf_value_type_id, val, m->info.value_size);
	jw__arr(w);
	for (unsigned c = 0; c < m->ncpus; c++)
		if (write_one(ctx, w, m, m->value_btf, m->info.btf_value_type_id, (const char *)val + c * m->stride,
			      m->info.value_size))
			return -1;
	jw__arr_end(w);
	return 0;
}

static int parse_one(struct tool_ctx *ctx, const struct map_ref *m, bool btf, uint32_t type_id, int tok,
		     const char *ptr, void *out, size_t n, enum err_code code)
{
	struct btf_json_err e;
	int r = btf ? btf_json__parse(m->btf.btf, type_id, ctx->doc, tok, ptr, out, n, &e)
		    : btf_json__parse_hex(ctx->doc, tok, ptr, out, n, &e);
	if (!r)
		return 0;
	tool__fail(ctx, code, "%s: %s%s", e.pointer, e.msg,
		   btf ? "" : m->btf.btf ? " (encoding \"hex\")" : " (the map has no BTF: keys and values are hex)");
	jw__kstr(&ctx->err->ctx, "pointer", e.pointer);
	return -1;
}

int map_ref__parse_key(struct tool_ctx *ctx, const struct map_ref *m, int tok, const char *ptr, void *out)
{
	return parse_one(ctx, m, m->key_btf, m->info.btf_key_type_id, tok, ptr, out, m->info.key_size, ERR_BAD_KEY);
}

int map_ref__parse_value(struct tool_ctx *ctx, const struct map_ref *m, int tok, const char *ptr, void *out)
{
	if (!m->percpu)
		return parse_one(ctx, m, m->value_btf, m->info.btf_value_type_id, tok, ptr, out, m->info.value_size,
				 ERR_BAD_VALUE);
	const struct jdoc *d = ctx->doc;
	if (!jdoc__is_arr(d, tok) || (unsigned)d->t[tok].size != m->ncpus) {
		tool__fail(ctx, ERR_BAD_VALUE,
			   "%s: map %u is per-CPU: give an array of %u values, one per possible CPU", ptr, m->info.id,
			   m->ncpus);
		jw__kstr(&ctx->err->ctx, "pointer", ptr);
		return -1;
	}
	memset(out, 0, m->value_bytes);   /* the padding between CPUs' values */
	int j = tok + 1;
	for (unsigned c = 0; c < m->ncpus; c++, j = jdoc__skip(d, j)) {
		char p[MAP_PTR_BYTES + 16];
		snprintf(p, sizeof(p), "%s/%u", ptr, c);
		if (parse_one(ctx, m, m->value_btf, m->info.btf_value_type_id, j, p, (char *)out + c * m->stride,
			      m->info.value_size, ERR_BAD_VALUE))
			return -1;
	}
	return 0;
}

int map_ref__items(struct tool_ctx *ctx, const char *name, unsigned *n)
{
	int tok = tool__arg(ctx, name);
	*n = jdoc__is_arr(ctx->doc, tok) ? (unsigned)ctx->doc->t[tok].size : 0;
	if (*n > limits[LIM_MAP_ENTRIES]) {
		tool__fail_limit(ctx, LIM_MAP_ENTRIES, "%u %s in one call is over the map_entries cap; split the call "
				 "or raise --limit map_entries=N", *n, name);
		jw__kstr(&ctx->err->ctx, "pointer", name[0] == 'k' ? "/keys" : "/entries");
		return -1;
	}
	return tok;
}

void map_ref__write_errno(struct jw *w, const struct map_ref *m, int err, const char *op)
{
	char msg[LIMIT_ERROR_MSG_BYTES];
	const char *hint = "";
	if (err == EEXIST)
		hint = " (flags \"noexist\": the key is already there)";
	else if (err == ENOENT)
		hint = !strcmp(op, "update") ? " (flags \"exist\": the key is not there)" : " (no such key)";
	else if (err == E2BIG)
		hint = " (the map is full: max_entries reached)";
	else if (err == EINVAL && !strcmp(op, "delete") &&
		 (m->info.type == BPF_MAP_TYPE_ARRAY || m->info.type == BPF_MAP_TYPE_PERCPU_ARRAY))
		hint = " (array entries cannot be deleted; write zeros with map_update)";
	else if (err == EPERM)
		hint = " (the map may be frozen or read-only for user space)";
	snprintf(msg, sizeof(msg), "%s: %s%s", op, strerror(err), hint);
	jw__kstr(w, "code", tool__errno_code(err));
	jw__kint(w, "errno", err);
	jw__kstr(w, "message", msg);
}

int map_ref__run_write(struct tool_ctx *ctx, const char *items, map_write_fn fn)
{
	unsigned n;
	int tok = map_ref__items(ctx, items, &n);
	struct map_ref m;
	if (tok < 0 || map_ref__open(ctx, &m, true))
		return -1;
	int r = map_ref__may_write(ctx, &m) ? -1 : fn(ctx, &m, tok, n);
	map_ref__close(&m);
	return r ? -1 : 0;
}
