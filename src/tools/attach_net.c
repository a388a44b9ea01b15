/* attach_program's network and cgroup hooks: xdp, tc (tcx or clsact) and
 * cgroup programs.
 *
 * These are made with bpf_link_create() directly: libbpf's attach helpers
 * take the attach type from the program's section and have no XDP mode
 * flags, while here the caller chooses both. The session keeps the link fd.
 * A clsact filter (the tc fallback for kernels before tcx) has no link
 * object at all; the session tracks it by (ifindex, handle, priority).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../kern/btf_cache.h"
#include "../sys/sysfs.h"
#include "attach.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

/* `interface`: a name, or an ifindex as an integer. */
static int interface_arg(struct attach_req *r, int *ifindex, char name[IF_NAMESIZE])
{
	int tok = tool__arg(r->ctx, "interface");
	if (tok < 0)
		return attach__missing(r, "interface", "the network interface (name or ifindex)");
	if (jdoc__is_num(r->ctx->doc, tok)) {
		*ifindex = (int)tool__arg_int(r->ctx, "interface", 0);
		if (!if_indextoname((unsigned)*ifindex, name))
			return attach__bad(r, "interface", ERR_NO_SUCH_INTERFACE, "no network interface has ifindex %d in "
					   "the server's network namespace (ip link show)", *ifindex);
		return 0;
	}
	const char *s = tool__arg_str(r->ctx, "interface");
	*ifindex = s ? (int)if_nametoindex(s) : 0;
	if (!*ifindex)
		return attach__bad(r, "interface", ERR_NO_SUCH_INTERFACE, "no network interface '%s' in the server's "
				   "network namespace (ip link show)", s ? s : "");
	snprintf(name, IF_NAMESIZE, "%s", s);
	return 0;
}

/* EBUSY/EEXIST: the hook is taken. Reports that and returns true. */
static bool hook_busy(struct attach_req *r, int rc, const char *hook, const char *ifname)
{
	if (rc != -EBUSY && rc != -EEXIST)
		return false;
	tool__fail(r->ctx, ERR_HOOK_BUSY, "%s on %s refused the program (%s): the hook already "
		   "holds it, or holds a program that cannot be replaced; see inspect_state or `bpftool net show "
		   "dev %s`, detach that first or choose another mode", hook, ifname, strerror(-rc), ifname);
	jw__kint(&r->ctx->err->ctx, "errno", -rc);
	jw__kstr(&r->ctx->err->ctx, "pointer", "/interface");
	return true;
}

/* ---- xdp ------------------------------------------------------------------ */

static const struct {
	const char *name;
	uint32_t flag;
	uint8_t attached;      /* XDP_ATTACHED_* the kernel reports for it */
} xdp_modes[] = {
	{ "native", XDP_FLAGS_DRV_MODE, XDP_ATTACHED_DRV },
	{ "generic", XDP_FLAGS_SKB_MODE, XDP_ATTACHED_SKB },
	{ "offload", XDP_FLAGS_HW_MODE, XDP_ATTACHED_HW },
};

/* The mode the kernel now reports for our program on ifindex. */
static const char *xdp_mode_now(int ifindex, uint32_t prog_id)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	if (bpf_xdp_query(ifindex, 0, &q))
		return NULL;
	if (q.drv_prog_id == prog_id)
		return "native";
	if (q.skb_prog_id == prog_id)
		return "generic";
	if (q.hw_prog_id == prog_id)
		return "offload";
	return NULL;
}

