#!/bin/sh
# The shmbox command end to end: create, send, recv, info (--json), ls,
# watch --once and live, call and serve, rm; bad numbers, missing
# mailboxes, timeouts and kernel limits, each with its sysexits(3) status;
# JSON for names that are not UTF-8; broken leftovers and rm -f; who
# listens on a descriptor, for what, armed or not (info, --json, watch).
#
# Exit status 77 means SKIP to automake and is also EX_NOPERM: this script
# compares the command's statuses and never passes one through.  It exits
# 0 (pass), 1 (fail) or 77 (skip: no System V IPC here).
set -u

if [ -x ./shmbox ]; then
	shmbox=./shmbox # automake runs tests from the top build directory
else
	shmbox=$(dirname "$0")/../shmbox
fi
[ -r /proc/sysvipc/shm ] || { echo "SKIP: no System V IPC"; exit 77; }
. "$(dirname "$0")/asleep.sh" # await_asleep, stays_asleep: waits without slices

dir=$(mktemp -d "${TMPDIR:-/tmp}/shmbox-cli.XXXXXX") || exit 1
a="$dir/a" # made by create
b="$dir/b" # a key file without a mailbox
left="$dir/left" # broken leftovers
nonutf="$dir/$(printf 'k\377\303')" # a name that is not UTF-8
marked="$dir/marked" probe="$dir/probe" # a leftover marked removed, and the probe that finds the mark
full="$dir/full" # a mailbox kept full
pids=

# The key ftok gives: project, then the low bytes of device and inode.
ipckey() {
	set -- $(stat -c '%d %i' "$1") "$2"
	printf '0x%08x' $(((($3 & 255) << 24) | (($1 & 255) << 16) | ($2 & 65535)))
}

# Whatever happens, kill what we started and leave nothing in ipcs.
cleanup() {
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	for f in "$a" "$b" "$left" "$nonutf" "$marked" "$probe" "$full"; do
		[ -e "$f" ] || continue
		for proj in 1 2; do
			k=$(ipckey "$f" "$proj")
			ipcrm -M "$k" 2>/dev/null
			ipcrm -S "$k" 2>/dev/null
		done
	done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

fail() {
	echo "FAIL: $*"
	echo "--- stdout"; cat "$dir/out" 2>/dev/null
	echo "--- stderr"; cat "$dir/err" 2>/dev/null
	exit 1
}

# run CMD...: its status in $st, its output in $dir/out and $dir/err
run() {
	"$@" >"$dir/out" 2>"$dir/err"
	st=$?
}
status() { [ "$st" -eq "$1" ] || fail "$2: status $st, expected $1"; }
out_has() { grep -q -- "$1" "$dir/out" || fail "$2: no '$1' on stdout"; }
err_has() { grep -q -- "$1" "$dir/err" || fail "$2: no '$1' on stderr"; }
out_is() { printf '%s\n' "$1" | cmp -s - "$dir/out" || fail "$2: stdout is not '$1'"; }

# $dir/out is JSON, and valid UTF-8 (python3 -m json.tool alone would let
# bad bytes through: its standard input may decode with surrogateescape)
json_ok() {
	command -v python3 >/dev/null 2>&1 || return 0
	PYTHONIOENCODING=utf-8:strict python3 -m json.tool <"$dir/out" >/dev/null ||
		fail "$1: not JSON, or not UTF-8"
}
# py CODE ARG...: a python3 check of $dir/out's JSON (as j); skipped without python3
py() {
	command -v python3 >/dev/null 2>&1 || return 0
	code=$1; shift
	python3 -c "import json, os, sys
j = json.load(open(sys.argv[1], encoding='utf-8'))
$code" "$dir/out" "$@"
}

# Wait for a file to contain a pattern (at most 5 s).
await() {
	i=0
	until grep -q -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 500 ] || fail "waited in vain for '$2' in $1"
		sleep 0.01
	done
}

# sysexits(3)
EX_USAGE=64 EX_DATAERR=65 EX_NOINPUT=66 EX_UNAVAILABLE=69 EX_OSERR=71 EX_OSFILE=72
EX_CANTCREAT=73 EX_TEMPFAIL=75 EX_NOPERM=77

# member NAME of the one JSON object in $dir/out, if it is a number
member() { sed -n "s/.*\"$1\":\([0-9]*\)[,}].*/\1/p" "$dir/out"; }
# nothing of key $1 left in ipcs
gone() {
	command -v ipcs >/dev/null 2>&1 || return 0
	! ipcs -m -s | grep -qi "^$1 " || fail "$2: $1 is still in ipcs"
}

