/* skb_drops: dropped packets counted in the kernel per (location, reason,
 * protocol, context, process), folded here by reason, by location, by
 * protocol and by process, with a sample of each drop.
 *
 * Reason names come from the running kernel's BTF (enum skb_drop_reason),
 * never from a table built in: the values differ between kernels (6.1
 * numbers NO_SOCKET 2, 6.18 numbers it 3) and new reasons come with every
 * release. The SKB_DROP_REASON_ (and SKB_) prefix is left out, as the
 * kernel's own trace output prints them. Locations are symbolized through
 * /proc/kallsyms as func+0xoff. */
#define _GNU_SOURCE   /* strcasestr, CLONE_NEWNET */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "../kern/btf_cache.h"
#include "ksyms.h"
#include "skb_drops.h"
#include "skb_drops.skel.h"
#include "tracer_run.h"

#define REASON_NAME_BYTES  64
#define REASON_SUGGEST_MAX 8      /* close names offered for an unknown one */
#define SYM_MSG_BYTES      160

struct reason {
	uint32_t value;
	char name[REASON_NAME_BYTES];
};

struct drops {
	struct reason *reasons;
	unsigned n_reasons;
	struct ksyms *k;
	bool k_tried;
	char k_problem[SYM_MSG_BYTES];   /* why locations stay addresses; empty when they do not */
};

/* ---- reason names from BTF -------------------------------------------------- */

/* The enumerator's name as the kernel's trace output prints it. */
static const char *short_name(const char *n)
{
	if (!strncmp(n, "SKB_DROP_REASON_", 16))
		return n + 16;
	return !strncmp(n, "SKB_", 4) ? n + 4 : n;
}

/* enum skb_drop_reason of btf, without the two members that are bounds,
 * not reasons (MAX, SUBSYS_MASK). */
static int read_reasons(struct tool_ctx *ctx, struct drops *d, const struct btf *btf)
{
	int id = btf__find_by_name_kind(btf, "skb_drop_reason", BTF_KIND_ENUM);
	if (id < 0)
		return tool__fail(ctx, ERR_NO_DROP_REASONS,
				  "the kernel's BTF has no enum skb_drop_reason: skb:kfree_skb gives no drop "
				  "reason before Linux 5.17");
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_enum *e = btf_enum(t);
	unsigned n = btf_vlen(t);   /* < 65536; 6.18 has 132 */
	d->reasons = calloc(n ? n : 1, sizeof(*d->reasons));
	if (!d->reasons)
		return tool__fail_errno(ctx, -ENOMEM, "drop reason names");
	for (unsigned i = 0; i < n; i++) {
		const char *name = short_name(btf__name_by_offset(btf, e[i].name_off));
		if (!strcmp(name, "MAX") || !strcmp(name, "SUBSYS_MASK"))
			continue;
		struct reason *r = &d->reasons[d->n_reasons++];
		r->value = (uint32_t)e[i].val;
		snprintf(r->name, sizeof(r->name), "%s", name);
	}
	return 0;
}

/* The running kernel's drop reasons. */
static int load_reasons(struct tool_ctx *ctx, struct drops *d)
{
	struct btf_view v;
	if (tool__need_btf(ctx, "skb_drops (drop reason names)"))
		return -1;
	int err = btf_cache__vmlinux(&v);
	if (err)
		return tool__fail_errno(ctx, err, "reading the kernel's BTF for drop reason names");
	err = read_reasons(ctx, d, v.btf);
	btf_cache__close(&v);
	return err;
}

static const char *reason_name(const struct drops *d, uint32_t value)
{
	for (unsigned i = 0; i < d->n_reasons; i++)
		if (d->reasons[i].value == value)
			return d->reasons[i].name;
	return NULL;
}

/* "reason": its name (REASON_<n> for a value the enum lacks, e.g. a
 * subsystem's reason with the high 16 bits set), "reason_value": n. */
