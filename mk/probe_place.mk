# bench-probe-place: probe placement decisions and measured uprobe cost per
# call, entry vs chosen offset (run by tools/bench-probe-place.sh).
PROBE_PLACE_BENCH := $(OUT)/tools/bench-probe-place
PROBE_PLACE_OBJS  := $(OUT)/src/elf_funcs.o $(OUT)/src/probe_place.o
TARGETS += $(PROBE_PLACE_BENCH)

$(PROBE_PLACE_BENCH): tools/bench-probe-place.c $(PROBE_PLACE_OBJS)
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(PROBE_PLACE_OBJS) -lcapstone -lelf
