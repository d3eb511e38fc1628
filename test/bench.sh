#!/bin/sh
# The benchmark still works: one short repetition of every figure for
# every transport, every message checked by the receivers as in a real
# run.  It asserts that each figure was measured or says why not, that the
# options are checked, and that nothing is left behind, also after an
# interrupt; never a speed (bench/README.md says what the figures say).
set -u
top=.  # the build directory: make check runs tests from there
bench="$top/bench/shmbox-bench"
dir=$(mktemp -d "${TMPDIR:-/tmp}/shmbox-bench-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; cat "$dir/out" 2>/dev/null; exit 1; }

mkdir "$dir/keys"
ls /dev/shm >"$dir/shm.before" 2>/dev/null
ls /dev/mqueue >"$dir/mq.before" 2>/dev/null

# Options as the shmbox command reads them: a bad one is a usage error (64).
"$bench" --help >"$dir/out" 2>&1 || fail "--help exited $?"
grep -q -- '--reps N' "$dir/out" || fail "--help does not describe --reps"
for args in "-r 0" "-r x" "-t 0" "-T pipe,nosuch" "-F nosuch" "--nosuch" "-r" "extra"; do
	"$bench" $args >"$dir/out" 2>&1
	rc=$?
	[ $rc -eq 64 ] || fail "shmbox-bench $args exited $rc, expected 64"
done
"$bench" -r 0 2>&1 | grep -q -- '-r 0: .*(1 to 64)' || fail "-r 0: no message naming the option and its range"

# A whole run, short.
TMPDIR="$dir/keys" "$bench" -r 1 -t 20 -o "$dir/r.csv" -p "$dir/r.png" >"$dir/out" 2>&1 &
pid=$!
wait $pid || fail "shmbox-bench exited $?"
cat "$dir/out"
! grep -q FAILED "$dir/out" || fail "a figure FAILED"
grep -q '^library: ' "$dir/out" || fail "the run does not name the library it uses"
# Figures, not verdicts: a judgement of them belongs in bench/README.md.
! grep -qiwE 'met|target' "$dir/out" || fail "the output judges its own figures"
# Every figure row is measured or says why not; shmbox, shmbox-zc,
# shmbox-poll, the pipe and the seqpacket socket carry all ten, and
# shmbox-poll1 the four round trips; ZeroMQ, where it is built, all but
# 4 -> 4, and the bridges, where the shmbox command has them, all ten.
bad=$(awk -F, '$1 == "figure" && $17 != "ok" && $17 != "n/a"' "$dir/r.csv")
[ -z "$bad" ] || fail "figure rows neither ok nor n/a: $bad"
measured() { awk -F, -v t="$1" '$1 == "figure" && $3 == t && $17 == "ok"' "$dir/r.csv" | wc -l; }
for t in shmbox shmbox-zc shmbox-poll pipe unix-seqpacket; do
	n=$(measured $t)
	[ "$n" -eq 10 ] || fail "$t measured in $n figures, expected 10"
done
for t in zmq zmq-curve; do
	grep -q "^ *$t *not built" "$dir/out" && continue
	n=$(measured $t)
	[ "$n" -eq 9 ] || fail "$t measured in $n figures, expected 9"
done
for t in bridge bridge-curve; do
	grep -q "^ *$t .*no bridge in that build" "$dir/out" && continue
	n=$(measured $t)
	[ "$n" -eq 10 ] || fail "$t measured in $n figures, expected 10"
done
n=$(awk -F, '$1 == "figure" && $3 == "shmbox-poll1" && $2 ~ /^rtt/ && $17 == "ok"' "$dir/r.csv" | wc -l)
[ "$n" -eq 4 ] || fail "shmbox-poll1 measured in $n round trip figures, expected 4"
n=$(awk -F, '$1 == "figure" && $17 == "ok" && $15 > 0 && $9 > 0' "$dir/r.csv" | wc -l)
m=$(awk -F, '$1 == "figure" && $17 == "ok"' "$dir/r.csv" | wc -l)
[ "$n" -eq "$m" ] || fail "$((m - n)) measured rows without a rate or CPU time"
# Nothing left: key files (mkstemp in TMPDIR), segments this run made,
# Boost's and the POSIX queues.
[ -z "$(ls -A "$dir/keys")" ] || fail "key files left: $(ls "$dir/keys")"
left=$(ipcs -m -p 2>/dev/null | awk -v p=$pid '$3 == p')
[ -z "$left" ] || fail "shared memory segments left: $left"
ls /dev/shm >"$dir/shm.after" 2>/dev/null
left=$(comm -13 "$dir/shm.before" "$dir/shm.after" | grep '^shmbox-bench-boost\.')
[ -z "$left" ] || fail "Boost queues left in /dev/shm: $left"
ls /dev/mqueue >"$dir/mq.after" 2>/dev/null
left=$(comm -13 "$dir/mq.before" "$dir/mq.after" | grep '^shmbox-bench\.')
[ -z "$left" ] || fail "POSIX queues left in /dev/mqueue: $left"

# Interrupted in the middle of a figure: status 130, and nothing left.
TMPDIR="$dir/keys" "$bench" -r 20 -t 200 -F 1to1 -T shmbox,pipe -o "$dir/i.csv" \
	>"$dir/out" 2>&1 &
pid=$!
sleep 2
kill -INT $pid
wait $pid
rc=$?
[ $rc -eq 130 ] || fail "interrupted shmbox-bench exited $rc, expected 130"
[ -z "$(ls -A "$dir/keys")" ] || fail "key files left after an interrupt: $(ls "$dir/keys")"
left=$(ipcs -m -p 2>/dev/null | awk -v p=$pid '$3 == p')
[ -z "$left" ] || fail "shared memory segments left after an interrupt: $left"
echo "benchmark: every figure measured, options checked, nothing left behind"
