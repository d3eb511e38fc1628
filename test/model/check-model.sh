#!/bin/sh
# Model-check shmbox's put/get slot protocol (test/model/shmbox.pml) with
# spin: the model as the C code is must pass every run, and each
# deliberately broken variant must be rejected, for the expected reason.
# Exit 0 if all of that holds, 1 if not, 77 (automake's SKIP) without spin
# or a C compiler.  See test/model/README.md.
#
#   SHMBOX_MODEL_FULL=1    also run the bigger configurations (minutes,
#                          one at a time, up to 1.9 GB each)
#   SHMBOX_MODEL_MEMLIM=MB memory bound of one run (default 900)
#   SHMBOX_MODEL_STRICT=1  treat the known defect (README.md, "Findings")
#                          as a failure instead of an expected failure
#   SHMBOX_MODEL_JOBS=n    runs at a time (default: 2 if 2 CPUs or more)
#   SHMBOX_MODEL_KEEP=1    keep the work directory (trails, pan output)

LC_ALL=C
export LC_ALL

here=${srcdir:+$srcdir/test/model}
if [ -z "$here" ] || [ ! -f "$here/shmbox.pml" ]; then
	here=$(dirname "$0")
fi
model=$(cd "$here" && pwd)/shmbox.pml
if [ ! -f "$model" ]; then
	echo "check-model: cannot find shmbox.pml (looked in $here)" >&2
	exit 1
fi

SPIN=${SPIN:-spin}
CC=${CC:-cc}
if ! command -v "$SPIN" >/dev/null 2>&1; then
	echo "check-model: SKIP: spin is not installed (apt-get install spin)"
	exit 77
fi
# shellcheck disable=SC2086 # CC may hold words ("ccache gcc")
if ! command -v $CC >/dev/null 2>&1; then
	echo "check-model: SKIP: no C compiler ($CC)"
	exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/shmbox-model.XXXXXX") || exit 1
if [ -z "$SHMBOX_MODEL_KEEP" ]; then
	trap 'rm -rf "$work"' EXIT
	trap 'rm -rf "$work"; exit 130' INT TERM HUP
else
	echo "check-model: work directory $work (kept)"
fi

jobs=${SHMBOX_MODEL_JOBS:-}
memlim=${SHMBOX_MODEL_MEMLIM:-900}	# MB per run
if [ -n "$SHMBOX_MODEL_FULL" ]; then
	# the bigger runs take up to ~1.5 GB each: one at a time
	jobs=${jobs:-1}
	memlim=${SHMBOX_MODEL_MEMLIM:-1900}
fi
if [ -z "$jobs" ]; then
	ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
	if [ "$ncpu" -ge 2 ] 2>/dev/null; then jobs=2; else jobs=1; fi
fi

# Configurations (see README.md):
#   A: producer 1 puts 2, producer 2 puts 1, one consumer
#   B: one producer puts 3, two consumers, consumer 2 gets at most once
#   C: two producers put 1 each, two consumers, consumer 2 gets at most once
A="-DP1MSGS=2 -DP2MSGS=1 -DNCONS=1"
B="-DP1MSGS=3 -DP2MSGS=0 -DNCONS=2 -DC2GETS=1"
C="-DP1MSGS=1 -DP2MSGS=1 -DNCONS=2 -DC2GETS=1"
# DEATHS: 1 producer 1, 2 producer 2, 4 consumer 2 (at most one dies)
# TIMEOUTS: 0 no time slice ends, 1 slices end when all are stuck (livelock
# check), 2 a slice may end at any moment
NODEATH="-DDEATHS=0 -DTIMEOUTS=0"
# POLLER: consumer 1 polls a descriptor (shmbox_fd) and gets with timeout 0
#   PA: as A; PA11: producers 1 and 2 put 1 message each, no consumer 2
#   (there the two producers are alike: letting producer 2 die covers both)
PA="-DPOLLER $A"
PA11="-DPOLLER -DP1MSGS=1 -DP2MSGS=1 -DNCONS=1"
PLIVE="-DDEATHS=3 -DTIMEOUTS=1"
PLIVE11="-DDEATHS=2 -DTIMEOUTS=1"
#   PL: as PA11, producer 2 attaches late (LATE)
PL="-DPOLLER -DLATE -DP1MSGS=1 -DP2MSGS=1 -DNCONS=1"
# PUTPOLLER: producer 1 polls the put side's descriptor and puts 1 message
# into a box full of 2; consumer 1 makes at most 1 get
#   PP: no consumer 2; PPL: consumer 2 attaches late, makes at most 1 get
#   (DEATHS: 8 consumer 1, 4 consumer 2, 12 either)
PP="-DPUTPOLLER -DP1MSGS=1 -DP2MSGS=0 -DNCONS=1"
PPL="-DPUTPOLLER -DLATE -DP1MSGS=1 -DP2MSGS=0 -DNCONS=2 -DC2GETS=1"
PPL2="-DPUTPOLLER -DLATE -DP1MSGS=2 -DP2MSGS=0 -DNCONS=2 -DC2GETS=1"

