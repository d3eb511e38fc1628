#!/bin/sh
# The library exports exactly the functions shmbox.h declares: no internal
# shmbox__ helper, no stray global, and nothing declared but missing.  And
# the header compiles on its own in strict ISO C, without feature macros,
# and so does the README's example program.
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
printf '#include <shmbox.h>\nint main(void) { return 0; }\n' >"$tmp/alone.c"
for std in c99 c11; do
	if ! ${CC:-cc} -std=$std -pedantic -Wall -Wextra -Werror -I"$top/include" -c "$tmp/alone.c" \
		-o "$tmp/alone.o"; then
		echo "shmbox.h does not compile alone with -std=$std"
		exit 1
	fi
done
# The README's example is a whole program: it compiles as it stands.
awk '/^```c$/ { inside = 1; next } /^```$/ && inside { exit } inside' "$top/README.md" >"$tmp/readme.c"
if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$top/include" -c "$tmp/readme.c" -o "$tmp/readme.o"; then
	echo "the README's example does not compile"
	exit 1
fi
echo "symbols: $(wc -l <"$tmp/exported") exported, all declared in shmbox.h; it compiles alone with -std=c99 and c11, and so does the README's example"
