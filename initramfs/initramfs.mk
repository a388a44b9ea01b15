# The appliance: an initramfs around the binary, and the pieces the qemu
# boot test needs (a Debian kernel, downloaded and unpacked, never installed).
#
#   make initramfs   build/initramfs/ebpf-mcp.cpio: /init (the binary) alone,
#                    for a kernel with its MCP port built in (ttyS1, or a
#                    kernel with virtio_console=y); reproducible
#   make guest       build/guest/: the pinned Debian kernel's vmlinux, and
#                    initramfs.cpio with the virtio console modules it needs

# Debian bookworm's kernel; a point release replaces it in the archive, so
# the pin moves with bookworm (apt-cache show linux-image-amd64).
GUEST_KERNEL_PKG    := linux-image-6.1.0-50-amd64-unsigned
GUEST_KERNEL_VER    := 6.1.176-1
GUEST_KERNEL_SHA256 := 439422e41d2dbb840b60b81e3bf5e5955bfa56b7a8c268aec83c9ff882d421e6
# What the MCP port needs: a virtio serial port on virtio-pci.
GUEST_MODULES       := virtio_console virtio_pci

GUEST := $(BUILD)/guest

.PHONY: initramfs guest
initramfs: $(BUILD)/initramfs/ebpf-mcp.cpio
guest: $(GUEST)/initramfs.cpio $(GUEST)/vmlinux

$(BUILD)/initramfs/ebpf-mcp.cpio: bin/ebpf-mcp initramfs/build.sh
	$(Q)mkdir -p $(@D)
	$(Q)sh initramfs/build.sh $@ bin/ebpf-mcp
	$(Q)echo "  CPIO     $@ ($$(stat -c %s $@) bytes)"

$(GUEST)/vmlinux $(GUEST)/modules.list &: initramfs/guest-kernel.sh initramfs/initramfs.mk
	$(Q)echo "  KERNEL   $(GUEST_KERNEL_PKG)=$(GUEST_KERNEL_VER)"
	$(Q)sh initramfs/guest-kernel.sh $(GUEST) $(GUEST_KERNEL_PKG) $(GUEST_KERNEL_VER) \
		$(GUEST_KERNEL_SHA256) $(GUEST_MODULES)

$(GUEST)/initramfs.cpio: bin/ebpf-mcp initramfs/build.sh $(GUEST)/modules.list
	$(Q)sh initramfs/build.sh $@ bin/ebpf-mcp $$(cat $(GUEST)/modules.list)
	$(Q)echo "  CPIO     $@ ($$(stat -c %s $@) bytes, with $$(wc -l < $(GUEST)/modules.list) modules)"
