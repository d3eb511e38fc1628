# Sourced by the test/bridge-*.sh tests (not a test itself): two "hosts"
# on one machine, and the bridges and programs that run on them.
#
# A host is a System V IPC namespace of its own (unshare -i), kept alive by
# a holder process; commands run in it with nsenter.  The hosts share the
# file system and the network, so the same key file names a different
# mailbox on each, and the bridges meet over loopback TCP.  Nothing of ours
# is ever made in this shell's own namespace, and killing a host's holder
# and every process we started in it frees all its mailboxes: ipcs stays
# clean, also when a test fails.
#
# Waits are for events (a line in a log, a count, a process's end), each
# with a deadline; never a sleep that hopes.  Each test prints a line per
# thing it checked, with the time since it started; SHMBOX_TEST_KEEP=1
# keeps its directory (the bridges' logs) for a look afterwards.
#
# The helpers keep their own variables with "local" (dash, bash, busybox
# sh all have it), so that a test's loop counters survive them.
#
# Exit status 77 is SKIP to automake and also EX_NOPERM: these tests
# compare the command's statuses and never pass one through.
set -u

if [ -x ./shmbox ]; then
	shmbox=$(pwd)/shmbox # automake runs tests from the top build directory
else
	shmbox=$(cd "$(dirname "$0")/.." && pwd)/shmbox
fi
testdir=$(cd "$(dirname "$0")" && pwd) # tcpcut.py and bridge-garbage.py

# sysexits(3)
EX_USAGE=64 EX_DATAERR=65 EX_UNAVAILABLE=69 EX_TEMPFAIL=75