static void kreason(struct jw *w, const struct drops *d, uint32_t value)
{
	const char *name = reason_name(d, value);
	jw__key(w, "reason");
	if (name)
		jw__str(w, name);
	else
		jw__strf(w, "REASON_%u", value);
	jw__kuint(w, "reason_value", value);
}

/* An unknown reason: names holding what was asked are suggested. */
static int unknown_reason(struct tool_ctx *ctx, const struct drops *d, const char *want, const char *why)
{
	char hint[16 + REASON_SUGGEST_MAX * (REASON_NAME_BYTES + 2)] = "";   /* holds them all */
	size_t len = 0;
	unsigned shown = 0;
	for (unsigned i = 0; i < d->n_reasons && shown < REASON_SUGGEST_MAX && *want; i++)
		if (strcasestr(d->reasons[i].name, want) && len < sizeof(hint))
			len += snprintf(hint + len, sizeof(hint) - len, "%s%s", shown++ ? ", " : "; like it: ",
					d->reasons[i].name);
	tool__fail(ctx, ERR_UNKNOWN_DROP_REASON, "reason '%s' %s (this kernel has %u drop reasons)%s", want, why,
		   d->n_reasons, hint);
	jw__kstr(&ctx->err->ctx, "pointer", "/reason");
	jw__kuint(&ctx->err->ctx, "reasons", d->n_reasons);
	return -1;
}

/* The `reason` argument: a name with or without SKB_DROP_REASON_, any case. */
static int parse_reason(struct tool_ctx *ctx, const struct drops *d, const char *arg, uint32_t *value)
{
	const char *want = arg;
	if (!strncasecmp(want, "SKB_DROP_REASON_", 16))
		want += 16;
	else if (!strncasecmp(want, "SKB_", 4))
		want += 4;
	for (unsigned i = 0; i < d->n_reasons; i++) {
		if (strcasecmp(d->reasons[i].name, want))
			continue;
		if (!d->reasons[i].value)
			return unknown_reason(ctx, d, arg, "is not a drop reason (the kernel never traces it)");
		*value = d->reasons[i].value;
		return 0;
	}
	return unknown_reason(ctx, d, arg, "is not in enum skb_drop_reason");
}

/* ---- the netns argument ------------------------------------------------------ */

static int not_netns(struct tool_ctx *ctx, const char *path, const char *why)
{
	tool__fail(ctx, ERR_NOT_A_NETNS, "netns %s %s: give /proc/<pid>/ns/net, /run/netns/<name> or net:[<inode>]",
		   path, why);
	jw__kstr(&ctx->err->ctx, "pointer", "/netns");
	return -1;
}

/* A network namespace file (nsfs, of type CLONE_NEWNET), or "net:[N]" as
 * readlink shows one: its inode, which is the namespace's ns.inum. */