# --help and --version, on the command and each subcommand
run "$shmbox" --help; status 0 "--help"; out_has "usage:" "--help"
run "$shmbox" --version; status 0 "--version"; out_has "shmbox " "--version"
for c in create rm send recv call serve info ls watch; do
	run "$shmbox" "$c" --help; status 0 "$c --help"; out_has "usage: .*$c" "$c --help"
	run "$shmbox" "$c" --version; status 0 "$c --version"
done
run "$shmbox" create --help; out_has "slots (default 16)" "create --help names the defaults"
run "$shmbox"; status $EX_USAGE "no subcommand"
run "$shmbox" frobnicate; status $EX_USAGE "unknown subcommand"
err_has "frobnicate: no such command" "unknown subcommand"
run "$shmbox" info; status $EX_USAGE "info without a path"

# create makes the key file; a second create finds the mailbox there
run "$shmbox" create -n 4 -s 64 "$a"; status 0 "create"
[ -e "$a" ] || fail "create made no key file"
run "$shmbox" create "$a"; status $EX_CANTCREAT "create again"
err_has "create $a: Mailbox already exists" "create again"

# bad numbers are usage errors that name the option
for args in "create -n abc $b" "create -n 0 $b" "create -s 99999999999 $b" \
	"recv -t soon $a" "recv -c 0 $a" "watch -i 1 $a" "info -p 0 $a" "create -p 256 $b"; do
	set -- $args
	run "$shmbox" "$@"; status $EX_USAGE "$args"
	err_has "$1: $2 $3: " "$args"
done
run "$shmbox" create -m 888 "$b"; status $EX_USAGE "create -m 888"; err_has "create: -m 888: " "-m 888"
run "$shmbox" recv -r -c 2 "$a"; status $EX_USAGE "recv -r -c 2"
# numbers fine one by one but too large together; the key file it made goes again
run "$shmbox" create -n 4294967295 -s 4294967295 "$dir/big"; status $EX_USAGE "create too large"
err_has "more than one segment can hold" "create too large"
[ ! -e "$dir/big" ] || fail "a failed create left the key file it made"

# send and recv: arguments, an empty message, lines, NUL-ended, raw bytes
run "$shmbox" send "$a" hello "shared memory" ""; status 0 "send"
run "$shmbox" info "$a"; status 0 "info"
out_has "3 queued, 1 free" "info"; out_has "4 slots of 64B" "info"
run "$shmbox" info --json "$a"; status 0 "info --json"
out_has '"queued":3' "info --json"; out_has '"slots":4' "info --json"
out_has '"slot_size":64' "info --json"; out_has '"mode":"0600"' "info --json"
json_ok "info --json"
py 'assert j["path"] == sys.argv[2] and "path_hex" not in j and j["broken"] is None' "$a" ||
	fail "info --json: path, or a path_hex for a UTF-8 path, or broken"
py 'assert j["attached"] == 0 and j["processes"] == [] and j["listeners"] == []' ||
	fail "info --json: processes, listeners"
key=$(sed 's/.*"key":"\(0x[0-9a-f]*\)".*/\1/' "$dir/out")
[ "$key" = "$(ipckey "$a" 1)" ] || fail "info --json: key $key, ftok says $(ipckey "$a" 1)"

run "$shmbox" ls; status 0 "ls"
grep -q "^$key .* 3/4 " "$dir/out" || fail "ls: no line for $key with fill 3/4"
run "$shmbox" ls --json; status 0 "ls --json"; out_has "\"key\":\"$key\"" "ls --json"
json_ok "ls --json"
# ls's objects are info's, without path, processes and listeners
cp "$dir/out" "$dir/ls.json"
run "$shmbox" info --json "$a"; status 0 "info --json again"
py 'l = [o for o in json.load(open(sys.argv[2])) if o["key"] == j["key"]]
del j["path"], j["processes"], j["listeners"]
assert len(l) == 1 and sorted(l[0]) == sorted(j), (sorted(l[0]), sorted(j))' "$dir/ls.json" ||
	fail "ls --json: not the members of info --json"

