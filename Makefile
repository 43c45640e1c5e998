# memtrace - build, test, demo, bench.
#   make            build ./memtrace
#   make test       install missing packages, build, run every test (unit + e2e)
#   make demo       install missing packages, build, trace the bundled leaking demo
#   make bench      overhead and cost benchmarks (not tests)
#   make V=1        show commands
# Overrides: EXTRA_CFLAGS, EXTRA_LDFLAGS, SANITIZE=1 (ASan/UBSan build in build-san/).

ARCH      ?= $(shell uname -m | sed 's/aarch64/arm64/')
VMLINUX   := vmlinux/$(shell uname -m)/vmlinux.h
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool

ifeq ($(SANITIZE),1)
OUT       := build-san
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer
else
OUT       := build
SANFLAGS  :=
endif

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-7s %s\n' "$(1)" "$(2)";
endif

CFLAGS    ?= -O2 -g
CFLAGS    += -Wall -Wextra -std=gnu11 -D_GNU_SOURCE -I$(OUT) -Isrc -I. -MMD -MP $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS   += $(SANFLAGS) $(EXTRA_LDFLAGS)
LDLIBS    := -lbpf -ldw -lelf -lz -ljson-c -lcapstone -lprotobuf-c -lmicrohttpd -lm -lpthread
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(subst x86_64,x86,$(ARCH)) -I$(dir $(VMLINUX)) -Ibpf -Wall

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS     := $(patsubst bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))
LIB_SRCS  := $(filter-out src/main.c,$(wildcard src/*.c src/*/*.c))
LIB_OBJS  := $(patsubst src/%.c,$(OUT)/src/%.o,$(LIB_SRCS))
UNIT_SRCS := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(patsubst %.c,$(OUT)/tests/%,$(notdir $(UNIT_SRCS)))
# tests/unit/STAGE/test_MODULE.c mirrors src/STAGE/MODULE.c; binaries stay flat.
vpath test_%.c $(sort $(dir $(UNIT_SRCS)))
TARGETS   :=

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean test unit e2e demo bench deps sanitize

all: memtrace

# Fragments: generated sources (protobuf), test targets, benches.
include $(sort $(wildcard mk/*.mk))

memtrace: $(OUT)/memtrace
	$(Q)cp $< $@.tmp && mv -f $@.tmp $@

$(OUT)/memtrace: $(OUT)/src/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUT)/src/%.o: src/%.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(OUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(VMLINUX)
	@mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(OUT)/tests/test_%: test_%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS) -lcmocka $(TEST_LDFLAGS_$*)

unit: $(UNIT_BINS)
e2e: memtrace $(TARGETS)

deps:
	$(Q)tools/install-deps.sh

test: deps
	$(Q)tools/check-layout.sh
	$(Q)$(MAKE) --no-print-directory all unit e2e
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 unit
	$(Q)SAN_OUT=build-san tools/run-tests.sh $(OUT)

sanitize: deps
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 all unit

demo: deps
	$(Q)$(MAKE) --no-print-directory all $(OUT)/targets/leaky_demo
	$(Q)./memtrace -d 6 -i 3 -- $(OUT)/targets/leaky_demo

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(TARGETS)
	$(Q)tools/bench.sh $(OUT)

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf build build-san memtrace

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
