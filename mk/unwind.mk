# unwind.mk - the dwarf unwinder's e2e target (issue 4).
# tests/targets/unwind_chain.c is built by targets.mk's pattern rule, but
# without frame pointers on purpose (the last -f flag wins); test_unwind_bpf
# runs it under bpf/unwind_test.bpf.c.
TARGET_CFLAGS_unwind_chain := -fomit-frame-pointer -fasynchronous-unwind-tables -pthread
# memo_callers: two stacks differing only in one return address (memo test).
TARGET_CFLAGS_memo_callers := -fomit-frame-pointer -fasynchronous-unwind-tables

$(OUT)/tests/test_unwind_bpf: $(OUT)/targets/unwind_chain

# tools/unwind_dump: rows, bytes and build time of ELF files' tables.
$(OUT)/unwind_dump: tools/unwind_dump.c $(OUT)/src/unwind/unwind_table.o $(OUT)/src/unwind/eh_frame.o $(OUT)/src/common/util.o
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -ldw -lelf

# A shared library whose GNU build id is 40 bytes, the most unwind_maps.c
# accepts (test_unwind_maps: test_long_build_id; most build ids are 20).
UNWIND_FX_LONG_ID := $(OUT)/fixtures/unwind/long_build_id.so
$(UNWIND_FX_LONG_ID): tests/fuzz/seeds/seed.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -shared -fPIC -Wl,--build-id=0x$(shell printf '%080d' 0 | tr 0 a) -o $@ $<
$(OUT)/tests/test_unwind_maps: | $(UNWIND_FX_LONG_ID)
