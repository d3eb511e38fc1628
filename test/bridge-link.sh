#!/bin/sh
# shmbox bridge, when the link fails while both bridges live (two IPC
# namespaces, see bridge-lib.sh): the connecting bridge reaches the
# listener through test/tcpcut.py, a proxy that drops every connection and
# refuses new ones for a while.  Thousands of messages through three cuts
# arrive all, once each, in order; a call in flight when the link is cut
# fails for its caller with ECONNRESET and is carried out once, never
# sent again.  The same when the link freezes (nothing moves, nothing is
# closed, as when packets are dropped on the way): the bridges notice a
# silent link by themselves, and once it moves again nothing was lost or
# sent twice.
. "$(dirname "$0")/bridge-lib.sh"
command -v python3 >/dev/null 2>&1 || skip "no python3 (test/tcpcut.py cuts the link)"

new_host
A=$host
new_host
B=$host

on "$A" "$shmbox" create -n 16 -s 64 "$box" || fail "create on A"
on "$B" "$shmbox" create -n 16 -s 64 "$box" || fail "create on B"
listen "$B" lis
lpid=$pid

# the proxy: three cuts by itself, each after about 40 KB more towards B
# (a few thousand messages), each 1 s long
python3 "$testdir/tcpcut.py" --cut-after 40000 --cuts 3 --down 1 --freeze 6 "$port" \
	>"$dir/cut.log" 2>&1 &
proxy=$!
pids="$pids $proxy"
await "$dir/cut.log" "^tcpcut: listening on " 10 "tcpcut.py" "$proxy"
pport=$(sed -n 's/^tcpcut: listening on //p' "$dir/cut.log")
connect "$A" con "$pport"
cpid=$pid
await_connected con

spawn "$B" "$shmbox" recv -c 30000 -t 20000 "$box" >"$dir/got" 2>"$dir/recv.log" &
rpid=$!
pids="$pids $rpid"
seq 1 30000 | spawn "$A" "$shmbox" send "$box" 2>"$dir/send.log" &
spid=$!
pids="$pids $spid"
await_exit "$rpid" 60 "recv of 30000 through three cuts"
[ "$st" -eq 0 ] || fail "recv of 30000 through three cuts: status $st: $(count_seq "$dir/got" 1 30000)"
check_seq "$dir/got" 1 30000 "30000 messages through three cuts"
await_exit "$spid" 5 "send of 30000"
grep -q "^tcpcut: up 3" "$dir/cut.log" || fail "tcpcut.py did not cut three times: $(cat "$dir/cut.log")"
lost=$(grep -c "^shmbox bridge: link to tcp://127.0.0.1:$pport lost" "$dir/con.log")
[ "$lost" -ge 3 ] || fail "the connecting bridge logged $lost links lost, not 3"
await_connected con 4
still_alive "$lpid" "listening bridge"
stats "$cpid" con
ok "30000 messages through 3 cuts of 1 s: all, once each, in order ($resent resent)"

# A call in flight when the link is cut: its caller fails with ECONNRESET;
# the server on B, which was carrying it out, finishes it once, and it is
# never sent again.
hold='r=$(cat); echo "$r" >>"$0/runs"; touch "$0/held"; i=0
while [ ! -e "$0/release" ] && [ $i -lt 1000 ]; do i=$((i + 1)); sleep 0.01; done
printf "%s" "$r"'
spawn "$B" "$shmbox" serve "$box" sh -c "$hold" "$dir" 2>"$dir/serve.log" &
pids="$pids $!"
spawn "$A" "$shmbox" call -t 20000 "$box" "inflight-$$" >"$dir/out" 2>"$dir/err" &
caller=$!
pids="$pids $caller"
await_file "$dir/held" 10 "the server on B, with the call"
ups=$(grep -c "^tcpcut: up" "$dir/cut.log")
kill -USR1 "$proxy"
t0=$(ms)
await_exit "$caller" 10 "the caller whose link was cut"
t=$(($(ms) - t0))
status $EX_UNAVAILABLE "the caller whose link was cut"
err_has "The server died before replying to the call" "the caller whose link was cut"
touch "$dir/release"
await_count "$dir/cut.log" "^tcpcut: up" $((ups + 1)) 10 "tcpcut.py, after the cut"
await_connected con 5
run on "$A" "$shmbox" call -t 10000 "$box" "after-$$"
status 0 "a call after the cut"
[ "$(cat "$dir/out")" = "after-$$" ] || fail "a call after the cut: reply '$(cat "$dir/out")'"
printf 'inflight-%s\nafter-%s\n' $$ $$ | cmp -s - "$dir/runs" ||
	fail "carried out on B: $(tr '\n' ' ' <"$dir/runs"), not inflight-$$ once, then after-$$"
ok "a call in flight when the link was cut: ECONNRESET after $t ms; carried out once, not sent again"

# The link freezes for 6 s while messages flow and a call is being carried
# out on B: the caller fails with ECONNRESET before the link moves again
# (a silent link is noticed, not waited out), and the messages all come,
# once each, in order.
rm "$dir/held" "$dir/release"
spawn "$B" "$shmbox" recv -c 10000 -t 30000 "$box" >"$dir/got" 2>"$dir/recv.log" &
rpid=$!
pids="$pids $rpid"
seq 30001 40000 | spawn "$A" "$shmbox" send "$box" 2>"$dir/send.log" &
spid=$!
pids="$pids $spid"
spawn "$A" "$shmbox" call -t 30000 "$box" "frozen-$$" >"$dir/out" 2>"$dir/err" &
caller=$!
pids="$pids $caller"
await_file "$dir/held" 10 "the server on B, with the call"
await_lines "$dir/got" 100 10 "B's first 100 of 10000"
lost=$(grep -c "^shmbox bridge: link to .* lost" "$dir/con.log")
kill -USR2 "$proxy"
await "$dir/cut.log" "^tcpcut: frozen" 5 "tcpcut.py, freezing"
t0=$(ms)
await_exit "$caller" 10 "the caller whose link froze"
t=$(($(ms) - t0))
status $EX_UNAVAILABLE "the caller whose link froze"
err_has "The server died before replying to the call" "the caller whose link froze"
grep -q "^tcpcut: thawed" "$dir/cut.log" &&
	fail "the caller whose link froze failed only after the link moved again ($t ms)"
await_count "$dir/con.log" "^shmbox bridge: link to .* lost" $((lost + 1)) 1 "connecting bridge"
touch "$dir/release"
await_exit "$rpid" 60 "recv of 10000 through a freeze"
[ "$st" -eq 0 ] || fail "recv of 10000 through a freeze: status $st: $(count_seq "$dir/got" 30001 40000)"
check_seq "$dir/got" 30001 40000 "10000 messages through a freeze"
await_exit "$spid" 5 "send of 10000"
run on "$A" "$shmbox" call -t 10000 "$box" "thawed-$$"
status 0 "a call after the freeze"
printf 'inflight-%s\nafter-%s\nfrozen-%s\nthawed-%s\n' $$ $$ $$ $$ | cmp -s - "$dir/runs" ||
	fail "carried out on B: $(tr '\n' ' ' <"$dir/runs"), not each call once"
ok "a frozen link: the call in flight failed (ECONNRESET) after $t ms; 10000 messages all came once"
stop "$cpid" "connecting bridge"
stop "$lpid" "listening bridge"
exit 0
