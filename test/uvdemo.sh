#!/bin/sh
# demos/uvrecv, the receiver in a libuv event loop, end to end: it waits on
# the mailbox's descriptors next to a timer, takes messages and answers
# calls as they come, sleeps while nothing does, and ends on a signal or
# when the mailbox is removed.  Skipped (77) when configure found no libuv.
set -u
top=.  # the build directory: make check runs tests from there
[ -x "$top/demos/uvrecv" ] || { echo "uvdemo: demos/uvrecv not built (no libuv): skipped"; exit 77; }
dir=$(mktemp -d "${TMPDIR:-/tmp}/shmbox-uvdemo.XXXXXX")
key="$dir/key"
cleanup() {
	[ -n "${rpid:-}" ] && kill -9 "$rpid" 2>/dev/null
	[ -e "$key" ] && "$top/shmbox" rm "$key" >/dev/null 2>&1
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM
fail() { echo "FAIL: $*"; cat "$dir/out" 2>/dev/null; exit 1; }
# await PATTERN WHAT: until the receiver's output has a line matching
# PATTERN (grep -E), 20 s at most
await() {
	i=0
	until grep -Eq "$1" "$dir/out"; do
		i=$((i + 1)); [ $i -lt 2000 ] || fail "$2"; sleep 0.01
	done
}
# reap WHAT: wait for the receiver to end, 20 s at most; its exit status
reap() {
	i=0
	while st=$(cut -d' ' -f3 "/proc/$rpid/stat" 2>/dev/null) && [ "$st" != Z ]; do
		i=$((i + 1))
		[ $i -lt 2000 ] || { kill -9 "$rpid"; fail "$1: still running after 20 s"; }
		sleep 0.01
	done
	wait "$rpid"; st=$?
	rpid=
	return $st
}
# cpu_ticks: the receiver's user + system time so far, in clock ticks
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$rpid/stat"; }
# start ARGS: run the receiver in the background; its output starts empty
# before this returns, so that await never reads a previous run's lines
start() { : >"$dir/out"; "$top/demos/uvrecv" "$@" >>"$dir/out" 2>&1 & rpid=$!; }

# 1. While the mailbox is empty the loop runs its timer, and sleeps between
# beats: a descriptor that stayed readable would spin it at full speed
# (the 100 beats take a second at least; the bound is a tenth of that).
start -f "$key" -t 10
await 'waiting for messages' "uvrecv did not start"
await '^heartbeat: 0 messages so far' "no heartbeat while the mailbox is empty"
before=$(cpu_ticks)
i=0
until [ "$(grep -c '^heartbeat' "$dir/out")" -ge 100 ]; do
	i=$((i + 1)); [ $i -lt 2000 ] || fail "fewer than 100 heartbeats in 20 s"; sleep 0.01
done
used=$(( $(cpu_ticks) - before ))
hz=$(getconf CLK_TCK)
[ "$used" -le $((hz / 10)) ] || fail "uvrecv used $used ticks (of $hz a second) waiting on an empty mailbox"

# 2. Messages and a call, each as it comes; the reply counts the messages.
"$top/demos/sender" -f "$key" hello "shared memory" "" >/dev/null || fail "sender failed"
await '^received 0 bytes: $' "the three messages did not all arrive"
grep -qx 'received 5 bytes: hello' "$dir/out" || fail "no hello"
grep -qx 'received 13 bytes: shared memory' "$dir/out" || fail "no second message"
reply=$(timeout 20 "$top/shmbox" call "$key" "how many") || fail "the call failed"
[ "$reply" = 3 ] || fail "the call's reply was '$reply', not 3"
grep -qx 'call "how many": answered 3' "$dir/out" || fail "the call was not printed"
"$top/demos/sender" -f "$key" later >/dev/null || fail "sender after the call failed"
await '^received 5 bytes: later$' "a message after the call did not arrive"

# 3. One SIGINT ends it (the loop sees the signal as an event, so none is
# lost), and it removes the mailbox it created.
kill -INT "$rpid"
reap "uvrecv after SIGINT" || fail "uvrecv exited $? on SIGINT"
grep -q "removed mailbox $key" "$dir/out" || fail "no clean-up on SIGINT"
"$top/shmbox" info "$key" >/dev/null 2>&1 && fail "the mailbox outlived its creator's SIGINT"

# 4. Messages already queued when it starts are taken at once (a new
# descriptor starts readable); -c ends it, and it leaves a mailbox it only
# opened.
"$top/shmbox" create -n 4 -s 64 "$key" || fail "create"
"$top/shmbox" send "$key" first second || fail "send before the start"
start -f "$key" -c 2 -t 3600000
reap "uvrecv -c 2" || fail "uvrecv -c 2 exited $?"
grep -qx 'received 5 bytes: first' "$dir/out" || fail "the first queued message was not taken"
grep -qx 'received 6 bytes: second' "$dir/out" || fail "the second queued message was not taken"
grep -q 'opened mailbox' "$dir/out" || fail "uvrecv did not say it opened the mailbox"
"$top/shmbox" info "$key" >/dev/null || fail "uvrecv removed a mailbox it did not create"

# 5. Removed by another process while it waits: the descriptor turns
# readable, the get fails with EIDRM, and it says so.
start -f "$key" -t 3600000
await 'waiting for messages' "uvrecv did not start on the existing mailbox"
"$top/shmbox" rm "$key" || fail "rm"
reap "uvrecv after rm"; st=$?
[ "$st" -eq 1 ] || fail "uvrecv exited $st, not 1, when its mailbox was removed"
grep -q 'Mailbox was removed' "$dir/out" || fail "uvrecv did not say its mailbox was removed"

# 6. SIGTERM ends it as SIGINT does.
start -f "$key" -t 3600000
await 'waiting for messages' "uvrecv did not start for SIGTERM"
kill -TERM "$rpid"
reap "uvrecv after SIGTERM" || fail "uvrecv exited $? on SIGTERM"
grep -q 'removed mailbox' "$dir/out" || fail "no clean-up on SIGTERM"

# 7. --help on standard output, status 0; a bad option: status 2, named on
# standard error.
"$top/demos/uvrecv" --help >"$dir/out" 2>/dev/null || fail "--help exited $?"
grep -q '^usage: .*uvrecv ' "$dir/out" || fail "--help printed no usage on stdout"
"$top/demos/uvrecv" --bogus >"$dir/out" 2>"$dir/err"; st=$?
[ "$st" -eq 2 ] || fail "--bogus exited $st, not 2"
grep -q -- 'uvrecv: --bogus: no such option' "$dir/err" || fail "--bogus: no message naming it"
echo "uvdemo: all passed"