# JSON for a key file and a process whose names are not UTF-8: each bad
# byte is U+FFFD, and NAME_hex has the exact bytes
run "$shmbox" create -n 2 -s 16 "$nonutf"; status 0 "create, a name not UTF-8"
run "$shmbox" info --json "$nonutf"; status 0 "info --json, a name not UTF-8"
json_ok "info --json, a key file not UTF-8"
py 'assert bytes.fromhex(j["path_hex"]) == os.fsencode(sys.argv[2]), j
assert j["path"].endswith("/k\ufffd\ufffd"), j["path"]' "$nonutf" ||
	fail "info --json: path and path_hex of a name not UTF-8"
run "$shmbox" ls --json; status 0 "ls --json, a name not UTF-8"; json_ok "ls --json, a name not UTF-8"
# the command name is the name of the file run: the program itself, not
# libtool's wrapper script, under a name that is not UTF-8
bin=$(dirname "$shmbox")/.libs/shmbox
[ -x "$bin" ] || bin=$shmbox
if head -c 4 "$bin" | grep -q ELF; then
	ln -s "$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")" "$dir/$(printf '\377\376')"
	LD_LIBRARY_PATH="$(dirname "$shmbox")/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
		"$dir/$(printf '\377\376')" recv -c 1 -t 20000 "$nonutf" >/dev/null 2>&1 &
	rpid=$!; pids="$pids $rpid"
	await_asleep "recv under a name not UTF-8" "$rpid"
	run "$shmbox" info --json "$nonutf"; status 0 "info --json, a command not UTF-8"
	json_ok "info --json, a command not UTF-8"
	py 'p = j["processes"]
assert len(p) == 1 and p[0]["command_hex"] == "fffe" and p[0]["command"] == "\ufffd\ufffd", p' ||
		fail "info --json: command and command_hex of a name not UTF-8"
	run "$shmbox" send "$nonutf" x; status 0 "send to the recv not UTF-8"
	wait "$rpid"; st=$?; status 0 "recv under a name not UTF-8"
else
	echo "cli: $bin is not a program: a command name not UTF-8 not tested"
fi
run "$shmbox" rm "$nonutf"; status 0 "rm, a name not UTF-8"

# watch --once: three full cells and a free one; head at 0, tail at 3
run "$shmbox" watch --once "$a"; status 0 "watch --once"
grep -qxF 'slot [#][#][#][ ]' "$dir/out" || fail "watch --once: no cells [#][#][#][ ]"
grep -qx '      H        T' "$dir/out" || fail "watch --once: H and T not under slots 0 and 3"
out_has "3 queued, 1 free, 0 being written, 0 being read" "watch --once"
out_has "\[ \] free" "watch --once"

run "$shmbox" recv -c 2 "$a"; status 0 "recv -c 2"
out_is "hello
shared memory" "recv -c 2"
run "$shmbox" recv -t 0 "$a"; status 0 "recv -t 0 (one empty message)"; out_is "" "recv empty"
run "$shmbox" recv -t 0 "$a"; status $EX_TEMPFAIL "recv -t 0 on an empty mailbox"
run "$shmbox" recv -c 1 -t 100 "$a"; status $EX_TEMPFAIL "recv -t 100 on an empty mailbox"
err_has "Timed out: no message came" "recv -t 100"

# a full mailbox (4 slots): the error first, then how many went in
run "$shmbox" send -t 0 "$a" 1 2 3 4 5; status $EX_TEMPFAIL "send -t 0 to a full mailbox"
sed -n 1p "$dir/err" | grep -q "The mailbox is full" || fail "send -t 0: the first line is not the error"
err_has "4 messages had been sent before it" "send -t 0"
run "$shmbox" recv -c 4 "$a"; status 0 "recv the four"; out_is "1
2
3
4" "recv the four"

# stopped and continued while asleep (kill -STOP, -CONT): recv waits on
"$shmbox" recv -c 1 -t 20000 "$a" >"$dir/stop.out" 2>&1 &
rpid=$!; pids="$pids $rpid"
await_asleep "recv before a stop" "$rpid"
kill -STOP "$rpid"; kill -CONT "$rpid"
await_asleep "recv after a stop and continue" "$rpid"
run "$shmbox" send "$a" "after the stop"; status 0 "send after the stop"
wait "$rpid"; st=$?; status 0 "recv after a stop and continue"
grep -qx "after the stop" "$dir/stop.out" || fail "recv after a stop: $(cat "$dir/stop.out")"

