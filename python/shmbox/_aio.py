"""asyncio through the mailbox's descriptors: try the call with timeout 0,
and while it raises BlockingIOError wait for the descriptor in the event
loop.  A wake-up may find nothing (another process got there first): the
call is then simply tried again."""
import asyncio


class Waiters:
    """The futures waiting on one Mailbox's descriptors, by event loop and
    descriptor.  A loop watches a descriptor with one callback only, so
    every waiter on it shares one add_reader, which wakes them all."""

    def __init__(self):
        self._waiting = {}  # (loop, fd) -> set of futures

    async def until(self, box, what, call):
        """call(timeout=0) until it stops raising BlockingIOError."""
        while True:
            fd = box.fileno(what)  # before the look, so that the look arms it
            try:
                return call(0)
            except BlockingIOError:
                pass
            await self._readable(fd)

    async def _readable(self, fd):
        loop = asyncio.get_running_loop()
        key = (loop, fd)
        futures = self._waiting.get(key)
        if futures is None:
            futures = self._waiting[key] = set()
            loop.add_reader(fd, self._wake, key)
        future = loop.create_future()
        futures.add(future)
        try:
            await future
        finally:
            futures.discard(future)
            if not futures and self._waiting.get(key) is futures:
                del self._waiting[key]
                loop.remove_reader(fd)

    def _wake(self, key):
        for future in self._waiting.get(key, ()):
            if not future.done():
                future.set_result(None)

    def close(self):
        """The Mailbox closes: stop watching its descriptors (they are
        about to close) and fail whoever waits on them."""
        waiting, self._waiting = self._waiting, {}
        for (loop, fd), futures in waiting.items():
            loop.remove_reader(fd)
            for future in futures:
                if not future.done():
                    future.set_exception(ValueError("I/O operation on a closed mailbox"))
