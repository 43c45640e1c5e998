# syms_fixtures.mk - fixture programs for tests/unit/symbolize/test_syms.c and the
# symbolization bench, built -O2 -g into $(OUT)/fixtures/syms/. Variants of
# fx_inline: non-PIE, stripped (+ debug file), stripped with .gnu_debuglink,
# and MiniDebugInfo (.gnu_debugdata).

SYMS_FX_SRC    := tests/fixtures/syms
SYMS_FX_DIR    := $(OUT)/fixtures/syms
SYMS_FX_CFLAGS := -O2 -g -fno-optimize-sibling-calls -I$(SYMS_FX_SRC)
SYMS_FX        := $(addprefix $(SYMS_FX_DIR)/,fx_inline fx_nopie fx_cxx libfx_lib.so \
		    fx_stripped fx_stripped.debug fx_debuglink fx_debuglink.debug fx_mini \
		    fx_static fx_static.debug)
CXX            ?= g++
OBJCOPY        ?= objcopy
NM             ?= nm

TARGETS += $(SYMS_FX)
$(OUT)/tests/test_syms $(OUT)/tests/test_kdebug: | $(SYMS_FX)

$(SYMS_FX_DIR)/fx_inline: $(SYMS_FX_SRC)/fx_inline.c $(SYMS_FX_SRC)/fx_common.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(SYMS_FX_CFLAGS) -o $@ $<

$(SYMS_FX_DIR)/fx_nopie: $(SYMS_FX_SRC)/fx_inline.c $(SYMS_FX_SRC)/fx_common.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(SYMS_FX_CFLAGS) -fno-pie -no-pie -o $@ $<

# Static and stripped, for the chroot test: no libraries to copy in.
$(SYMS_FX_DIR)/fx_static $(SYMS_FX_DIR)/fx_static.debug &: $(SYMS_FX_SRC)/fx_inline.c $(SYMS_FX_SRC)/fx_common.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$(SYMS_FX_DIR)/fx_static)
	$(Q)$(CC) $(SYMS_FX_CFLAGS) -DFX_STATIC -static -o $(SYMS_FX_DIR)/fx_static.full $<
	$(Q)$(OBJCOPY) --only-keep-debug $(SYMS_FX_DIR)/fx_static.full $(SYMS_FX_DIR)/fx_static.debug
	$(Q)$(OBJCOPY) --strip-all $(SYMS_FX_DIR)/fx_static.full $(SYMS_FX_DIR)/fx_static
	$(Q)rm -f $(SYMS_FX_DIR)/fx_static.full

$(SYMS_FX_DIR)/libfx_lib.so: $(SYMS_FX_SRC)/fx_lib.c $(SYMS_FX_SRC)/fx_common.h
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(SYMS_FX_CFLAGS) -fPIC -shared -o $@ $<

$(SYMS_FX_DIR)/fx_cxx: $(SYMS_FX_SRC)/fx_cxx.cc $(SYMS_FX_SRC)/fx_common.h
	@mkdir -p $(dir $@)
	$(call msg,CXX,$@)
	$(Q)$(CXX) $(SYMS_FX_CFLAGS) -o $@ $<

$(SYMS_FX_DIR)/fx_stripped.debug $(SYMS_FX_DIR)/fx_debuglink.debug: $(SYMS_FX_DIR)/fx_inline
	$(call msg,OBJCOPY,$@)
	$(Q)$(OBJCOPY) --only-keep-debug $< $@

$(SYMS_FX_DIR)/fx_stripped: $(SYMS_FX_DIR)/fx_inline
	$(call msg,STRIP,$@)
	$(Q)$(OBJCOPY) --strip-all $< $@

# The debuglink names fx_debuglink.debug; objcopy needs it in the cwd for the CRC.
$(SYMS_FX_DIR)/fx_debuglink: $(SYMS_FX_DIR)/fx_inline $(SYMS_FX_DIR)/fx_debuglink.debug
	$(call msg,STRIP,$@)
	$(Q)$(OBJCOPY) --strip-all $< $@.tmp
	$(Q)cd $(dir $@) && $(OBJCOPY) --add-gnu-debuglink=fx_debuglink.debug $(notdir $@).tmp
	$(Q)mv $@.tmp $@

# MiniDebugInfo as Fedora builds it: function symbols not in .dynsym, xz'd.
$(SYMS_FX_DIR)/fx_mini: $(SYMS_FX_DIR)/fx_inline
	$(call msg,MINIDBG,$@)
	$(Q)t=$@.tmp; \
	$(NM) -D $< --format=posix --defined-only | awk '{ print $$1 }' | sort > $$t.dyn && \
	$(NM) $< --format=posix --defined-only | awk '$$2 ~ /^[Tt]$$/ { print $$1 }' | sort > $$t.fn && \
	comm -13 $$t.dyn $$t.fn > $$t.keep && \
	$(OBJCOPY) --only-keep-debug $< $$t.dbg && \
	$(OBJCOPY) -S --remove-section .gdb_index --remove-section .comment \
		--keep-symbols=$$t.keep $$t.dbg $$t.mini && \
	xz -f $$t.mini && \
	$(OBJCOPY) --strip-all --remove-section .comment \
		--add-section .gnu_debugdata=$$t.mini.xz $< $@; \
	rc=$$?; rm -f $$t.*; exit $$rc

# ---- bench: tools/bench-syms.sh ------------------------------------------
# fx_bench: SYMS_BENCH_FNS template instantiations, each with an inlined
# helper and std::string use, so the target has real DWARF and C++ names.
SYMS_BENCH_FNS := 1000
SYMS_BENCH     := $(OUT)/bench/bench-syms

$(SYMS_FX_DIR)/fx_bench.cc: mk/syms_fixtures.mk
	@mkdir -p $(dir $@)
	$(call msg,GEN,$@)
	$(Q)awk -v n=$(SYMS_BENCH_FNS) 'BEGIN { \
	print "#include <cstdio>"; print "#include <string>"; \
	print "volatile int fx_v;"; \
	print "namespace shop {"; \
	print "template <int N> struct Till {"; \
	print "  static inline __attribute__((always_inline)) int tax(int x) { return x * N + fx_v; }"; \
	print "  __attribute__((noinline)) static int sell(int x) {"; \
	print "    std::string s(x % 7 + 20, (char)(97 + N % 26));"; \
	print "    return tax((int)s.size()) + fx_v; }"; \
	print "};"; print "}"; \
	print "int main() {"; print "  long t = 0;"; \
	for (i = 0; i < n; i++) printf "  t += shop::Till<%d>::sell(%d);\n", i, i; \
	print "  std::setvbuf(stdout, nullptr, _IOLBF, 0);"; \
	print "  std::printf(\"ready\\n\");"; \
	print "  char b[64]; while (std::fgets(b, sizeof(b), stdin)) {}"; \
	print "  return t == 0; }" }' > $@

$(SYMS_FX_DIR)/fx_bench: $(SYMS_FX_DIR)/fx_bench.cc
	$(call msg,CXX,$@)
	$(Q)$(CXX) $(SYMS_FX_CFLAGS) -o $@ $<

$(SYMS_BENCH): tools/bench-syms.c $(LIB_OBJS) | $(SYMS_FX_DIR)/fx_bench
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)