int attach__xdp(struct attach_req *r)
{
	char ifname[IF_NAMESIZE];
	int ifindex;
	if (interface_arg(r, &ifindex, ifname))
		return -1;
	const char *mode = tool__arg_str(r->ctx, "mode");
	uint32_t flags = 0;
	for (unsigned i = 0; mode && i < sizeof(xdp_modes) / sizeof(xdp_modes[0]); i++)
		if (!strcmp(mode, xdp_modes[i].name))
			flags = xdp_modes[i].flag;
	if (mode && !flags)
		return attach__bad(r, "mode", ERR_BAD_MODE, "xdp mode is native, generic or offload (not '%s')", mode);
	LIBBPF_OPTS(bpf_link_create_opts, o, .flags = flags);
	r->link_fd = bpf_link_create(bpf_program__fd(r->prog), ifindex, BPF_XDP, &o);
	if (r->link_fd < 0) {
		int rc = -errno;
		r->link_fd = -1;
		if (hook_busy(r, rc, "xdp", ifname))
			return -1;
		if (rc == -EOPNOTSUPP && flags == XDP_FLAGS_DRV_MODE)
			return attach__kernel(r, rc, "mode", "the driver of %s has no native XDP; use mode generic", ifname);
		return attach__kernel(r, rc, mode ? "mode" : "interface", "attaching xdp to %s%s%s", ifname,
				      mode ? " in mode " : "", mode ? mode : "");
	}
	jw__kstr(&r->det, "interface", ifname);
	jw__kint(&r->det, "ifindex", ifindex);
	const char *now = xdp_mode_now(ifindex, r->prog_id);
	if (now || mode)
		jw__kstr(&r->det, "mode", now ? now : mode);
	return 0;
}

/* ---- tc ------------------------------------------------------------------- */

/* Whether the kernel knows tcx: its own enum bpf_attach_type names it. */
static bool kernel_has_tcx(void)
{
	struct btf_view v;
	if (btf_cache__vmlinux(&v))
		return false;
	int id = btf__find_by_name_kind(v.btf, "bpf_attach_type", BTF_KIND_ENUM);
	const struct btf_type *t = id > 0 ? btf__type_by_id(v.btf, id) : NULL;
	bool found = false;
	for (unsigned i = 0; t && !found && i < btf_vlen(t); i++)
		found = !strcmp(btf__name_by_offset(v.btf, btf_enum(t)[i].name_off), "BPF_TCX_INGRESS");
	btf_cache__close(&v);
	return found;
}

void attach__tc_undo(const struct owned_tc *tc)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = tc->ifindex,
		    .attach_point = tc->egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, o, .handle = tc->handle, .priority = tc->priority);
	bpf_tc_detach(&hook, &o);
}

static int attach_clsact(struct attach_req *r, int ifindex, const char *ifname, bool egress)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	int rc = bpf_tc_hook_create(&hook);
	bool created = !rc;
	if (rc && rc != -EEXIST)
		return attach__kernel(r, rc, "interface", "creating the clsact qdisc on %s", ifname);
	LIBBPF_OPTS(bpf_tc_opts, o, .prog_fd = bpf_program__fd(r->prog));
	rc = bpf_tc_attach(&hook, &o);
	if (rc)
		return attach__kernel(r, rc, "interface", "adding a clsact %s filter on %s", egress ? "egress" : "ingress",
				      ifname);
	r->is_tc = true;
	r->tc = (struct owned_tc){ .ifindex = ifindex, .egress = egress, .handle = o.handle, .priority = o.priority };
	jw__kuint(&r->det, "handle", o.handle);
	jw__kuint(&r->det, "priority", o.priority);
	r->note = created ? "a clsact filter has no kernel link: link_id is local to this session, and the filter "
			    "outlives the server if it is killed; the clsact qdisc was created for it and stays"
			  : "a clsact filter has no kernel link: link_id is local to this session, and the filter "
			    "outlives the server if it is killed";
	return 0;
}

int attach__tc(struct attach_req *r)
{
	char ifname[IF_NAMESIZE];
	int ifindex;
	if (interface_arg(r, &ifindex, ifname))
		return -1;
	const char *dir = tool__arg_str(r->ctx, "direction"), *mode = tool__arg_str(r->ctx, "mode");
	if (!dir)
		return attach__missing(r, "direction", "ingress or egress");
	if (mode && strcmp(mode, "tcx") && strcmp(mode, "clsact"))
		return attach__bad(r, "mode", ERR_BAD_MODE, "tc mode is tcx or clsact (not '%s')", mode);
	bool egress = !strcmp(dir, "egress");
	jw__kstr(&r->det, "interface", ifname);
	jw__kint(&r->det, "ifindex", ifindex);
	jw__kstr(&r->det, "direction", dir);
	if (!mode || !strcmp(mode, "tcx")) {
		int fd = bpf_link_create(bpf_program__fd(r->prog), ifindex, egress ? BPF_TCX_EGRESS : BPF_TCX_INGRESS, NULL);
		int rc = fd < 0 ? -errno : 0;
		if (!rc) {
			r->link_fd = fd;
			jw__kstr(&r->det, "mode", "tcx");
			return 0;
		}
		if (hook_busy(r, rc, "tcx", ifname))
			return -1;
		if (mode || rc != -EINVAL || kernel_has_tcx())
			return attach__kernel(r, rc, "interface", "attaching tcx %s on %s", dir, ifname);
	}
	jw__kstr(&r->det, "mode", "clsact");
	return attach_clsact(r, ifindex, ifname, egress);
}

