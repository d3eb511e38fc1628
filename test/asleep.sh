# Sourced by test/cli.sh, test/demos.sh, test/kv.sh and test/watch.sh (not
# a test itself): is a process waiting the way the shmbox command, the
# demos and kvd wait (tool_wait, tool_poll in common/tool.c)?  Asleep in
# ppoll, not in the library's semtimedop nor anywhere else; and not woken
# while nothing happens: a wait cut into slices would wake at each slice,
# which /proc counts (voluntary_ctxt_switches).  These are properties of
# the process, not of timing: however slow the machine, an idle wait in
# ppoll wakes no times in a second, a sliced one several.
# The sourcing script defines fail MESSAGE.

# ppoll's system call number, as /proc/PID/syscall shows it; empty where
# not known (then only "asleep" and "not woken" are checked)
case $(uname -m) in
x86_64) sys_ppoll=271 ;;
aarch64 | riscv64 | loongarch64) sys_ppoll=73 ;; # the generic table
*) sys_ppoll= ;;
esac

# state PID[/task/TID]: R, S, T, Z... (the name in parentheses may hold
# spaces, and bytes that are not characters in the locale: LC_ALL=C)
task_state() { LC_ALL=C sed 's/.*) //; s/ .*//' "/proc/$1/stat" 2>/dev/null; }

# asleep_in_ppoll PID...: every thread of each is asleep (S) in ppoll
asleep_in_ppoll() {
	for p in "$@"; do
		for t in /proc/"$p"/task/*; do
			[ "$(task_state "$p/task/${t##*/}")" = S ] || return 1
			[ -z "$sys_ppoll" ] && continue
			read -r nr rest <"$t/syscall" 2>/dev/null || return 1
			[ "$nr" = "$sys_ppoll" ] || return 1
		done
	done
}

# where PID...: what each thread is doing, for a failure's message
where() {
	for p in "$@"; do
		for t in /proc/"$p"/task/*; do
			echo "$p/${t##*/}: state $(task_state "$p/task/${t##*/}"), syscall" \
				"$(cut -d' ' -f1 "$t/syscall" 2>/dev/null) (ppoll: ${sys_ppoll:-?})," \
				"wchan $(cat "$t/wchan" 2>/dev/null)"
		done
	done
}

# await_asleep WHAT PID...: until every thread of each is asleep in ppoll,
# 20 s at most
await_asleep() {
	what=$1
	shift
	i=0
	until asleep_in_ppoll "$@"; do
		i=$((i + 1))
		[ $i -lt 2000 ] || fail "$what: not asleep in ppoll after 20 s: $(where "$@")"
		sleep 0.01
	done
}

# switches PID...: how many times their threads have gone to sleep so far
switches() {
	cat /proc/"$1"/task/*/status 2>/dev/null |
		awk '$1 == "voluntary_ctxt_switches:" {n += $2} END {print n + 0}'
}

# stays_asleep WHAT PID...: asleep in ppoll now, and not woken once in the
# second that follows, while nothing happens
stays_asleep() {
	what=$1
	shift
	await_asleep "$what" "$@"
	before=
	for p in "$@"; do before="$before $(switches "$p")"; done
	sleep 1
	after=
	for p in "$@"; do after="$after $(switches "$p")"; done
	[ "$before" = "$after" ] ||
		fail "$what: woke while idle (sleeps so far, one second apart:$before, then$after)"
	asleep_in_ppoll "$@" || fail "$what: not asleep in ppoll any more: $(where "$@")"
}
