#!/bin/sh
# shmbox watch on a real terminal.  tmux runs an interactive bash in a
# pseudo-terminal; the test types into it (send-keys) and reads the screen
# a user would see (capture-pane, -e for the colours and attributes).
# Checked: the frame shows the messages and that watch is not attached,
# and a serve listening on its descriptor for accept;
# the layout follows the window's size (SIGWINCH); Ctrl-Z gives the
# terminal back and fg redraws; colour on xterm, the states still told
# apart without it (xterm-mono, vt100); a mailbox removed and made again;
# plain text where ncurses cannot draw (TERM=dumb); q, Ctrl-C and SIGTERM
# end it with status 0 and the terminal's modes as they were.  Between
# frames it sleeps in one ppoll on the keyboard, which nothing wakes while
# nothing happens, and a key, Ctrl-Z and fg, or Ctrl-C end at once.
#
# Every wait polls the screen with a deadline of 20 s.  Exits 0 (pass),
# 1 (fail) or 77 (skip: no System V IPC, or no tmux or bash; the quick
# start installs tmux, so CI never skips).
set -u

if [ -x ./shmbox ]; then
	shmbox=$(pwd)/shmbox # automake runs tests from the top build directory
else
	shmbox=$(cd "$(dirname "$0")/.." && pwd)/shmbox
fi
[ -r /proc/sysvipc/shm ] || { echo "SKIP: no System V IPC"; exit 77; }
for t in tmux bash; do
	command -v $t >/dev/null 2>&1 || { echo "SKIP: no $t (apt-get install $t)"; exit 77; }
done
unset TMUX # a test run inside tmux starts its own server all the same
. "$(dirname "$0")/asleep.sh" # stays_asleep: waits without slices

dir=$(mktemp -d "${TMPDIR:-/tmp}/shmbox-watch.XXXXXX") || exit 1
box="$dir/box"
spid= # a serve
PROMPT='watch-test$'

tm() { tmux -S "$dir/tmux.sock" -f /dev/null "$@"; }

# The key ftok gives: project, then the low bytes of device and inode.
ipckey() {
	set -- $(stat -c '%d %i' "$1") "$2"
	printf '0x%08x' $(((($3 & 255) << 24) | (($1 & 255) << 16) | ($2 & 65535)))
}

# Whatever happens: the tmux server (and watch with it) and the mailbox go.
cleanup() {
	[ -z "$spid" ] || kill -9 "$spid" 2>/dev/null
	tm kill-server 2>/dev/null
	if [ -e "$box" ]; then
		k=$(ipckey "$box" 1)
		ipcrm -M "$k" 2>/dev/null
		ipcrm -S "$k" 2>/dev/null
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' HUP INT PIPE TERM

screen() { tm capture-pane -p -t w; }
colours() { tm capture-pane -p -e -t w; }

fail() {
	echo "FAIL: $*"
	echo "--- screen"
	screen
	exit 1
}

# wait_for WHAT COMMAND...: until COMMAND succeeds, 20 s at most
wait_for() {
	what=$1
	shift
	end=$(($(date +%s) + 20))
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || fail "waited 20 s for $what"
		sleep 0.05
	done
}
shows() { screen | grep -qF -- "$1"; }
hides() { ! screen | grep -qF -- "$1"; }
has_line() { screen | grep -qx -- "$1"; }
rows() { [ "$(screen | grep -c '^slot ')" -eq "$1" ]; }
frames() { [ "$(screen | grep -c '^slot ')" -ge "$1" ]; }
cleared() { [ "$(screen | grep .)" = "$PROMPT" ]; }
at_prompt() { # after ^C, the prompt is on that line
	case $(screen | grep . | tail -n 1) in
	*"$PROMPT") return 0 ;;
	*) return 1 ;;
	esac
}

# type LINE: as if typed, then Enter
type_line() {
	tm send-keys -t w -l "$1"
	tm send-keys -t w Enter
}

# run_watch TERM: watch in the pane's shell, on that terminal type, from
# a clear screen
run_watch() {
	type_line clear
	wait_for "a clear screen" cleared
	type_line "TERM=$1 '$shmbox' watch -i 50 '$box'"
	wait_for "watch on $1" shows "Ctrl-C to stop"
}

# ended HOW: watch has ended, with status 0 and the terminal's modes back
ended() {
	wait_for "the prompt after $1" at_prompt
	type_line "echo \"status=\$?\"; stty -g >'$dir/stty.after'"
	wait_for "watch's status after $1" has_line "status=[0-9]*"
	has_line "status=0" || fail "$1: watch did not end with status 0"
	wait_for "stty after $1" test -s "$dir/stty.after"
	cmp -s "$dir/stty.before" "$dir/stty.after" || fail "$1: the terminal's modes changed"
	rm -f "$dir/stty.after"
}

"$shmbox" create -n 40 -s 64 "$box" || fail "create"
tm new-session -d -s w -x 100 -y 40 -c "$dir" \
	"env PS1='$PROMPT ' HISTFILE=/dev/null TERM=xterm bash --norc --noprofile -i" ||
	fail "tmux new-session"
wait_for "the prompt" at_prompt
type_line "stty -g >'$dir/stty.before'"
wait_for "stty" test -s "$dir/stty.before"