# await_state PID STATE WHAT: until the process is in that state (T:
# stopped), 20 s at most
await_state() {
	i=0
	until [ "$(task_state "$1")" = "$2" ]; do
		i=$((i + 1)); [ $i -lt 2000 ] || fail "$3: $(where "$1")"
		sleep 0.01
	done
}

# A recv waiting in ppoll holds the mailbox's descriptor for get, armed:
# it found nothing and waits to be rung, which info, info --json and watch
# show (the library's sleepers, "asleep", are others).  A message rings it
# and disarms it: stopped, it cannot call again, and is seen listening but
# not armed.  Once it has ended it is gone.
"$shmbox" recv -c 1 -t 20000 "$a" >"$dir/listen.out" 2>&1 &
rpid=$!; pids="$pids $rpid"
await_asleep "recv listening" "$rpid"
run "$shmbox" info "$a"; status 0 "info, recv listening"
out_has "^asleep    0 in get, 0 in put, 0 in accept\$" "info, recv listening"
out_has "^listening 1 for get (1 armed), 0 for put, 0 for accept\$" "info, recv listening"
out_has "^          pid $rpid .*; listens for get (armed)\$" "info, recv listening"
run "$shmbox" info --json "$a"; status 0 "info --json, recv listening"; json_ok "info --json, recv listening"
py 'assert j["listeners"] == [{"pid": int(sys.argv[2]), "what": "get", "armed": True}], j["listeners"]
assert j["getters_waiting"] == 0' "$rpid" || fail "info --json: recv not listening for get, armed"
run "$shmbox" watch --once "$a"; status 0 "watch --once, recv listening"
out_has "^asleep: 0 in get, 0 in put, 0 in accept " "watch --once, recv listening"
out_has "^listening: 1 for get (1 armed), 0 for put, 0 for accept\$" "watch --once, recv listening"
kill -STOP "$rpid"
await_state "$rpid" T "recv not stopped by SIGSTOP"
run "$shmbox" send "$a" "rings"; status 0 "send to a stopped recv"
run "$shmbox" info "$a"; status 0 "info, recv rung"
out_has "^listening 1 for get (0 armed), 0 for put, 0 for accept\$" "info, recv rung"
out_has "^          pid $rpid .*; listens for get\$" "info, recv rung"
run "$shmbox" info --json "$a"; status 0 "info --json, recv rung"
py 'assert j["listeners"] == [{"pid": int(sys.argv[2]), "what": "get", "armed": False}], j["listeners"]' \
	"$rpid" || fail "info --json: recv rung, not listening for get unarmed"
kill -CONT "$rpid"
wait "$rpid"; st=$?; status 0 "recv rung and continued"
grep -qx "rings" "$dir/listen.out" || fail "recv rung: $(cat "$dir/listen.out")"
run "$shmbox" info "$a"; status 0 "info, recv ended"
out_has "^listening 0 for get, 0 for put, 0 for accept\$" "info, recv ended"
! grep -q "listens" "$dir/out" || fail "info, recv ended: a process still listens"
run "$shmbox" info --json "$a"; status 0 "info --json, recv ended"
py 'assert j["listeners"] == [], j["listeners"]' || fail "info --json: a listener left after recv ended"

# reap PID WHAT: wait for a child that was told to end; one that ignored it
# fails the test after 20 s instead of hanging it (its status is in $st)
reap() {
	i=0
	while [ "$(task_state "$1")" != Z ] && [ -e "/proc/$1" ]; do
		i=$((i + 1))
		[ $i -lt 2000 ] || { kill -9 "$1"; fail "$2: still running 20 s later"; }
		sleep 0.01
	done
	wait "$1"; st=$?
}

