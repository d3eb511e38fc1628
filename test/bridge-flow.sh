#!/bin/sh
# shmbox bridge, plain messages between two hosts (two IPC namespaces, see
# bridge-lib.sh): thousands arrive in the order they were put; one too
# large for the remote slot size is refused, logged and counted, never
# truncated, and the next ones still arrive; the bridges are attached
# processes in info; SIGUSR1 prints the counts; two connecting bridges
# into one listener each keep their order; SIGTERM delivers what is in
# flight and exits 0; a full remote mailbox with no reader makes the local
# putters wait, and a reader then gets everything; -d runs each side as a
# daemon with a pid file, also given relative paths.
. "$(dirname "$0")/bridge-lib.sh"

"$shmbox" bridge --help | grep -A 2 -e "--window" | grep -q "default [0-9]" ||
	fail "bridge --help does not give --window's default"

new_host
A=$host
new_host
B=$host
new_host
C=$host # a second connecting host

# different slot sizes on the two sides
on "$A" "$shmbox" create -n 16 -s 256 "$box" || fail "create on A"
on "$B" "$shmbox" create -n 16 -s 64 "$box" || fail "create on B"
listen "$B" lis
lpid=$pid
connect "$A" con "$port" --stats
cpid=$pid
await_connected con

# Order: thousands, from one connecting bridge, arrive as they were put.
seq 1 5000 | spawn "$A" "$shmbox" send "$box" 2>"$dir/send.log" &
spid=$!
pids="$pids $spid"
on "$B" "$shmbox" recv -c 5000 -t 10000 "$box" >"$dir/got" 2>"$dir/recv.log" ||
	fail "recv on B: $(count_seq "$dir/got" 1 5000)"
check_seq "$dir/got" 1 5000 "5000 messages through the bridge"
await_exit "$spid" 5 "send on A"
[ "$st" -eq 0 ] || fail "send on A: status $st"
ok "5000 messages, in order, from host A to host B"

# Each bridge is a process attached to its mailbox.
on "$A" "$shmbox" info --json "$box" | grep -q "\"pid\":$cpid[,}]" ||
	fail "info on A does not show the connecting bridge (pid $cpid) as attached"
on "$B" "$shmbox" info --json "$box" | grep -q "\"pid\":$lpid[,}]" ||
	fail "info on B does not show the listening bridge (pid $lpid) as attached"
on "$A" "$shmbox" ls | awk 'NR > 1 && $7 >= 1 { ok = 1 } END { exit !ok }' ||
	fail "ls on A shows no process attached to the mailbox"
ok "each bridge is attached to its mailbox (info, ls)"

# SIGUSR1: one stats line, with what each side carried.
stats "$cpid" con
[ "$messages" -eq 5000 ] || fail "connecting bridge's stats: messages $messages, not 5000"
[ "$refused" -eq 0 ] || fail "connecting bridge's stats: refused $refused, not 0"
stats "$lpid" lis
[ "$messages" -eq 5000 ] || fail "listening bridge's stats: messages $messages, not 5000"
[ "$repeats" -eq 0 ] || fail "listening bridge's stats: repeats $repeats without a link failure"
ok "SIGUSR1: a stats line on each side, messages 5000"

# Too large for B's slots (64 bytes; A's are 256): every 50th message of
# 301 is 102 bytes.  Each is refused, never truncated, and the ones after
# it arrive.
awk 'BEGIN { for (i = 1; i <= 301; i++) if (i % 50 == 0) printf "%d%0100d\n", i, 0; else print i }' |
	on "$A" "$shmbox" send "$box" || fail "send of 301 messages, some large, on A"
on "$B" "$shmbox" recv -c 295 -t 10000 "$box" >"$dir/got" 2>"$dir/recv.log" ||
	fail "recv of the 295 that fit"
seq 1 301 | awk '$1 % 50' | cmp -s - "$dir/got" ||
	fail "the messages that fit, in order: $(count_seq "$dir/got" 1 301)"
run on "$B" "$shmbox" recv -t 0 "$box"
status $EX_TEMPFAIL "nothing after them: no large message arrived cut"
stats "$cpid" con
con_refused=$refused
stats "$lpid" lis
[ $((con_refused + refused)) -eq 6 ] ||
	fail "6 messages refused, but the stats say $con_refused (connecting) and $refused (listening)"
grep -i -e "refus" -e "too large" -e "too big" -e "does not fit" -e "slot size" \
	"$dir/con.log" "$dir/lis.log" | grep -qv "stats:" ||
	fail "no log line says a message was refused"
ok "6 messages too large for B's slots refused, logged, counted; the others arrived"

