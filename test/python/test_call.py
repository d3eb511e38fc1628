"""Request/reply between threads and between processes."""
import pickle
import subprocess
import threading

import pytest

import shmbox
from conftest import wait_for


def test_call_accept_reply(box):
    def server():
        for _ in range(3):
            req, ticket = box.accept(timeout=10)
            box.reply(ticket, req.upper())

    t = threading.Thread(target=server)
    t.start()
    assert [box.call(w, timeout=10) for w in (b"one", b"two", b"")] == [b"ONE", b"TWO", b""]
    t.join()


def test_requests_and_messages_travel_apart(box):
    box.put(b"plain")
    with pytest.raises(BlockingIOError):
        box.accept(timeout=0)
    assert box.get(0) == b"plain"


def test_replies_later_in_any_order_from_another_process(box, keyfile, children):
    # A server takes two calls, then answers the second first, and hands
    # the first ticket (pickled) to another process to answer.
    server = children.python("""
        import os, pickle, sys, shmbox
        box = shmbox.Mailbox.open(sys.argv[1])
        a = box.accept(timeout=10)
        b = box.accept(timeout=10)
        box.reply(b[1], b"reply to " + b[0])
        sys.stdout.buffer.write(pickle.dumps(a))
        sys.stdout.flush()
        os.close(1)
        sys.stdin.read()  # a server that leaves with a call unanswered fails it
    """, keyfile, stdin=subprocess.PIPE)
    results = {}
    callers = [threading.Thread(target=lambda r=r: results.__setitem__(r, box.call(r, timeout=10)))
               for r in (b"first", b"second")]
    callers[0].start()
    wait_for(lambda: box.stat().requests + box.stat().calls >= 1, what="the first call queued")
    callers[1].start()
    req, ticket = pickle.loads(server.stdout.read())
    assert isinstance(ticket, shmbox.Ticket)
    answer = children.python("""
        import sys, shmbox
        box = shmbox.Mailbox.open(sys.argv[1])
        box.reply(shmbox.Ticket(int(sys.argv[2]), int(sys.argv[3])), b"answered elsewhere")
    """, keyfile, ticket.slot, ticket.gen)
    assert answer.wait(10) == 0
    server.stdin.close()
    assert server.wait(10) == 0
    for t in callers:
        t.join(10)
    first, second = b"first", b"second"
    if req == second:
        first, second = second, first
    assert results == {first: b"answered elsewhere", second: b"reply to " + second}


def test_reply_of_slot_size_and_over(box):
    def server():
        req, ticket = box.accept(timeout=10)
        with pytest.raises(shmbox.Error):
            box.reply(ticket, bytes(box.slot_size + 1))  # nothing sent: the caller waits on
        box.reply(ticket, bytes(box.slot_size))

    t = threading.Thread(target=server)
    t.start()
    assert box.call(b"big", timeout=10) == bytes(box.slot_size)
    t.join()


def test_call_with_nobody_serving(box):
    with pytest.raises(TimeoutError):
        box.call(b"hello?", timeout=0.05)
    with pytest.raises(BlockingIOError):
        box.call(b"hello?", timeout=0)
    with pytest.raises(BlockingIOError):  # both withdrawn: a server finds neither
        box.accept(timeout=0)
