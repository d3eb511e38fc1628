#!/bin/sh
# The library exports exactly the functions shmbox.h declares: no internal
# shmbox__ helper, no stray global, and nothing declared but missing.
set -u
top=$(dirname "$0")/..
lib=$(ls "$top"/.libs/libshmbox.so 2>/dev/null || ls .libs/libshmbox.so 2>/dev/null)
header=$top/include/shmbox.h
[ -n "$lib" ] || { echo "no .libs/libshmbox.so (static-only build?)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort >"$tmp/exported"
grep -oE '\bshmbox_[a-z_]+ *\(' "$header" | tr -d ' (' | sort -u >"$tmp/declared"
if ! cmp -s "$tmp/exported" "$tmp/declared"; then
	echo "exported (<) and declared (>) differ:"
	diff "$tmp/exported" "$tmp/declared"
	exit 1
fi
echo "symbols: $(wc -l <"$tmp/exported") exported, all declared in shmbox.h"
