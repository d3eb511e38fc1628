#!/bin/sh
# The benchmark still works: one short repetition of every figure for
# every transport built, every message checked by the receivers as in a
# real run.  It asserts that each figure was measured (not FAILED) and
# that nothing is left behind; never a speed (README, Performance).
set -u
top=.  # the build directory: make check runs tests from there
dir=$(mktemp -d "${TMPDIR:-/tmp}/shmbox-bench-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; cat "$dir/out" 2>/dev/null; exit 1; }

mkdir "$dir/keys"
ls /dev/shm >"$dir/shm.before" 2>/dev/null
ls /dev/mqueue >"$dir/mq.before" 2>/dev/null
TMPDIR="$dir/keys" "$top/bench/shmbox-bench" -r 1 -t 0.02 -o "$dir/r.csv" -p "$dir/r.png" \
	>"$dir/out" 2>&1 || fail "shmbox-bench exited $?"
cat "$dir/out"

! grep -q FAILED "$dir/out" || fail "a figure FAILED"
# Every figure row is measured or says why not (n/a); shmbox has all nine.
bad=$(awk -F, '$1 == "figure" && $18 != "ok" && $18 != "n/a"' "$dir/r.csv")
[ -z "$bad" ] || fail "figure rows neither ok nor n/a: $bad"
n=$(awk -F, '$1 == "figure" && $3 == "shmbox" && $18 == "ok"' "$dir/r.csv" | wc -l)
[ "$n" -eq 9 ] || fail "shmbox measured in $n figures, expected 9"
n=$(awk -F, '$1 == "reference" && $18 == "ok"' "$dir/r.csv" | wc -l)
[ "$n" -ge 7 ] || fail "only $n references measured"
# The two small tools run (unpinned: CPU numbers differ between machines).
for args in "-t 0.05 - -" "-t 0.05 -T pipe - - -"; do
	TMPDIR="$dir/keys" "$top/bench/shmbox-placement" $args >>"$dir/out" 2>&1 ||
		fail "shmbox-placement $args exited $?"
done
TMPDIR="$dir/keys" "$top/bench/shmbox-mpmc" -n 40000 >>"$dir/out" 2>&1 || fail "shmbox-mpmc exited $?"
# Key files (mkstemp in TMPDIR) are deleted; Boost's queues are removed.
[ -z "$(ls -A "$dir/keys")" ] || fail "key files left: $(ls "$dir/keys")"
ls /dev/shm >"$dir/shm.after" 2>/dev/null
left=$(comm -13 "$dir/shm.before" "$dir/shm.after" | grep '^shmbox-bench-boost\.')
[ -z "$left" ] || fail "Boost queues left in /dev/shm: $left"
ls /dev/mqueue >"$dir/mq.after" 2>/dev/null
left=$(comm -13 "$dir/mq.before" "$dir/mq.after" | grep '^shmbox-bench\.')
[ -z "$left" ] || fail "POSIX queues left in /dev/mqueue: $left"
echo "benchmark: every figure measured, nothing left behind"