# One run per line: name@expectation@spin flags@what it checks.
# Expectation: pass, fail:PATTERN (must fail, pan's output must match the
# extended regular expression PATTERN), xfail:PATTERN (known defect);
# prefixed with "np,": a search for non-progress cycles (pan -l: any cycle,
# the model having no progress labels) instead of the safety search.
runs=$work/runs
cat >"$runs" <<EOF
B-death@pass@$B -DDEATHS=4 -DTIMEOUTS=2@a consumer dies at any step, slices end at any time: safety
B-live@pass@$B -DDEATHS=4 -DTIMEOUTS=1@a consumer dies at any step: survivors finish (livelock check)
C-baton@pass@$C $NODEATH@2 producers, 2 consumers, no deaths, no timeouts: one publish makes two messages ready
A-death@pass@$A -DDEATHS=3 -DTIMEOUTS=2@a producer dies at any step, slices end at any time: safety
A-live@pass@$A -DDEATHS=3 -DTIMEOUTS=1@a producer dies at any step: survivors finish (livelock check)
poll-quiet@np,pass@$PA11 -DDEATHS=2 -DTIMEOUTS=0@descriptor: no run goes on for ever (it goes quiet), a producer may die
poll-nodeath@pass@$PA $NODEATH@descriptor: 2 producers, a poller, no deaths, no timeouts: deadlock = lost wake-up
poll-live@pass@$PA11 $PLIVE11@descriptor: a producer dies at any step, ringing too: the poller is not stranded (livelock check)
poll-late-live@pass@$PL $PLIVE11@descriptor: as poll-live, producer 2 attaches late (and rings)
put-quiet@np,pass@$PPL -DDEATHS=12 -DTIMEOUTS=0@put descriptor: no run goes on for ever (it goes quiet), a getter (one attached late too) may die
put-late-live@pass@$PPL -DDEATHS=12 -DTIMEOUTS=1@put descriptor: box full, a getter (one attached late too) dies at any step, claim to release: the putter is not stranded (livelock check)
B-nodeath@pass@$B $NODEATH@1 producer, 2 consumers, no deaths, no timeouts
put-nodeath@pass@$PPL $NODEATH@put descriptor: a getter attached late, no deaths, no timeouts: deadlock = lost wake-up
put-live@pass@$PP -DDEATHS=8 -DTIMEOUTS=1@put descriptor: box full, the one getter dies at any step: the putter is not stranded (livelock check)
put-2-live@pass@-DPUTPOLLER -DP1MSGS=2 -DP2MSGS=0 -DNCONS=1 -DPREFILL=1 -DC1GETS=2 -DDEATHS=8 -DTIMEOUTS=1@put descriptor: 1 queued, 2 puts (room for the first), the getter makes 2 gets and dies at any step
A-nodeath@pass@$A $NODEATH@2 producers, 1 consumer, no deaths, no timeouts: deadlock = lost wakeup
broken-baton@fail:invalid end state@$C $NODEATH -DBROKEN_NO_BATON@BROKEN: no baton (the C code before d8502ba: a lost wakeup)
broken-publish@fail:!\((torn|dup)\)@$A $NODEATH -DBROKEN_PUBLISH_BEFORE_COPY@BROKEN: publish before the copy
broken-wake@fail:invalid end state@$A $NODEATH -DBROKEN_WAKE_BEFORE_PUBLISH@BROKEN: waker reads the counter before publishing
broken-recheck@fail:invalid end state@$A $NODEATH -DBROKEN_NO_RECHECK@BROKEN: sleeper does not look again after announcing
broken-recover@fail:!\(lost\)@$A $NODEATH -DBROKEN_RECOVER_NO_TOKEN@BROKEN: recovery frees READING without the token
counter-drift@fail:!\(phantom\)@$A -DDEATHS=0 -DTIMEOUTS=2 -DCHECK_WAITERS@the sleeper counter may count more than the sleepers, as sem.c says: spin must show it
broken-norecovery@fail:!\(livelock\)@$A -DDEATHS=3 -DTIMEOUTS=1 -DBROKEN_NO_RECOVERY@BROKEN: no recovery at all (liveness check has teeth)
broken-arm@fail:invalid end state@$PA $NODEATH -DBROKEN_ARM_AFTER_CHECK@BROKEN: descriptor: look once more, then arm
broken-selfring@fail:invalid end state@$PA $NODEATH -DBROKEN_NO_SELF_RING@BROKEN: descriptor: no ring of itself after the look that found work
broken-nowatch@fail:!\(livelock\)@$PA11 $PLIVE11 -DBROKEN_NO_WATCH@BROKEN: descriptor: no process watched (no pidfds)
broken-nowatchall@fail:!\(livelock\)@$PA11 $PLIVE11 -DBROKEN_NO_WATCH_ALL@BROKEN: descriptor: the holder in the way watched alone (before 5e58c07, without its ring before publish's CAS)
broken-after@fail:!\(livelock\)@$PA11 $PLIVE11 -DBROKEN_WATCH_AFTER_LOOK@BROKEN: descriptor: everyone watched after the look (finding 4: before 9480b8f)
broken-holdercheck@fail:!\(livelock\)@$PA11 $PLIVE11 -DBROKEN_NO_HOLDER_CHECK@BROKEN: descriptor: no look at the token of the holder in the way
broken-drain@np,fail:non-progress cycle@$PA $NODEATH -DBROKEN_NO_DRAIN@BROKEN: descriptor: never drained (the quiet check has teeth)
broken-keepwatch@np,fail:non-progress cycle@$PA11 -DDEATHS=2 -DTIMEOUTS=0 -DBROKEN_KEEP_WATCH@BROKEN: descriptor: a dead process's pidfd is kept
broken-ring-xchg@fail:!\(livelock\)@$PA11 $PLIVE11 -DBROKEN_RING_XCHG@BROKEN: descriptor: a ringer clears the bit, then sends (finding 3, before dede292)
broken-arm-count@fail:invalid end state@$PA $NODEATH -DBROKEN_ARM_NO_COUNT@BROKEN: descriptor: no count of arms: a ringer clears an arm it did not ring
broken-put-nowatch@fail:!\(livelock\)@$PP -DDEATHS=8 -DTIMEOUTS=1 -DBROKEN_NO_WATCH@BROKEN: put descriptor: no process watched
broken-put-all@fail:!\(livelock\)@$PP -DDEATHS=8 -DTIMEOUTS=1 -DBROKEN_NO_WATCH_ALL@BROKEN: put descriptor: the holder watched alone (before fc607dd)
broken-put-after@fail:!\(livelock\)@$PP -DDEATHS=8 -DTIMEOUTS=1 -DBROKEN_WATCH_AFTER_LOOK@BROKEN: put descriptor: everyone watched after the look (finding 4: fc607dd)
broken-put-after2@fail:!\(livelock\)@$PP -DDEATHS=8 -DTIMEOUTS=1 -DBROKEN_WATCH_AFTER_LOOK -DNO_PID_REUSE@BROKEN: as broken-put-after, with no pid reused: still stranded
broken-attach-ring@fail:!\(livelock\)@$PPL -DC1GETS=0 -DDEATHS=4 -DTIMEOUTS=1 -DBROKEN_ATTACH_NO_RING@BROKEN: put descriptor: a process that attaches does not ring
EOF
if [ -n "$SHMBOX_MODEL_FULL" ]; then
	cat >>"$runs" <<EOF
A-spin@pass@$A -DDEATHS=3 -DTIMEOUTS=2 -DSPIN_LIMIT=1@as A-death, with a spin (one look) before sleeping
A2-death@pass@-DP1MSGS=2 -DP2MSGS=2 -DNCONS=1 -DDEATHS=3 -DTIMEOUTS=2@2+2 messages, a producer dies: safety
A2-live@pass@-DP1MSGS=2 -DP2MSGS=2 -DNCONS=1 -DDEATHS=3 -DTIMEOUTS=1@2+2 messages, a producer dies: livelock check
B2-death@pass@-DP1MSGS=3 -DP2MSGS=0 -DNCONS=2 -DC2GETS=2 -DDEATHS=4 -DTIMEOUTS=2@consumer 2 gets twice, may die: safety
C-death-P@pass@$C -DDEATHS=1 -DTIMEOUTS=2@2 producers, 2 consumers, a producer dies (the two are alike): safety
C-death-C@pass@$C -DDEATHS=4 -DTIMEOUTS=2@2 producers, 2 consumers, consumer 2 dies: safety
C-live-P@pass@$C -DDEATHS=1 -DTIMEOUTS=1@2 producers, 2 consumers, a producer dies: livelock check
C-live-C@pass@$C -DDEATHS=4 -DTIMEOUTS=1@2 producers, 2 consumers, consumer 2 dies: livelock check
poll-B@pass@-DPOLLER $B $NODEATH@descriptor: 1 producer (3 msgs), a poller and a blocking consumer, no deaths
poll-A-death@pass@$PA -DDEATHS=3 -DTIMEOUTS=2@descriptor: as poll-nodeath, a producer dies at any step: safety
poll-A-live@pass@$PA $PLIVE@descriptor: as poll-nodeath, a producer dies at any step: livelock check
poll-quiet-A@np,pass@$PA $NODEATH@descriptor: no run goes on for ever, 2+1 messages
poll-A-late-live@pass@-DPOLLER -DLATE $A $PLIVE@descriptor: as poll-A-live, producer 2 attaches late
poll-late-quiet@np,pass@$PL -DDEATHS=2 -DTIMEOUTS=0@descriptor: no run goes on for ever, producer 2 attaches late and may die
poll-late-attach@fail:!\(livelock\)@$PL $PLIVE11 -DBROKEN_ATTACH_NO_RING@BROKEN: descriptor: a producer that attaches does not ring
put-late-2@pass@$PPL2 -DDEATHS=12 -DTIMEOUTS=1@put descriptor: as put-late-live with 2 puts: livelock check
put-late-22@pass@-DPUTPOLLER -DLATE -DP1MSGS=2 -DP2MSGS=0 -DNCONS=2 -DC1GETS=2 -DC2GETS=2 -DDEATHS=12 -DTIMEOUTS=1@put descriptor: 2 puts, 2 getters of 2 gets each (one attached late), one dies: livelock check
put-late-room@pass@$PPL2 -DPREFILL=1 -DDEATHS=12 -DTIMEOUTS=1@put descriptor: 1 queued, 2 puts (room for the first), getters that sleep too: livelock check
put-late-death@pass@$PPL -DDEATHS=12 -DTIMEOUTS=2@put descriptor: as put-late-live, slices end at any time: safety
EOF
fi

# run NAME EXPECT FLAGS: writes $work/NAME/result: "ok|FAIL ... text"
run_one() {
	name=$1 expect=$2 flags=$3
	# safety search, or (np,) a search for cycles
	panflags="-DSAFETY" panrun=""
	case $expect in
	np,*) expect=${expect#np,} panflags="-DNP" panrun="-l" ;;
	esac
	d=$work/$name
	mkdir -p "$d" && cp "$model" "$d/" || return
	(
		cd "$d" || exit 1
		start=$(date +%s)
		# shellcheck disable=SC2086
		if ! "$SPIN" $flags -a shmbox.pml >spin.out 2>&1; then
			echo "FAIL spin -a failed: $(head -3 spin.out | tr '\n' ' ')" >result
			exit 0
		fi
		# shellcheck disable=SC2086
		if ! $CC -O1 -w $panflags -DCOLLAPSE -DVECTORSZ=512 -DMEMLIM="$memlim" \
			-o pan pan.c >cc.out 2>&1; then
			echo "FAIL cc pan.c failed: $(head -3 cc.out | tr '\n' ' ')" >result
			exit 0
		fi
		# shellcheck disable=SC2086
		./pan $panrun -m100000 -w24 >pan.out 2>&1
		end=$(date +%s)
		errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' pan.out | head -1)
		states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.out | head -1)
		trans=$(sed -n 's/^ *\([0-9.e+]*\) transitions.*/\1/p' pan.out | head -1)
		what=$(grep -E '^pan:1: ' pan.out | head -1 | sed 's/^pan:1: //')
		info="${states:-?} states, ${trans:-?} transitions, $((end - start)) s"
		if [ -z "$errors" ]; then
			echo "FAIL pan did not finish: $(tail -2 pan.out | tr '\n' ' ')" >result
		elif grep -q 'max search depth too small' pan.out; then
			echo "FAIL search depth too small (incomplete): $info" >result
		elif grep -Eq 'out of memory|reached -DMEMLIM' pan.out; then
			echo "FAIL out of memory: $info" >result
		else
			case $expect in
			pass)
				if [ "$errors" = 0 ]; then
					echo "ok   0 errors; $info" >result
				else
					# shellcheck disable=SC2086
					"$SPIN" -t $flags shmbox.pml >trail.txt 2>&1
					echo "FAIL $what; $info" >result
				fi ;;
			fail:* | xfail:*)
				pat=${expect#*:}
				kind=${expect%%:*}
				if [ "$errors" != 0 ] && grep -Eq "^pan:1: .*$pat" pan.out; then
					if [ "$kind" = fail ]; then
						echo "ok   rejected: $what; $info" >result
					elif [ -n "$SHMBOX_MODEL_STRICT" ]; then
						echo "FAIL known defect: $what; $info" >result
					else
						echo "xfail known defect: $what; $info" >result
					fi
				elif [ "$errors" != 0 ]; then
					echo "FAIL rejected for another reason: $what; $info" >result
				elif [ "$kind" = fail ]; then
					echo "FAIL accepted, but must be rejected; $info" >result
				else
					echo "FAIL known defect no longer found (update check-model.sh); $info" >result
				fi ;;
			esac
		fi
	)
}