# xterm: the messages, in colour; watch is not among the attached
run_watch xterm
wait_for "an empty ring" shows "0 queued, 40 free"
shows "attached 0 of" || fail "watch is attached: it should observe read-only"
shows "q or Ctrl-C to stop" || fail "no q in the footer"
"$shmbox" send "$box" one two three || fail "send"
wait_for "three messages" shows "slot [#][#][#][ ]"
shows "3 queued, 37 free" || fail "not 3 queued"
colours | grep '^slot' | grep -q '32m#' || fail "xterm: full cells are not green"
# a serve waiting for a call listens on its descriptor for accept, armed
shows "listening: 0 for get, 0 for put, 0 for accept" || fail "no listening line"
"$shmbox" serve "$box" >/dev/null 2>&1 &
spid=$!
wait_for "serve listening for accept" shows "listening: 0 for get, 0 for put, 1 for accept (1 armed)"
kill -TERM "$spid"
wait "$spid" || fail "serve ended with status $? on SIGTERM"
spid=
wait_for "serve no longer listening" shows "listening: 0 for get, 0 for put, 0 for accept"

# the window's size: 30 cells a row at 100 columns, 15 at 60, one
# character a cell when 20 lines are too few for three rows of three
wait_for "two rows of 30 at 100x40" rows 2
tm resize-window -t w -x 60 -y 40
wait_for "three rows of 15 at 60x40" rows 3
tm resize-window -t w -x 60 -y 20
wait_for "one character a cell at 60x20" has_line "slot ###$(printf '%037d' 0 | tr 0 .)"
tm resize-window -t w -x 100 -y 40
wait_for "two rows again at 100x40" rows 2

# Ctrl-Z gives the terminal back; fg redraws, with what came meanwhile
tm send-keys -t w C-z
wait_for "the shell after Ctrl-Z" shows "Stopped"
wait_for "the prompt after Ctrl-Z" at_prompt
hides "Ctrl-C to stop" || fail "Ctrl-Z: the frame is still on the screen"
type_line "stty -g >'$dir/stty.stopped'"
wait_for "stty while stopped" test -s "$dir/stty.stopped"
cmp -s "$dir/stty.before" "$dir/stty.stopped" || fail "Ctrl-Z: the terminal's modes not given back"
"$shmbox" send "$box" four || fail "send"
type_line fg
wait_for "the frame after fg" shows "slot [#][#][#][#][ ]"
shows "4 queued, 36 free" || fail "fg: not redrawn with 4 queued"

# q ends it; the alternate screen is gone with the frame
tm send-keys -t w q
ended "q"
hides "Ctrl-C to stop" || fail "q: the frame is still on the screen"

# no colour: full cells in reverse video, the letters as before; SIGTERM
run_watch xterm-mono
wait_for "four messages on xterm-mono" shows "slot [#][#][#][#][ ]"
line=$(colours | grep '^slot')
! printf '%s\n' "$line" | grep -q '3[0-7]m' || fail "xterm-mono: colours"
printf '%s\n' "$line" | grep -q '7m#' || fail "xterm-mono: full cells not in reverse video"
shell=$(tm display-message -p -t w '#{pane_pid}')
pid=$(pgrep -P "$shell")
[ -n "$pid" ] || fail "no watch process under the pane's shell"
kill -TERM $pid
ended "SIGTERM"

# vt100 (no colour, no alternate screen): a mailbox removed and made
# again; Ctrl-C
run_watch vt100
wait_for "four messages on vt100" shows "slot [#][#][#][#][ ]"
"$shmbox" rm "$box" || fail "rm"
wait_for "the removal" shows "The mailbox was removed"
"$shmbox" create -n 8 -s 64 "$box" || fail "create again"
wait_for "the new mailbox" shows "slot [ ][ ][ ][ ][ ][ ][ ][ ]"
tm send-keys -t w C-c
ended "Ctrl-C"

# TERM=dumb: ncurses cannot place the cursor; plain frames one after another
run_watch dumb
wait_for "a second frame" frames 2
hides "q or Ctrl-C" || fail "dumb: offers q, which it does not read"
! colours | grep -q "$(printf '\033')" || fail "dumb: escape sequences"
tm send-keys -t w C-c
ended "Ctrl-C on dumb"

# an hour between frames: asleep until something happens; then a key, fg
# after Ctrl-Z, and Ctrl-C each act at once
type_line clear
wait_for "a clear screen" cleared
type_line "TERM=xterm '$shmbox' watch -i 3600000 '$box'"
wait_for "watch with an hour between frames" shows "Ctrl-C to stop"
pid=$(pgrep -P "$shell")
[ -n "$pid" ] || fail "no watch process under the pane's shell"
stays_asleep "watch between frames, on a terminal" $pid
"$shmbox" send "$box" one || fail "send"
tm send-keys -t w Space
wait_for "a frame on a key" shows "1 queued, 7 free"
tm send-keys -t w C-z
wait_for "the shell after Ctrl-Z" shows "Stopped"
wait_for "the prompt after Ctrl-Z" at_prompt
"$shmbox" send "$box" two || fail "send"
type_line fg
wait_for "a frame after fg" shows "2 queued, 6 free"
tm send-keys -t w C-c
ended "Ctrl-C with an hour between frames"

"$shmbox" rm "$box" || fail "rm"
exit 0
