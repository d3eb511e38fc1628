#!/bin/sh
# The library's files call each other in one direction only: API files
# (segment, message, zerocopy, call, stat, unlink) on the state machines
# (ring, reply, recover), on the semaphore set and the spin policy, on the
# layout.  A file that calls into one that calls it back, directly or
# through others, is a circle: tsort finds it.
set -u
export LC_ALL=C # sort and join must collate alike
# The library's objects, as make names them (LIBSHMBOX_OBJECTS: its .lo
# files), so that an object left from a file since removed is not read;
# the PIC one where the build made one, else the static one.
objs=
for lo in ${LIBSHMBOX_OBJECTS:?run from make check}; do
	o=$(dirname "$lo")/.libs/$(basename "$lo" .lo).o
	[ -f "$o" ] || o=${lo%.lo}.o
	[ -f "$o" ] || { echo "no object for $lo: build the library first"; exit 99; }
	objs="$objs $o"
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
name() { basename "$1" .o | sed 's/^libshmbox_la-//'; }
for o in $objs; do
	nm "$o" | awk -v f="$(name "$o")" '$2 ~ /^[TDBR]$/ && $3 ~ /^shmbox_/ {print $3, f}'
done | sort >"$tmp/defined"
for o in $objs; do
	f=$(name "$o")
	echo "$f $f" # every file, also one that calls no other
	nm "$o" | awk '$1 == "U" && $2 ~ /^shmbox_/ {print $2}' | sort |
		join - "$tmp/defined" | awk -v f="$f" '$2 != f {print $2, f}'
done | sort -u >"$tmp/edges"
if ! tsort "$tmp/edges" >"$tmp/order" 2>"$tmp/loop"; then
	echo "library files call each other in a circle:"
	cat "$tmp/loop"
	exit 1
fi
echo "layers: no circle among $(echo $objs | wc -w) files; from the bottom: $(tr '\n' ' ' <"$tmp/order")"
