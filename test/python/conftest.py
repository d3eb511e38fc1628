"""Fixtures for the Python module's tests: private key files whose IPC
objects are removed whatever happens, child processes that are killed at
the end, the build tree's C programs, and waiting with a deadline."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

import pytest

import shmbox

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
BUILD = os.environ.get("SHMBOX_BUILDDIR", SRC)


def program(relpath):
    """A program of the build tree (libtool's wrapper finds the library)."""
    path = os.path.join(BUILD, relpath)
    if not os.access(path, os.X_OK):
        pytest.skip("%s is not built" % path)
    return path


def wait_for(condition, timeout=10, what="the condition"):
    """Until condition() is true, for `timeout` seconds at most."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("%s did not hold within %s s" % (what, timeout))
        time.sleep(0.005)


class Keys:
    """Key files in a private directory; at the end, whatever mailbox is at
    any of them is removed, and the directory with them."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="shmbox-py.")
        self.made = []

    def new(self, name="key"):
        path = os.path.join(self.dir, name)
        open(path, "a").close()
        self.made.append(path)
        return path

    def cleanup(self):
        for path in self.made:
            for proj in (1, 2):
                try:
                    shmbox.unlink(path, proj)
                except FileNotFoundError:
                    pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def keys():
    k = Keys()
    try:
        yield k
    finally:
        k.cleanup()


@pytest.fixture
def keyfile(keys):
    return keys.new()


@pytest.fixture
def box(keyfile):
    """A fresh mailbox of 8 slots of 256 bytes, closed and removed after."""
    b = shmbox.Mailbox.create(keyfile, slots=8, slot_size=256)
    try:
        yield b
    finally:
        b.close()


class Children:
    """Processes started by a test, killed (and reaped) at its end."""

    def __init__(self):
        self.procs = []

    def start(self, argv, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(argv, **kw)
        self.procs.append(p)
        return p

    def python(self, code, *args, **kw):
        """python3 running `code` (dedented), with sys.argv[1:] = args."""
        return self.start([sys.executable, "-c", textwrap.dedent(code)] + [str(a) for a in args], **kw)

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait()
            for f in (p.stdin, p.stdout, p.stderr):
                if f is not None:
                    f.close()


@pytest.fixture
def children():
    c = Children()
    try:
        yield c
    finally:
        c.cleanup()
