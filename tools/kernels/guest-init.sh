#!/bin/sh
# /init of the kernel matrix's initramfs (tools/kernels/initramfs.sh): mount
# what memtrace needs, run /kt/checks.sh, print its results on the console
# (ttyS0, read by tools/kernels/run.sh), power off.
/bin/busybox --install -s /bin
export PATH=/bin:/kt
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
echo 1 >/proc/sys/kernel/printk		# kernel messages off the console
echo "KT: kernel $(uname -r)"
/kt/checks.sh
echo "KT: exit $?"
sync
reboot -f	# qemu runs with -no-reboot: it exits
