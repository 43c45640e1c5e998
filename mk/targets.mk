# Programs traced by `make demo` and the e2e tests (tests/targets/*.c).
# Built -O2 -g with frame pointers unless a per-target flag says otherwise.
TARGET_CFLAGS := -O2 -g -fno-omit-frame-pointer -Wall
E2E_TARGET_SRCS := $(wildcard tests/targets/*.c)
TARGETS += $(OUT)/targets/leaky_demo $(patsubst tests/targets/%.c,$(OUT)/targets/%,$(E2E_TARGET_SRCS))

$(OUT)/targets/leaky_demo: tools/leaky_demo.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) -o $@ $<

$(OUT)/targets/%: tests/targets/%.c
	@mkdir -p $(dir $@)
	$(call msg,CC,$@)
	$(Q)$(CC) $(TARGET_CFLAGS) $(TARGET_CFLAGS_$*) -o $@ $< -lpthread -ldl $(TARGET_LDLIBS_$*)
