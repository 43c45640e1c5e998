# memtrace - build, test, demo, bench, install, package.
#   make            install missing build packages, build ./memtrace and its man page
#   make build      the same without the package check
#   make test       install missing build and test packages, build, run every test (unit,
#                   e2e, the core checks on Debian's 6.1 kernel under qemu)
#   make fuzz       libFuzzer on the parsers of target-controlled files, FUZZ_SECONDS
#                   each (make test runs them FUZZ_TEST_SECONDS each)
#   make test-kernels  the core checks on Debian's 6.1 and 6.12 kernels (qemu)
#   make demo       install missing build packages, build, trace the bundled leaking demo
#   make bench      install missing build packages and peers; overhead and cost benchmarks
#   make install    PREFIX=/usr/local DESTDIR=: binary, man page, completion, docs, dashboards
#   make uninstall  remove what make install put there
#   make deb        the Debian package, ./memtrace_VERSION_ARCH.deb
#   make V=1        show commands
# Package sets: tools/deps/{build,test,bench,deb,kernels} (tools/install-deps.sh).
# Overrides: EXTRA_CFLAGS, EXTRA_LDFLAGS, SANITIZE=1 (ASan/UBSan build in build-san/),
# VERSION (default: tools/version.sh).

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
# Generated at build (mk/man.mk, mk/version.mk); here so every fragment sees them.
MAN_PAGE  := $(OUT)/memtrace.8
VERSION_H := $(OUT)/gen_version.h

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all build clean test unit e2e demo bench deps deps-test deps-bench sanitize

all: deps
	$(Q)$(MAKE) --no-print-directory build

# Fragments: generated sources (protobuf), version, man page, install, package,
# test targets, benches.
include $(sort $(wildcard mk/*.mk))

build: memtrace $(MAN_PAGE)

memtrace: $(OUT)/memtrace
	$(Q)cp $< $@.tmp && mv -f $@.tmp $@

$(OUT)/memtrace: $(OUT)/src/main.o $(LIB_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUT)/src/%.o: src/%.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

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

# What building and running memtrace needs; the test tools; the benchmark peers.
deps:
	$(Q)tools/install-deps.sh build
deps-test:
	$(Q)tools/install-deps.sh build test deb
deps-bench:
	$(Q)tools/install-deps.sh build bench

test: deps-test deps-kernels
	$(Q)tools/check-layout.sh
	$(Q)$(MAKE) --no-print-directory build unit e2e
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 unit
	$(Q)$(MAKE) --no-print-directory fuzz-test
	$(Q)SAN_OUT=build-san KT_SERIES="$(TEST_KERNELS)" tools/run-tests.sh $(OUT)

sanitize: deps-test
	$(Q)$(MAKE) --no-print-directory SANITIZE=1 build unit

demo: deps
	$(Q)$(MAKE) --no-print-directory build $(OUT)/targets/leaky_demo
	$(Q)./memtrace -d 6 -i 3 -- $(OUT)/targets/leaky_demo

bench: deps-bench
	$(Q)$(MAKE) --no-print-directory build $(TARGETS)
	$(Q)tools/bench.sh $(OUT)

clean:
	$(call msg,CLEAN,)
	$(Q)rm -rf build build-san build-fuzz memtrace

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