# Two connecting bridges, from A and C, into one listener: each one's
# messages arrive in the order they were put there.
on "$C" "$shmbox" create "$box" || fail "create on C"
connect "$C" conc "$port"
cpidc=$pid
await_connected conc
spawn "$B" "$shmbox" recv -c 4000 -t 10000 "$box" >"$dir/got" 2>"$dir/recv.log" &
rpid=$!
pids="$pids $rpid"
seq 1 2000 | sed 's/^/a/' | spawn "$A" "$shmbox" send "$box" 2>"$dir/send.log" &
spid=$!
pids="$pids $spid"
seq 1 2000 | sed 's/^/c/' | on "$C" "$shmbox" send "$box" || fail "send on C"
await_exit "$rpid" 20 "recv of 4000 from two bridges"
[ "$st" -eq 0 ] || fail "recv of 4000 from two bridges: status $st, $(lines "$dir/got") came"
await_exit "$spid" 5 "send on A"
sed -n 's/^a//p' "$dir/got" >"$dir/got.a"
sed -n 's/^c//p' "$dir/got" >"$dir/got.c"
check_seq "$dir/got.a" 1 2000 "A's messages, among C's"
check_seq "$dir/got.c" 1 2000 "C's messages, among A's"
stop "$cpidc" "C's connecting bridge"
ok "two connecting bridges into one listener: 2000 each, each in its order"

# SIGTERM with a full window: B's mailbox is full and no one reads it, so
# the connecting bridge has its window of messages in flight.  It takes no
# more, and once a reader comes on B delivers them all (nothing lost,
# nothing twice), and exits 0; what it had not taken stays in A's mailbox.
puts=$(field "$A" puts)
seq 1 5000 | spawn "$A" "$shmbox" send "$box" 2>"$dir/send.log" &
spid=$!
pids="$pids $spid"
await_field "$B" queued 16 10 "SIGTERM: B's mailbox, with no reader"
await_field "$A" queued 16 10 "SIGTERM: A's mailbox, once the window is full"
before=$(grep -c "^shmbox bridge: stats: " "$dir/con.log")
kill -TERM "$cpid"
await "$dir/con.log" "stopping" 5 "connecting bridge told to stop" "$cpid"
spawn "$B" "$shmbox" recv "$box" >"$dir/got" 2>"$dir/recv.log" &
rpid=$!
pids="$pids $rpid"
await_exit "$cpid" 10 "connecting bridge after SIGTERM"
[ "$st" -eq 0 ] || fail "connecting bridge: status $st after SIGTERM, expected 0"
[ "$(grep -c "^shmbox bridge: stats: " "$dir/con.log")" -eq $((before + 1)) ] ||
	fail "--stats: no stats line at exit"
kill -9 "$spid" 2>/dev/null # it waits for room in A's mailbox, which no one takes from now
await_exit "$spid" 5 "send on A, killed"
put=$(($(field "$A" puts) - puts))
left=$(field "$A" queued)
await_lines "$dir/got" $((put - left)) 10 "SIGTERM: what the connecting bridge took from A"
kill -INT "$lpid" # and SIGINT does as SIGTERM
await_exit "$lpid" 10 "listening bridge after SIGINT"
[ "$st" -eq 0 ] || fail "listening bridge: status $st after SIGINT, expected 0"
kill -9 "$rpid"
if [ "$left" -gt 0 ]; then
	on "$A" "$shmbox" recv -c "$left" -t 0 "$box" >>"$dir/got" || fail "recv of A's $left"
fi
check_seq "$dir/got" 1 "$put" "SIGTERM: B's messages, then those left on A"
ok "SIGTERM with a full window: $((put - left)) delivered, $left left on A, none lost or twice; exit 0"

# Back-pressure, on a second pair of mailboxes (project 2) with 4 slots each
# and a window of 16: with no reader on B, A's putters wait once B's
# mailbox, the window and A's mailbox are full, and no sooner.
proj=2
on "$A" "$shmbox" create -p 2 -n 4 -s 64 "$box" || fail "create -p 2 on A"
on "$B" "$shmbox" create -p 2 -n 4 -s 64 "$box" || fail "create -p 2 on B"
listen "$B" lis2
lpid=$pid
connect "$A" con2 "$port" --window 16
cpid=$pid
await_connected con2
seq 1 100 | spawn "$A" "$shmbox" send -p 2 -t 2000 "$box" 2>"$dir/send.log" &
spid=$!
pids="$pids $spid"
await_exit "$spid" 30 "send to a full bridge"
[ "$st" -eq $EX_TEMPFAIL ] || fail "send of 100 with no reader: status $st, expected $EX_TEMPFAIL"
grep -q "Timed out: the mailbox stayed full" "$dir/send.log" ||
	fail "send of 100 with no reader: no 'Timed out: the mailbox stayed full'"
await_field "$B" queued 4 5 "back-pressure: B's mailbox"
sent=$(field "$A" puts)
[ "$(field "$A" queued)" -eq 4 ] || fail "back-pressure: A's mailbox is not full"
[ "$sent" -le $((4 + 16 + 4)) ] ||
	fail "back-pressure: $sent put before the putter waited, more than 4 + 16 + 4"
still_alive "$cpid" "connecting bridge"
still_alive "$lpid" "listening bridge"
on "$B" "$shmbox" recv -p 2 -c "$sent" -t 5000 "$box" >"$dir/got" 2>"$dir/recv.log" ||
	fail "back-pressure: B's reader did not get all $sent: $(count_seq "$dir/got" 1 "$sent")"
