/* BPF object info as JSON items (see objinfo.h). */
#include "objinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../sys/sysfs.h"

#define FDINFO_BYTES 1024   /* /proc/self/fdinfo of a map or program is ~300 bytes */
#define PROG_NAME_BYTES 128 /* a BTF function name shown in full; a longer one keeps the kernel's 15 bytes */

int64_t objinfo__boot_to_real_ns(void)
{
	struct timespec real, boot;
	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	return (int64_t)(real.tv_sec - boot.tv_sec) * 1000000000ll + (real.tv_nsec - boot.tv_nsec);
}

/* Only links that carry a name need a second call with a buffer: the first
 * tells their type (and which union member holds the name). */
static int link_name_buffer(struct bpf_link_info *l, char *buf, uint32_t cap)
{
	uint64_t p = (uint64_t)(uintptr_t)buf;
	uint32_t type = l->type, pe = l->perf_event.type;
	memset(l, 0, sizeof(*l));
	switch (type) {
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		l->raw_tracepoint.tp_name = p, l->raw_tracepoint.tp_name_len = cap;
		return 1;
	case BPF_LINK_TYPE_ITER:
		l->iter.target_name = p, l->iter.target_name_len = cap;
		return 1;
	case BPF_LINK_TYPE_UPROBE_MULTI:
		l->uprobe_multi.path = p, l->uprobe_multi.path_size = cap;
		return 1;
	case BPF_LINK_TYPE_PERF_EVENT:
		if (pe == BPF_PERF_EVENT_UPROBE || pe == BPF_PERF_EVENT_URETPROBE)
			l->perf_event.uprobe.file_name = p, l->perf_event.uprobe.name_len = cap;
		else if (pe == BPF_PERF_EVENT_KPROBE || pe == BPF_PERF_EVENT_KRETPROBE)
			l->perf_event.kprobe.func_name = p, l->perf_event.kprobe.name_len = cap;
		else if (pe == BPF_PERF_EVENT_TRACEPOINT)
			l->perf_event.tracepoint.tp_name = p, l->perf_event.tracepoint.name_len = cap;
		else
			return 0;
		return 1;
	default:
		return 0;
	}
}

static int get_link(int fd, struct obj_info *oi)
{
	uint32_t len = sizeof(oi->link);
	int r = bpf_link_get_info_by_fd(fd, &oi->link, &len);
	if (r)
		return r;
	struct bpf_link_info first = oi->link;
	if (!link_name_buffer(&oi->link, oi->str, sizeof(oi->str))) {
		oi->link = first;
		return 0;
	}
	len = sizeof(oi->link);
	r = bpf_link_get_info_by_fd(fd, &oi->link, &len);
	oi->str[sizeof(oi->str) - 1] = 0;
	if (r == -ENOSPC)      /* name longer than a path: keep what fits */
		r = 0;
	return r;
}

/* The kernel keeps 15 bytes of a program's name; the program's BTF keeps
 * its whole function name, which bpftool shows: so do we (in oi->str,
 * left empty when the kernel's name is whole or the BTF cannot say). */
static void prog_full_name(int fd, struct obj_info *oi)
{
	const struct bpf_prog_info *p = &oi->prog;
	if (strnlen(p->name, sizeof(p->name)) < BPF_OBJ_NAME_LEN - 1 || !p->btf_id || !p->nr_func_info)
		return;
	struct bpf_func_info fi = { 0 };
	struct bpf_prog_info q = { .nr_func_info = 1, .func_info_rec_size = sizeof(fi),
				   .func_info = (uint64_t)(uintptr_t)&fi };
	uint32_t len = sizeof(q);
	if (bpf_prog_get_info_by_fd(fd, &q, &len))
		return;
	struct btf *b = btf__load_from_kernel_by_id(p->btf_id);
	if (!b)
		return;
	const struct btf_type *t = btf__type_by_id(b, fi.type_id);
	const char *n = t ? btf__name_by_offset(b, t->name_off) : NULL;
	if (n && strlen(n) < PROG_NAME_BYTES && !strncmp(n, p->name, BPF_OBJ_NAME_LEN - 1))
		strcpy(oi->str, n);
	btf__free(b);
}

