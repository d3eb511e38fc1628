"""get_async, put_async and accept_async: waiting in the event loop on the
mailbox's descriptors, with other processes on the other side."""
import asyncio
import threading

import pytest

import shmbox
from conftest import wait_for


def run(coro, timeout=20):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_get_async_from_another_process(box, keyfile, children):
    async def main():
        sender = children.python("""
            import sys, shmbox
            with shmbox.Mailbox.open(sys.argv[1]) as box:
                for i in range(50):
                    box.put(b"%d" % i)
        """, keyfile)
        got = [await box.get_async() for _ in range(50)]
        return got, await asyncio.get_running_loop().run_in_executor(None, sender.wait)

    got, status = run(main())
    assert got == [b"%d" % i for i in range(50)] and status == 0


def test_the_loop_runs_while_waiting(box):
    async def main():
        waiting = asyncio.ensure_future(box.get_async())
        ticks = 0
        while box.stat().getters_waiting == 0 and ticks < 3:  # it never sleeps in the library
            await asyncio.sleep(0.01)
            ticks += 1
        assert not waiting.done()
        threading.Thread(target=box.put, args=(b"late",)).start()
        return await waiting, ticks

    got, ticks = run(main())
    assert got == b"late" and ticks == 3


def test_waiters_share_one_descriptor_and_spurious_wakes_are_absorbed(box, keyfile):
    # Three tasks wait on the same descriptor; one message wakes them all,
    # one takes it, the others find nothing and wait on.
    async def main():
        tasks = [asyncio.ensure_future(box.get_async()) for _ in range(3)]
        await asyncio.sleep(0)
        box.put(b"one")
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for _ in range(5):
            await asyncio.sleep(0.01)
        assert len(done) == 1 and len(pending) == 2
        box.put(b"two")
        box.put(b"three")
        await asyncio.wait(pending)
        return sorted(t.result() for t in tasks)

    assert run(main()) == [b"one", b"three", b"two"]


def test_accept_async_serves_callers_in_other_processes(box, keyfile, children):
    async def main():
        callers = [children.python("""
            import sys, shmbox
            with shmbox.Mailbox.open(sys.argv[1]) as box:
                sys.stdout.buffer.write(box.call(sys.argv[2].encode(), timeout=10))
        """, keyfile, "caller %d" % i) for i in range(3)]
        for _ in callers:
            req, ticket = await box.accept_async()
            box.reply(ticket, req.upper())
        loop = asyncio.get_running_loop()
        return [await loop.run_in_executor(None, c.communicate) for c in callers]

    outs = run(main())
    assert sorted(o for o, e in outs) == [b"CALLER 0", b"CALLER 1", b"CALLER 2"]


def test_put_async_waits_for_room(box):
    for i in range(box.slots):
        box.put(b"%d" % i)

    async def main():
        putting = asyncio.ensure_future(box.put_async(b"ninth"))
        await asyncio.sleep(0.02)
        assert not putting.done()
        assert box.get() == b"0"
        await putting

    run(main())
    assert [box.get(0) for _ in range(box.slots)][-1] == b"ninth"


def test_cancel_takes_nothing(box):
    async def main():
        t = asyncio.ensure_future(box.get_async())
        await asyncio.sleep(0.01)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    run(main())
    box.put(b"kept")
    assert box.get(0) == b"kept"


def test_close_fails_the_waiters(box, keyfile):
    async def main():
        t = asyncio.ensure_future(box.get_async())
        await asyncio.sleep(0.01)
        box.close()
        with pytest.raises(ValueError, match="closed"):
            await t

    run(main())