check_seq "$dir/got" 1 "$sent" "back-pressure: what was put, once a reader came"
seq 101 110 | on "$A" "$shmbox" send -p 2 -t 5000 "$box" || fail "send after the drain"
on "$B" "$shmbox" recv -p 2 -c 10 -t 5000 "$box" >"$dir/got" || fail "recv after the drain"
check_seq "$dir/got" 101 110 "after the drain"
ok "back-pressure: the putter on A waited after $sent (4 + 16 + 4 at most); all came once read"
stop "$cpid" "connecting bridge (project 2)"
stop "$lpid" "listening bridge (project 2)"

# -d: each side a daemon (syslog, and a pid file in /run named by side and
# key).  A second daemon of the same side on the same mailbox is refused.
# SIGTERM ends each, and its pid file goes.  Then again, started from the
# key file's directory with relative paths, keys included (a daemon runs
# in /).
proj=3
on "$A" "$shmbox" create -p 3 "$box" || fail "create -p 3 on A"
on "$B" "$shmbox" create -p 3 "$box" || fail "create -p 3 on B"
for k in ka kb; do
	run "$shmbox" keygen "$dir/$k"
	status 0 "keygen $k"
	mkdir -p "$dir/$k/peers"
done
cp "$dir/ka/key.pub" "$dir/kb/peers/a.pub"
cp "$dir/kb/key.pub" "$dir/ka/peers/b.pub"
listen "$B" probe # a free port for the daemon, where it can be told
stop "$pid" "listening bridge finding a port"
set -- $(stat -c '%d %i' "$box")
key=$(printf '0x%08x' $(((3 << 24) | (($1 & 255) << 16) | ($2 & 65535))))
lfile=/run/shmbox-bridge-listen-$key.pid
cfile=/run/shmbox-bridge-connect-$key.pid
[ ! -e "$lfile" ] && [ ! -e "$cfile" ] || fail "-d: a pid file of our key is there already"

# daemon HOST FILE WHAT ARG...: shmbox bridge -d ARG... on HOST (in $dir);
# its pid, from its pid file FILE, in $pid; it must still run a moment on
daemon() {
	local h=$1 file=$2 what=$3
	shift 3
	(cd "$dir" && on "$h" "$shmbox" bridge -d "$@") >"$dir/out" 2>"$dir/err" ||
		fail "$what: status $?: $(cat "$dir/err")"
	await "$file" "[0-9]" 5 "$what: its pid file"
	pid=$(cat "$file")
	pids="$pids $pid"
	alive "$pid" || fail "$what: the daemon ($pid) is gone (its reasons went to syslog)"
}
# daemons_flow WHAT: 100 messages from A to B, -p 3
daemons_flow() {
	seq 1 100 | on "$A" "$shmbox" send -p 3 -t 10000 "$box" ||
		fail "$1: send (is each daemon alive? $(alive "$lpid" && echo listener) $(alive "$cpid" && echo connector))"
	on "$B" "$shmbox" recv -p 3 -c 100 -t 10000 "$box" >"$dir/got" 2>"$dir/recv.log" ||
		fail "$1: recv: $(count_seq "$dir/got" 1 100)"
	check_seq "$dir/got" 1 100 "$1"
}
# daemons_stop WHAT: SIGTERM to both; each ends, and its pid file goes
daemons_stop() {
	local p i
	for p in "$cpid" "$lpid"; do
		kill -TERM "$p"
		i=0
		while alive "$p"; do
			i=$((i + 1))
			[ $i -lt 1000 ] || fail "$1: daemon $p still running 10 s after SIGTERM"
			sleep 0.01
		done
	done
	[ ! -e "$lfile" ] && [ ! -e "$cfile" ] || fail "$1: a pid file stayed after SIGTERM"
}

daemon "$B" "$lfile" "-d --listen" --listen "tcp://127.0.0.1:$port" -p 3 --keys "$dir/kb" "$box"
lpid=$pid
daemon "$A" "$cfile" "-d --connect" --connect "tcp://127.0.0.1:$port" -p 3 --keys "$dir/ka" "$box"
cpid=$pid
daemons_flow "-d, both sides"
on "$B" "$shmbox" info --json -p 3 "$box" | grep -q "\"pid\":$lpid[,}]" ||
	fail "-d: info on B does not show the daemon (pid $lpid) as attached"
run on "$B" "$shmbox" bridge -d --listen "tcp://127.0.0.1:*" -p 3 "$box"
status $EX_TEMPFAIL "-d: a second listening daemon on the mailbox"
err_has "$lpid" "-d: a second listening daemon on the mailbox"
daemons_stop "-d"
ok "-d on both sides: 100 messages; pid files, gone after SIGTERM; a second daemon refused"

daemon "$B" "$lfile" "-d --listen, relative paths" \
	--listen "tcp://127.0.0.1:$port" -p 3 --keys kb "${box##*/}"
lpid=$pid
daemon "$A" "$cfile" "-d --connect, relative paths" \
	--connect "tcp://127.0.0.1:$port" -p 3 --keys ka "${box##*/}"
cpid=$pid
daemons_flow "-d, relative paths"
daemons_stop "-d, relative paths"
ok "-d on both sides, started with relative paths and keys: 100 messages"
exit 0
