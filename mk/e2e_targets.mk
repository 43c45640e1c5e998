# Per-target flags of the deep trace e2e targets (tests/targets/alloc_*.c).
# alloc_nolibc: a static binary without libc (and without malloc).
TARGET_CFLAGS_alloc_nolibc := -static -nostdlib -ffreestanding -fno-stack-protector -fno-pie -no-pie
# The targets share the waiting protocol header.
$(OUT)/targets/alloc_kinds: tests/targets/alloc_common.h
# alloc_badinterp: its ELF interpreter does not exist, exec fails.
TARGET_CFLAGS_alloc_badinterp := -Wl,--dynamic-linker=/nonexistent/memtrace-e2e-ld.so