static int parse_netns(struct tool_ctx *ctx, const char *arg, uint32_t *inum)
{
	unsigned long long n;
	char end;
	if (sscanf(arg, "net:[%llu%c", &n, &end) == 2 && end == ']' && !arg[strcspn(arg, "]") + 1])
		return n && n <= UINT32_MAX ? (*inum = (uint32_t)n, 0) : not_netns(ctx, arg, "is out of range");
	struct statfs fs;
	struct stat st;
	if (statfs(arg, &fs)) {   /* before open: a FIFO there would block it */
		if (errno != ENOENT && errno != ENOTDIR)
			return tool__fail_errno(ctx, -errno, "netns %s", arg);
		tool__fail(ctx, ERR_NO_SUCH_FILE, "netns: no file %s", arg);
		jw__kstr(&ctx->err->ctx, "pointer", "/netns");
		return -1;
	}
	if (fs.f_type != NSFS_MAGIC)
		return not_netns(ctx, arg, "is not a namespace file");
	int fd = open(arg, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return tool__fail_errno(ctx, -errno, "netns %s", arg);
	int ok = ioctl(fd, NS_GET_NSTYPE) == CLONE_NEWNET && !fstat(fd, &st);
	close(fd);
	if (!ok)
		return not_netns(ctx, arg, "is another kind of namespace");
	*inum = (uint32_t)st.st_ino;
	return 0;
}

/* ---- locations ----------------------------------------------------------------- */

static void load_ksyms(struct drops *d)
{
	d->k_tried = true;
	uint64_t max = limits[LIM_SCAN_ITEMS];
	int err = ksyms__load(&d->k, max);
	if (err == -E2BIG)
		snprintf(d->k_problem, sizeof(d->k_problem),
			 "locations not symbolized: /proc/kallsyms has more than %llu lines (the scan_items limit)",
			 (unsigned long long)max);
	else if (err)
		snprintf(d->k_problem, sizeof(d->k_problem), "locations not symbolized: reading /proc/kallsyms: %s",
			 strerror(-err));
	else if (ksyms__hidden(d->k))
		snprintf(d->k_problem, sizeof(d->k_problem), "locations not symbolized: /proc/kallsyms shows zero "
			 "addresses (kernel.kptr_restrict, or no CAP_SYSLOG)");
}

/* "location": func+0xoff (the address in hex when no symbol holds it),
 * "function" and "module" (vmlinux: none) when one does, "address". */
static void klocation(struct jw *w, struct drops *d, uint64_t addr)
{
	const char *name = NULL, *mod = NULL;
	uint64_t off = 0;
	if (!d->k_tried)
		load_ksyms(d);
	bool found = !d->k_problem[0] && ksyms__find(d->k, addr, &name, &mod, &off);
	jw__key(w, "location");
	if (found)
		jw__strf(w, "%s+0x%llx", name, (unsigned long long)off);
	else
		jw__strf(w, "0x%llx", (unsigned long long)addr);
	if (found) {
		jw__kstr(w, "function", name);
		if (mod)
			jw__kstr(w, "module", mod);
	}
	jw__key(w, "address");
	jw__strf(w, "0x%llx", (unsigned long long)addr);
}

/* "protocol": the ETH_P_ name without the prefix (or "none" for 0, 0x%04x
 * for an unnamed one), "protocol_value". */
static void kprotocol(struct jw *w, uint16_t p)
{
	const char *name = tracer__eth_protocol(p);
	jw__key(w, "protocol");
	if (name)
		jw__str(w, name);
	else if (!p)
		jw__str(w, "none");
	else
		jw__strf(w, "0x%04x", p);
	jw__kuint(w, "protocol_value", p);
}

static const char *const contexts[SKB_DROPS_CTX_COUNT] = { "process", "softirq" };

/* ---- samples ------------------------------------------------------------------ */

static int sample(struct tracer *t, struct jw *w, const void *data, size_t size)
{
	struct drops *d = t->priv;
	const struct skb_drops_sample *s = data;
	if (size < sizeof(*s) || s->context >= SKB_DROPS_CTX_COUNT)
		return 1;
	jw__obj(w);
	jw__kuint(w, "ts_ns", s->ts_ns);
	kreason(w, d, s->reason);
	klocation(w, d, s->location);
	kprotocol(w, s->protocol);
	jw__kstr(w, "context", contexts[s->context]);
	jw__kuint(w, "pid", s->tgid);
	jw__kuint(w, "tid", s->tid);
	tracer__kcomm(w, "comm", s->comm);
	jw__kuint(w, "netns", s->netns);
	jw__kint(w, "ifindex", s->ifindex);
	jw__kuint(w, "len", s->len);
	if (s->rx_sk) {
		jw__key(w, "sock");
		jw__strf(w, "%llx", (unsigned long long)s->rx_sk);
	}
	jw__obj_end(w);
	return 0;
}

/* ---- the report: the kernel's rows folded four ways ---------------------------- */

/* One group: count first (tracer__sort_rows sorts by the u64 at 0). */
struct agg {
	uint64_t count;
	uint64_t a, b;   /* the group's key */
	char comm[TRACER_COMM_BYTES];
};

/* Which group a row belongs to; false leaves the row out of this view. */
typedef bool (*group_fn)(const struct skb_drops_key *k, uint64_t *a, uint64_t *b);

static bool by_reason(const struct skb_drops_key *k, uint64_t *a, uint64_t *b)
{
	*a = k->reason, *b = 0;
	return true;
}

static bool by_location(const struct skb_drops_key *k, uint64_t *a, uint64_t *b)
{
	*a = k->location, *b = k->reason;
	return true;
}

static bool by_protocol(const struct skb_drops_key *k, uint64_t *a, uint64_t *b)
{
	*a = k->protocol, *b = 0;
	return true;
}

static bool by_process(const struct skb_drops_key *k, uint64_t *a, uint64_t *b)
{
	*a = k->tgid, *b = k->reason;
	return k->context == SKB_DROPS_CTX_PROCESS;
}

static int by_key(const void *x, const void *y)
{
	const struct agg *p = x, *q = y;
	if (p->a != q->a)
		return p->a < q->a ? -1 : 1;
	return p->b < q->b ? -1 : p->b > q->b;
}

#define ROW_VAL TRACER_ROW_VAL(sizeof(struct skb_drops_key))

/* The map's rows (row bytes apart) grouped by fn into out (room for n),
 * largest count first; the number of groups. */
static size_t group(const char *rows, size_t n, size_t row, group_fn fn, struct agg *out)
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const struct skb_drops_key *k = (const void *)(rows + i * row);
		const struct skb_drops_value *v = (const void *)(rows + i * row + ROW_VAL);
		struct agg g = { .count = v->count };
		if (!fn(k, &g.a, &g.b))
			continue;
		memcpy(g.comm, v->comm, sizeof(g.comm));
		out[m++] = g;
	}
	if (m > 1)
		qsort(out, m, sizeof(*out), by_key);
	size_t j = 0;
	for (size_t i = 0; i < m; i++) {
		if (j && !by_key(&out[j - 1], &out[i]))
			out[j - 1].count += out[i].count;
		else
			out[j++] = out[i];
	}
	tracer__sort_rows(out, j, sizeof(*out), offsetof(struct agg, count));
	return j;
}

