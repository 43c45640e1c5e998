#!/bin/sh
# The kernel matrix: boot Debian's own kernels under qemu (software
# emulation, no KVM needed), run tools/kernels/checks.sh inside, print
# "kernel RELEASE: N passed, N failed" per kernel and a closing
# "kernels: N passed, N failed[, N skipped]".
# Usage: tools/kernels/run.sh OUTDIR [SERIES...]   (default: 6.1 6.12)
#   OUTDIR holds memtrace and targets/ (make e2e); kernels are cached in
#   OUTDIR/kernels (tools/kernels/fetch.sh). Kernels boot one after another
#   unless KT_PARALLEL=1. KT_VERBOSE=1 prints every check, not only failures.
set -u
out=${1:-build}
shift
[ $# -gt 0 ] || set -- 6.1 6.12
here=$(cd "$(dirname "$0")" && pwd)
kdir=$out/kernels
boot_s=${KT_BOOT_TIMEOUT:-420}	# one boot, checks included
qemu=qemu-system-x86_64

# What the matrix needs from Debian (tools/install-deps.sh installs them);
# only when they could not be installed is it skipped.
missing=""
command -v $qemu >/dev/null 2>&1 || missing="$missing qemu-system-x86"
{ [ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1; } || missing="$missing busybox-static"
command -v cpio >/dev/null 2>&1 || missing="$missing cpio"
if [ -n "$missing" ]; then
	echo "kernels: SKIP: not installed and could not be:$missing (tools/install-deps.sh)"
	echo "kernels: 0 passed, 0 failed, $# skipped"
	exit 0
fi
mkdir -p "$kdir"
img=$kdir/initramfs.cpio
if ! "$here/initramfs.sh" "$out" "$img"; then
	echo "kernels: cannot build the initramfs"
	echo "kernels: 0 passed, $# failed"
	exit 1
fi

# boot SERIES: results in $kdir/SERIES.log (the console) and SERIES.res
boot() {
	series=$1 log=$kdir/$1.log res=$kdir/$1.res
	rm -f "$log" "$res"
	if ! k=$("$here/fetch.sh" "$kdir" "$series"); then
		echo "kernel $series: no kernel (download failed)" >"$res"
		echo "fail 1" >>"$res"
		return
	fi
	vmlinuz=$(ls "$k"/boot/vmlinuz-* | head -n1)
	start=$(date +%s)
	timeout -k 10 "$boot_s" $qemu -accel tcg -cpu max -smp 2 -m 2G -nographic -no-reboot \
		-kernel "$vmlinuz" -initrd "$img" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init" \
		</dev/null >"$log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - start ))
	# the console: carriage returns and terminal escapes before our lines
	tr -d '\r' <"$log" | sed 's/^.*KT: /KT: /' >"$log.tmp" && mv "$log.tmp" "$log"
	rel=$(sed -n 's/^KT: kernel //p' "$log" | head -n1)
	line=$(sed -n 's/^KT: \([0-9]* passed, [0-9]* failed\)$/\1/p' "$log" | tail -n1)
	{
		if [ "${KT_VERBOSE:-0}" = 1 ]; then
			grep '^KT: \(ok\|FAIL\|info\|  |\)' "$log"
		else
			grep '^KT: \(FAIL\|info\|  |\)' "$log"
		fi | sed "s/^KT: /  [$series] /"
		if [ -n "$line" ]; then
			echo "kernel ${rel:-$series}: $line (${secs}s)"
		else
			why="no result"
			[ $rc -eq 124 ] || [ $rc -eq 137 ] && why="timed out after ${boot_s}s"
			echo "kernel ${rel:-$series}: did not finish ($why, qemu exit $rc); console tail:"
			tail -n 30 "$log" | sed "s/^/  [$series] | /"
			cp "$log" "$kdir/$series.failed.log"	# kept: the next run rewrites $log
			echo "  [$series] whole console: $kdir/$series.failed.log"
			line="0 passed, 1 failed"
		fi
		echo "$line" | sed 's/^\([0-9]*\) passed, \([0-9]*\) failed$/pass \1\nfail \2/'
	} >"$res"
}

if [ "${KT_PARALLEL:-0}" = 1 ]; then
	for s in "$@"; do boot "$s" & done
	wait
else
	for s in "$@"; do boot "$s"; done
fi
pass=0 fail=0
for s in "$@"; do
	grep -v '^\(pass\|fail\) [0-9]*$' "$kdir/$s.res"
	p=$(sed -n 's/^pass //p' "$kdir/$s.res")
	f=$(sed -n 's/^fail //p' "$kdir/$s.res")
	pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1}))
done
echo "kernels: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
