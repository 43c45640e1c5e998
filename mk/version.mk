# version.mk - the version memtrace reports (--version, JSON "version",
# /metrics memtrace_build_info). VERSION_BASE is the release (keep it equal to
# debian/changelog's upstream version; tests/e2e/test_package.py checks);
# tools/version.sh adds where a git checkout is. `make VERSION=X` overrides
# (debian/rules passes the package's version).
VERSION_BASE := 0.1.0
ifeq ($(origin VERSION),undefined)
VERSION := $(shell tools/version.sh $(VERSION_BASE))
endif

# Rewritten only when the string changes, so an unchanged version rebuilds nothing.
$(VERSION_H): FORCE
	@mkdir -p $(dir $@)
	$(Q)printf '#define MEMTRACE_VERSION "%s"\n' '$(VERSION)' > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv -f $@.tmp $@; fi

# What embeds the version.
$(OUT)/src/common/version.o $(MAN_PAGE): $(VERSION_H)

.PHONY: FORCE
FORCE:
