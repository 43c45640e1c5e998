# kernels.mk - the kernel matrix (issue 19): Debian 12's own kernels, booted
# under qemu (software emulation) with memtrace and the core checks inside
# an initramfs (tools/kernels/: fetch.sh, initramfs.sh, checks.sh, run.sh).
#   make test-kernels                 6.1 (bookworm's) and 6.12 (its newer one)
#   make test-kernels KERNELS=6.1     one of them
# Kernels are downloaded (apt-get download, never installed) into
# $(OUT)/kernels once. `make test` boots TEST_KERNELS (6.1) too.
KERNELS      ?= 6.1 6.12
TEST_KERNELS ?= 6.1
KT_TARGETS   := $(addprefix $(OUT)/targets/,alloc_kinds alloc_nolibc unwind_chain)

.PHONY: test-kernels deps-kernels

# Its packages (tools/deps/kernels); when they cannot be installed the
# matrix says so and is skipped (tools/kernels/run.sh).
deps-kernels:
	$(Q)tools/install-deps.sh kernels || \
		echo "install-deps: the kernel matrix's packages could not be installed: it is skipped" >&2

test-kernels: deps deps-kernels
	$(Q)$(MAKE) --no-print-directory build $(KT_TARGETS)
	$(Q)tools/kernels/run.sh $(OUT) $(KERNELS)