# Waiting: recv on an empty mailbox, serve with no call and send on a full
# mailbox sleep in one ppoll on the mailbox's descriptor, not in the
# library's semtimedop, and nothing wakes them while nothing happens (a
# wait cut into slices to look for signals would wake at each slice).
# Each ends on one SIGTERM or SIGINT, at whatever moment it comes, with the
# status and message it always had.
run "$shmbox" create -n 1 -s 8 "$full"; status 0 "create a mailbox to fill"
run "$shmbox" send "$full" first; status 0 "fill it"
"$shmbox" recv "$a" >"$dir/recv.out" 2>&1 &
rpid=$!; pids="$pids $rpid"
"$shmbox" serve "$a" >"$dir/serve.out" 2>&1 &
spid=$!; pids="$pids $spid"
"$shmbox" send -t 60000 "$full" second >"$dir/send.out" 2>&1 &
fpid=$!; pids="$pids $fpid"
stays_asleep "recv, serve, send on a full mailbox" "$rpid" "$spid" "$fpid"
# each listens on its descriptor, armed: recv for get and serve for accept
# on one mailbox, send for put on the full one
run "$shmbox" info "$a"; status 0 "info, recv and serve waiting"
out_has "^listening 1 for get (1 armed), 0 for put, 1 for accept (1 armed)\$" "info, recv and serve"
out_has "^          pid $rpid .*; listens for get (armed)\$" "info, recv and serve"
out_has "^          pid $spid .*; listens for accept (armed)\$" "info, recv and serve"
run "$shmbox" info --json "$a"; status 0 "info --json, recv and serve waiting"
py 'l = sorted(j["listeners"], key=lambda o: o["what"])
assert l == [{"pid": int(sys.argv[3]), "what": "accept", "armed": True},
             {"pid": int(sys.argv[2]), "what": "get", "armed": True}], l' "$rpid" "$spid" ||
	fail "info --json: recv and serve not listening for get and accept"
run "$shmbox" watch --once "$a"; status 0 "watch --once, recv and serve waiting"
out_has "^listening: 1 for get (1 armed), 0 for put, 1 for accept (1 armed)\$" "watch, recv and serve"
run "$shmbox" info --json "$full"; status 0 "info --json, send waiting"
py 'assert j["listeners"] == [{"pid": int(sys.argv[2]), "what": "put", "armed": True}], j["listeners"]' \
	"$fpid" || fail "info --json: send on a full mailbox not listening for put"
run "$shmbox" info "$full"; status 0 "info, send waiting"
out_has "^listening 0 for get, 1 for put (1 armed), 0 for accept\$" "info, send waiting"
kill -TERM "$rpid"; reap "$rpid" "recv after SIGTERM"; status 0 "recv ended by SIGTERM"
[ ! -s "$dir/recv.out" ] || fail "recv on SIGTERM said: $(cat "$dir/recv.out")"
kill -INT "$spid"; reap "$spid" "serve after SIGINT"; status 0 "serve ended by SIGINT"
kill -TERM "$fpid"; reap "$fpid" "send after SIGTERM"; status $EX_TEMPFAIL "send ended by SIGTERM"
grep -q "send $full: .*nterrupted" "$dir/send.out" || fail "send on SIGTERM said: $(cat "$dir/send.out")"
# recv -c: interrupted before its count, as before
"$shmbox" recv -c 2 "$a" >"$dir/recv.out" 2>&1 &
rpid=$!; pids="$pids $rpid"
await_asleep "recv -c 2" "$rpid"
kill -INT "$rpid"; reap "$rpid" "recv -c 2 after SIGINT"; status $EX_TEMPFAIL "recv -c 2 ended by SIGINT"
grep -q "interrupted after 0 of 2" "$dir/recv.out" || fail "recv -c 2 on SIGINT said: $(cat "$dir/recv.out")"
# Ctrl-Z (SIGTSTP, left at its default) stops a waiting recv at once, and
# it waits on when continued (fg).  The kernel drops SIGTSTP for a process
# group with no parent in the session outside it (an orphaned one, as
# under some CI runners): recv gets a group of its own, whose parent is
# this shell.
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import os, sys; os.setpgid(0, 0); os.execvp(sys.argv[1], sys.argv[1:])' \
		"$shmbox" recv -c 1 "$a" >"$dir/recv.out" 2>&1 &
	rpid=$!; pids="$pids $rpid"
	await_asleep "recv in its own process group" "$rpid"
	kill -TSTP "$rpid"
	await_state "$rpid" T "recv not stopped by SIGTSTP"
	kill -CONT "$rpid"
	await_asleep "recv after SIGTSTP and SIGCONT" "$rpid"
	run "$shmbox" send "$a" "after Ctrl-Z"; status 0 "send after Ctrl-Z"
	reap "$rpid" "recv after Ctrl-Z"; status 0 "recv after Ctrl-Z and fg"
	grep -qx "after Ctrl-Z" "$dir/recv.out" || fail "recv after Ctrl-Z: $(cat "$dir/recv.out")"
else
	echo "cli: no python3: Ctrl-Z (SIGTSTP) on a waiting recv not tested"
