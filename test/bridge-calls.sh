#!/bin/sh
# shmbox bridge, calls between two hosts (two IPC namespaces, see
# bridge-lib.sh): the callers' contract does not change across the bridge.
# 8 callers in flight at once each get exactly their own reply; a call's
# timeout covers the whole trip (a slow remote server: the caller times out
# on time, and the late reply reaches no one else; no remote server: the
# remote call is withdrawn with its caller's, and never carried out
# later); a remote server that dies fails the call with ECONNRESET; a call
# that cannot reach the other host times out and is never carried out
# once the link comes; SIGTERM lets a call in flight finish.
. "$(dirname "$0")/bridge-lib.sh"
command -v python3 >/dev/null 2>&1 || skip "no python3 (to find a free port)"

new_host
A=$host
new_host
B=$host

on "$A" "$shmbox" create -n 16 -s 256 "$box" || fail "create on A"
on "$B" "$shmbox" create -n 16 -s 128 "$box" || fail "create on B"
listen "$B" lis
lpid=$pid
connect "$A" con "$port"
cpid=$pid
await_connected con

# serve_on_B NAME [OPTION...] [-- COMMAND...]: a server on B in the
# background, its pid in $spid, its log $dir/NAME.log
serve_on_B() {
	name=$1
	shift
	spawn "$B" "$shmbox" serve "$@" 2>"$dir/$name.log" &
	spid=$!
	pids="$pids $spid"
}

# A server command that answers only once 8 requests are being served at
# once (or says "alone" after 10 s): the upper-cased request.
mkdir "$dir/barrier"
barrier='r=$(cat); : >"$0/in.$r"; i=0
while [ "$(ls "$0" | grep -c "^in\.")" -lt 8 ]; do
	i=$((i + 1)); [ $i -lt 1000 ] || { printf "alone:%s" "$r"; exit 0; }; sleep 0.01
done
printf "%s" "$r" | tr a-z A-Z'

# 8 callers in flight at once, 8 servers on B: every call is made on B at
# the same time, and each reply reaches exactly its caller.
servers=
for i in 1 2 3 4 5 6 7 8; do
	serve_on_B "barrier$i" -c 1 "$box" sh -c "$barrier" "$dir/barrier"
	servers="$servers $spid"
done
callers=
for i in 1 2 3 4 5 6 7 8; do
	spawn "$A" "$shmbox" call -t 20000 "$box" "caller$i-$$" >"$dir/reply$i" 2>"$dir/call$i.log" &
	callers="$callers $!"
	pids="$pids $!"
done
i=0
for c in $callers; do
	i=$((i + 1))
	await_exit "$c" 30 "caller $i of 8"
	[ "$st" -eq 0 ] || fail "caller $i of 8: status $st: $(cat "$dir/call$i.log")"
	[ "$(cat "$dir/reply$i")" = "CALLER$i-$$" ] ||
		fail "caller $i of 8: reply '$(cat "$dir/reply$i")', expected 'CALLER$i-$$'"
done
for s in $servers; do await_exit "$s" 5 "a server that answered one call"; done
ok "8 callers in flight at once on A, 8 servers busy at once on B: each got its own reply"

# Many more, from 8 callers at once, to 2 echo servers: every request is
# unique, and every reply is the caller's own.
serve_on_B echo1 "$box"
echo1=$spid
serve_on_B echo2 "$box"
echo2=$spid
loops=
for i in 1 2 3 4 5 6 7 8; do
	(
		for j in 1 2 3 4 5 6; do
			r="c$i-$j-$$"
			rep=$(on "$A" "$shmbox" call -t 10000 "$box" "$r" 2>&1) || {
				echo "call $r: status $?: $rep"
				continue
			}
			[ "$rep" = "$r" ] || echo "call $r: reply '$rep'"
		done
	) >"$dir/calls$i" 2>&1 &
	loops="$loops $!"
	pids="$pids $!"
