#!/bin/sh
# Symbolization cost of one report: STACKS stacks of DEPTH return addresses
# in a C++ target with DWARF (1000 template instantiations, inlines) and its
# libstdc++ and libc, first time (opening files, loading DWARF) and cached.
# Usage: tools/bench-syms.sh [OUTDIR] [STACKS] [DEPTH]   (build, 1000, 16)
set -eu
out=${1:-build}
stacks=${2:-1000}
depth=${3:-16}
make --no-print-directory OUT="$out" "$out/bench/bench-syms" "$out/fixtures/syms/fx_bench" >/dev/null
"$out/bench/bench-syms" "$out/fixtures/syms/fx_bench" "$stacks" "$depth"
