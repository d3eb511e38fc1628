#!/bin/sh
# Build the libFuzzer harness with clang and run it for SECONDS (default 60).
#   test/fuzz/run.sh [SECONDS]
# SHMBOX_FUZZ_SLOTS=3 fuzzes a ring of 3 slots (found by division) instead
# of 4 (found by a mask).
# Needs clang and libclang-rt-14-dev (Debian).  Crashes land in the
# current directory as crash-*; replay one with: ./fuzz_segment crash-...
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$here/../..
secs=${1:-60}
out=$(mktemp -d /tmp/shmbox-fuzz-build.XXXXXX)
trap 'rm -rf "$out"' EXIT
clang -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-I"$top/include" -I"$top/src" -I"$top/test" \
	"$here/fuzz_segment.c" "$top/test/corrupt.c" "$top"/src/*.c -o "$out/fuzz_segment"
mkdir -p "$out/corpus"
"$out/fuzz_segment" -max_total_time="$secs" -max_len=400 -timeout=5 "$out/corpus"