done
for l in $loops; do await_exit "$l" 60 "a caller's 6 calls"; done
cat "$dir"/calls[1-8] >"$dir/out"
[ -s "$dir/out" ] && fail "8 x 6 calls: $(wc -l <"$dir/out") went wrong"
stats "$cpid" con
[ "$calls" -eq 56 ] || fail "connecting bridge's stats: calls $calls, not 56"
stats "$lpid" lis
[ "$calls" -eq 56 ] || fail "listening bridge's stats: calls $calls, not 56"
ok "8 callers x 6 calls at once, each reply its caller's own; stats: calls 56 on each side"
kill "$echo1" "$echo2"
await_exit "$echo1" 5 "echo server 1"
await_exit "$echo2" 5 "echo server 2"

# A request too large for B's slots (128 bytes; A's are 256): the call
# fails with EMSGSIZE, as it would locally, and is not cut.
run on "$A" "$shmbox" call -t 5000 "$box" "$(printf '%0200d' 0)"
status $EX_DATAERR "a call whose request is too large for B's slots: $(cat "$dir/out")"
err_has "Message does not fit" "a call whose request is too large for B's slots"
ok "a request too large for the remote slots: EMSGSIZE"

# A slow server: the caller times out on its own time (1 s), as it would
# locally; the server's late reply reaches no later call.
serve_on_B slow -c 1 "$box" sh -c 'sleep 2; cat'
slow=$spid
t0=$(ms)
run on "$A" "$shmbox" call -t 1000 "$box" "slow-$$"
t=$(($(ms) - t0))
status $EX_TEMPFAIL "a call to a slow server"
err_has "Timed out" "a call to a slow server"
[ "$t" -ge 950 ] && [ "$t" -lt 3000 ] ||
	fail "a call with -t 1000 to a slow server ended after $t ms"
serve_on_B echo1 "$box"
echo1=$spid
n=0
while alive "$slow"; do # until the late reply was sent, and some more
	n=$((n + 1))
	[ $n -lt 1000 ] || fail "the slow server is still running"
	run on "$A" "$shmbox" call -t 5000 "$box" "fresh$n-$$"
	status 0 "call $n while the slow server's reply was late"
	[ "$(cat "$dir/out")" = "fresh$n-$$" ] ||
		fail "call $n while a reply was late: reply '$(cat "$dir/out")'"
done
for m in 1 2 3; do
	run on "$A" "$shmbox" call -t 5000 "$box" "after$m-$$"
	status 0 "call $m after the slow server's reply"
	[ "$(cat "$dir/out")" = "after$m-$$" ] ||
		fail "call $m after a late reply: reply '$(cat "$dir/out")'"
done
ok "slow server: the caller timed out after $t ms (-t 1000); $n calls around the late reply got their own"
kill "$echo1"
await_exit "$echo1" 5 "echo server"

# No server on B: the remote call is withdrawn with its caller's time
# (the listener counts it failed), and a server that comes later never
# carries it out.
stats "$lpid" lis
failed0=$failed
t0=$(ms)
run on "$A" "$shmbox" call -t 1000 "$box" "stale-$$"
t=$(($(ms) - t0))
status $EX_TEMPFAIL "a call with no server"
err_has "Timed out" "a call with no server"
[ "$t" -ge 950 ] && [ "$t" -lt 3000 ] || fail "a call with -t 1000 and no server ended after $t ms"
n=0
until stats "$lpid" lis && [ "$failed" -gt "$failed0" ]; do
	n=$((n + 1))
	[ $n -lt 30 ] || fail "the listener's call did not end with its caller's time"
	sleep 0.05
