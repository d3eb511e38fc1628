"""Threads sharing one Mailbox: every message once, the GIL released while
a call waits, and close or destroy while another thread waits."""
import errno
import threading

import pytest

import shmbox
from conftest import wait_for


def test_threads_share_a_mailbox(box):
    n_threads, each = 4, 200
    got, errors = [], []

    def producer(k):
        for i in range(each):
            box.put(b"%d:%d" % (k, i), timeout=10)

    def consumer():
        try:
            while True:
                m = box.get(timeout=10)
                if m == b"stop":
                    return
                got.append(m)
        except Exception as e:
            errors.append(e)

    consumers = [threading.Thread(target=consumer) for _ in range(n_threads)]
    producers = [threading.Thread(target=producer, args=(k,)) for k in range(n_threads)]
    for t in consumers + producers:
        t.start()
    for t in producers:
        t.join()
    for _ in consumers:
        box.put(b"stop", timeout=10)
    for t in consumers:
        t.join()
    assert not errors
    assert sorted(got) == sorted(b"%d:%d" % (k, i) for k in range(n_threads) for i in range(each))


def test_a_waiting_call_releases_the_gil(box):
    # While one thread sleeps in get, this one runs Python code; the get
    # only returns once this thread has put what it waits for.
    got = []
    t = threading.Thread(target=lambda: got.append(box.get(timeout=30)))
    t.start()
    wait_for(lambda: box.stat().getters_waiting == 1, what="the getter asleep")
    total = sum(range(100000))  # Python bytecode, while the other thread waits
    box.put(b"%d" % total)
    t.join(10)
    assert got == [b"%d" % total]


def test_close_while_another_thread_waits(box, keyfile):
    results = []

    def getter():
        try:
            results.append(box.get(timeout=30))
        except Exception as e:
            results.append(e)

    t = threading.Thread(target=getter)
    t.start()
    wait_for(lambda: box.stat().getters_waiting == 1, what="the getter asleep")
    box.close()
    assert box.closed
    with pytest.raises(ValueError):
        box.put(b"x")
    # The handle stays open for the waiting get, which still gets its message.
    with shmbox.Mailbox.open(keyfile) as other:
        other.put(b"still delivered")
        t.join(10)
        assert results == [b"still delivered"]
        assert box._handle is None  # freed once the get returned
        other.destroy()


def test_destroy_wakes_waiting_threads(box):
    results = []

    def getter():
        try:
            box.get(timeout=30)
        except shmbox.Error as e:
            results.append(e.errno)

    threads = [threading.Thread(target=getter) for _ in range(3)]
    for t in threads:
        t.start()
    wait_for(lambda: box.stat().getters_waiting == 3, what="three getters asleep")
    box.destroy()
    for t in threads:
        t.join(10)
    assert results == [errno.EIDRM] * 3
    assert box._handle is None
