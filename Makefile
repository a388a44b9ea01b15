# ebpf-mcp — one static musl binary serving eBPF over MCP.
#
#   make        install missing build tools (apt), fetch + build the pinned
#               libraries, compile schemas and BPF objects, link bin/ebpf-mcp
#   make test   every test: unit (also under ASan + UBSan), fuzzing (20 s a
#               harness), transcripts, hostile input, kernel, SDK client
#   make fuzz   the libFuzzer harnesses, FUZZ_SECONDS (20) each (tests/fuzz/)
#   make bench  side-by-side benchmarks (not part of the tests)
#   make initramfs   a rescue initramfs: the binary as /init (initramfs/)
#
# Quiet unless V=1.

.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := all

V ?= 0
Q := $(if $(filter 1,$(V)),,@)

BUILD      := build
DEPS_STAMP := $(BUILD)/.deps.ok

include vendor/vendor.mk
include initramfs/initramfs.mk

CC         := musl-gcc
HOSTCC     := gcc
CLANG      ?= clang
WARN       := -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers
INCLUDES   := -Isrc -Ibpf -I$(BUILD)/gen -isystem $(VPREFIX)/include -isystem $(VPREFIX)/uapi -isystem $(VUAPI)
CFLAGS     := -std=gnu11 -Os -g $(WARN) -ffunction-sections -fdata-sections $(INCLUDES)
LDFLAGS    := -static -Wl,--gc-sections
LDLIBS     := -L$(VPREFIX)/lib -lbpf -lelf -lz