done
record='r=$(cat); echo "$r" >>"$0/runs"; printf "%s" "$r"'
serve_on_B record "$box" sh -c "$record" "$dir"
recpid=$spid
run on "$A" "$shmbox" call -t 5000 "$box" "fresh-$$"
status 0 "a call once a server came"
[ "$(cat "$dir/out")" = "fresh-$$" ] || fail "a call once a server came: reply '$(cat "$dir/out")'"
[ "$(cat "$dir/runs")" = "fresh-$$" ] ||
	fail "the server carried out: $(tr '\n' ' ' <"$dir/runs"), not only fresh-$$"
ok "no server: the caller timed out after $t ms, the remote call too; a later server never ran it"
kill "$recpid"
await_exit "$recpid" 5 "recording server"

# The remote server dies mid-call: the caller fails with ECONNRESET, as it
# would locally.
serve_on_B doomed "$box" sh -c 'echo $$ >"$0/doomed.pid"; exec sleep 30' "$dir"
doomed=$spid
spawn "$A" "$shmbox" call -t 20000 "$box" "doomed-$$" >"$dir/out" 2>"$dir/err" &
caller=$!
pids="$pids $caller"
await "$dir/doomed.pid" "[0-9]" 10 "the doomed server's command"
pids="$pids $(cat "$dir/doomed.pid")"
kill -9 "$doomed"
t0=$(ms)
await_exit "$caller" 10 "caller whose remote server was killed"
t=$(($(ms) - t0))
status $EX_UNAVAILABLE "caller whose remote server was killed"
err_has "The server died before replying to the call" "caller whose remote server was killed"
kill -9 "$(cat "$dir/doomed.pid")"
ok "remote server killed mid-call: the caller failed with ECONNRESET $t ms later"

# No listener to reach (project 2, a port where nothing listens): a call
# times out, and is never carried out once a listener comes.  Messages
# wait for the link and then arrive.
proj=2
on "$A" "$shmbox" create -p 2 -s 64 "$box" || fail "create -p 2 on A"
on "$B" "$shmbox" create -p 2 "$box" || fail "create -p 2 on B"
free=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
connect "$A" con2 "$free"
cpid2=$pid
seq 1 100 | on "$A" "$shmbox" send -p 2 "$box" || fail "send while no listener"
t0=$(ms)
run on "$A" "$shmbox" call -p 2 -t 1000 "$box" "unreachable-$$"
t=$(($(ms) - t0))
status $EX_TEMPFAIL "a call with no listener"
err_has "Timed out" "a call with no listener"
[ "$t" -ge 950 ] && [ "$t" -lt 3000 ] || fail "a call with -t 1000 and no listener ended after $t ms"
endpoint="tcp://127.0.0.1:$free"
listen "$B" lis2
lpid2=$pid
endpoint=
mkdir "$dir/p2"
serve_on_B record2 -p 2 "$box" sh -c "$record" "$dir/p2"
await_connected con2
on "$B" "$shmbox" recv -p 2 -c 100 -t 5000 "$box" >"$dir/got" || fail "the 100 sent before the link"
check_seq "$dir/got" 1 100 "messages sent before the link came"
run on "$A" "$shmbox" call -p 2 -t 5000 "$box" "reachable-$$"
status 0 "a call once the listener came"
[ "$(cat "$dir/out")" = "reachable-$$" ] || fail "a call once the listener came: reply '$(cat "$dir/out")'"
[ "$(cat "$dir/p2/runs")" = "reachable-$$" ] ||
	fail "the server carried out: $(tr '\n' ' ' <"$dir/p2/runs"), not only reachable-$$"
ok "no listener: the call timed out after $t ms, never carried out later; messages waited and came"

# A reply too large for A's slots (64 bytes, project 2; B's are 4096): the
# call fails with EMSGSIZE, as it would locally, never with a cut reply.
kill "$spid"
await_exit "$spid" 5 "recording server, project 2"
serve_on_B big -p 2 -c 1 "$box" sh -c 'cat >/dev/null; printf "%0100d" 0'
run on "$A" "$shmbox" call -p 2 -t 5000 "$box" "big-$$"
status $EX_DATAERR "a call whose reply is too large for A's slots: $(cat "$dir/out")"
err_has "Message does not fit" "a call whose reply is too large for A's slots"
ok "a reply too large for the caller's slots: EMSGSIZE"
stop "$cpid2" "connecting bridge (project 2)"
stop "$lpid2" "listening bridge (project 2)"
proj=1

