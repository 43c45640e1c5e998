# pprof.mk - generated protobuf-c code for the pprof writer (src/output/pprof.c).
# src/output/proto/profile.proto -> $(OUT)/output/proto/profile.pb-c.{c,h}, compiled into
# LIB_OBJS so the binary and every unit test link it.
PROTOC_C     ?= protoc-c
PPROF_PROTO  := src/output/proto/profile.proto
PPROF_GEN_C  := $(OUT)/output/proto/profile.pb-c.c
PPROF_GEN_H  := $(OUT)/output/proto/profile.pb-c.h
PPROF_GEN_O  := $(OUT)/output/proto/profile.pb-c.o

LIB_OBJS += $(PPROF_GEN_O)

# Both files come from one protoc-c run; the header rides on the .c file.
$(PPROF_GEN_C): $(PPROF_PROTO)
	@mkdir -p $(dir $@)
	$(call msg,PROTOC,$@)
	$(Q)$(PROTOC_C) --proto_path=$(dir $<) --c_out=$(dir $@) $<

$(PPROF_GEN_H): $(PPROF_GEN_C)
	@touch $@

$(PPROF_GEN_O): $(PPROF_GEN_C) $(PPROF_GEN_H)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter -c -o $@ $<

# Sources that include the generated header must wait for it on a clean build.
$(OUT)/src/output/pprof.o: $(PPROF_GEN_H)
