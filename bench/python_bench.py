#!/usr/bin/env python3
"""shmbox from Python next to Python's own ways between two processes:
multiprocessing.Queue, multiprocessing.Pipe (send_bytes/recv_bytes, no
pickling) and sysv_ipc.MessageQueue (Debian python3-sysv-ipc).  One
producer and one consumer process (fork), 64 B and 4 KiB messages, every
message checked (its sequence number); the median of --reps runs, in
messages per second.  Then the per-call overhead over the C library:
put+get pairs in one process through shmbox.Mailbox, through bare ctypes
calls, and in C (bench/shmbox-pair).

    PYTHONPATH=python python3 bench/python_bench.py [--count N] [--reps R]

Figures, not verdicts: bench/README.md says what they mean.
"""
import argparse
import ctypes
import multiprocessing
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "python"))
import shmbox  # noqa: E402  (after the path: the tree's module if run from the tree)

try:
    import sysv_ipc
except ImportError:
    sysv_ipc = None

SEQ = struct.Struct("=Q")
STOP = (1 << 64) - 1


def message(i, size):
    return SEQ.pack(i) + bytes(size - SEQ.size)


def check(m, i, size):
    if len(m) != size or SEQ.unpack_from(m)[0] != i:
        raise AssertionError("message %d: wrong (%d bytes, number %d)"
                             % (i, len(m), SEQ.unpack_from(m)[0]))


# Each transport: setup(size) -> state; send(state) and recv(state) give the
# callables each process uses (opened in that process); teardown(state).

