#!/bin/sh
# kvd and kvctl end to end: set, get and del with their exit statuses,
# concurrent clients, a second kvd refused, a killed worker replaced, and
# SIGTERM stopping the daemon cleanly (exit 0, pid file and IPC objects
# gone); then daemon mode, and a kvd killed with SIGKILL, whose mailbox the
# next kvd removes.  Whatever happens, nothing is left running or in ipcs.
set -u
# The programs are in the build tree, where make check runs this from.
top=.
[ -x "$top/demos/kvd" ] || top=$(dirname "$0")/..
top=$(cd "$top" && pwd)
. "$(dirname "$0")/asleep.sh" # stays_asleep: waits without slices
kvd="$top/demos/kvd"
kvctl="$top/demos/kvctl"
# libtool's wrapper script costs a shell and more each run, and this test
# runs kvctl hundreds of times: run the program itself, with the library.
if [ -x "$top/demos/.libs/kvctl" ]; then
	kvctl="$top/demos/.libs/kvctl"
	LD_LIBRARY_PATH="$top/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	export LD_LIBRARY_PATH
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/shmbox-kv.XXXXXX")
key="$dir/key"
pidf="$dir/pid"
: >"$key"
other="$dir/other-key" # a receiver's mailbox, which kvd must leave alone
: >"$other"
# A mailbox's IPC key, ftok(file, 1): 1 << 24 | (dev & 0xff) << 16 | (ino & 0xffff)
ipckey_of() {
	printf '0x%08x' $(((1 << 24) | (($(stat -c %d "$1") & 0xff) << 16) |
		($(stat -c %i "$1") & 0xffff)))
}
ipckey=$(ipckey_of "$key")
otherkey=$(ipckey_of "$other")

cleanup() {
	# Workers get SIGTERM when their daemon dies (PR_SET_PDEATHSIG).  The
	# pid file may name a kvd killed earlier: check before killing.
	for p in ${kpid:-} $(cat "$pidf" 2>/dev/null); do
		grep -q kvd "/proc/$p/cmdline" 2>/dev/null && kill -9 "$p"
	done
	[ -n "${rpid:-}" ] && kill -9 "$rpid" 2>/dev/null
	for k in "$ipckey" "$otherkey"; do
		ipcrm -M "$k" 2>/dev/null
		ipcrm -S "$k" 2>/dev/null
	done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
	echo "FAIL: $*"
	echo "--- kvd's log:"
	cat "$dir/log" 2>/dev/null
	exit 1
}

# expect STATUS COMMAND...: run it (output in $dir/out, errors in $dir/err).
expect() {
	want=$1
	shift
	"$@" >"$dir/out" 2>"$dir/err"
	got=$?
	[ "$got" -eq "$want" ] || fail "$* exited $got, not $want: $(cat "$dir/err")"
}
kv() { "$kvctl" -k "$key" "$@"; }

