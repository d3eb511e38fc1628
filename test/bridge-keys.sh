#!/bin/sh
# shmbox bridge, no one gets in who does not belong (two IPC namespaces,
# and more, see bridge-lib.sh): shmbox keygen; with --keys on both sides,
# messages and calls flow; a connecting bridge whose key is not in the
# listener's peers/, or that has the wrong key for the listener, delivers
# nothing, and the listener logs the refusal; a listener on an endpoint
# that is not loopback refuses to start without --keys unless --insecure;
# one on ipc:// needs neither; garbage on a listener's port (random bytes,
# and a ZeroMQ peer sending malformed messages), with and without --keys,
# is logged and dropped, and traffic still flows.
. "$(dirname "$0")/bridge-lib.sh"
command -v python3 >/dev/null 2>&1 || skip "no python3 (test/bridge-garbage.py)"

# keys NAME: a key pair in $dir/NAME, with an empty peers/
keys() {
	run "$shmbox" keygen "$dir/$1"
	status 0 "keygen $1"
	mkdir -p "$dir/$1/peers"
}
# z85 FILE: FILE holds one key, 40 characters of Z85
z85() {
	awk 'BEGIN { z = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#" }
		{ k = $0 }
		END { if (NR != 1 || length(k) != 40) exit 1
		      for (i = 1; i <= 40; i++) if (!index(z, substr(k, i, 1))) exit 1 }' "$1"
}
# garbage KIND PORT PID NAME WHAT: bridge-garbage.py KIND at PORT, where
# the listener PID, whose log is $dir/NAME.log, says so: in a new line, or
# (as it may log only the first few of many) in its count of what it
# dropped as malformed
garbage() {
	local n m
	n=$(grep -vc "stats:" "$dir/$4.log")
	stats "$3" "$4"
	m=$malformed
	for seed in 1 2; do
		python3 "$testdir/bridge-garbage.py" "$1" "$2" $seed 2>>"$dir/garbage.log" ||
			fail "$5: bridge-garbage.py $1 failed"
	done
	i=0
	until [ "$(grep -vc "stats:" "$dir/$4.log")" -gt "$n" ] ||
		{ stats "$3" "$4" && [ -n "$m" ] && [ "$malformed" -gt "$m" ]; }; do
		i=$((i + 1))
		[ $i -lt 50 ] || fail "$5: garbage ($1) on the port, and nothing in $4.log says so"
		sleep 0.1
	done
}
# flows HOST NAME FIRST LAST: messages FIRST..LAST put on HOST arrive on B
flows() {
	seq "$3" "$4" | on "$1" "$shmbox" send -p "$proj" "$box" || fail "$2: send"
	on "$B" "$shmbox" recv -p "$proj" -c $(($4 - $3 + 1)) -t 10000 "$box" >"$dir/got" \
		2>"$dir/recv.log" || fail "$2: recv: $(count_seq "$dir/got" "$3" "$4")"
	check_seq "$dir/got" "$3" "$4" "$2"
}

new_host
A=$host
new_host
B=$host
new_host
C=$host # its key is not in B's peers/
new_host
D=$host # has the wrong key for B
for h in "$A" "$B" "$C" "$D"; do
	on "$h" "$shmbox" create "$box" || fail "create"
done

# keygen: a secret key only its owner reads, and a public one
keys a
keys b
[ "$(stat -c %a "$dir/a/key")" = 600 ] || fail "keygen: key has mode $(stat -c %a "$dir/a/key"), not 600"
z85 "$dir/a/key" && z85 "$dir/a/key.pub" || fail "keygen: not one Z85 key in each of key, key.pub"
cmp -s "$dir/a/key.pub" "$dir/b/key.pub" && fail "keygen: two runs, one key"
ok "keygen: key (mode 600) and key.pub, Z85"

# A and B know each other: messages and calls flow, encrypted.
cp "$dir/a/key.pub" "$dir/b/peers/a.pub"
cp "$dir/b/key.pub" "$dir/a/peers/b.pub"
listen "$B" lis --keys "$dir/b"
lpid=$pid
connect "$A" con "$port" --keys "$dir/a"
cpid=$pid
await_connected con
flows "$A" "with keys" 1 1000
spawn "$B" "$shmbox" serve "$box" 2>"$dir/serve.log" &
pids="$pids $!"
run on "$A" "$shmbox" call -t 10000 "$box" "keyed-$$"
status 0 "a call with keys"
[ "$(cat "$dir/out")" = "keyed-$$" ] || fail "a call with keys: reply '$(cat "$dir/out")'"
ok "with --keys on both sides: 1000 messages and a call"