/* ---- cgroup --------------------------------------------------------------- */

static const struct cg_hook {
	const char *name;
	enum bpf_attach_type at;
	enum bpf_prog_type pt;
} cg_hooks[] = {
	{ "ingress", BPF_CGROUP_INET_INGRESS, BPF_PROG_TYPE_CGROUP_SKB },
	{ "egress", BPF_CGROUP_INET_EGRESS, BPF_PROG_TYPE_CGROUP_SKB },
	{ "sock_create", BPF_CGROUP_INET_SOCK_CREATE, BPF_PROG_TYPE_CGROUP_SOCK },
	{ "sock_release", BPF_CGROUP_INET_SOCK_RELEASE, BPF_PROG_TYPE_CGROUP_SOCK },
	{ "post_bind4", BPF_CGROUP_INET4_POST_BIND, BPF_PROG_TYPE_CGROUP_SOCK },
	{ "post_bind6", BPF_CGROUP_INET6_POST_BIND, BPF_PROG_TYPE_CGROUP_SOCK },
	{ "bind4", BPF_CGROUP_INET4_BIND, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "bind6", BPF_CGROUP_INET6_BIND, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "connect4", BPF_CGROUP_INET4_CONNECT, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "connect6", BPF_CGROUP_INET6_CONNECT, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "sendmsg4", BPF_CGROUP_UDP4_SENDMSG, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "sendmsg6", BPF_CGROUP_UDP6_SENDMSG, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "recvmsg4", BPF_CGROUP_UDP4_RECVMSG, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "recvmsg6", BPF_CGROUP_UDP6_RECVMSG, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "getpeername4", BPF_CGROUP_INET4_GETPEERNAME, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "getpeername6", BPF_CGROUP_INET6_GETPEERNAME, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "getsockname4", BPF_CGROUP_INET4_GETSOCKNAME, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "getsockname6", BPF_CGROUP_INET6_GETSOCKNAME, BPF_PROG_TYPE_CGROUP_SOCK_ADDR },
	{ "sock_ops", BPF_CGROUP_SOCK_OPS, BPF_PROG_TYPE_SOCK_OPS },
	{ "device", BPF_CGROUP_DEVICE, BPF_PROG_TYPE_CGROUP_DEVICE },
	{ "sysctl", BPF_CGROUP_SYSCTL, BPF_PROG_TYPE_CGROUP_SYSCTL },
	{ "getsockopt", BPF_CGROUP_GETSOCKOPT, BPF_PROG_TYPE_CGROUP_SOCKOPT },
	{ "setsockopt", BPF_CGROUP_SETSOCKOPT, BPF_PROG_TYPE_CGROUP_SOCKOPT },
};
#define N_CG_HOOKS (sizeof(cg_hooks) / sizeof(cg_hooks[0]))

/* The named hook, or (name NULL) the one the program was loaded for. */
static const struct cg_hook *cg_hook(const char *name, const struct bpf_program *p)
{
	enum bpf_attach_type want = bpf_program__expected_attach_type(p);
	for (unsigned i = 0; i < N_CG_HOOKS; i++)
		if (name ? !strcmp(cg_hooks[i].name, name)
			 : cg_hooks[i].at == want && cg_hooks[i].pt == bpf_program__type(p))
			return &cg_hooks[i];
	return NULL;
}

