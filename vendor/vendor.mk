# Builds the static musl libraries from the pinned Debian sources.
# Included by the top Makefile; everything lands under $(VENDOR).

include vendor/versions.mk

VENDOR      := $(BUILD)/vendor
VSRC        := $(VENDOR)/src
VPREFIX     := $(VENDOR)/prefix
VUAPI       := $(VENDOR)/uapi
MUSL_CFLAGS := -O2 -fPIC -ffunction-sections -fdata-sections

VENDOR_LIBS := $(VPREFIX)/lib/libbpf.a $(VPREFIX)/lib/libelf.a $(VPREFIX)/lib/libz.a
VENDOR_HDRS := $(VPREFIX)/include/jsmn.h

$(VSRC)/%.ok: vendor/versions.mk vendor/fetch.sh $(DEPS_STAMP)
	$(Q)echo "  FETCH    $*"
	$(Q)vendor/fetch.sh $(VSRC) '$($*_PKG)' $($*_TAR) $($*_SHA256)
	$(Q)touch $@

# Kernel UAPI headers for musl: libbpf's own copy first (newer bpf.h), then
# the system's linux/, asm/ and asm-generic/ through links.
$(VUAPI)/.ok: $(DEPS_STAMP)
	$(Q)mkdir -p $(VUAPI)
	$(Q)ln -sfn /usr/include/linux $(VUAPI)/linux
	$(Q)ln -sfn /usr/include/asm-generic $(VUAPI)/asm-generic
	$(Q)ln -sfn /usr/include/$(shell gcc -print-multiarch)/asm $(VUAPI)/asm
	$(Q)touch $@

$(VPREFIX)/lib/libz.a: $(VSRC)/ZLIB.ok
	$(Q)echo "  BUILD    zlib"
	$(Q)rm -rf $(VENDOR)/$(ZLIB_DIR) && tar -C $(VENDOR) -xzf $(VSRC)/$(ZLIB_TAR)
	$(Q)cd $(VENDOR)/$(ZLIB_DIR) && CC=musl-gcc CFLAGS="$(MUSL_CFLAGS)" ./configure --static \
		--prefix=$(abspath $(VPREFIX)) >../zlib.log 2>&1 && $(MAKE) -s libz.a >>../zlib.log 2>&1 \
		&& $(MAKE) -s install >>../zlib.log 2>&1 || { cat ../zlib.log; exit 1; }
	$(Q)touch $@

# libelf only: elfutils' configure wants argp/fts/obstack, which only its
# tools use; pre-seeded answers let it configure against musl. libelf 0.192
# calls eu_tsearch from lib/eu-search.o, so that object joins libelf.a.
ELF_SEED := ac_cv_search_argp_parse="none required" ac_cv_search_fts_close="none required" \
	    ac_cv_search__obstack_free="none required"
$(VPREFIX)/lib/libelf.a: $(VSRC)/ELFUTILS.ok $(VPREFIX)/lib/libz.a
	$(Q)echo "  BUILD    libelf"
	$(Q)rm -rf $(VENDOR)/$(ELFUTILS_DIR) && tar -C $(VENDOR) -xjf $(VSRC)/$(ELFUTILS_TAR)
	$(Q)cd $(VENDOR)/$(ELFUTILS_DIR) && $(ELF_SEED) CC=musl-gcc \
		CFLAGS="$(MUSL_CFLAGS) -I$(abspath $(VPREFIX))/include" LDFLAGS="-L$(abspath $(VPREFIX))/lib" \
		./configure --disable-debuginfod --disable-libdebuginfod --disable-nls --without-bzlib \
		--without-lzma --without-zstd --disable-demangler --disable-symbol-versioning \
		>../elfutils.log 2>&1 && $(MAKE) -s -C lib eu-search.o >>../elfutils.log 2>&1 \
		&& $(MAKE) -s -C libelf libelf.a >>../elfutils.log 2>&1 || { tail -40 ../elfutils.log; exit 1; }
	$(Q)mkdir -p $(VPREFIX)/lib $(VPREFIX)/include
	$(Q)cp $(VENDOR)/$(ELFUTILS_DIR)/libelf/libelf.a $@.tmp
	$(Q)ar rcs $@.tmp $(VENDOR)/$(ELFUTILS_DIR)/lib/eu-search.o
	$(Q)cp $(VENDOR)/$(ELFUTILS_DIR)/libelf/libelf.h $(VENDOR)/$(ELFUTILS_DIR)/libelf/gelf.h \
		$(VENDOR)/$(ELFUTILS_DIR)/libelf/nlist.h $(VENDOR)/$(ELFUTILS_DIR)/libelf/elf.h $(VPREFIX)/include/
	$(Q)mv $@.tmp $@