static void write_reason(struct jw *w, struct drops *d, const struct agg *g)
{
	jw__obj(w);
	kreason(w, d, (uint32_t)g->a);
	jw__kuint(w, "count", g->count);
	jw__obj_end(w);
}

static void write_location(struct jw *w, struct drops *d, const struct agg *g)
{
	jw__obj(w);
	klocation(w, d, g->a);
	kreason(w, d, (uint32_t)g->b);
	jw__kuint(w, "count", g->count);
	jw__obj_end(w);
}

static void write_protocol(struct jw *w, struct drops *d, const struct agg *g)
{
	(void)d;
	jw__obj(w);
	kprotocol(w, (uint16_t)g->a);
	jw__kuint(w, "count", g->count);
	jw__obj_end(w);
}

static void write_process(struct jw *w, struct drops *d, const struct agg *g)
{
	jw__obj(w);
	jw__kuint(w, "pid", g->a);
	tracer__kcomm(w, "comm", g->comm);
	kreason(w, d, (uint32_t)g->b);
	jw__kuint(w, "count", g->count);
	jw__obj_end(w);
}

struct view {
	const char *key;
	group_fn fn;
	void (*write)(struct jw *w, struct drops *d, const struct agg *g);
};

static const struct view views[] = {
	{ "reasons", by_reason, write_reason },
	{ "locations", by_location, write_location },
	{ "protocols", by_protocol, write_protocol },
	{ "processes", by_process, write_process },
};

/* Each view, its first `limit` groups; whether one had more. */
static bool write_views(struct jw *w, struct drops *d, const char *rows, size_t n, size_t row, uint64_t limit,
			struct agg *buf)
{
	bool more = false;
	for (size_t v = 0; v < sizeof(views) / sizeof(views[0]); v++) {
		size_t m = group(rows, n, row, views[v].fn, buf);
		jw__key(w, views[v].key);
		jw__arr(w);
		for (size_t i = 0; i < m && i < limit; i++)
			views[v].write(w, d, &buf[i]);
		jw__arr_end(w);
		more |= m > limit;
	}
	return more;
}

