/* Test fixture: print a loaded program's JIT image as hex, read with the
 * bare bpf() syscall (BPF_PROG_GET_FD_BY_ID, then BPF_OBJ_GET_INFO_BY_FD
 * twice: the length, then the bytes). A witness for prog_dump's jited_hex
 * where bpftool cannot dump JIT images (built without a disassembler) and
 * the kernel has no /proc/kcore. Usage: jit_image PROG_ID */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int info(int fd, struct bpf_prog_info *pi)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = (unsigned)fd;
	a.info.info_len = sizeof(*pi);
	a.info.info = (unsigned long)pi;
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a) ? -errno : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: jit_image PROG_ID\n");
		return 2;
	}
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_id = (unsigned)strtoul(argv[1], NULL, 10);
	int fd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
	struct bpf_prog_info pi;
	memset(&pi, 0, sizeof(pi));
	if (fd < 0 || info(fd, &pi)) {
		fprintf(stderr, "program %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	unsigned len = pi.jited_prog_len;
	unsigned char *img = calloc(1, len + 1);
	memset(&pi, 0, sizeof(pi));
	pi.jited_prog_len = len;
	pi.jited_prog_insns = (unsigned long)img;
	if (!img || info(fd, &pi) || !pi.jited_prog_insns) {
		fprintf(stderr, "program %s: no JIT image\n", argv[1]);
		return 1;
	}
	for (unsigned i = 0; i < len; i++)
		printf("%02x", img[i]);
	printf("\n");
	return 0;
}
