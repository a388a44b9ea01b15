/* Unit tests for the session ownership registry (src/kern/session.c). */
#include <errno.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "kern/session.h"
#include "unit.h"

static void own_and_query(void)
{
	session__reset();
	CHECK(!session__owns(SESSION_PROG, 7));
	CHECK(session__own(SESSION_PROG, 7) == 0);
	CHECK(session__owns(SESSION_PROG, 7));
	/* kinds are separate id spaces: program 7 is not map 7 */
	CHECK(!session__owns(SESSION_MAP, 7));
	CHECK(session__count(SESSION_PROG) == 1);
	CHECK(session__count(SESSION_MAP) == 0);
}

static void rejects_bad_input(void)
{
	session__reset();
	CHECK(session__own(SESSION_LINK, 0) == -EINVAL);
	CHECK(session__own((enum session_kind)SESSION__KINDS, 1) == -EINVAL);
	CHECK(session__own(SESSION_LINK, 5) == 0);
	CHECK(session__own(SESSION_LINK, 5) == -EEXIST);
	CHECK(session__count(SESSION_LINK) == 1);
	CHECK(session__disown(SESSION_LINK, 6) == -ENOENT);
	CHECK(!session__owns((enum session_kind)99, 5));
	CHECK(session__count((enum session_kind)99) == 0);
}

static void keeps_ids_sorted(void)
{
	static const uint32_t in[] = { 40, 3, 900, 17, 4000000000u, 1, 250 };
	static const uint32_t sorted[] = { 1, 3, 17, 40, 250, 900, 4000000000u };
	session__reset();
	for (unsigned i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		CHECK(session__own(SESSION_MAP, in[i]) == 0);
	for (unsigned i = 0; i < sizeof(sorted) / sizeof(sorted[0]); i++)
		CHECK(session__id_at(SESSION_MAP, i) == sorted[i]);
	CHECK(session__id_at(SESSION_MAP, 7) == 0);
	CHECK(session__disown(SESSION_MAP, 17) == 0);
	CHECK(!session__owns(SESSION_MAP, 17));
	CHECK(session__id_at(SESSION_MAP, 2) == 40);
	CHECK(session__owns(SESSION_MAP, 4000000000u));
	CHECK(session__count(SESSION_MAP) == 6);
}

static void capacity_limit(void)
{
	session__reset();
	/* descending inserts exercise the shifting path at every step */
	for (uint32_t id = SESSION_MAX_OBJECTS; id >= 1; id--)
		CHECK(session__own(SESSION_BTF, id * 2) == 0);
	CHECK(session__count(SESSION_BTF) == SESSION_MAX_OBJECTS);
	CHECK(session__own(SESSION_BTF, 3) == -ENOSPC);
	CHECK(session__owns(SESSION_BTF, 2) && session__owns(SESSION_BTF, SESSION_MAX_OBJECTS * 2));
	CHECK(!session__owns(SESSION_BTF, 3));
	CHECK(session__disown(SESSION_BTF, 2) == 0);
	CHECK(session__own(SESSION_BTF, 3) == 0);
	CHECK(session__id_at(SESSION_BTF, 0) == 3);
	for (unsigned i = 1; i < SESSION_MAX_OBJECTS; i++)
		CHECK(session__id_at(SESSION_BTF, i) > session__id_at(SESSION_BTF, i - 1));
}

static void names(void)
{
	CHECK(session__kind_name(SESSION_PROG)[0] == 'p');
	CHECK(session__kind_name((enum session_kind)42)[0] == 'u');
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
	session__reset();
	int prog_fd, fd = raw_tp_link(&prog_fd);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	uint32_t id = fd_link_id(fd), got = 0, prog = 0;
	int held = -1;
	CHECK(id > 0 && id < SESSION_LOCAL_LINK_MIN);
	/* no fd (a failed bpf_link_create): refused, nothing owned */
	CHECK(session__add_link_fd(-1, 7, &got) == -EOPNOTSUPP);
	CHECK(session__count(SESSION_LINK) == 0);
	CHECK(session__add_link_fd(fd, 7, &got) == 0 && got == id);
	CHECK(session__owns(SESSION_LINK, id));
	CHECK(session__link(id, &held, &prog) == 0 && held == fd && prog == 7);
	CHECK(session__link(id + 1, &held, &prog) == -ENOENT);
	CHECK(session__destroy_link(id) == 0);
	CHECK(!session__owns(SESSION_LINK, id));
	CHECK(session__destroy_link(id) == -ENOENT);
	/* closed by the session: the kernel has freed the link */
	int again = bpf_link_get_fd_by_id(id);
	CHECK(again < 0);
	if (again >= 0)
		close(again);
	close(prog_fd);
}

static void tc_entries(void)
{
	session__reset();
	const struct session_tc tc = { .ifindex = 0x7ffffff0, .egress = true, .handle = 1, .priority = 1 };
	uint32_t a = 0, b = 0, prog = 0;
	int fd = 0;
	CHECK(session__add_tc(&tc, 9, &a) == 0 && a >= SESSION_LOCAL_LINK_MIN);
	CHECK(session__add_tc(&tc, 9, &b) == 0 && b == a + 1);
	CHECK(session__count(SESSION_LINK) == 2 && session__owns(SESSION_LINK, b));
	CHECK(session__link(a, &fd, &prog) == 0 && fd == -1 && prog == 9);
	/* no such interface: nothing to delete in the kernel, still forgotten */
	CHECK(session__destroy_link(a) == 0 && session__count(SESSION_LINK) == 1);
	CHECK(session__destroy_link(b) == 0 && session__count(SESSION_LINK) == 0);
}

static void pins(void)
{
	enum session_kind k;
	uint32_t id;
	CHECK(session__add_pin(SESSION_MAP, 12, "/sys/fs/bpf/x/m") == 0);
	CHECK(session__find_pin("/sys/fs/bpf/x/m", &k, &id) == 0 && k == SESSION_MAP && id == 12);
	CHECK(session__find_pin("/sys/fs/bpf/x", &k, &id) == -ENOENT);
	CHECK(session__remove_pin("/sys/fs/bpf/x/m") == 0);
	CHECK(session__find_pin("/sys/fs/bpf/x/m", &k, &id) == -ENOENT);
	/* a freed slot has an empty path: "" must not match it */
	CHECK(session__remove_pin("") == -ENOENT);
	CHECK(session__remove_pin("/sys/fs/bpf/x/m") == -ENOENT);
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
	return UNIT_DONE();
}