fi
run "$shmbox" rm "$full"; status 0 "rm the full mailbox"

printf 'one\ntwo\n' >"$dir/in"
run "$shmbox" send "$a" <"$dir/in"; status 0 "send lines"
run "$shmbox" recv -c 2 "$a"; status 0 "recv lines"; out_is "one
two" "recv lines"

printf 'x\ny\0z\0' >"$dir/in"
run "$shmbox" send -0 "$a" <"$dir/in"; status 0 "send -0"
run "$shmbox" recv -0 -c 2 "$a"; status 0 "recv -0"
cmp -s "$dir/in" "$dir/out" || fail "recv -0 is not what send -0 read"

printf 'a\000b\377\nc' >"$dir/in"
run "$shmbox" send -r "$a" <"$dir/in"; status 0 "send -r"
run "$shmbox" recv -r "$a"; status 0 "recv -r"
cmp -s "$dir/in" "$dir/out" || fail "recv -r is not byte for byte what send -r read"

# a full mailbox: put with timeout 0 fails, watch shows it full
run "$shmbox" send "$a" 1 2 3 4; status 0 "fill"
run "$shmbox" send -t 0 "$a" 5; status $EX_TEMPFAIL "send -t 0 to a full mailbox"
run "$shmbox" watch --once "$a"; status 0 "watch --once, full"
grep -qxF 'slot [#][#][#][#]' "$dir/out" || fail "watch --once: not four full cells"
run "$shmbox" recv -t 0 "$a"; status 0 "drain"; out_is "1
2
3
4" "drain"

# too long a message
long=$(printf '%065d' 0)
run "$shmbox" send "$a" "$long"; status $EX_DATAERR "send 65 bytes into 64"
err_has "slot size is 64" "send 65 bytes"

# no such mailbox
run "$shmbox" rm "$dir/none"; status $EX_NOINPUT "rm without a key file"
err_has "rm $dir/none: No such mailbox" "rm without a key file"
: >"$b"
run "$shmbox" rm "$b"; status $EX_NOINPUT "rm without a mailbox"
err_has "rm $b: No such mailbox" "rm without a mailbox"
run "$shmbox" send "$dir/none" x; status $EX_NOINPUT "send without a key file"
err_has "there is no such file; make one with: shmbox create $dir/none" "send without a key file"
run "$shmbox" send "$b" x; status $EX_NOINPUT "send without a mailbox"
err_has "no mailbox at this file yet; make one with: shmbox create $b" "send without a mailbox"
run "$shmbox" send -p 2 "$a" x; status $EX_NOINPUT "send to project 2"
err_has "make one with: shmbox create -p 2 $a" "send to project 2"
# no create suggested where it cannot work
run "$shmbox" send "$dir/none/x" x; status $EX_NOINPUT "send without a directory"
err_has "none can be made there" "send without a directory"
! grep -q "make one with" "$dir/err" || fail "send without a directory: suggests create"
run "$shmbox" info "$dir"; status $EX_NOINPUT "info on a directory"
err_has "a key file is a file, not a directory" "info on a directory"

# call: no server times out; the echo server and a command answer
run "$shmbox" call -t 200 "$a" ping; status $EX_TEMPFAIL "call without a server"
err_has "is a server accepting calls (shmbox serve $a)?" "call without a server"
"$shmbox" serve -c 1 "$a" >"$dir/serve.out" 2>&1 &
spid=$!; pids="$pids $spid"
run "$shmbox" call -t 5000 "$a" ping; status 0 "call the echo server"; out_is "ping" "echo"
wait "$spid"; st=$?; status 0 "serve -c 1"
"$shmbox" serve -c 1 "$a" tr a-z A-Z >"$dir/serve.out" 2>&1 &
spid=$!; pids="$pids $spid"
run "$shmbox" call -t 5000 "$a" ping; status 0 "call tr"; out_is "PING" "tr"
wait "$spid"; st=$?; status 0 "serve -c 1 tr"
# a command that is not there ends serve at once, not every call with nothing
run "$shmbox" serve -c 1 -t 100 "$a" "$dir/no-such-command"; status $EX_UNAVAILABLE "serve a missing command"
err_has "no such command" "serve a missing command"

