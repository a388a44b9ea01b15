/* Unit tests for the per-session ownership registry and its totals
 * (src/kern/owned.c). */
#include <errno.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "kern/owned.h"
#include "unit.h"

static struct owned *o;

/* A fresh registry for each case. */
static void reset(void)
{
	owned__free(o);
	o = owned__new();
}

static void own_and_query(void)
{
	reset();
	CHECK(!owned__owns(o, OBJ_PROG, 7));
	CHECK(owned__own(o, OBJ_PROG, 7) == 0);
	CHECK(owned__owns(o, OBJ_PROG, 7));
	/* kinds are separate id spaces: program 7 is not map 7 */
	CHECK(!owned__owns(o, OBJ_MAP, 7));
	CHECK(owned__count(o, OBJ_PROG) == 1);
	CHECK(owned__count(o, OBJ_MAP) == 0);
}

static void rejects_bad_input(void)
{
	reset();
	CHECK(owned__own(o, OBJ_LINK, 0) == -EINVAL);
	CHECK(owned__own(o, (enum obj_kind)OBJ__KINDS, 1) == -EINVAL);
	CHECK(owned__own(o, OBJ_LINK, 5) == 0);
	CHECK(owned__own(o, OBJ_LINK, 5) == -EEXIST);
	CHECK(owned__count(o, OBJ_LINK) == 1);
	CHECK(owned__disown(o, OBJ_LINK, 6) == -ENOENT);
	CHECK(!owned__owns(o, (enum obj_kind)99, 5));
	CHECK(owned__count(o, (enum obj_kind)99) == 0);
}

static void keeps_ids_sorted(void)
{
	static const uint32_t in[] = { 40, 3, 900, 17, 4000000000u, 1, 250 };
	static const uint32_t sorted[] = { 1, 3, 17, 40, 250, 900, 4000000000u };
	reset();
	for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		CHECK(owned__own(o, OBJ_MAP, in[i]) == 0);
	for (unsigned i = 0; i < sizeof(sorted) / sizeof(sorted[0]); i++)
		CHECK(owned__id_at(o, OBJ_MAP, i) == sorted[i]);
	CHECK(owned__id_at(o, OBJ_MAP, 7) == 0);
	CHECK(owned__disown(o, OBJ_MAP, 17) == 0);
	CHECK(!owned__owns(o, OBJ_MAP, 17));
	CHECK(owned__id_at(o, OBJ_MAP, 2) == 40);
	CHECK(owned__owns(o, OBJ_MAP, 4000000000u));
	CHECK(owned__count(o, OBJ_MAP) == 6);
}

static void capacity_limit(void)
{
	reset();
	/* descending inserts exercise the shifting path at every step */
	for (uint32_t id = OWNED_MAX_OBJECTS; id >= 1; id--)
		CHECK(owned__own(o, OBJ_BTF, id * 2) == 0);
	CHECK(owned__count(o, OBJ_BTF) == OWNED_MAX_OBJECTS);
	CHECK(owned__own(o, OBJ_BTF, 3) == -ENOSPC);
	CHECK(owned__owns(o, OBJ_BTF, 2) && owned__owns(o, OBJ_BTF, OWNED_MAX_OBJECTS * 2));
	CHECK(!owned__owns(o, OBJ_BTF, 3));
	CHECK(owned__disown(o, OBJ_BTF, 2) == 0);
	CHECK(owned__own(o, OBJ_BTF, 3) == 0);
	CHECK(owned__id_at(o, OBJ_BTF, 0) == 3);
	for (unsigned i = 1; i < OWNED_MAX_OBJECTS; i++)
		CHECK(owned__id_at(o, OBJ_BTF, i) > owned__id_at(o, OBJ_BTF, i - 1));
}

static void names(void)
{
	CHECK(owned__kind_name(OBJ_PROG)[0] == 'p');
	CHECK(owned__kind_name((enum obj_kind)42)[0] == 'u');
}

/* A real raw_tracepoint link (root): "r0 = 0; exit" on sched_switch. */
static int raw_tp_link(int *prog_fd)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	*prog_fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "t_session", "GPL", insns, 2, NULL);
	return *prog_fd < 0 ? -1 : bpf_raw_tracepoint_open("sched_switch", *prog_fd);
}

static uint32_t fd_link_id(int fd)
{
	struct bpf_link_info li = { 0 };
	__u32 len = sizeof(li);
	return bpf_link_get_info_by_fd(fd, &li, &len) ? 0 : li.id;
}