# SIGTERM while a call is being carried out on B, to the listener, to the
# connecting bridge, or to both: the call is finished, its caller gets the
# reply, and each bridge told exits 0.  Five rounds, as what goes wrong
# here may go wrong only now and then.
held='touch "$0/held"; i=0
while [ ! -e "$0/release" ] && [ $i -lt 1000 ]; do i=$((i + 1)); sleep 0.01; done; cat'
stop "$cpid" "connecting bridge"
stop "$lpid" "listening bridge"
round=0
for who in listener connector both listener both; do
	round=$((round + 1))
	rm -f "$dir/held" "$dir/release"
	listen "$B" lis-$round
	lpid=$pid
	connect "$A" con-$round "$port"
	cpid=$pid
	await_connected con-$round
	serve_on_B held -c 1 "$box" sh -c "$held" "$dir"
	spawn "$A" "$shmbox" call -t 20000 "$box" "held$round-$$" >"$dir/out" 2>"$dir/err" &
	caller=$!
	pids="$pids $caller"
	await_file "$dir/held" 10 "round $round: the held call's server"
	case $who in
	listener) told=$lpid ;;
	connector) told=$cpid ;;
	both) told="$cpid $lpid" ;;
	esac
	kill -TERM $told
	[ "$who" = listener ] ||
		await "$dir/con-$round.log" "stopping" 5 "round $round: connecting bridge told to stop" "$cpid"
	[ "$who" = connector ] ||
		await "$dir/lis-$round.log" "stopping" 5 "round $round: listener told to stop" "$lpid"
	touch "$dir/release"
	await_exit "$caller" 10 "round $round: the caller of a call in flight at SIGTERM ($who)"
	status 0 "round $round: the caller of a call in flight at SIGTERM to the $who: $(cat "$dir/err")"
	[ "$(cat "$dir/out")" = "held$round-$$" ] ||
		fail "round $round: the call in flight at SIGTERM: reply '$(cat "$dir/out")'"
	# within 4 s: below the 5 s a stopping bridge gives what is in flight,
	# so neither may wait out its time for a peer that is stopping too
	for p in $told; do
		await_exit "$p" 4 "round $round: bridge $p after SIGTERM"
		[ "$st" -eq 0 ] || fail "round $round: bridge $p: status $st after SIGTERM, expected 0"
	done
	kill -9 "$lpid" "$cpid" 2>/dev/null
done
ok "SIGTERM with a call in flight, to the listener, the connector or both (5 rounds): replies came; exit 0"

# SIGTERM to both with nothing in flight: the connecting bridge may be gone
# before the listener's goodbye reaches it, and then owes no echo.
listen "$B" lis-idle
lpid=$pid
connect "$A" con-idle "$port"
cpid=$pid
await_connected con-idle
spawn "$A" "$shmbox" call -t 10000 "$box" "idle-$$" >"$dir/out" 2>"$dir/err" &
caller=$!
pids="$pids $caller"
serve_on_B idle -c 1 "$box"
await_exit "$caller" 10 "the call before the idle stop"
status 0 "the call before the idle stop: $(cat "$dir/err")"
kill -TERM "$lpid" "$cpid"
for p in "$cpid" "$lpid"; do
	await_exit "$p" 4 "bridge $p after SIGTERM to both, nothing in flight"
	[ "$st" -eq 0 ] || fail "bridge $p: status $st after SIGTERM to both, nothing in flight"
done
ok "SIGTERM to both bridges with nothing in flight: both exit 0 at once"
exit 0