# permissions: another user may not open a 0600 mailbox (EX_NOPERM is 77,
# which must not leak out as this test's status)
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod 755 "$dir"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$shmbox" info "$a"
	status $EX_NOPERM "info by another user"
	err_has "Permission denied" "info by another user"
	# a key file that cannot be made is EX_CANTCREAT, a permission too
	mkdir "$dir/ro"; chmod 555 "$dir/ro"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$shmbox" create "$dir/ro/k"
	status $EX_CANTCREAT "create where the key file may not be made"
	err_has "Permission denied" "create where the key file may not be made"
else
	echo "cli: not root or no setpriv: EX_NOPERM not tested"
fi

# watch, live, to a file: plain frames that end on Ctrl-C with status 0;
# waits while its mailbox is removed and made again (test/watch.sh has it
# on a terminal)
"$shmbox" watch -i 20 "$a" >"$dir/watch.out" 2>&1 &
wpid=$!; pids="$pids $wpid"
await "$dir/watch.out" "Ctrl-C to stop"
run "$shmbox" rm "$a"; status 0 "rm while watched"
await "$dir/watch.out" "was removed"
run "$shmbox" create -n 2 -s 8 "$a"; status 0 "create again while watched"
await "$dir/watch.out" "slot \[ \]\[ \]"
kill -INT "$wpid"
wait "$wpid"; st=$?; status 0 "watch on SIGINT"
! grep -q "$(printf '\033')" "$dir/watch.out" || fail "watch wrote escape sequences to a file"
# between frames it sleeps in ppoll, which SIGTERM ends at once
"$shmbox" watch -i 3600000 "$a" >"$dir/watch.out" 2>&1 &
wpid=$!; pids="$pids $wpid"
stays_asleep "watch between frames" "$wpid"
kill -TERM "$wpid"; reap "$wpid" "watch after SIGTERM"; status 0 "watch on SIGTERM"

# rm, and nothing is left in ipcs
run "$shmbox" rm "$a"; status 0 "rm"
run "$shmbox" info "$a"; status $EX_NOINPUT "info after rm"
if command -v ipcs >/dev/null 2>&1; then
	ipcs -m -s | grep -qi "^$key " && fail "rm left $key in ipcs"
fi

# a broken leftover: the semaphore set removed under a mailbox (ipcrm -s).
# ls lists it as broken, the others name it and rm -f, which removes it.
run "$shmbox" create -n 2 -s 16 "$left"; status 0 "create left"
lkey=$(ipckey "$left" 1)
run "$shmbox" info --json "$left"; status 0 "info --json left"
ipcrm -s "$(member semid)" || fail "ipcrm -s"
run "$shmbox" ls; status 0 "ls, a set gone"
grep -q "^$lkey .* broken: semaphore set gone\$" "$dir/out" || fail "ls: no line for $lkey, broken"
run "$shmbox" ls --json; status 0 "ls --json, a set gone"; json_ok "ls --json, a set gone"
py 'l = [o for o in j if o["key"] == sys.argv[2]]
assert len(l) == 1 and l[0]["broken"] == "semaphore set gone" and l[0]["semid"] is None, l
assert "slots" not in l[0] and l[0]["segment_size"] > 0 and l[0]["proj"] == 1, l' "$lkey" ||
	fail "ls --json: $lkey, broken"
for v in "info $EX_NOINPUT" "create $EX_CANTCREAT" "rm $EX_NOINPUT" "send $EX_NOINPUT"; do
	set -- $v
	run "$shmbox" "$1" "$left" x; [ "$1" = send ] || run "$shmbox" "$1" "$left"
	status "$2" "$1, a set gone"
	err_has "broken leftover (semaphore set gone); remove it with: shmbox rm -f $left" "$1, a set gone"
done
run "$shmbox" rm -f "$left"; status 0 "rm -f, a set gone"
gone "$lkey" "rm -f, a set gone"
run "$shmbox" info "$left"; status $EX_NOINPUT "info after rm -f"; err_has "No such mailbox" "info after rm -f"
run "$shmbox" rm -f "$left"; status $EX_NOINPUT "rm -f, nothing there"

# the segment removed (ipcrm -m, nobody attached): its set stays at the key
run "$shmbox" create -n 2 -s 16 "$left"; status 0 "create left again"
run "$shmbox" info --json "$left"; status 0 "info --json left again"
ipcrm -m "$(member shmid)" || fail "ipcrm -m"
for v in "send $EX_NOINPUT" "create $EX_CANTCREAT" "rm $EX_NOINPUT"; do
	set -- $v
	run "$shmbox" "$1" "$left" x; [ "$1" = send ] || run "$shmbox" "$1" "$left"
	status "$2" "$1, a lone set"
	err_has "only a semaphore set is at the key, without its segment; remove it with: shmbox rm -f $left" \
		"$1, a lone set"