static void link_fds(void)
{
	reset();
	int prog_fd, fd = raw_tp_link(&prog_fd);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	uint32_t id = fd_link_id(fd), got = 0, prog = 0;
	int held = -1;
	CHECK(id > 0 && id < OWNED_LOCAL_LINK_MIN);
	/* no fd (a failed bpf_link_create): refused, nothing owned */
	CHECK(owned__add_link_fd(o, -1, 7, &got) == -EOPNOTSUPP);
	CHECK(owned__count(o, OBJ_LINK) == 0);
	CHECK(owned__add_link_fd(o, fd, 7, &got) == 0 && got == id);
	CHECK(owned__owns(o, OBJ_LINK, id));
	CHECK(owned__link(o, id, &held, &prog) == 0 && held == fd && prog == 7);
	CHECK(owned__link(o, id + 1, &held, &prog) == -ENOENT);
	CHECK(owned__destroy_link(o, id) == 0);
	CHECK(!owned__owns(o, OBJ_LINK, id));
	CHECK(owned__destroy_link(o, id) == -ENOENT);
	/* closed by the session: the kernel has freed the link */
	int again = bpf_link_get_fd_by_id(id);
	CHECK(again < 0);
	if (again >= 0)
		close(again);
	close(prog_fd);
}

static void tc_entries(void)
{
	reset();
	const struct owned_tc tc = { .ifindex = 0x7ffffff0, .egress = true, .handle = 1, .priority = 1 };
	uint32_t a = 0, b = 0, prog = 0;
	int fd = 0;
	CHECK(owned__add_tc(o, &tc, 9, &a) == 0 && a >= OWNED_LOCAL_LINK_MIN);
	CHECK(owned__add_tc(o, &tc, 9, &b) == 0 && b == a + 1);
	CHECK(owned__count(o, OBJ_LINK) == 2 && owned__owns(o, OBJ_LINK, b));
	CHECK(owned__link(o, a, &fd, &prog) == 0 && fd == -1 && prog == 9);
	/* no such interface: nothing to delete in the kernel, still forgotten */
	CHECK(owned__destroy_link(o, a) == 0 && owned__count(o, OBJ_LINK) == 1);
	CHECK(owned__destroy_link(o, b) == 0 && owned__count(o, OBJ_LINK) == 0);
}

static void pins(void)
{
	enum obj_kind k;
	uint32_t id;
	CHECK(owned__add_pin(o, OBJ_MAP, 12, "/sys/fs/bpf/x/m") == 0);
	CHECK(owned__find_pin(o, "/sys/fs/bpf/x/m", &k, &id) == 0 && k == OBJ_MAP && id == 12);
	CHECK(owned__find_pin(o, "/sys/fs/bpf/x", &k, &id) == -ENOENT);
	CHECK(owned__remove_pin(o, "/sys/fs/bpf/x/m") == 0);
	CHECK(owned__find_pin(o, "/sys/fs/bpf/x/m", &k, &id) == -ENOENT);
	/* a freed slot has an empty path: "" must not match it */
	CHECK(owned__remove_pin(o, "") == -ENOENT);
	CHECK(owned__remove_pin(o, "/sys/fs/bpf/x/m") == -ENOENT);
}

/* Session caps and totals: each registry counts toward both; an admit
 * reserves until unadmit, so two sessions cannot both take the last room. */
static void admission(void)
{
	struct owned *a = owned__new(), *b = owned__new();
	struct owned_totals t;
	enum limit_id hit = LIM__COUNT;
	uint64_t held = 0;
	limits__reset();
	limits[LIM_PROGRAMS] = 3;
	limits[LIM_PROGRAMS_TOTAL] = 4;
	limits[LIM_MAP_MEMORY_BYTES_TOTAL] = 1000;
	owned__totals(&t);
	unsigned base = t.programs;
	CHECK(owned__own(a, OBJ_PROG, 11) == 0 && owned__own(a, OBJ_PROG, 12) == 0);
	CHECK(owned__own(b, OBJ_PROG, 13) == 0);
	owned__totals(&t);
	CHECK_INT(t.programs, base + 3);
	/* a holds 2 of its 3: one more fits the session, and the total (3 of 4) */
	struct owned_need one = { .programs = 1 }, two = { .programs = 2 };
	CHECK(owned__admit(a, &two, &hit, &held) == -ENOSPC && hit == LIM_PROGRAMS && held == 2);
	CHECK(owned__admit(a, &one, &hit, &held) == 0);
	/* the reservation counts: b's one more would be the fifth */
	CHECK(owned__admit(b, &one, &hit, &held) == -ENOSPC && hit == LIM_PROGRAMS_TOTAL && held == base + 4);
	owned__unadmit(&one);
	CHECK(owned__admit(b, &one, &hit, &held) == 0);
	owned__unadmit(&one);
	struct owned_need mem = { .map_bytes = 1001 };
	CHECK(owned__admit(b, &mem, &hit, &held) == -ENOSPC && hit == LIM_MAP_MEMORY_BYTES_TOTAL);
	/* a registry freed leaves the totals with what it listed */
	owned__free(a);
	owned__totals(&t);
	CHECK_INT(t.programs, base + 1);
	owned__free(b);
	owned__totals(&t);
	CHECK_INT(t.programs, base);
	limits__reset();
}

int main(void)
{
	TEST(own_and_query);
	TEST(rejects_bad_input);
	TEST(keeps_ids_sorted);
	TEST(capacity_limit);
	TEST(names);
	TEST(link_fds);
	TEST(tc_entries);
	TEST(pins);
	TEST(admission);
	return UNIT_DONE();
}