static int check_cg_program(struct attach_req *r, const struct cg_hook *h)
{
	const struct bpf_program *p = r->prog;
	const char *have = libbpf_bpf_prog_type_str(bpf_program__type(p));
	const char *need = libbpf_bpf_prog_type_str(h->pt);
	if (bpf_program__type(p) != h->pt) {
		tool__fail(r->ctx, ERR_WRONG_PROGRAM_TYPE, "program %u '%s' is a %s program; the "
			   "cgroup hook %s needs a %s program", r->prog_id, bpf_program__name(p),
			   have ? have : "unknown", h->name, need ? need : "?");
		jw__kstr(&r->ctx->err->ctx, "pointer", "/attach_type");
		return -1;
	}
	/* only cgroup_skb programs may attach where they were not loaded for */
	if (h->pt != BPF_PROG_TYPE_CGROUP_SKB && bpf_program__expected_attach_type(p) != h->at) {
		const struct cg_hook *loaded = cg_hook(NULL, p);
		return attach__bad(r, "attach_type", ERR_ATTACH_TYPE_MISMATCH, "program '%s' was loaded for %s (section "
				   "\"%s\"); the kernel attaches a %s program only where it was loaded for",
				   bpf_program__name(p), loaded ? loaded->name : "another hook",
				   bpf_program__section_name(p), have ? have : "cgroup");
	}
	return 0;
}

/* An absolute directory, or one relative to the cgroup2 mount. */
static int cgroup_dir(struct attach_req *r, char *real)
{
	const char *arg = tool__arg_str(r->ctx, "cgroup");
	char path[LIMIT_PATH_BYTES], mnt[LIMIT_PATH_BYTES];
	struct statfs sf;
	struct stat st;
	if (!arg)
		return attach__missing(r, "cgroup", "a cgroup v2 directory (e.g. \"/sys/fs/cgroup/my.slice\")");
	if (arg[0] != '/') {
		if (sysfs__mount_point("cgroup2", mnt, sizeof(mnt)))
			return attach__unsupported(r, "cgroup", "no cgroup v2 hierarchy is mounted; mount one (mount -t cgroup2 "
						   "none /sys/fs/cgroup) or give an absolute path");
		if (snprintf(path, sizeof(path), "%s/%s", mnt, arg) >= (int)sizeof(path))
			return attach__kernel(r, -ENAMETOOLONG, "cgroup", "cgroup '%s'", arg);
		arg = path;
	}
	if (!realpath(arg, real) && errno == ENOENT)
		return attach__bad(r, "cgroup", ERR_NO_SUCH_CGROUP, "no cgroup directory '%s' exists", arg);
	if (!realpath(arg, real))
		return attach__kernel(r, -errno, "cgroup", "cgroup '%s'", arg);
	if (stat(real, &st) || !S_ISDIR(st.st_mode))
		return attach__bad(r, "cgroup", ERR_NOT_A_CGROUP, "'%s' is not a directory", real);
	if (statfs(real, &sf) || (unsigned long)sf.f_type != CGROUP2_SUPER_MAGIC)
		return attach__bad(r, "cgroup", ERR_NOT_A_CGROUP, "'%s' is not in a cgroup v2 hierarchy (BPF programs "
				   "attach only to cgroup v2 directories)", real);
	return 0;
}

int attach__cgroup(struct attach_req *r)
{
	char real[LIMIT_PATH_BYTES];
	const char *name = tool__arg_str(r->ctx, "attach_type");
	const struct cg_hook *h = cg_hook(name, r->prog);
	if (!h && !name) {
		const char *t = libbpf_bpf_prog_type_str(bpf_program__type(r->prog));
		tool__fail(r->ctx, ERR_WRONG_PROGRAM_TYPE, "program %u '%s' (a %s program, section "
			   "\"%s\") is not a cgroup program; type 'cgroup' needs one such as SEC(\"cgroup/sock_create\")",
			   r->prog_id, bpf_program__name(r->prog), t ? t : "unknown", bpf_program__section_name(r->prog));
		jw__kstr(&r->ctx->err->ctx, "pointer", "/type");
		return -1;
	}
	if (!h)
		return attach__bad(r, "attach_type", ERR_BAD_TARGET, "unknown cgroup attach type '%s'", name);
	if (check_cg_program(r, h) || cgroup_dir(r, real))
		return -1;
	int cg = open(real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return attach__kernel(r, -errno, "cgroup", "opening cgroup '%s'", real);
	int fd = bpf_link_create(bpf_program__fd(r->prog), cg, h->at, NULL);
	int rc = fd < 0 ? -errno : 0;
	close(cg);
	if (rc)
		return attach__kernel(r, rc, "cgroup", "attaching %s program to cgroup '%s'", h->name, real);
	r->link_fd = fd;
	jw__kstr(&r->det, "cgroup", real);
	jw__kstr(&r->det, "attach_type", h->name);
	return 0;
}