class Shmbox:
    name = "shmbox"

    def setup(self, size, tmp):
        key = os.path.join(tmp, "key")
        slots = max(16, (1 << 20) // size)  # about 1 MiB of slots (bench/README.md)
        shmbox.Mailbox.create(key, slots=slots, slot_size=size).close()
        return key

    def sender(self, key):
        box = shmbox.Mailbox.open(key)
        return box.put, box.close

    def receiver(self, key):
        box = shmbox.Mailbox.open(key)
        return box.get, box.close

    def teardown(self, key):
        shmbox.unlink(key)


class MpQueue:
    name = "multiprocessing.Queue"

    def setup(self, size, tmp):
        return multiprocessing.get_context("fork").Queue(maxsize=1024)

    def sender(self, q):
        return q.put, lambda: (q.close(), q.join_thread())

    def receiver(self, q):
        return q.get, lambda: None

    def teardown(self, q):
        q.close()


class MpPipe:
    name = "multiprocessing.Pipe"

    def setup(self, size, tmp):
        return multiprocessing.get_context("fork").Pipe(duplex=False)

    def sender(self, ends):
        return ends[1].send_bytes, ends[1].close

    def receiver(self, ends):
        return ends[0].recv_bytes, ends[0].close

    def teardown(self, ends):
        ends[0].close()
        ends[1].close()


class SysvMq:
    name = "sysv_ipc.MessageQueue"

    def setup(self, size, tmp):
        # max_message_size: the receive buffer (default 2048); 8 KiB is the
        # kernel's own default limit per message (msgmax)
        return sysv_ipc.MessageQueue(None, sysv_ipc.IPC_CREX, mode=0o600,
                                     max_message_size=8192).key

    def sender(self, key):
        q = sysv_ipc.MessageQueue(key, max_message_size=8192)
        return q.send, lambda: None

    def receiver(self, key):
        q = sysv_ipc.MessageQueue(key, max_message_size=8192)
        return (lambda: q.receive()[0]), lambda: None

    def teardown(self, key):
        sysv_ipc.MessageQueue(key).remove()


def produce(t, state, size, count, go):
    send, done = t.sender(state)
    msgs = [message(i, size) for i in range(min(count, 1024))]
    go.wait()
    for i in range(count):
        m = msgs[i % 1024]
        if i >= 1024:
            m = SEQ.pack(i) + m[SEQ.size:]
        send(m)
    done()


def consume(t, state, size, count, ready, result):
    recv, done = t.receiver(state)
    ready.set()
    m = recv()  # the clock starts at the first message: both are running
    start = time.perf_counter()
    check(m, 0, size)
    for i in range(1, count):
        check(recv(), i, size)
    result.put((count - 1) / (time.perf_counter() - start))
    done()


def one_run(t, size, count):
    ctx = multiprocessing.get_context("fork")
    tmp = tempfile.mkdtemp(prefix="shmbox-pybench.")
    state = t.setup(size, tmp)
    procs = []
    try:
        go, ready, result = ctx.Event(), ctx.Event(), ctx.SimpleQueue()
        procs = [ctx.Process(target=consume, args=(t, state, size, count, ready, result)),
                 ctx.Process(target=produce, args=(t, state, size, count, go))]
        for p in procs:
            p.start()
        if not ready.wait(30):
            raise RuntimeError("%s: the consumer did not start" % t.name)
        go.set()
        deadline = time.monotonic() + 120
        while any(p.is_alive() for p in procs):
            if any(p.exitcode not in (None, 0) for p in procs) or time.monotonic() > deadline:
                break
            procs[0].join(0.05)
        if any(p.exitcode != 0 for p in procs):
            raise RuntimeError("%s: a process failed or hung (exit statuses %s)"
                               % (t.name, [p.exitcode for p in procs]))
        return result.get()
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
        t.teardown(state)
        shutil.rmtree(tmp, ignore_errors=True)


def pairs_python(size, count, tmp):
    key = os.path.join(tmp, "pairs")
    with shmbox.Mailbox.create(key, slots=64, slot_size=size) as box:
        m = bytes(size)
        put, get = box.put, box.get
        start = time.perf_counter()
        for _ in range(count):
            put(m, 0)
            get(0)
        mailbox_ns = (time.perf_counter() - start) / count * 1e9
        # The same two C calls through bare ctypes, arguments made once.
        from shmbox import _library as L
        h, buf = box._handle, ctypes.create_string_buffer(size)
        cput, cget = L.put, L.get
        start = time.perf_counter()
        for _ in range(count):
            cput(h, m, size, 0)
            cget(h, buf, size, 0)
        ctypes_ns = (time.perf_counter() - start) / count * 1e9
        box.destroy()
    return mailbox_ns, ctypes_ns


def pairs_c(size, count, tmp):
    here = os.path.dirname(os.path.abspath(__file__))
    build = os.environ.get("SHMBOX_BUILDDIR", os.path.join(here, os.pardir))
    prog = os.path.join(build, "bench", "shmbox-pair")
    if not os.access(prog, os.X_OK):
        return None
    key = os.path.join(tmp, "cpairs")
    open(key, "a").close()
    out = subprocess.run([prog, key, str(size), str(count)], capture_output=True, check=True)
    return float(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=50000, help="messages per run (default 50000)")
    ap.add_argument("--reps", type=int, default=3, help="runs per figure; the median is shown")
    args = ap.parse_args()

    transports = [Shmbox(), MpQueue(), MpPipe()] + ([SysvMq()] if sysv_ipc else [])
    sizes = [64, 4096]
    print("python %s, library %s, %d CPUs; %d messages per run, median of %d"
          % (sys.version.split()[0], shmbox._library.lib._name, os.cpu_count(),
             args.count, args.reps))
    if not sysv_ipc:
        print("(no sysv_ipc: Debian python3-sysv-ipc; its row is left out)")
    print("\n%-24s %14s %14s" % ("messages/s, 1 -> 1", "64 B", "4 KiB"))
    rates = {}
    for t in transports:
        row = []
        for size in sizes:
            runs = [one_run(t, size, args.count) for _ in range(args.reps)]
            rates[t.name, size] = statistics.median(runs)
            row.append("%14s" % ("{:,.0f}".format(rates[t.name, size])))
        print("%-24s %s" % (t.name, " ".join(row)), flush=True)
    for size in sizes:
        best, name = max((r, n) for (n, s), r in rates.items() if s == size and n != "shmbox")
        print("%-5s shmbox / multiprocessing.Queue: %.1fx; shmbox / the best other (%s): %.1fx"
              % ("64 B" if size == 64 else "4 KiB",
                 rates["shmbox", size] / rates["multiprocessing.Queue", size],
                 name, rates["shmbox", size] / best))

    print("\nput+get pair in one process, ns   %10s %10s" % ("64 B", "4 KiB"))
    tmp = tempfile.mkdtemp(prefix="shmbox-pybench.")
    try:
        py = [pairs_python(size, args.count, tmp) for size in sizes]
        c = [pairs_c(size, args.count * 4, tmp) for size in sizes]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("%-34s %10.0f %10.0f" % ("shmbox.Mailbox put + get", py[0][0], py[1][0]))
    print("%-34s %10.0f %10.0f" % ("bare ctypes calls", py[0][1], py[1][1]))
    if c[0] is not None:
        print("%-34s %10.0f %10.0f" % ("C (bench/shmbox-pair)", c[0], c[1]))
        print("%-34s %10.0f %10.0f" % ("Mailbox's overhead over C, per call",
                                       (py[0][0] - c[0]) / 2, (py[1][0] - c[1]) / 2))
    else:
        print("(bench/shmbox-pair is not built: no C figure)")


if __name__ == "__main__":
    main()