skip() {
	echo "SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip "two hosts are two System V IPC namespaces (unshare -i): needs root"
for c in unshare nsenter; do
	command -v "$c" >/dev/null 2>&1 || skip "no $c (util-linux): cannot make two hosts"
done
[ -r /proc/sysvipc/shm ] || skip "no System V IPC"
if ! "$shmbox" bridge --help >/dev/null 2>&1; then
	"$shmbox" bridge --help 2>&1 | grep -q -e "built without ZeroMQ" -e "no such command" &&
		skip "this shmbox has no bridge: built without ZeroMQ (libzmq3-dev)"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/shmbox-bridge.XXXXXX") || exit 1
box="$dir/box" # the key file: the same path on every host
proj=1 # the project number the helpers below use (-p)
pids= # every process we started, killed at the end
hosts= # the holders

# alive PID: PID runs (a zombie does not)
alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && [ "$(sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

cleanup() {
	local p h k f leak
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	for h in $hosts; do kill -9 "$h" 2>/dev/null; done
	wait 2>/dev/null
	leak=
	if command -v ipcs >/dev/null 2>&1 && [ -e "$box" ]; then
		set -- $(stat -c '%d %i' "$box")
		for p in 1 2 3; do
			k=$(printf '0x%08x' $((((p & 255) << 24) | (($1 & 255) << 16) | ($2 & 65535))))
			for f in "/run/shmbox-bridge-listen-$k.pid" "/run/shmbox-bridge-connect-$k.pid"; do
				# a pid file of ours (-d) that a dead daemon left
				[ -e "$f" ] && ! alive "$(cat "$f")" && rm -f "$f"
			done
			ipcs -m -s | grep -qi "^$k " || continue
			leak="$leak $k"
			ipcrm -M "$k" 2>/dev/null
			ipcrm -S "$k" 2>/dev/null
		done
	fi
	if [ -n "${SHMBOX_TEST_KEEP:-}" ]; then
		echo "logs kept in $dir"
	else
		rm -rf "$dir"
	fi
	if [ -n "$leak" ]; then
		echo "FAIL: in this shell's own IPC namespace, our key file's keys:$leak"
		exit 1
	fi
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

# Every log of the test, and what went wrong; libzmq's known abort on a
# failing connection (libzmq issue 4841) is named, never hidden.
fail() {
	echo "FAIL: $*"
	for f in "$dir"/*.log "$dir"/out "$dir"/err; do
		[ -s "$f" ] || continue
		echo "--- ${f##*/} (last 25 lines)"
		tail -n 25 "$f"
	done
	if grep -l "Assertion failed" "$dir"/*.log 2>/dev/null; then
		echo "NOTE: an assertion in libzmq above (libzmq issue 4841 if it is !_io_error):" \
			"a bridge aborted"
	fi
	exit 1
}

# ms: milliseconds, for elapsed times
ms() { date +%s%3N; }
started=$(ms)

# ok WHAT: one line for the test's log, per thing checked, with the time
# since the test started
ok() { echo "ok: $* [$(($(ms) - started)) ms]"; }

# A new host: its holder's pid in $host.  The holder outlives no test by
# long, even if this shell is killed before its trap runs.
new_host() {
	local i ns
	unshare -i sleep 600 </dev/null >/dev/null 2>"$dir/unshare.err" &
	host=$!
	hosts="$hosts $host"
	i=0
	until ns=$(readlink "/proc/$host/ns/ipc" 2>/dev/null) && [ -n "$ns" ] &&
		[ "$ns" != "$(readlink /proc/$$/ns/ipc)" ]; do
		alive "$host" || skip "unshare -i cannot make an IPC namespace: $(cat "$dir/unshare.err")"
		i=$((i + 1))
		[ $i -lt 500 ] || fail "unshare -i: no new IPC namespace after 5 s"
		sleep 0.01
	done
	nsenter -t "$host" -i true 2>"$dir/nsenter.err" ||
		skip "nsenter cannot enter an IPC namespace: $(cat "$dir/nsenter.err")"
}

# on HOST CMD...: run CMD on HOST, in the foreground
on() {
	local h=$1
	shift
	nsenter -t "$h" -i "$@"
}
# spawn HOST CMD... &: run CMD on HOST in the background, so that $! is
# CMD's own pid (nsenter and the libtool wrapper exec; the subshell does too)
spawn() {
	local h=$1
	shift
	exec nsenter -t "$h" -i "$@"
}

# run CMD...: its status in $st, its output in $dir/out and $dir/err
run() {
	"$@" >"$dir/out" 2>"$dir/err"
	st=$?
}
status() { [ "$st" -eq "$1" ] || fail "$2: status $st, expected $1"; }
err_has() { grep -q -- "$1" "$dir/err" || fail "$2: no '$1' on stderr"; }

# await FILE PATTERN SECONDS WHAT [PID]: until a line of FILE matches
# (grep -e), or PID (the process that should write it) is gone
await() {
	local i=0 n
	n=$(($3 * 100))
	until grep -q -e "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt "$n" ] || fail "$4: waited $3 s in vain for '$2' in ${1##*/}"
		[ $# -lt 5 ] || alive "$5" || {
			wait "$5"
			fail "$4: ended with status $? before '$2' came in ${1##*/}"
		}
		sleep 0.01
	done
}
# await_text FILE TEXT SECONDS WHAT: until a line of FILE holds TEXT (grep -F)
await_text() {
	local i=0 n
	n=$(($3 * 100))
	until grep -qF -e "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt "$n" ] || fail "$4: waited $3 s in vain for '$2' in ${1##*/}"
		sleep 0.01
	done
}
# await_file FILE SECONDS WHAT: until FILE exists
await_file() {
	local i=0 n
	n=$(($2 * 100))
	until [ -e "$1" ]; do
		i=$((i + 1))
		[ $i -lt "$n" ] || fail "$3: waited $2 s in vain for ${1##*/}"
		sleep 0.01
	done
}
# await_count FILE PATTERN COUNT SECONDS WHAT: until COUNT lines match
await_count() {
	local i=0 n
	n=$(($4 * 100))
	until [ "$(grep -c -e "$2" "$1" 2>/dev/null)" -ge "$3" ]; do
		i=$((i + 1))
		[ $i -lt "$n" ] || fail "$5: waited $4 s in vain for $3 lines '$2' in ${1##*/}" \
			"($(grep -c -e "$2" "$1" 2>/dev/null) came)"
		sleep 0.01
	done
}
# lines FILE: how many lines FILE has (0 if it is not there yet)
lines() {
	if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi
}
# await_lines FILE N SECONDS WHAT: until FILE has at least N lines
await_lines() {
	local i=0 n
	n=$(($3 * 100))
	until [ "$(lines "$1")" -ge "$2" ]; do
		i=$((i + 1))
		[ $i -lt "$n" ] || fail "$4: waited $3 s in vain for $2 lines in ${1##*/}" \
			"($(lines "$1") came)"
		sleep 0.01
	done
}
# await_exit PID SECONDS WHAT: until PID (a child of ours) ends; its status in $st
await_exit() {
	local i=0 n
	n=$(($2 * 100))
	while alive "$1"; do
		i=$((i + 1))
		[ $i -lt "$n" ] || fail "$3: still running after $2 s"
		sleep 0.01
	done
	wait "$1"
	st=$?
}
# await_field HOST FIELD VALUE SECONDS WHAT: until the mailbox's info --json
# on HOST has FIELD (a number) equal to VALUE
field() {
	on "$1" "$shmbox" info --json -p "$proj" "$box" | sed -n "s/.*\"$2\":\([0-9]*\)[,}].*/\1/p"
}
await_field() {
	local i=0 n
	n=$(($4 * 20))
	until [ "$(field "$1" "$2")" = "$3" ]; do
		i=$((i + 1))
		[ $i -lt "$n" ] || fail "$5: $2 is $(field "$1" "$2") after $4 s, not $3"
		sleep 0.05
	done
}

# still_alive PID NAME: the bridge did not die (of an abort, say)
still_alive() {
	alive "$1" || fail "$2 (pid $1) died"
}

# listen HOST NAME [OPTION...]: a listening bridge on HOST for $box, on
# ${endpoint:-tcp://127.0.0.1:*}; its log is $dir/NAME.log, its pid in
# $pid, the port it listens on in $port
listen() {
	local h=$1 name=$2
	shift 2
	spawn "$h" "$shmbox" bridge --listen "${endpoint:-tcp://127.0.0.1:*}" -p "$proj" "$@" \
		"$box" 2>"$dir/$name.log" &
	pid=$!
	pids="$pids $pid"
	await "$dir/$name.log" "^shmbox bridge: listening on " 10 "$name" "$pid"
	port=$(sed -n 's/^shmbox bridge: listening on tcp:\/\/[^:]*:\([0-9]*\)$/\1/p' \
		"$dir/$name.log" | tail -n 1)
}

# connect HOST NAME PORT [OPTION...]: a connecting bridge on HOST for $box
# to 127.0.0.1:PORT; its log is $dir/NAME.log, its pid in $pid.  It is not
# waited for: await_connected NAME is.
connect() {
	local h=$1 name=$2 p=$3
	shift 3
	spawn "$h" "$shmbox" bridge --connect "tcp://127.0.0.1:$p" -p "$proj" "$@" "$box" \
		2>"$dir/$name.log" &
	pid=$!
	pids="$pids $pid"
}
# await_connected NAME [N]: until the connector's log says its link came up
# N times (1)
await_connected() {
	await_count "$dir/$1.log" "^shmbox bridge: connected to " "${2:-1}" 10 "$1"
}

# stats PID NAME: ask a bridge for its stats line (SIGUSR1), wait for it,
# and set $messages $calls $resent $repeats $refused $failed from it (and
# $malformed, empty if the line has no such count)
stats() {
	local before line f v
	before=$(grep -c "^shmbox bridge: stats: " "$dir/$2.log")
	kill -USR1 "$1"
	await_count "$dir/$2.log" "^shmbox bridge: stats: " $((before + 1)) 5 "$2's stats on SIGUSR1"
	line=$(grep "^shmbox bridge: stats: " "$dir/$2.log" | tail -n 1)
	for f in messages calls resent repeats refused failed; do
		v=$(printf '%s\n' "$line" | sed -n "s/.*[:,] $f \([0-9][0-9]*\)\(,.*\)\{0,1\}$/\1/p")
		[ -n "$v" ] || fail "$2's stats line has no '$f N': $line"
		eval "$f=\$v"
	done
	# more than the contract's six: what was dropped as malformed, if said
	malformed=$(printf '%s\n' "$line" | sed -n 's/.*[:,] malformed \([0-9][0-9]*\).*/\1/p')
}

# stop PID NAME: SIGTERM, and it must end with status 0 within 10 s
stop() {
	kill -TERM "$1"
	await_exit "$1" 10 "$2 after SIGTERM"
	[ "$st" -eq 0 ] || fail "$2: status $st after SIGTERM, expected 0"
}

# check_seq FILE FIRST LAST WHAT: FILE holds exactly FIRST..LAST, in order
check_seq() {
	seq "$2" "$3" | cmp -s - "$1" && return 0
	fail "$4: not $2..$3 in order: $(count_seq "$1" "$2" "$3")"
}
# count_seq FILE FIRST LAST: what FILE holds of FIRST..LAST, in words:
# sets $missing, $dups, $strays, $backs (times a number is not above the
# one before it)
count_seq() {
	awk -v lo="$2" -v hi="$3" '
		{ if ($0 !~ /^[0-9]+$/ || $0 < lo || $0 > hi) stray++; else if (seen[$0]++) dup++
		  if (NR > 1 && $0 + 0 <= prev) back++; prev = $0 + 0 }
		END { for (i = lo; i <= hi; i++) if (!(i in seen)) miss++
		      printf "%d missing, %d duplicated, %d strays, %d out of order\n",
			miss, dup, stray, back }' "$1"
}
# tally FILE FIRST LAST: set $missing $dups $strays $backs for FILE
tally() {
	set -- $(count_seq "$1" "$2" "$3")
	missing=$1 dups=$3 strays=$5 backs=$7
}