done
run "$shmbox" rm -f "$left"; status 0 "rm -f, a lone set"
gone "$lkey" "rm -f, a lone set"
run "$shmbox" create -n 2 -s 16 "$left"; status 0 "create after rm -f"
run "$shmbox" rm "$left"; status 0 "rm left"

# a leftover marked removed (its destroyed word set, as by an rm that could
# not remove the segment): the word is found as the one that rm changes in
# a probe mailbox, watched from outside, and then set in the other
if command -v python3 >/dev/null 2>&1; then
	run "$shmbox" create -n 2 -s 16 "$marked"; status 0 "create marked"
	run "$shmbox" info --json "$marked"; status 0 "info --json marked"; mid=$(member shmid)
	run "$shmbox" create -n 2 -s 16 "$probe"; status 0 "create probe"
	run "$shmbox" info --json "$probe"; status 0 "info --json probe"
	python3 - "$mid" "$(member shmid)" "$(member segment_size)" "$shmbox" rm "$probe" <<-'EOF' ||
	import ctypes, subprocess, sys
	libc = ctypes.CDLL(None, use_errno=True)
	libc.shmat.restype = ctypes.c_void_p
	libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
	m, n, size = (int(a) for a in sys.argv[1:4])
	probe = libc.shmat(n, None, 0o10000)  # SHM_RDONLY
	before = ctypes.string_at(probe, size)
	subprocess.run(sys.argv[4:], check=True)
	after = ctypes.string_at(probe, size)
	words = [i for i in range(0, size, 4) if before[i:i + 4] != after[i:i + 4]]
	if len(words) != 1:
	    sys.exit("rm changed %d words, not one" % len(words))
	ctypes.memmove(libc.shmat(m, None, 0) + words[0], after[words[0]:words[0] + 4], 4)
	EOF
		fail "could not mark $marked removed"
	mkey=$(ipckey "$marked" 1)
	run "$shmbox" ls; status 0 "ls, marked removed"
	grep -q "^$mkey .* broken: marked removed\$" "$dir/out" || fail "ls: no line for $mkey, broken"
	run "$shmbox" info "$marked"; status $EX_NOINPUT "info, marked removed"
	err_has "broken leftover (marked removed); remove it with: shmbox rm -f $marked" "info, marked removed"
	run "$shmbox" rm -f "$marked"; status 0 "rm -f, marked removed"
	gone "$mkey" "rm -f, marked removed"
else
	echo "cli: no python3: a leftover marked removed not tested"
fi

# ls without /proc/sysvipc/shm
if unshare -m true 2>/dev/null; then
	run unshare -m sh -c 'mount -t tmpfs none /proc/sysvipc && exec "$1" ls' sh "$shmbox"
	status $EX_OSFILE "ls without /proc/sysvipc/shm"
else
	echo "cli: no private mount namespace (unshare -m): ls without /proc/sysvipc not tested"
fi

# kernel limits, in a private IPC namespace, name the setting to raise
if unshare -i true 2>/dev/null; then
	unshare -i sh -c '
		echo 1 >/proc/sys/kernel/shmmni
		"$1" create "$2" && "$1" create -p 2 "$2"
		echo "status $?"
		echo 4096 >/proc/sys/kernel/shmmni
		echo 10000 >/proc/sys/kernel/shmmax
		"$1" create -p 3 -n 64 -s 4096 "$2"
		echo "status $?"
		echo "100 32000 500 32000" >/proc/sys/kernel/sem
		echo 100000000 >/proc/sys/kernel/shmmax
		"$1" create -p 4 -n 200 -s 16 "$2"
		echo "status $?"' sh "$shmbox" "$dir/ns" >"$dir/out" 2>"$dir/err"
	[ "$(grep -c "^status $EX_OSERR\$" "$dir/out")" -eq 3 ] ||
		fail "kernel limits: not three EX_OSERR"
	err_has "shmmni" "ENOSPC"
	err_has "shmmax" "EFBIG"
	err_has "SEMMSL" "ERANGE"
else
	echo "cli: no private IPC namespace (unshare -i): kernel limits not tested"
fi

echo "cli: all passed"
exit 0
