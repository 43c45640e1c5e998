# Targets of tests/e2e/test_symbols.py (symbolization through the tracer).
# sym_inline, sym_dlopen: built by mk/targets.mk like every tests/targets/*.c.
# Here: the C++ target, the library sym_dlopen loads, and a stripped
# sym_inline with its debug file apart (the test files it by build-id).
SYM_TARGETS := $(addprefix $(OUT)/targets/,sym_cxx libsym_plugin.so sym_inline_stripped \
	       sym_inline_stripped.debug)
OBJCOPY     ?= objcopy

TARGETS += $(SYM_TARGETS)

$(OUT)/targets/sym_inline $(OUT)/targets/sym_dlopen: tests/targets/alloc_common.h

$(OUT)/targets/sym_cxx: tests/targets/sym_cxx.cpp tests/targets/alloc_common.h
	@mkdir -p $(dir $@)
	$(call msg,CXX,$@)
	$(Q)$(CXX) $(TARGET_CFLAGS) -o $@ $<

$(OUT)/targets/libsym_plugin.so: tests/targets/sym_plugin/sym_plugin.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) -fPIC -shared -o $@ $<

$(OUT)/targets/sym_inline_stripped.debug: $(OUT)/targets/sym_inline
	$(call msg,OBJCOPY,$@)
	$(Q)$(OBJCOPY) --only-keep-debug $< $@

$(OUT)/targets/sym_inline_stripped: $(OUT)/targets/sym_inline
	$(call msg,STRIP,$@)
	$(Q)$(OBJCOPY) --strip-all $< $@