int objinfo__get(int fd, enum obj_kind k, struct obj_info *oi)
{
	memset(oi, 0, sizeof(*oi));
	oi->kind = k;
	uint32_t len;
	switch (k) {
	case OBJ_PROG:
		oi->prog.map_ids = (uint64_t)(uintptr_t)oi->map_ids;
		oi->prog.nr_map_ids = OBJINFO_MAX_MAP_IDS;
		len = sizeof(oi->prog);
		int r = bpf_prog_get_info_by_fd(fd, &oi->prog, &len);
		if (!r)
			prog_full_name(fd, oi);
		return r;
	case OBJ_MAP:
		len = sizeof(oi->map);
		return bpf_map_get_info_by_fd(fd, &oi->map, &len);
	case OBJ_LINK:
		return get_link(fd, oi);
	case OBJ_BTF:
		oi->btf.name = (uint64_t)(uintptr_t)oi->str;
		oi->btf.name_len = sizeof(oi->str);
		len = sizeof(oi->btf);
		return bpf_btf_get_info_by_fd(fd, &oi->btf, &len);
	default:
		return -EINVAL;
	}
}

int objinfo__kind_of_fd(int fd, enum obj_kind *k)
{
	static const struct { const char *link; enum obj_kind k; } names[] = {
		{ "anon_inode:bpf-prog", OBJ_PROG }, { "anon_inode:bpf-map", OBJ_MAP },
		{ "anon_inode:bpf-link", OBJ_LINK }, { "anon_inode:btf", OBJ_BTF },
	};
	char path[64], target[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = 0;
	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(target, names[i].link)) {
			*k = names[i].k;
			return 0;
		}
	return -EINVAL;
}

uint32_t objinfo__id(const struct obj_info *oi)
{
	switch (oi->kind) {
	case OBJ_PROG: return oi->prog.id;
	case OBJ_MAP: return oi->map.id;
	case OBJ_LINK: return oi->link.id;
	case OBJ_BTF: return oi->btf.id;
	default: return 0;
	}
}

const char *objinfo__name(const struct obj_info *oi, char *buf, unsigned cap)
{
	const char *n;
	size_t len;
	switch (oi->kind) {
	case OBJ_PROG:
		n = oi->str[0] ? oi->str : oi->prog.name;
		len = strnlen(n, oi->str[0] ? sizeof(oi->str) : sizeof(oi->prog.name));
		break;
	case OBJ_MAP: n = oi->map.name, len = strnlen(n, sizeof(oi->map.name)); break;
	case OBJ_BTF: n = oi->str, len = strnlen(n, sizeof(oi->str)); break;
	default: return NULL;
	}
	if (len >= cap)
		len = cap - 1;
	memcpy(buf, n, len);
	buf[len] = 0;
	return buf;
}

const char *objinfo__type_name(const struct obj_info *oi)
{
	const char *s = NULL;
	switch (oi->kind) {
	case OBJ_PROG: s = libbpf_bpf_prog_type_str((enum bpf_prog_type)oi->prog.type); break;
	case OBJ_MAP: s = libbpf_bpf_map_type_str((enum bpf_map_type)oi->map.type); break;
	case OBJ_LINK: s = libbpf_bpf_link_type_str((enum bpf_link_type)oi->link.type); break;
	default: break;
	}
	return s ? s : "";
}

/* ---- writers ------------------------------------------------------------ */

/* "memlock:\t4096" style fields of /proc/self/fdinfo/<fd>. */
static bool fdinfo_u64(const char *info, const char *key, uint64_t *v)
{
	size_t kl = strlen(key);
	for (const char *p = info; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':') {
			unsigned long long x;
			if (sscanf(p + kl + 1, "%llu", &x) != 1)
				return false;
			*v = x;
			return true;
		}
	return false;
}

static void read_fdinfo(int fd, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int r = sysfs__read(path, buf, cap, NULL);
	if (r && r != -EFBIG)
		buf[0] = 0;
}

static void kfdinfo(struct jw *w, const char *info, const char *field, const char *key)
{
	uint64_t v;
	jw__key(w, key);
	if (fdinfo_u64(info, field, &v))
		jw__uint(w, v);
	else
		jw__null(w);
}

static void kid_or_null(struct jw *w, const char *key, uint32_t id)
{
	jw__key(w, key);
	if (id)
		jw__uint(w, id);
	else
		jw__null(w);
}

static void ktype(struct jw *w, const struct obj_info *oi, uint32_t type_id)
{
	const char *t = objinfo__type_name(oi);
	jw__key(w, "type");
	if (*t)
		jw__str(w, t);
	else
		jw__strf(w, "unknown_%u", type_id);   /* newer than libbpf */
	jw__kuint(w, "type_id", type_id);
}

