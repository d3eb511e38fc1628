#!/bin/sh
# shmbox quick start, for a fresh Debian machine (run as root, or with sudo
# rights for apt-get):
#   ./quickstart.sh demo   install what is missing, build, run the demo
#   ./quickstart.sh test   install what is missing, build, run every test
set -eu
cd "$(dirname "$0")"

PACKAGES="build-essential g++ autoconf automake libtool pkg-config check libbsd-dev valgrind groff-base spin libboost-dev libjansson-dev libncurses-dev libuv1-dev libzmq3-dev tmux python3 python3-pytest python3-sysv-ipc"

install_missing() {
	missing=
	for p in $PACKAGES; do
		dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "== installing:$missing"
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
}

build() {
	[ -x configure ] || autoreconf -fi
	[ -f Makefile ] || ./configure
	make -j"$(nproc)"
}

demo() {
	dir=$(mktemp -d /tmp/shmbox-quickstart.XXXXXX)
	trap 'rm -rf "$dir"' EXIT
	echo "== receiver (creates the mailbox) and sender, on key file $dir/key"
	./demos/receiver -f "$dir/key" -c 3 &
	./demos/sender -f "$dir/key" -w 10 "hello" "from another process" "through shared memory"
	wait $!
	echo "== done. Try it in two terminals:  ./demos/receiver   and   ./demos/sender hi there"
	echo "   and watch the slots from a third:  ./shmbox watch /tmp/shmbox-demo"
}

tests() {
	status=0
	echo "== make check"
	make -j"$(nproc)" check || status=1
	echo "== make check-valgrind (the Check suite under valgrind)"
	make check-valgrind || status=1
	echo "== make distcheck (from the tarball, with AddressSanitizer and UBSan)"
	make -j"$(nproc)" distcheck || status=1
	# Check's summary line is only in the logs: show them, last.
	for log in test/*.log; do
		[ "$log" = test/test-suite.log ] && continue
		echo "== $log"
		cat "$log"
	done
	return $status
}

case "${1:-}" in
demo) install_missing; build; demo ;;
test) install_missing; build; tests ;;
*) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
