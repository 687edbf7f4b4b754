#!/bin/sh
# Regenerates fuzz/corpus/export/ (the seeds of fuzz_export) from the files tests/test_export.c
# writes: sh scripts/gen_export_seeds.sh [build dir, default build/release]
set -e
B=${1:-build/release}
cmake --build "$B" --target test_export
rm -f fuzz/corpus/export/*.lzfn
mkdir -p fuzz/corpus/export
LZ_EXPORT_SEEDS=fuzz/corpus/export "$B/tests/test_export"