static void write_load_time(struct jw *w, uint64_t boot_ns, int64_t off)
{
	int64_t real = (int64_t)boot_ns + off;
	time_t s = (time_t)(real / 1000000000ll);
	struct tm tm;
	char date[40];
	gmtime_r(&s, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	jw__key(w, "load_time");
	jw__strf(w, "%s.%03uZ", date, (unsigned)(real % 1000000000ll / 1000000));
	jw__kuint(w, "load_time_boot_ns", boot_ns);
}

static void write_prog(struct jw *w, int fd, const struct obj_info *oi, int64_t off)
{
	const struct bpf_prog_info *p = &oi->prog;
	char info[FDINFO_BYTES], name[PROG_NAME_BYTES];
	jw__kuint(w, "id", p->id);
	jw__kstr(w, "name", objinfo__name(oi, name, sizeof(name)));
	ktype(w, oi, p->type);
	jw__key(w, "tag");
	jw__strf(w, "%02x%02x%02x%02x%02x%02x%02x%02x", p->tag[0], p->tag[1], p->tag[2], p->tag[3],
		 p->tag[4], p->tag[5], p->tag[6], p->tag[7]);
	jw__kbool(w, "gpl_compatible", p->gpl_compatible);
	write_load_time(w, p->load_time, off);
	jw__kuint(w, "uid", p->created_by_uid);
	jw__kuint(w, "bytes_xlated", p->xlated_prog_len);
	jw__kbool(w, "jited", p->jited_prog_len > 0);
	jw__kuint(w, "bytes_jited", p->jited_prog_len);
	read_fdinfo(fd, info, sizeof(info));
	kfdinfo(w, info, "memlock", "bytes_memlock");
	jw__kuint(w, "verified_insns", p->verified_insns);
	jw__kuint(w, "run_cnt", p->run_cnt);
	jw__kuint(w, "run_time_ns", p->run_time_ns);
	jw__kuint(w, "recursion_misses", p->recursion_misses);
	jw__key(w, "map_ids");
	jw__arr(w);
	for (uint32_t i = 0; i < p->nr_map_ids && i < OBJINFO_MAX_MAP_IDS; i++)
		jw__uint(w, oi->map_ids[i]);
	jw__arr_end(w);
	if (p->nr_map_ids > OBJINFO_MAX_MAP_IDS)
		jw__kuint(w, "map_ids_total", p->nr_map_ids);
	kid_or_null(w, "btf_id", p->btf_id);
	if (p->attach_btf_id) {
		jw__kuint(w, "attach_btf_obj_id", p->attach_btf_obj_id);
		jw__kuint(w, "attach_btf_id", p->attach_btf_id);
	}
	if (p->ifindex)
		jw__kuint(w, "ifindex", p->ifindex);   /* offloaded to a device */
}

static void write_map_flags(struct jw *w, uint32_t flags)
{
	static const char *const names[] = {
		"no_prealloc", "no_common_lru", "numa_node", "rdonly", "wronly", "stack_build_id",
		"zero_seed", "rdonly_prog", "wronly_prog", "clone", "mmapable", "preserve_elems",
		"inner_map", "link", "path_fd", "vtype_btf_obj_fd", "token_fd", "segv_on_fault",
		"no_user_conv",
	};
	jw__kuint(w, "flags", flags);
	jw__key(w, "flag_names");
	jw__arr(w);
	for (unsigned b = 0; b < 32; b++)
		if (flags >> b & 1) {
			if (b < sizeof(names) / sizeof(names[0]))
				jw__str(w, names[b]);
			else
				jw__strf(w, "bit_%u", b);   /* newer than this table */
		}
	jw__arr_end(w);
}

static void write_map(struct jw *w, int fd, const struct obj_info *oi)
{
	const struct bpf_map_info *m = &oi->map;
	char info[FDINFO_BYTES], name[sizeof(m->name) + 1];
	uint64_t frozen = 0;
	jw__kuint(w, "id", m->id);
	jw__kstr(w, "name", objinfo__name(oi, name, sizeof(name)));
	ktype(w, oi, m->type);
	jw__kuint(w, "key_size", m->key_size);
	jw__kuint(w, "value_size", m->value_size);
	jw__kuint(w, "max_entries", m->max_entries);
	write_map_flags(w, m->map_flags);
	jw__kuint(w, "map_extra", m->map_extra);
	kid_or_null(w, "btf_id", m->btf_id);
	if (m->btf_id) {
		jw__kuint(w, "btf_key_type_id", m->btf_key_type_id);
		jw__kuint(w, "btf_value_type_id", m->btf_value_type_id);
	}
	if (m->btf_vmlinux_value_type_id)
		jw__kuint(w, "btf_vmlinux_value_type_id", m->btf_vmlinux_value_type_id);
	read_fdinfo(fd, info, sizeof(info));
	kfdinfo(w, info, "memlock", "bytes_memlock");
	jw__kbool(w, "frozen", fdinfo_u64(info, "frozen", &frozen) && frozen);
	if (m->ifindex)
		jw__kuint(w, "ifindex", m->ifindex);
}

static void kattach(struct jw *w, uint32_t t)
{
	const char *s = libbpf_bpf_attach_type_str((enum bpf_attach_type)t);
	jw__key(w, "attach_type");
	if (s)
		jw__str(w, s);
	else
		jw__strf(w, "unknown_%u", t);
}

static void write_perf_event(struct jw *w, const struct bpf_link_info *l, const char *str)
{
	static const char *const kinds[] = { "unspec", "uprobe", "uretprobe", "kprobe", "kretprobe",
					     "tracepoint", "event" };
	uint32_t t = l->perf_event.type;
	jw__key(w, "perf_event_type");
	if (t < sizeof(kinds) / sizeof(kinds[0]))
		jw__str(w, kinds[t]);
	else
		jw__strf(w, "unknown_%u", t);
	if (t == BPF_PERF_EVENT_UPROBE || t == BPF_PERF_EVENT_URETPROBE) {
		jw__kstr(w, "file_name", str);
		jw__kuint(w, "offset", l->perf_event.uprobe.offset);
		jw__kuint(w, "cookie", l->perf_event.uprobe.cookie);
	} else if (t == BPF_PERF_EVENT_KPROBE || t == BPF_PERF_EVENT_KRETPROBE) {
		jw__kstr(w, "func_name", str);
		jw__kuint(w, "offset", l->perf_event.kprobe.offset);
		jw__kuint(w, "addr", l->perf_event.kprobe.addr);
		jw__kuint(w, "missed", l->perf_event.kprobe.missed);
		jw__kuint(w, "cookie", l->perf_event.kprobe.cookie);
	} else if (t == BPF_PERF_EVENT_TRACEPOINT) {
		jw__kstr(w, "tp_name", str);
		jw__kuint(w, "cookie", l->perf_event.tracepoint.cookie);
	} else if (t == BPF_PERF_EVENT_EVENT) {
		jw__kuint(w, "perf_type", l->perf_event.event.type);
		jw__kuint(w, "config", l->perf_event.event.config);
		jw__kuint(w, "cookie", l->perf_event.event.cookie);
	}
}

static void write_iter(struct jw *w, const struct bpf_link_info *l, const char *target)
{
	jw__kstr(w, "target_name", target);
	/* The second union's meaning depends on the iterator target. */
	if (!strcmp(target, "bpf_map_elem") || !strcmp(target, "bpf_sk_storage_map"))
		jw__kuint(w, "map_id", l->iter.map.map_id);
	else if (!strcmp(target, "cgroup")) {
		jw__kuint(w, "cgroup_id", l->iter.cgroup.cgroup_id);
		jw__kuint(w, "order", l->iter.cgroup.order);
	} else if (!strncmp(target, "task", 4)) {
		jw__kuint(w, "tid", l->iter.task.tid);
		jw__kuint(w, "pid", l->iter.task.pid);
	}
}

/* What the link is attached to: whatever bpf_link_info carries for its type. */
static void write_link_target(struct jw *w, const struct obj_info *oi)
{
	const struct bpf_link_info *l = &oi->link;
	switch (l->type) {
	case BPF_LINK_TYPE_RAW_TRACEPOINT:
		jw__kstr(w, "tp_name", oi->str);
		break;
	case BPF_LINK_TYPE_TRACING:
		kattach(w, l->tracing.attach_type);
		jw__kuint(w, "target_obj_id", l->tracing.target_obj_id);
		jw__kuint(w, "target_btf_id", l->tracing.target_btf_id);
		break;
	case BPF_LINK_TYPE_CGROUP:
		kattach(w, l->cgroup.attach_type);
		jw__kuint(w, "cgroup_id", l->cgroup.cgroup_id);
		break;
	case BPF_LINK_TYPE_ITER:
		write_iter(w, l, oi->str);
		break;
	case BPF_LINK_TYPE_NETNS:
		kattach(w, l->netns.attach_type);
		jw__kuint(w, "netns_ino", l->netns.netns_ino);
		break;
	case BPF_LINK_TYPE_XDP:
		jw__kuint(w, "ifindex", l->xdp.ifindex);
		/* the kernel drops the device from the link when the interface goes */
		jw__kbool(w, "defunct", !l->xdp.ifindex);
		break;
	case BPF_LINK_TYPE_STRUCT_OPS:
		jw__kuint(w, "map_id", l->struct_ops.map_id);
		break;
	case BPF_LINK_TYPE_NETFILTER:
		jw__kuint(w, "pf", l->netfilter.pf);
		jw__kuint(w, "hooknum", l->netfilter.hooknum);
		jw__kint(w, "priority", l->netfilter.priority);
		jw__kuint(w, "netfilter_flags", l->netfilter.flags);
		break;
	case BPF_LINK_TYPE_KPROBE_MULTI:
		jw__kuint(w, "count", l->kprobe_multi.count);
		jw__kbool(w, "retprobe", l->kprobe_multi.flags & BPF_F_KPROBE_MULTI_RETURN);
		jw__kuint(w, "missed", l->kprobe_multi.missed);
		break;
	case BPF_LINK_TYPE_UPROBE_MULTI:
		jw__kstr(w, "file_name", oi->str);
		jw__kuint(w, "count", l->uprobe_multi.count);
		jw__kbool(w, "retprobe", l->uprobe_multi.flags & BPF_F_UPROBE_MULTI_RETURN);
		jw__kuint(w, "pid", l->uprobe_multi.pid);
		break;
	case BPF_LINK_TYPE_PERF_EVENT:
		write_perf_event(w, l, oi->str);
		break;
	case BPF_LINK_TYPE_TCX:
	case BPF_LINK_TYPE_NETKIT:
		kattach(w, l->tcx.attach_type);    /* same layout for both */
		jw__kuint(w, "ifindex", l->tcx.ifindex);
		jw__kbool(w, "defunct", !l->tcx.ifindex);
		break;
	case BPF_LINK_TYPE_SOCKMAP:
		kattach(w, l->sockmap.attach_type);
		jw__kuint(w, "map_id", l->sockmap.map_id);
		break;
	default:
		break;
	}
}

void objinfo__write(struct jw *w, int fd, const struct obj_info *oi, int64_t boot_to_real_ns, bool owned)
{
	jw__obj(w);
	switch (oi->kind) {
	case OBJ_PROG:
		write_prog(w, fd, oi, boot_to_real_ns);
		break;
	case OBJ_MAP:
		write_map(w, fd, oi);
		break;
	case OBJ_LINK:
		jw__kuint(w, "id", oi->link.id);
		ktype(w, oi, oi->link.type);
		jw__kuint(w, "prog_id", oi->link.prog_id);
		write_link_target(w, oi);
		break;
	case OBJ_BTF:
		jw__kuint(w, "id", oi->btf.id);
		jw__key(w, "name");
		if (oi->str[0])
			jw__str(w, oi->str);
		else
			jw__null(w);
		jw__kuint(w, "size", oi->btf.btf_size);
		jw__kbool(w, "kernel_btf", oi->btf.kernel_btf);
		break;
	default:
		break;
	}
	jw__kbool(w, "owned", owned);
	jw__obj_end(w);
}

int objinfo__fd_kind(int fd, enum obj_kind *k)
{
	char link[64], target[64];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0)
		return -errno;
	target[n] = 0;
	if (strstr(target, "bpf-prog"))
		*k = OBJ_PROG;
	else if (strstr(target, "bpf-map"))
		*k = OBJ_MAP;
	else if (strstr(target, "bpf_link") || strstr(target, "bpf-link"))
		*k = OBJ_LINK;
	else
		return -EINVAL;
	return 0;
}

uint32_t objinfo__fd_id(int fd)
{
	struct { __u32 type, id; } head = { 0 };
	__u32 len = sizeof(head);
	return bpf_obj_get_info_by_fd(fd, &head, &len) ? 0 : head.id;
}
