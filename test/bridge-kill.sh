#!/bin/sh
# shmbox bridge, a bridge killed with SIGKILL mid-stream (two IPC
# namespaces, see bridge-lib.sh), with --window 16: a killed connecting
# bridge loses at most its window and a new one carries the rest, nothing
# twice; a killed listener, started again on its port, loses nothing and
# puts at most the window twice.
. "$(dirname "$0")/bridge-lib.sh"

window=16
total=20000

new_host
A=$host
new_host
B=$host

# await_last FILE: until B's reader has written the last message, $total
await_last() {
	await "$1" "^$total\$" 60 "the last message, $total"
}
# drained NAME: stop what still puts on B (SIGTERM to the listener $lpid),
# and once B's mailbox is empty stop its reader $rpid
drained() {
	stop "$lpid" "$1"
	await_field "$B" queued 0 10 "$1: B's reader"
	kill -9 "$rpid"
}

# A killed connecting bridge, and a new one in its place.
on "$A" "$shmbox" create -n 16 -s 64 "$box" || fail "create on A"
on "$B" "$shmbox" create -n 16 -s 64 "$box" || fail "create on B"
listen "$B" lis
lpid=$pid
connect "$A" con "$port" --window $window
cpid=$pid
await_connected con
spawn "$B" "$shmbox" recv "$box" >"$dir/got" 2>"$dir/recv.log" &
rpid=$!
pids="$pids $rpid"
seq 1 $total | spawn "$A" "$shmbox" send "$box" 2>"$dir/send.log" &
spid=$!
pids="$pids $spid"
await_lines "$dir/got" 2000 20 "B's first 2000"
kill -9 "$cpid"
await_exit "$cpid" 5 "connecting bridge, killed"
connect "$A" con2 "$port" --window $window
cpid=$pid
await_connected con2
await_last "$dir/got"
await_exit "$spid" 5 "send of $total"
drained "killed connecting bridge"
tally "$dir/got" 1 $total
[ "$dups" -eq 0 ] && [ "$strays" -eq 0 ] ||
	fail "a killed connecting bridge: $(count_seq "$dir/got" 1 $total)"
[ "$missing" -le $window ] ||
	fail "a killed connecting bridge lost $missing, more than its window, $window"
stop "$cpid" "the second connecting bridge"
ok "connecting bridge killed mid-stream: $missing lost (window $window), none twice"

# A killed listener, started again on the same port (project 2).
proj=2
on "$A" "$shmbox" create -p 2 -n 16 -s 64 "$box" || fail "create -p 2 on A"
on "$B" "$shmbox" create -p 2 -n 16 -s 64 "$box" || fail "create -p 2 on B"
listen "$B" lis2
lpid=$pid
lport=$port
connect "$A" con3 "$lport" --window $window
cpid=$pid
await_connected con3
spawn "$B" "$shmbox" recv -p 2 "$box" >"$dir/got2" 2>"$dir/recv2.log" &
rpid=$!
pids="$pids $rpid"
seq 1 $total | spawn "$A" "$shmbox" send -p 2 "$box" 2>"$dir/send2.log" &
spid=$!
pids="$pids $spid"
await_lines "$dir/got2" 2000 20 "B's first 2000"
kill -9 "$lpid"
await_exit "$lpid" 5 "listening bridge, killed"
endpoint="tcp://127.0.0.1:$lport"
listen "$B" lis3
lpid=$pid
endpoint=
await_connected con3 2
await_last "$dir/got2"
await_exit "$spid" 5 "send of $total"
stop "$cpid" "connecting bridge"
drained "killed listener"
tally "$dir/got2" 1 $total
[ "$missing" -eq 0 ] && [ "$strays" -eq 0 ] ||
	fail "a killed listener: $(count_seq "$dir/got2" 1 $total)"
[ "$dups" -le $window ] ||
	fail "a killed listener's successor put $dups twice, more than the window, $window"
ok "listener killed mid-stream and started again: none lost, $dups twice (window $window)"
exit 0
