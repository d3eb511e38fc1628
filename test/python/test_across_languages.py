"""Python with C on the other side: the shmbox command and the demos."""
import os
import signal
import subprocess
import sys
import threading

import pytest

import shmbox
from conftest import SRC, program, wait_for


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, timeout=30, **kw)


def test_c_sender_python_receiver(box, keyfile):
    r = run([program("shmbox"), "send", keyfile, "hello", "from C"])
    assert r.returncode == 0, r.stderr
    assert [box.get(timeout=5), box.get(timeout=5)] == [b"hello", b"from C"]
    r = run([program("demos/sender"), "-f", keyfile, "via the demo"])
    assert r.returncode == 0, r.stderr
    assert box.get(timeout=5) == b"via the demo"


def test_python_sender_c_receiver(box, keyfile):
    box.put(b"to C")
    box.put(b"\x00binary\xff")
    r = run([program("shmbox"), "recv", "-c", "1", keyfile])
    assert (r.returncode, r.stdout) == (0, b"to C\n")
    r = run([program("shmbox"), "recv", "-r", keyfile])
    assert (r.returncode, r.stdout) == (0, b"\x00binary\xff")


def test_python_server_answers_shmbox_call(box, keyfile):
    def serve():
        req, ticket = box.accept(timeout=20)
        box.reply(ticket, b"python says " + req)

    t = threading.Thread(target=serve)
    t.start()
    r = run([program("shmbox"), "call", "-t", "10000", keyfile, "hi"])
    t.join()
    assert (r.returncode, r.stdout) == (0, b"python says hi\n"), r.stderr


def test_python_caller_to_shmbox_serve(box, keyfile, children):
    server = children.start([program("shmbox"), "serve", keyfile, "tr", "a-z", "A-Z"])
    assert box.call(b"shout", timeout=10) == b"SHOUT"
    server.terminate()
    server.wait(10)


def test_python_server_demo_answers_kvctl(keys, children):
    key = keys.new("kv")
    os.unlink(key)  # the server makes it
    server = children.start([sys.executable,
                             os.path.join(SRC, "demos/python/server.py"), "-k", key])
    assert server.stdout.readline().startswith(b"server: serving on")
    kvctl = program("demos/kvctl")

    def kv(*args):
        r = run([kvctl, "-k", key] + list(args))
        return r.returncode, r.stdout

    assert kv("set", "greeting", "hello, world") == (0, b"")
    assert kv("get", "greeting") == (0, b"hello, world\n")
    assert kv("get", "nothing") == (1, b"")
    assert kv("del", "greeting") == (0, b"")
    assert kv("del", "greeting") == (1, b"")
    # clients at once
    procs = [subprocess.Popen([kvctl, "-k", key, "set", "k%d" % i, "v%d" % i]) for i in range(8)]
    assert [p.wait(30) for p in procs] == [0] * 8
    assert kv("get", "k7") == (0, b"v7\n")
    server.send_signal(signal.SIGTERM)
    assert server.wait(10) == 0
    with pytest.raises(FileNotFoundError):
        shmbox.Mailbox.open(key)
    assert kv("get", "k7")[0] == 2  # no server running


def test_python_caller_to_kvd(keys, children):
    key = keys.new("kv")
    pidfile = os.path.join(keys.dir, "kvd.pid")
    kvd = children.start([program("demos/kvd"), "-f", "-k", key, "-p", pidfile, "-w", "2"])

    def box_there():
        try:
            shmbox.Mailbox.open(key).close()
            return True
        except FileNotFoundError:
            return False

    wait_for(box_there, what="kvd's mailbox")
    with shmbox.Mailbox.open(key) as box:
        assert box.call(b"S lang python", timeout=10) == b"+"
        assert box.call(b"G lang", timeout=10) == b"+python"
        assert box.call(b"D lang", timeout=10) == b"+"
        assert box.call(b"G lang", timeout=10) == b"-"
        assert box.call(b"nonsense", timeout=10).startswith(b"!")
    r = run([program("demos/kvctl"), "-k", key, "set", "from", "c"])
    assert r.returncode == 0
    with shmbox.Mailbox.open(key) as box:
        assert box.call(b"G from", timeout=10) == b"+c"
    kvd.send_signal(signal.SIGTERM)
    assert kvd.wait(10) == 0
