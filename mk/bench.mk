# bench.mk - programs of `make bench` (tools/bench.sh), built into $(OUT)/bench/.
#   bench-overhead	times malloc+free pairs in malloc_loop under each tracer
#   malloc_loop		the traced worker of bench-overhead
#   naive_memleak	bcc memleak's algorithm on libbpf: the naive peer
#   hold_allocs		holds 1M small allocations: report cost at scale
BENCH_DIR      := $(OUT)/bench
BENCH_PROGS    := $(addprefix $(BENCH_DIR)/,bench-overhead malloc_loop naive_memleak hold_allocs)
BENCH_OVH_OBJS := $(OUT)/src/target/elf_funcs.o $(OUT)/src/target/probe_place.o $(OUT)/src/tracer/uprobe_multi.o $(OUT)/src/common/util.o \
		  $(BENCH_DIR)/bench_libc.o $(BENCH_DIR)/bench_probes.o
BENCH_LIBC_OBJS := $(BENCH_DIR)/bench_libc.o $(OUT)/src/target/procmaps.o $(OUT)/src/common/util.o
TARGETS += $(BENCH_PROGS)

$(BENCH_DIR)/bench_libc.o $(BENCH_DIR)/bench_probes.o: $(BENCH_DIR)/%.o: tools/bench/%.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BENCH_DIR)/bench-overhead: tools/bench/bench-overhead.c $(BENCH_OVH_OBJS) $(OUT)/src/target/procmaps.o
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BENCH_OVH_OBJS) $(OUT)/src/target/procmaps.o -lcapstone -lelf

# The traced programs: like the e2e targets, with frame pointers.
$(BENCH_DIR)/malloc_loop $(BENCH_DIR)/hold_allocs: $(BENCH_DIR)/%: tools/bench/%.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) -o $@ $<

$(BENCH_DIR)/naive_memleak.bpf.o: tools/bench/naive_memleak.bpf.c $(VMLINUX)
	@mkdir -p $(dir $@)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.tmp
	$(Q)$(BPFTOOL) gen object $@ $@.tmp
	$(Q)rm -f $@.tmp

$(BENCH_DIR)/naive_memleak: tools/bench/naive_memleak.c $(BENCH_DIR)/naive_memleak.skel.h $(BENCH_LIBC_OBJS)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BENCH_DIR) $(LDFLAGS) -o $@ $< $(BENCH_LIBC_OBJS) -lbpf -lelf -lz