SRCS       := $(shell find src -name '*.c' | sort)
OBJS       := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(SRCS)) $(BUILD)/obj/gen/schemas.o
LIB_OBJS   := $(filter-out $(BUILD)/obj/main.o,$(OBJS))
SCHEMAS    := $(sort $(filter-out schemas/_%,$(wildcard schemas/*.json)))
# MCP Apps (ui://ebpf-mcp/<name>): self-contained HTML that schemac checks
# (size cap, nothing fetched) and embeds beside the schemas.
APPS       := $(sort $(wildcard src/apps/*.html))
APP_PARTS  := $(wildcard src/apps/*.js src/apps/*.css)
GEN_H      := $(BUILD)/gen/schemas_gen.h
ERRORS_MD  := $(BUILD)/gen/errors.md

# The built-in tracers (bpf/<name>.bpf.c): code that embeds one includes
# "<name>.skel.h" (generated) and "<name>.h" (bpf/, shared records).
TRACERS      := $(patsubst bpf/%.bpf.c,%,$(sort $(wildcard bpf/*.bpf.c)))
TRACER_OBJS  := $(patsubst %,$(BUILD)/bpf/tracers/%.bpf.o,$(TRACERS))
TRACER_SKELS := $(patsubst %,$(BUILD)/gen/%.skel.h,$(TRACERS))
TRACER_HDRS  := $(wildcard bpf/*.h)

.PHONY: all deps test unit bench clean distclean tracers
all: bin/ebpf-mcp tracers $(ERRORS_MD)

deps: $(DEPS_STAMP)
$(DEPS_STAMP): vendor/deps.sh
	$(Q)mkdir -p $(BUILD)
	$(Q)vendor/deps.sh
	$(Q)touch $@

# ---- schemas: compiled at build time by a host tool ------------------------
# It links the error table (src/errors.c): the error schema's `code` is
# checked against it, and errors.md is written from it.
$(BUILD)/host/schemac: schemas/schemac.c src/json/reader.c src/json/writer.c src/json/json.h \
		src/json/schema.h src/errors.c src/errors.h src/limits.h src/assert.c src/assert.h $(VENDOR_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  HOSTCC   $@"
	$(Q)$(HOSTCC) -std=gnu11 -O1 $(WARN) -isystem $(VPREFIX)/include -o $@ \
		schemas/schemac.c src/json/reader.c src/json/writer.c src/errors.c src/assert.c -lm

$(BUILD)/gen/schemas.c $(GEN_H) &: $(BUILD)/host/schemac schemas/_error.json $(APPS) $(APP_PARTS) $(SCHEMAS)
	$(Q)mkdir -p $(BUILD)/gen
	$(Q)echo "  SCHEMAC  $(words $(SCHEMAS)) tools, $(words $(APPS)) apps"
	$(Q)$(BUILD)/host/schemac $(BUILD)/gen/schemas.c $(GEN_H) schemas/_error.json $(APPS) $(SCHEMAS)

$(ERRORS_MD): $(BUILD)/host/schemac
	$(Q)mkdir -p $(@D)
	$(Q)echo "  ERRORS   $@"
	$(Q)$(BUILD)/host/schemac --errors-md $@

# Syscall and errno names for the tracers, from the UAPI headers.
ABI_H      := $(BUILD)/gen/abi_names.h
$(ABI_H): src/tracers/abi_names.sh $(VUAPI)/.ok
	$(Q)mkdir -p $(@D)
	$(Q)sh $< $(VUAPI) > $@

# ---- our code --------------------------------------------------------------
$(BUILD)/obj/%.o: src/%.c | $(GEN_H) $(ABI_H) $(TRACER_SKELS) $(VENDOR_LIBS) $(VENDOR_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  CC       $<"
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

# A 1M-entry map_dump spends its user time in these two: -O2 for them
# (the rest of the binary stays -Os).
$(BUILD)/obj/json/writer.o $(BUILD)/obj/tools/map_dump.o: CFLAGS += -O2

$(BUILD)/obj/gen/schemas.o: $(BUILD)/gen/schemas.c | $(VENDOR_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/ebpf-mcp.debug: $(OBJS) $(VENDOR_LIBS)
	$(Q)echo "  LD       $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LDLIBS)

bin/ebpf-mcp: $(BUILD)/ebpf-mcp.debug
	$(Q)mkdir -p bin
	$(Q)strip -o $@ $<
	$(Q)echo "  BIN      $@ ($$(stat -c %s $@) bytes, static)"

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---- BPF objects used by the tests ----------------------------------------
BPF_TEST_SRCS := $(wildcard tests/bpf/*.bpf.c)
BPF_TEST_OBJS := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_TEST_SRCS))
BPF_CFLAGS    := -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -isystem $(VPREFIX)/include \
		 -isystem $(VPREFIX)/uapi -isystem $(VUAPI) -idirafter /usr/include/$(shell gcc -print-multiarch)

$(BUILD)/bpf/%.bpf.o: tests/bpf/%.bpf.c | $(VENDOR_LIBS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  BPF      $<"
	$(Q)$(CLANG) $(BPF_CFLAGS) -c -o $@ $<

# ---- built-in tracers: bpf/<name>.bpf.c -> object -> skeleton header ------
# Compiled CO-RE against bpf/core.h (no vmlinux.h). The skeleton embeds the
# object as is, so it loses its DWARF first (llvm-strip -g; BTF and the CO-RE
# relocations in .BTF.ext stay).
BPFTOOL      ?= bpftool
LLVM_STRIP   ?= llvm-strip

tracers: $(TRACER_SKELS)
.SECONDARY: $(TRACER_OBJS)

$(BUILD)/bpf/tracers/%.bpf.o: bpf/%.bpf.c $(TRACER_HDRS) | $(VENDOR_LIBS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  BPF      $<"
	$(Q)$(CLANG) $(BPF_CFLAGS) -Ibpf -c -o $@ $<
	$(Q)$(LLVM_STRIP) -g $@

# The generated create_skeleton() sets map_cnt and prog_cnt before it
# allocates the maps and progs arrays; when an allocation fails, its cleanup
# (libbpf's detach_skeleton) walks that many entries of a NULL array and the
# server crashes. The sed zeroes the count on those paths (no match: nothing
# done).
$(BUILD)/gen/%.skel.h: $(BUILD)/bpf/tracers/%.bpf.o
	$(Q)mkdir -p $(@D)
	$(Q)echo "  SKEL     $@ ($$(stat -c %s $<) bytes embedded)"
	$(Q)$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp
	$(Q)sed -e 's/^\(\t*\)if (!s->progs) {$$/&\n\1\ts->prog_cnt = 0;   \/* nothing for the cleanup to detach *\//' \
		-e 's/^\(\t*\)if (!s->maps) {$$/&\n\1\ts->map_cnt = 0;   \/* nothing for the cleanup to detach *\//' $@.tmp > $@
	$(Q)rm -f $@.tmp

# ---- test fixtures: small libbpf programs the integration tests run --------
TEST_TOOL_SRCS := $(wildcard tests/tools/*.c)
TEST_TOOL_BINS := $(patsubst tests/tools/%.c,$(BUILD)/test/tools/%,$(TEST_TOOL_SRCS))

$(BUILD)/test/tools/%: tests/tools/%.c $(VENDOR_LIBS) $(TRACER_SKELS) $(TRACER_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  TOOL     $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# Sampled user stacks unwind through frame pointers.
$(BUILD)/test/tools/workload: CFLAGS += -fno-omit-frame-pointer

# ---- the fault-injection build: the same sources, the heap and tools/call
# compiled with EBPF_MCP_FAULTS (a test may fail a call's nth allocation;
# src/mem/heap.c), for tests/integration/alloc_failure.test.mjs only.
FAULT_SRCS := src/mem/heap.c src/mcp/call.c
FAULT_OBJS := $(patsubst src/%.c,$(BUILD)/obj-faults/%.o,$(FAULT_SRCS))
FAULTS_BIN := $(BUILD)/test/ebpf-mcp-faults

$(BUILD)/obj-faults/%.o: src/%.c | $(GEN_H) $(ABI_H) $(TRACER_SKELS) $(VENDOR_LIBS) $(VENDOR_HDRS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  CC       $< (faults)"
	$(Q)$(CC) $(CFLAGS) -DEBPF_MCP_FAULTS -MMD -MP -c -o $@ $<

$(FAULTS_BIN): $(filter-out $(patsubst src/%.c,$(BUILD)/obj/%.o,$(FAULT_SRCS)),$(OBJS)) $(FAULT_OBJS) $(VENDOR_LIBS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  LD       $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

-include $(shell find $(BUILD)/obj-faults -name '*.d' 2>/dev/null)

# ---- tests ------------------------------------------------------------------
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/test/%,$(UNIT_SRCS))

$(BUILD)/test/%: tests/unit/%.c tests/unit/unit.h $(LIB_OBJS) $(VENDOR_LIBS)
	$(Q)mkdir -p $(@D)
	$(Q)echo "  UNIT     $@"
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

unit: $(UNIT_BINS)

# The sanitizer passes first (host builds, tests/fuzz/fuzz.mk): the unit
# tests under ASan + UBSan, then each fuzz harness for TEST_FUZZ_SECONDS.
TEST_FUZZ_SECONDS ?= 20
test: bin/ebpf-mcp $(UNIT_BINS) $(BPF_TEST_OBJS) $(TEST_TOOL_BINS) $(FAULTS_BIN) guest
	$(Q)$(MAKE) --no-print-directory unit-asan
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)
	$(Q)tests/run.sh

bench: bin/ebpf-mcp $(BPF_TEST_OBJS) $(TEST_TOOL_BINS)
	$(Q)bench/run.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/obj-faults $(BUILD)/gen $(BUILD)/host $(BUILD)/test $(BUILD)/bpf $(BUILD)/ebpf-mcp.debug bin \
		$(BUILD)/fuzz/obj $(BUILD)/fuzz/bin $(BUILD)/asan

distclean:
	rm -rf $(BUILD) bin tests/node_modules

include tests/fuzz/fuzz.mk