# Until CONDITION holds, for 10 s at most.
within_10s() {
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -lt 1000 ] || return 1
		sleep 0.01
	done
}
answers() { kv get no-such-key >/dev/null 2>&1; [ $? -eq 1 ]; }
# A process that has exited is a zombie until its parent reaps it.
exited() {
	[ ! -e "/proc/$1" ] || [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
no_ipc() { ! ipcs -m -s | grep -qi "^$ipckey "; }
logged() { grep -q "$1" "$dir/log"; }

# 1. A foreground kvd starts, answers, and writes its pid file.
"$kvd" -f -k "$key" -p "$pidf" -w 4 2>"$dir/log" &
kpid=$!
within_10s answers || fail "kvd does not answer"
[ "$(cat "$pidf")" = "$kpid" ] || fail "pid file has '$(cat "$pidf")', not $kpid"
# Each idle worker sleeps in one ppoll over its accept descriptor with
# SIGTERM let in, and nothing wakes it (no accept cut into slices).
workers=$(sed -n 's/.*worker [0-9]* started (pid \([0-9]*\)).*/\1/p' "$dir/log")
[ "$(echo $workers | wc -w)" -eq 4 ] || fail "not four workers in the log"
stays_asleep "idle workers" $workers

# 2. set, get, del, and what their exit statuses say.
expect 1 kv get greeting
[ -s "$dir/out" ] && fail "get of a missing key printed something"
expect 0 kv set greeting "hello, world"
expect 0 kv get greeting
[ "$(cat "$dir/out")" = "hello, world" ] || fail "get printed '$(cat "$dir/out")'"
expect 0 kv set greeting -x
expect 0 kv get greeting
[ "$(cat "$dir/out")" = "-x" ] || fail "overwrite: get printed '$(cat "$dir/out")'"
expect 0 kv set empty ""
expect 0 kv get empty
[ "$(cat "$dir/out")" = "" ] || fail "empty value: get printed '$(cat "$dir/out")'"
expect 0 kv del greeting
expect 1 kv get greeting
expect 1 kv del greeting
expect 2 kv get
expect 2 kv frob greeting
expect 2 kv set "two words" v
expect 2 kv set big "$(printf '%0600d' 0)"
expect 2 "$kvctl" -t 0 get greeting
kv get greeting && fail "'kvctl get k && ...' ran for a missing key"

# 3. Four clients at once, 50 sets and gets each, each reading its own writes.
for c in 1 2 3 4; do
	(
		j=0
		while [ $j -lt 50 ]; do
			j=$((j + 1))
			kv set "c$c.$j" "value $c.$j" || exit 1
			[ "$(kv get "c$c.$j")" = "value $c.$j" ] || exit 2
			kv set shared "$c" || exit 3
		done
	) &
	eval "client$c=\$!"
done
for c in 1 2 3 4; do
	eval "wait \$client$c" || fail "client $c failed (status $?)"
done
expect 0 kv get c3.50
[ "$(cat "$dir/out")" = "value 3.50" ] || fail "c3.50 is '$(cat "$dir/out")'"
expect 0 kv get shared
grep -qx '[1-4]' "$dir/out" || fail "shared is '$(cat "$dir/out")'"

# 4. A second kvd is refused: on the same pid file, or on the same key file.
expect 1 "$kvd" -f -k "$key" -p "$pidf"
grep -q "already running (pid $kpid" "$dir/err" || fail "unclear refusal: $(cat "$dir/err")"
expect 1 "$kvd" -f -k "$key" -p "$dir/other.pid"
grep -q "another kvd serves $key" "$dir/err" || fail "unclear refusal: $(cat "$dir/err")"
expect 0 kv get c1.1

# ... and kvd does not take a mailbox it did not make for its own.
"$top/demos/receiver" -f "$other" -c 1 >"$dir/receiver" 2>&1 &
rpid=$!
within_10s grep -q 'waiting for messages' "$dir/receiver" || fail "receiver did not start"
expect 1 "$kvd" -f -k "$other" -p "$dir/other.pid"
grep -q "is not kvd's" "$dir/err" || fail "unclear refusal: $(cat "$dir/err")"
"$top/demos/sender" -f "$other" bye >/dev/null || fail "receiver's mailbox is gone"
wait "$rpid" || fail "receiver exited $?"
rpid=

# 5. A worker killed with SIGKILL is replaced; the data is still there.
worker=$(sed -n 's/.*worker 2 started (pid \([0-9]*\)).*/\1/p' "$dir/log")
[ -n "$worker" ] || fail "no worker 2 in the log"
kill -9 "$worker"
within_10s logged "worker 2 (pid $worker) killed by signal 9" || fail "killed worker not noticed"
five_started() { [ "$(grep -c 'worker [0-3] started (pid' "$dir/log")" -eq 5 ]; }
within_10s five_started || fail "worker 2 not started again"
expect 0 kv get c4.7
[ "$(cat "$dir/out")" = "value 4.7" ] || fail "after restart c4.7 is '$(cat "$dir/out")'"

# 6. SIGTERM: exit 0, soon, with the pid file and the mailbox gone.
kill -TERM "$kpid"
within_10s exited "$kpid" || fail "kvd still running 10 s after SIGTERM"
wait "$kpid" || fail "kvd exited $? after SIGTERM"
kpid=
logged "SIGTERM: stopping" || fail "no stop in the log"
[ -e "$pidf" ] && fail "pid file left behind"
no_ipc || fail "IPC objects left with key $ipckey: $(ipcs -m -s | grep -i "$ipckey")"
expect 2 kv get c1.1
grep -q "no kvd running on $key (start kvd)" "$dir/err" || fail "unclear: $(cat "$dir/err")"

# 7. Daemon mode: kvd returns at once and the daemon serves until SIGTERM.
expect 0 "$kvd" -k "$key" -p "$pidf" -w 2
within_10s test -s "$pidf" || fail "daemon wrote no pid file"
dpid=$(cat "$pidf")
expect 0 kv set mode daemon
expect 0 kv get mode
[ "$(cat "$dir/out")" = daemon ] || fail "daemon: get printed '$(cat "$dir/out")'"
kill -TERM "$dpid"
within_10s exited "$dpid" || fail "daemon still running 10 s after SIGTERM"
within_10s no_ipc || fail "daemon left IPC objects with key $ipckey"
[ -e "$pidf" ] && fail "daemon left its pid file"

# 8. A daemon killed with SIGKILL leaves its mailbox; kvctl says there is no
# kvd, and the next kvd removes the mailbox and serves (and stops on SIGINT).
expect 0 "$kvd" -k "$key" -p "$pidf" -w 2
within_10s test -s "$pidf" || fail "daemon wrote no pid file"
expect 0 kv set before kill
kill -9 "$(cat "$pidf")"
no_kvd() { kv -t 100 get before >/dev/null 2>"$dir/err"; grep -q "no kvd running" "$dir/err"; }
within_10s no_kvd || fail "after SIGKILL: $(cat "$dir/err")"
"$kvd" -f -k "$key" -p "$pidf" -w 1 2>"$dir/log" &
kpid=$!
within_10s answers || fail "kvd does not answer after a killed one"
logged "removing the mailbox left by a kvd that was killed" || fail "stale mailbox not reported"
expect 1 kv get before
kill -INT "$kpid"
within_10s exited "$kpid" || fail "kvd still running 10 s after SIGINT"
wait "$kpid" || fail "kvd exited $? after SIGINT"
kpid=
no_ipc || fail "IPC objects left with key $ipckey"
echo "kv: all passed"