# $jobs workers go down the list (the biggest runs come first), each taking
# the next run nobody has taken (mkdir is atomic); then report in order.
t0=$(date +%s)
echo "check-model: $("$SPIN" -V 2>&1 | head -1); $jobs run(s) at a time"
w=0
while [ "$w" -lt "$jobs" ]; do
	(
		while IFS='@' read -r name expect flags what; do
			if mkdir "$work/taken.$name" 2>/dev/null; then
				run_one "$name" "$expect" "$flags"
			fi
		done <"$runs"
	) &
	w=$((w + 1))
done
wait

status=0
while IFS='@' read -r name expect flags what; do
	r=$(cat "$work/$name/result" 2>/dev/null || echo "FAIL no result")
	printf '%-18s %s\n' "$name" "$what"
	printf '%-18s   %s\n' "" "$r"
	case $r in
	FAIL*)
		status=1
		if [ -f "$work/$name/trail.txt" ]; then
			echo "    counterexample (spin -t):"
			grep -E 'assertion|invalid|proc' "$work/$name/trail.txt" | tail -5 | sed 's/^/      /'
		fi ;;
	esac
done <"$runs"
t1=$(date +%s)
if [ "$status" = 0 ]; then
	echo "check-model: PASS ($((t1 - t0)) s)"
else
	echo "check-model: FAIL ($((t1 - t0)) s)"
fi
exit $status
