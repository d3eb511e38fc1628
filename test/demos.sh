#!/bin/sh
# The demos end to end: a receiver and a sender talk, and Ctrl-C (SIGINT)
# ends a waiting receiver cleanly, removing the mailbox it created.
set -u
top=.  # the build directory: make check runs tests from there
. "$(dirname "$0")/asleep.sh" # await_asleep, stays_asleep: waits without slices
dir=$(mktemp -d "${TMPDIR:-/tmp}/shmbox-demos.XXXXXX")
key="$dir/key"
cleanup() {
	[ -n "${rpid:-}" ] && kill -9 "$rpid" 2>/dev/null
	[ -e "$key" ] && "$top/shmbox" rm "$key" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
fail() { echo "FAIL: $*"; cat "$dir/out" 2>/dev/null; exit 1; }
# reap PID WHAT: wait for a background child; a broken build fails the test
# after 20 s instead of hanging it
reap() {
	i=0
	while st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) && [ "$st" != Z ]; do
		i=$((i + 1))
		[ $i -lt 2000 ] || { kill -9 "$1"; fail "$2: still running after 20 s"; }
		sleep 0.01
	done
	wait "$1"
}

# 1. Three messages go through, each printed with its length.
"$top/demos/receiver" -f "$key" -c 3 >"$dir/out" 2>&1 &
rpid=$!
"$top/demos/sender" -f "$key" -w 10 hello "shared memory" "" >/dev/null || fail "sender failed"
reap "$rpid" receiver || fail "receiver exited $?"
rpid=
grep -qx 'received 5 bytes: hello' "$dir/out" || fail "no hello"
grep -qx 'received 13 bytes: shared memory' "$dir/out" || fail "no second message"
grep -qx 'received 0 bytes: ' "$dir/out" || fail "no empty message"
grep -q 'removed mailbox' "$dir/out" || fail "receiver did not remove its mailbox"

# 2. Lines of standard input are messages too.
"$top/demos/receiver" -f "$key" -c 2 >"$dir/out" 2>&1 &
rpid=$!
printf 'one\ntwo\n' | "$top/demos/sender" -f "$key" -w 10 >/dev/null || fail "sender (stdin) failed"
reap "$rpid" receiver || fail "receiver exited $?"
rpid=
grep -qx 'received 3 bytes: two' "$dir/out" || fail "no stdin line"

# 3. A receiver with nothing to take sleeps in one ppoll on the mailbox's
# descriptor, and nothing wakes it; one SIGINT ends it, whenever it comes
# (SIGINT is let in only while it sleeps), and it cleans up.
: >"$dir/out" # the last run's lines must not pass for this one's
"$top/demos/receiver" -f "$key" >"$dir/out" 2>&1 &
rpid=$!
i=0
until grep -q 'waiting for messages' "$dir/out"; do
	i=$((i + 1)); [ $i -lt 1000 ] || fail "receiver did not start"; sleep 0.01
done
stays_asleep "receiver on an empty mailbox" "$rpid"
kill -INT "$rpid"
reap "$rpid" "receiver after SIGINT" || fail "receiver exited $? on SIGINT"
rpid=
grep -q 'removed mailbox' "$dir/out" || fail "no clean-up on SIGINT"

# 3b. Stopped and continued while it waits (Ctrl-Z, then fg): the receiver
# waits on for its message.
: >"$dir/out"
"$top/demos/receiver" -f "$key" -c 1 >"$dir/out" 2>&1 &
rpid=$!
i=0
until grep -q 'waiting for messages' "$dir/out"; do
	i=$((i + 1)); [ $i -lt 1000 ] || fail "receiver did not start"; sleep 0.01
done
await_asleep "receiver before a stop" "$rpid"
kill -STOP "$rpid"
kill -CONT "$rpid"
await_asleep "receiver after a stop and continue" "$rpid"
"$top/demos/sender" -f "$key" "after the stop" >/dev/null || fail "sender after the stop failed"
reap "$rpid" "receiver after a stop" || fail "receiver exited $? after a stop and continue"
rpid=
grep -qx 'received 14 bytes: after the stop' "$dir/out" || fail "no message after the stop"

# 4. A sender with no receiver says what to do.
"$top/demos/sender" -f "$key" hi >"$dir/out" 2>&1 && fail "sender succeeded without a mailbox"
grep -q 'start the receiver first' "$dir/out" || fail "unclear error without a receiver"
# 5. The race demo: through shmbox, no torn message (the raw count varies).
"$top/demos/race" -w 2 -t 200 >"$dir/out" 2>&1 || fail "race found torn messages through shmbox"
grep -Eq '^shmbox +[0-9]+ +0$' "$dir/out" || fail "race did not report shmbox's count"
# 5b. Killed inside a claim (-H holds it, `watch --once` shows it): a
# writer's slot is skipped and the next message goes through; a reader's
# message goes with it, and the next one goes through.
"$top/shmbox" create -n 4 -s 64 "$key" || fail "create for the held claims"
await_cell() { # CELL: until watch shows it, 10 s at most
	i=0
	until "$top/shmbox" watch --once "$key" 2>/dev/null | grep '^slot ' | grep -qF "[$1]"; do
		i=$((i + 1)); [ $i -lt 1000 ] || fail "watch never showed [$1]"; sleep 0.01
	done
}
# kill_in_claim CELL CMD...: run CMD until watch shows CELL, then kill -9 it
kill_in_claim() {
	cell=$1; shift
	"$@" >/dev/null 2>&1 &
	rpid=$!
	await_cell "$cell"
	kill -9 "$rpid"; wait "$rpid" 2>/dev/null; rpid=
}
# next_gets MSG WHAT: a message sent now is the next one a receiver gets
next_gets() {
	"$top/demos/sender" -f "$key" "$1" >/dev/null || fail "sender $2"
	timeout 20 "$top/demos/receiver" -f "$key" -c 1 >"$dir/out" 2>&1 || fail "receiver $2"
	grep -qx "received ${#1} bytes: $1" "$dir/out" || fail "no '$1' $2"
}
kill_in_claim W "$top/demos/sender" -f "$key" -H 60000 held
next_gets after "after a killed writer"
"$top/demos/sender" -f "$key" taken >/dev/null || fail "sender before a killed reader"
kill_in_claim R "$top/demos/receiver" -f "$key" -c 1 -H 60000
next_gets next "after a killed reader"
"$top/shmbox" rm "$key" || fail "rm after the held claims"

# 6. --help answers on standard output with status 0; a bad option is named
# on standard error, with the usage, and status 2.
for p in receiver sender race; do
	"$top/demos/$p" --help >"$dir/out" 2>/dev/null || fail "$p --help exited $?"
	grep -q "^usage: .*$p " "$dir/out" || fail "$p --help printed no usage on stdout"
	"$top/demos/$p" --bogus >"$dir/out" 2>"$dir/err"; st=$?
	[ "$st" -eq 2 ] || fail "$p --bogus exited $st, not 2"
	[ -s "$dir/out" ] && fail "$p --bogus wrote to stdout"
	grep -q -- "$p: --bogus: no such option" "$dir/err" || fail "$p --bogus: no message naming it"
done
echo "demos: all passed"