# libbpf's default CFLAGS carry -Werror, which musl's headers trip
# (NGROUPS_MAX defined twice); ours replace them.
# Two changes to its source, applied by libbpf_fixes (the fuzz build's copy
# too), the build stopping if either no longer applies:
# - a kernel feature probe that fails (ENOMEM when the heap cap refuses) is
#   left unknown and tried again on the next load, instead of being
#   remembered as "missing" for the life of the process, which stripped BTF
#   from every later load (found by the allocation-failure test);
# - a program symbol's offset + size is checked against its section without
#   wrapping: a crafted st_size near 2^64 passed the check and asked malloc
#   for 16 EiB (found by fuzz_policy).
LIBBPF_PROBE_FIX := /Detection of kernel %s support failed/{n;s|WRITE_ONCE(cache->res\[feat_id\], FEAT_MISSING);|return false; /* ebpf-mcp: left unknown, probed again */|}
LIBBPF_SIZE_FIX := s@if (sec_off + prog_sz > sec_sz) {@if (sec_off > sec_sz || prog_sz > sec_sz - sec_off) { /* ebpf-mcp: no wrap */@
define libbpf_fixes
	$(Q)sed -i '$(LIBBPF_PROBE_FIX)' $(1)/src/features.c
	$(Q)sed -i '$(LIBBPF_SIZE_FIX)' $(1)/src/libbpf.c
	$(Q)grep -q 'ebpf-mcp: left unknown' $(1)/src/features.c && grep -q 'ebpf-mcp: no wrap' $(1)/src/libbpf.c || \
		{ echo "vendor.mk: a libbpf source fix no longer applies ($(1)/src changed)"; exit 1; }
endef
$(VPREFIX)/lib/libbpf.a: $(VSRC)/LIBBPF.ok $(VPREFIX)/lib/libelf.a $(VUAPI)/.ok vendor/vendor.mk
	$(Q)echo "  BUILD    libbpf"
	$(Q)rm -rf $(VENDOR)/$(LIBBPF_DIR) $(VENDOR)/libbpf-obj && tar -C $(VENDOR) -xzf $(VSRC)/$(LIBBPF_TAR)
	$(call libbpf_fixes,$(VENDOR)/$(LIBBPF_DIR))
	$(Q)$(MAKE) -s -C $(VENDOR)/$(LIBBPF_DIR)/src CC=musl-gcc BUILD_STATIC_ONLY=y \
		OBJDIR=$(abspath $(VENDOR))/libbpf-obj DESTDIR=$(abspath $(VPREFIX)) PREFIX= LIBDIR=/lib \
		INCLUDEDIR=/include CFLAGS="$(MUSL_CFLAGS) -I$(abspath $(VPREFIX))/include -I$(abspath $(VUAPI))" \
		install >$(VENDOR)/libbpf.log 2>&1 || { tail -40 $(VENDOR)/libbpf.log; exit 1; }
	$(Q)rm -rf $(VPREFIX)/uapi && cp -r $(VENDOR)/$(LIBBPF_DIR)/include/uapi $(VPREFIX)/uapi
	$(Q)touch $@

$(VPREFIX)/include/jsmn.h: $(VSRC)/JSMN.ok
	$(Q)echo "  FETCH    jsmn.h"
	$(Q)mkdir -p $(VPREFIX)/include
	$(Q)tar -C $(VENDOR) -xzf $(VSRC)/$(JSMN_TAR) $(JSMN_DIR)/jsmn.h
	$(Q)cp $(VENDOR)/$(JSMN_DIR)/jsmn.h $@