# Garbage on the keyed listener's port: logged, dropped, and A's traffic
# flows on.
garbage raw "$port" "$lpid" lis "--keys listener"
garbage zmtp "$port" "$lpid" lis "--keys listener"
still_alive "$lpid" "listening bridge with --keys"
flows "$A" "with keys, after garbage" 1001 2000
ok "garbage on a --keys listener's port: logged; traffic flows on"

# C's key is not in B's peers/; D has B's key wrong.  Neither delivers
# anything; B logs C's refusal with C's key.
keys c
cp "$dir/b/key.pub" "$dir/c/peers/b.pub"
keys d
keys e # not B
cp "$dir/e/key.pub" "$dir/d/peers/b.pub"
cp "$dir/d/key.pub" "$dir/b/peers/d.pub" # B would let D in, if D knew B
connect "$C" conc "$port" --keys "$dir/c"
cpidc=$pid
connect "$D" cond "$port" --keys "$dir/d"
cpidd=$pid
echo stranger-c | on "$C" "$shmbox" send "$box" || fail "send on C"
echo stranger-d | on "$D" "$shmbox" send "$box" || fail "send on D"
await_text "$dir/lis.log" "$(cat "$dir/c/key.pub")" 10 "the listener, refusing C's key"
grep -F -e "$(cat "$dir/c/key.pub")" "$dir/lis.log" | grep -qi "refus" ||
	fail "the listener's line with C's key does not say it refused it"
run on "$B" "$shmbox" recv -t 2000 "$box"
status $EX_TEMPFAIL "recv on B, with only C and D sending: $(cat "$dir/out")"
still_alive "$cpidc" "C's connecting bridge"
still_alive "$cpidd" "D's connecting bridge"
flows "$A" "with keys, while C and D knock" 2001 2100
kill -9 "$cpidc" "$cpidd"
ok "a key not in peers/ (C), and the wrong key for the listener (D): nothing delivered; C's refusal logged"
stop "$cpid" "connecting bridge with --keys"
stop "$lpid" "listening bridge with --keys"

# Not loopback: no start without --keys (64, and why), unless --insecure.
for ep in "tcp://0.0.0.0:*" "tcp://*:*"; do
	run on "$B" "$shmbox" bridge --listen "$ep" "$box"
	status $EX_USAGE "listen on $ep without --keys"
	grep -q -e "--keys" "$dir/err" && grep -q -e "--insecure" "$dir/err" ||
		fail "listen on $ep without --keys: the message names neither --keys nor --insecure"
done
endpoint="tcp://0.0.0.0:*"
listen "$B" wide --insecure
stop "$pid" "listening bridge on tcp://0.0.0.0:* with --insecure"
listen "$B" widekeys --keys "$dir/b"
stop "$pid" "listening bridge on tcp://0.0.0.0:* with --keys"
endpoint=
ok "not loopback: refused without --keys (64, says why); starts with --insecure or --keys"

# ipc:// needs no keys; messages flow over it.
spawn "$B" "$shmbox" bridge --listen "ipc://$dir/sock" "$box" 2>"$dir/ipclis.log" &
lpid=$!
pids="$pids $lpid"
await "$dir/ipclis.log" "^shmbox bridge: listening on " 10 "listener on ipc://" "$lpid"
spawn "$A" "$shmbox" bridge --connect "ipc://$dir/sock" "$box" 2>"$dir/ipccon.log" &
cpid=$!
pids="$pids $cpid"
await_connected ipccon
flows "$A" "over ipc://" 1 100
stop "$cpid" "connecting bridge on ipc://"
stop "$lpid" "listening bridge on ipc://"
ok "ipc:// without keys: 100 messages"

# Garbage on a listener's port without --keys, where ZeroMQ lets random
# bytes through as messages: logged, dropped, and traffic flows on.
listen "$B" plain
lpid=$pid
connect "$A" plaincon "$port"
cpid=$pid
await_connected plaincon
garbage raw "$port" "$lpid" plain "listener without keys"
garbage zmtp "$port" "$lpid" plain "listener without keys"
still_alive "$lpid" "listening bridge without keys"
flows "$A" "without keys, after garbage" 1 1000
stats "$lpid" plain
[ "$messages" -eq 1000 ] || fail "listener without keys: stats say $messages messages, not 1000"
ok "garbage on a listener's port without keys: logged; traffic flows on; messages 1000" \
	"(malformed ${malformed:-?})"
stop "$cpid" "connecting bridge without keys"
stop "$lpid" "listening bridge without keys"
exit 0
