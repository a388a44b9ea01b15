# libFuzzer harnesses (tests/fuzz/*.c): clang, glibc, ASan + UBSan.
# Included by the top Makefile. The static binary is a musl build; these are
# host builds, so libelf and libbpf are built again for glibc from the same
# pinned sources (already fetched and verified by vendor/vendor.mk) into
# $(FUZZ)/prefix, without sanitizers. zlib comes from the system (zlib1g-dev).
#
#   make fuzz                 every harness for FUZZ_SECONDS (default 20) each
#   make fuzz FUZZ_SECONDS=600
#   make unit-asan            the unit tests under ASan + UBSan

FUZZ          := $(BUILD)/fuzz
FPREFIX       := $(FUZZ)/prefix
FUZZ_SECONDS  ?= 20
FUZZ_CC       ?= clang
SAN_FLAGS     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# EBPF_MCP_SYSTEM_HEAP: the capped heap (src/mem/heap.c) forwards to malloc,
# so ASan sees every allocation and its bounds.
FUZZ_CFLAGS   := -std=gnu11 -O1 -g $(WARN) -Wno-unused-command-line-argument $(SAN_FLAGS) \
		 -DEBPF_MCP_SYSTEM_HEAP -Isrc -Ibpf -I$(BUILD)/gen -isystem $(FPREFIX)/include \
		 -isystem $(VPREFIX)/include -isystem $(VPREFIX)/uapi
FUZZ_LIBS     := -L$(FPREFIX)/lib -lbpf -lelf -lz -lm
FUZZ_VLIBS    := $(FPREFIX)/lib/libbpf.a $(FPREFIX)/lib/libelf.a
HOST_CFLAGS   := -O2 -fPIC -g

FUZZ_HARNESSES := $(patsubst tests/fuzz/%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS      := $(patsubst %,$(FUZZ)/bin/%,$(FUZZ_HARNESSES))
# The project's library, compiled again for glibc with the sanitizers.
FUZZ_OBJS      := $(patsubst src/%.c,$(FUZZ)/obj/%.o,$(filter-out src/main.c,$(SRCS))) $(FUZZ)/obj/gen/schemas.o
.SECONDARY: $(FUZZ_OBJS)

.PHONY: fuzz fuzz-build unit-asan

$(FPREFIX)/lib/libelf.a: $(VSRC)/ELFUTILS.ok
	$(Q)echo "  BUILD    libelf (glibc, host)"
	$(Q)mkdir -p $(FUZZ)/src && rm -rf $(FUZZ)/src/$(ELFUTILS_DIR) && tar -C $(FUZZ)/src -xjf $(VSRC)/$(ELFUTILS_TAR)
	$(Q)cd $(FUZZ)/src/$(ELFUTILS_DIR) && CC=gcc CFLAGS="$(HOST_CFLAGS)" ./configure --disable-debuginfod \
		--disable-libdebuginfod --disable-nls --without-bzlib --without-lzma --without-zstd \
		--disable-demangler >../elfutils.log 2>&1 \
		&& $(MAKE) -s -C lib eu-search.o >>../elfutils.log 2>&1 \
		&& $(MAKE) -s -C libelf libelf.a >>../elfutils.log 2>&1 || { tail -40 ../elfutils.log; exit 1; }
	$(Q)mkdir -p $(FPREFIX)/lib $(FPREFIX)/include
	$(Q)cp $(FUZZ)/src/$(ELFUTILS_DIR)/libelf/libelf.a $@.tmp
	$(Q)ar rcs $@.tmp $(FUZZ)/src/$(ELFUTILS_DIR)/lib/eu-search.o
	$(Q)cd $(FUZZ)/src/$(ELFUTILS_DIR)/libelf && cp libelf.h gelf.h nlist.h elf.h $(abspath $(FPREFIX))/include/
	$(Q)mv $@.tmp $@

$(FPREFIX)/lib/libbpf.a: $(VSRC)/LIBBPF.ok $(FPREFIX)/lib/libelf.a vendor/vendor.mk
	$(Q)echo "  BUILD    libbpf (glibc, host)"
	$(Q)rm -rf $(FUZZ)/src/$(LIBBPF_DIR) $(FUZZ)/src/libbpf-obj && tar -C $(FUZZ)/src -xzf $(VSRC)/$(LIBBPF_TAR)
	$(call libbpf_fixes,$(FUZZ)/src/$(LIBBPF_DIR))
	$(Q)$(MAKE) -s -C $(FUZZ)/src/$(LIBBPF_DIR)/src CC=gcc BUILD_STATIC_ONLY=y \
		OBJDIR=$(abspath $(FUZZ))/src/libbpf-obj DESTDIR=$(abspath $(FPREFIX)) PREFIX= LIBDIR=/lib \
		INCLUDEDIR=/include CFLAGS="$(HOST_CFLAGS) -I$(abspath $(FPREFIX))/include" \
		install >$(FUZZ)/src/libbpf.log 2>&1 || { tail -40 $(FUZZ)/src/libbpf.log; exit 1; }
	$(Q)touch $@

# ---- the project compiled for the host with the sanitizers ----------------
# Two copies: with coverage for libFuzzer (fuzzer-no-link), and without for
# the unit tests (plain ASan + UBSan executables).
define san_objs
$(1)/obj/%.o: src/%.c | $$(GEN_H) $$(ABI_H) $$(TRACER_SKELS) $$(FUZZ_VLIBS) $$(VENDOR_HDRS)
	$$(Q)mkdir -p $$(@D)
	$$(Q)echo "  $(2)  $$<"
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) $(3) -MMD -MP -c -o $$@ $$<

