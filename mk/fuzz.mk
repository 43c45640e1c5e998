# fuzz.mk - libFuzzer harnesses of the parsers fed by target-controlled
# bytes (issue 19): tests/fuzz/fuzz_NAME.c, built with clang
# -fsanitize=fuzzer,address,undefined into $(FUZZ_OUT)/fuzz_NAME, against
# the modules they drive compiled the same way (FUZZ_SRCS_NAME).
#   make fuzz                 build, then run each harness FUZZ_SECONDS (60)
#   make fuzz FUZZ_ONLY=unwind FUZZ_SECONDS=600
#   make fuzz-build           build only
# tools/fuzz.sh runs them: seeds from tests/fuzz/corpus/NAME (committed:
# text samples and every input that once crashed) plus the ELF seeds built
# here, a scratch corpus in $(FUZZ_OUT)/corpus/NAME; any crash, leak, UB
# or timeout fails. `make test` runs each for FUZZ_TEST_SECONDS.
FUZZ_OUT      := build-fuzz
FUZZ_SECONDS  ?= 60
FUZZ_TEST_SECONDS ?= 20
FUZZ_ONLY     ?=
FUZZ_CFLAGS   := -O1 -g -fno-omit-frame-pointer -Wall -Wextra -std=gnu11 -D_GNU_SOURCE \
		 -I$(OUT) -Isrc -I. -MMD -MP -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES    := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS     := $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_NAMES))

FUZZ_SRCS_unwind    := src/unwind/unwind_table.c src/unwind/eh_frame.c src/unwind/eh_cfi.c \
		       src/common/util.c
FUZZ_LIBS_unwind    := -ldw -lelf
FUZZ_SRCS_elf_funcs := src/target/elf_funcs.c src/target/probe_place.c src/common/util.c
FUZZ_LIBS_elf_funcs := -lelf -lcapstone
FUZZ_SRCS_procmaps  := src/target/procmaps.c src/common/util.c
FUZZ_SRCS_baseline  := src/analysis/baseline.c src/analysis/analysis.c src/analysis/fit.c \
		       src/analysis/lifetime.c src/analysis/procview.c src/analysis/labels.c \
		       src/analysis/categories.c src/analysis/recommend.c \
		       src/output/baseline_out.c src/output/json_out.c src/output/text.c \
		       src/common/report.c src/common/util.c src/common/version.c \
		       src/common/outfile.c
FUZZ_LIBS_baseline  := -ljson-c -lm
FUZZ_SRCS_syms      := $(wildcard src/symbolize/*.c) src/target/procmaps.c src/common/report.c src/common/util.c src/common/version.c
FUZZ_LIBS_syms      := -ldw -lelf -lz -ldl

.PHONY: fuzz fuzz-build fuzz-test
fuzz-build: $(FUZZ_BINS) $(FUZZ_OUT)/seeds.stamp

fuzz: deps-test
	$(Q)$(MAKE) --no-print-directory fuzz-build
	$(Q)tools/fuzz.sh $(FUZZ_OUT) $(FUZZ_SECONDS) $(FUZZ_ONLY)

# The short run of `make test`.
fuzz-test: fuzz-build
	$(Q)tools/fuzz.sh $(FUZZ_OUT) $(FUZZ_TEST_SECONDS) $(FUZZ_ONLY)

$(FUZZ_OUT)/obj/%.o: %.c | $(SKELS)
	@mkdir -p $(dir $@)
	$(call msg,FUZZ-CC,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

# Each harness links the instrumented modules it names.
define fuzz_link
$(FUZZ_OUT)/fuzz_$(1): $(FUZZ_OUT)/obj/tests/fuzz/fuzz_$(1).o $(patsubst %.c,$(FUZZ_OUT)/obj/%.o,$(FUZZ_SRCS_$(1)))
	$$(call msg,FUZZ-LD,$$@)
	$$(Q)$$(CLANG) -fsanitize=fuzzer,address,undefined -o $$@ $$^ $$(FUZZ_LIBS_$(1))
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_link,$(n))))

# ELF seeds: tests/fuzz/seeds/*.c built the ways targets are (PIE with
# symbols and DWARF, stripped, C++ with exceptions: zPLR CIEs and LSDAs,
# a shared library with a PLT, no unwind tables), small enough to mutate.
FUZZ_SEED_SRC := tests/fuzz/seeds/seed.c
$(FUZZ_OUT)/seeds.stamp: $(FUZZ_SEED_SRC) tests/fuzz/seeds/seed_cxx.cpp mk/fuzz.mk
	@mkdir -p $(FUZZ_OUT)/seeds
	$(call msg,SEEDS,$(FUZZ_OUT)/seeds)
	$(Q)$(CC) -O2 -g -o $(FUZZ_OUT)/seeds/pie_g $(FUZZ_SEED_SRC)
	$(Q)$(CC) -O2 -s -fomit-frame-pointer -o $(FUZZ_OUT)/seeds/pie_stripped $(FUZZ_SEED_SRC)
	$(Q)$(CC) -O1 -fno-asynchronous-unwind-tables -fno-unwind-tables -o $(FUZZ_OUT)/seeds/no_cfi $(FUZZ_SEED_SRC)
	$(Q)$(CC) -O2 -shared -fPIC -Wl,-z,lazy -o $(FUZZ_OUT)/seeds/lib.so $(FUZZ_SEED_SRC)
	$(Q)$(CC) -O2 -no-pie -fno-pie -Wl,--no-eh-frame-hdr -o $(FUZZ_OUT)/seeds/exec_nohdr $(FUZZ_SEED_SRC)
	$(Q)g++ -O2 -g1 -o $(FUZZ_OUT)/seeds/cxx tests/fuzz/seeds/seed_cxx.cpp
	$(Q)touch $@

-include $(shell find $(FUZZ_OUT) -name '*.d' 2>/dev/null)
$(FUZZ_OUT)/obj/src/common/version.o: $(VERSION_H)