static void write_contexts(struct jw *w, const char *rows, size_t n, size_t row)
{
	uint64_t by[SKB_DROPS_CTX_COUNT] = { 0 };
	for (size_t i = 0; i < n; i++) {
		const struct skb_drops_key *k = (const void *)(rows + i * row);
		const struct skb_drops_value *v = (const void *)(rows + i * row + ROW_VAL);
		if (k->context < SKB_DROPS_CTX_COUNT)
			by[k->context] += v->count;
	}
	jw__key(w, "contexts");
	jw__obj(w);
	for (unsigned c = 0; c < SKB_DROPS_CTX_COUNT; c++)
		jw__kuint(w, contexts[c], by[c]);
	jw__obj_end(w);
}

static int report(struct tracer *t, struct jw *w, struct tool_ctx *ctx)
{
	struct skb_drops_bpf *s = t->skel;
	struct drops *d = t->priv;
	size_t n, row, stride;
	char *rows = tracer__read_map(s->maps.counts, &n, &row, &stride);
	struct agg *buf = calloc(n ? n : 1, sizeof(*buf));
	if (!rows || !buf) {
		free(rows);
		free(buf);
		return tool__fail_errno(ctx, -ENOMEM, "reading the drop counts");
	}
	bool more = write_views(w, d, rows, n, row, t->o.limit, buf);
	write_contexts(w, rows, n, row);
	jw__kuint(w, "drops", s->bss->drops);
	jw__kuint(w, "rows", n);
	jw__kbool(w, "truncated", more);
	jw__kuint(w, "keys_dropped", s->bss->keys_dropped);
	if (d->k_problem[0])
		jw__kstr(w, "symbols_error", d->k_problem);
	free(rows);
	free(buf);
	return 0;
}

/* ---- the call ------------------------------------------------------------------ */

static void free_drops(void *p)
{
	struct drops *d = p;
	if (!d)
		return;
	ksyms__free(d->k);
	free(d->reasons);
	free(d);
}

static uint64_t ring_dropped(struct tracer *t)
{
	return ((struct skb_drops_bpf *)t->skel)->bss->samples_dropped;
}

static const struct tracer_ops ops = { .max_events_default = 100, .event = sample, .report = report,
				       .free_priv = free_drops, .ring_dropped = ring_dropped };

/* The tool's own arguments, read before anything is loaded. */
static int read_args(struct tool_ctx *ctx, struct drops *d, uint32_t *reason, uint32_t *netns)
{
	const char *r = tool__arg_str(ctx, "reason"), *ns = tool__arg_str(ctx, "netns");
	if (load_reasons(ctx, d))
		return -1;
	if (r && parse_reason(ctx, d, r, reason))
		return -1;
	return ns ? parse_netns(ctx, ns, netns) : 0;
}

static int run_skb_drops(struct tool_ctx *ctx)
{
	uint32_t reason = 0, netns = 0;
	struct tracer *t = tracer__begin(ctx, "skb_drops", &ops);
	if (!t)
		return -1;
	struct drops *d = calloc(1, sizeof(*d));
	t->priv = d;
	if (!d) {
		errno = ENOMEM;
		return tracer__open_failed(ctx, t);
	}
	if (read_args(ctx, d, &reason, &netns))
		return tracer__abandon(t);
	struct skb_drops_bpf *s = skb_drops_bpf__open();
	if (!s)
		return tracer__open_failed(ctx, t);
	TRACER_SET_FILTERS(s->rodata, &t->o);
	s->rodata->targ_reason = reason;
	s->rodata->targ_netns = netns;
	t->samples_only = true;   /* the counts go on after max_events samples */
	return tracer__start(ctx, t, s, s->skeleton, s->maps.samples);
}

const struct tool tool_skb_drops = {
	.name = "skb_drops",
	.schema = SCHEMA_skb_drops,
	.run = run_skb_drops,
};
