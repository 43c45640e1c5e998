# man.mk - the manual page memtrace(8): docs/memtrace.8.scd (scdoc) rendered
# into $(OUT)/memtrace.8 with the build's version. scdoc 1.11 emits empty
# paragraph macros (.P right after .SH, before .SH/.RE, twice in a row) that
# `mandoc -T lint` flags; tools/man-tidy.awk drops them and nothing else.
SCDOC    ?= scdoc
MAN_SRC  := docs/memtrace.8.scd

$(MAN_PAGE): $(MAN_SRC) tools/man-tidy.awk
	@mkdir -p $(dir $@)
	$(call msg,SCDOC,$@)
	$(Q)sed 's/@VERSION@/$(VERSION)/g' $< | $(SCDOC) | awk -f tools/man-tidy.awk > $@.tmp
	$(Q)mv -f $@.tmp $@
