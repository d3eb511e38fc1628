#!/bin/sh
# The Python module's pytest suite (test/python/), against the library just
# built: every call, every error, zero copy, asyncio, threads, Ctrl-C, and
# C programs on the other side.  Needs python3 with pytest (Debian:
# python3-pytest); skipped (77) without them.
set -u
# make check runs this from the build tree; by hand, from anywhere.
build=.
[ -f "$build/.libs/libshmbox.so.0" ] || build=$(dirname "$0")/..
build=$(cd "$build" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)

# configure's python3 (PYTHON), else the first python3 on PATH or the
# system's that has pytest: a python3 of one's own (pyenv, a venv) may
# lack it while the system's has it.
py=
for candidate in ${PYTHON:-} python3 /usr/bin/python3; do
	[ "$candidate" = : ] && continue
	command -v "$candidate" >/dev/null 2>&1 || continue
	if "$candidate" -c 'import pytest' 2>/dev/null; then
		py=$candidate
		break
	fi
done
if [ -z "$py" ]; then
	if command -v python3 >/dev/null 2>&1; then
		echo "python: SKIP: no pytest for python3 (Debian: apt-get install python3-pytest)"
	else
		echo "python: SKIP: no python3 (Debian: apt-get install python3 python3-pytest)"
	fi
	exit 77
fi

SHMBOX_LIBRARY="$build/.libs/libshmbox.so.0"
[ -f "$SHMBOX_LIBRARY" ] || { echo "python: no $SHMBOX_LIBRARY: build first"; exit 99; }
# A library built with AddressSanitizer (--enable-sanitizers, distcheck)
# loads only after the sanitizer's runtime, which python3 does not carry.
asan=$(ldd "$SHMBOX_LIBRARY" | sed -n 's/.*\(libasan\.so[^ ]*\) => \([^ ]*\).*/\2/p')
if [ -n "$asan" ]; then
	LD_PRELOAD="$asan${LD_PRELOAD:+ $LD_PRELOAD}"
	# Python's own allocations live until exit: leaks are the C tests' job.
	ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
	export LD_PRELOAD ASAN_OPTIONS
fi
SHMBOX_BUILDDIR=$build
PYTHONPATH="$src/python${PYTHONPATH:+:$PYTHONPATH}"
# No __pycache__ or .pytest_cache in the source tree (read-only in distcheck).
PYTHONDONTWRITEBYTECODE=1
export SHMBOX_LIBRARY SHMBOX_BUILDDIR PYTHONPATH PYTHONDONTWRITEBYTECODE
echo "python: $("$py" -c 'import sys; print(sys.executable, sys.version.split()[0])'), pytest in $src/test/python"
exec "$py" -m pytest -q -p no:cacheprovider -o addopts= "$src/test/python"