$(1)/obj/gen/schemas.o: $$(BUILD)/gen/schemas.c | $$(FUZZ_VLIBS) $$(VENDOR_HDRS)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) $(3) -c -o $$@ $$<
endef

ASAN          := $(BUILD)/asan
$(eval $(call san_objs,$(FUZZ),FUZZCC,-fsanitize=fuzzer-no-link))
$(eval $(call san_objs,$(ASAN),ASANCC,))
ASAN_OBJS     := $(patsubst $(FUZZ)/%,$(ASAN)/%,$(FUZZ_OBJS))
.SECONDARY: $(ASAN_OBJS)

-include $(shell find $(FUZZ)/obj $(ASAN)/obj -name '*.d' 2>/dev/null)

$(FUZZ)/bin/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(FUZZ_OBJS) $(FUZZ_VLIBS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  FUZZER   $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(FUZZ_OBJS) $(FUZZ_LIBS) -lpthread

fuzz-build: $(FUZZ_BINS)

# Each harness from its seed corpus (tests/fuzz/corpus/<name>, read only)
# plus a scratch corpus of what it finds (build/fuzz/found/<name>), with its
# dictionary. A crash, leak or failed oracle stops it and fails the target;
# the input is left in build/fuzz/crash-<name>-*.
FUZZ_RUN_FLAGS ?=
fuzz: $(FUZZ_BINS)
	$(Q)for h in $(FUZZ_HARNESSES); do \
		mkdir -p $(FUZZ)/found/$$h; \
		echo "  FUZZ     $$h ($(FUZZ_SECONDS) s)"; \
		$(FUZZ)/bin/$$h -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ)/crash-$$h- \
			$$( [ -f tests/fuzz/$$h.dict ] && echo -dict=tests/fuzz/$$h.dict ) $(FUZZ_RUN_FLAGS) \
			$(FUZZ)/found/$$h tests/fuzz/corpus/$$h > $(FUZZ)/$$h.log 2>&1 \
			|| { tail -60 $(FUZZ)/$$h.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' $(FUZZ)/$$h.log | tr '\n' ' '; echo; \
	done

# ---- unit tests under ASan + UBSan -----------------------------------------
# The capped heap's own tests measure that allocator; under the system heap
# they have nothing to measure, so they stay in the musl build only.
ASAN_UNIT_SRCS := $(filter-out tests/unit/test_heap.c,$(UNIT_SRCS))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(ASAN)/test/%,$(ASAN_UNIT_SRCS))

$(ASAN)/test/%: tests/unit/%.c tests/unit/unit.h $(ASAN_OBJS) $(FUZZ_VLIBS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  ASANUNIT $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Itests/unit -o $@ $< $(ASAN_OBJS) $(FUZZ_LIBS) -lpthread

unit-asan: $(ASAN_UNIT_BINS)
	$(Q)fail=0; for t in $(ASAN_UNIT_BINS); do \
		ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(abspath tests/fuzz/lsan.supp) UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			$$t > $$t.log 2>&1 || { echo "FAIL $$t"; tail -30 $$t.log; fail=1; }; \
		grep -h '^unit ' $$t.log; \
	done; exit $$fail
