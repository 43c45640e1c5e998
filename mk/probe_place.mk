# bench-probe-place: probe placement decisions and measured uprobe cost per
# call, entry vs chosen offset (run by tools/bench-probe-place.sh).
PROBE_PLACE_BENCH := $(OUT)/tools/bench-probe-place
PROBE_PLACE_OBJS  := $(OUT)/src/target/elf_funcs.o $(OUT)/src/target/probe_place.o $(OUT)/src/common/util.o
TARGETS += $(PROBE_PLACE_BENCH)

$(PROBE_PLACE_BENCH): tools/bench-probe-place.c $(PROBE_PLACE_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PROBE_PLACE_OBJS) -lcapstone -lelf

# libelffx.so for tests/unit/target/test_elf_funcs.c: versioned symbols, a size-0
# alias, an IFUNC, a local function; -Ttext-segment makes addresses differ
# from file offsets.
ELF_FUNCS_FX_SRC := tests/fixtures/elf_funcs
ELF_FUNCS_FX     := $(OUT)/fixtures/elf_funcs/libelffx.so

$(OUT)/tests/test_elf_funcs: | $(ELF_FUNCS_FX)

$(ELF_FUNCS_FX): $(ELF_FUNCS_FX_SRC)/fixture.c $(ELF_FUNCS_FX_SRC)/fixture.map
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -fPIC -shared -Wl,--version-script=$(ELF_FUNCS_FX_SRC)/fixture.map \
		-Wl,-Ttext-segment=0x10000000 -o $@ $<
