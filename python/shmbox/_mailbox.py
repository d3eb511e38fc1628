"""shmbox.Mailbox: one handle on a mailbox, over the C library."""
import collections
import ctypes
import errno as E
import os
import threading

from . import _aio, _errors, _library as L, _stat, _zerocopy
from ._timeout import to_ms

Ticket = collections.namedtuple("Ticket", "slot gen")
Ticket.__doc__ = """Where the reply to an accepted call goes: a plain value that may be
kept, copied, pickled or handed to another process attached to the same
mailbox, and answered once with Mailbox.reply."""

_FD_KINDS = {"get": L.FD_GET, "put": L.FD_PUT, "accept": L.FD_ACCEPT}


def _as_buffer(data):
    """A bytes-like object as (something ctypes passes as a pointer, length),
    without a copy unless the object is read-only and not bytes."""
    if type(data) is bytes:
        return data, len(data)
    if isinstance(data, str):
        raise TypeError("a message is bytes-like, not str: encode it first")
    m = memoryview(data)
    if not m.c_contiguous:
        raise BufferError("a message must be one contiguous buffer")
    n = m.nbytes
    if n == 0:
        return None, 0
    if m.readonly:
        return m.tobytes(), n
    return (ctypes.c_char * n).from_buffer(m.cast("B")), n


def _fspath(path):
    return os.fsencode(os.fspath(path))


class Mailbox:
    """A handle on a shmbox mailbox: a ring of fixed-size message slots in
    one System V shared-memory segment, found from a key file and a
    project id, as ftok(3) makes a key from them.

    Make one with Mailbox.create(path, ...) or attach to one with
    Mailbox.open(path); `with` closes it.  Timeouts are in seconds: None
    waits for ever, 0 never waits (BlockingIOError if it would have to),
    more waits at most that long (TimeoutError).  Messages are bytes-like
    objects of at most slot_size bytes; get, call and accept return bytes.

    Errors are OSError subclasses with errno set: FileNotFoundError (no
    such mailbox or key file), FileExistsError, PermissionError,
    TimeoutError, BlockingIOError, InterruptedError, and shmbox.Error for
    the library's own codes (EIDRM once the mailbox is removed, EMSGSIZE,
    ECONNRESET, ECANCELED, ...).  Ctrl-C during a blocking call raises
    KeyboardInterrupt at once.  Using a closed Mailbox raises ValueError.

    Threads may share a Mailbox; a blocking call releases the GIL.  A
    process must open its own: after fork() the child's copy fails with
    shmbox.Error (EBADF).

    Attributes: path, proj_id, slots, slot_size, mode, max_procs.
    """

    def __init__(self, handle, path, proj_id):
        """Use Mailbox.create or Mailbox.open."""
        self._handle = handle
        self._lock = threading.Lock()
        self._busy = 0          # calls in progress in other threads
        self._deferred = None   # the C call that ends the handle, once idle
        self._local = threading.local()
        self._waiters = _aio.Waiters()
        self.path = path
        self.proj_id = proj_id
        attr = L.Attr()
        L.getattr_(handle, ctypes.byref(attr))
        self.slots = attr.slots
        self.slot_size = attr.slot_size
        self.mode = attr.mode
        self.max_procs = attr.max_procs

    @classmethod
    def create(cls, path, proj_id=1, slots=64, slot_size=4096, mode=0o600, max_procs=0):
        """Make a new mailbox at the key of `path` and `proj_id` and open it.

        The key file is made (empty, mode 0644) if there is none, as the
        `shmbox create` command does.  slots: how many messages it holds;
        slot_size: the largest message, in bytes; mode: permission bits of
        the shared memory and semaphores; max_procs: how many processes may
        have it open at once (0: the library's default, 64).
        FileExistsError if a mailbox is there already.
        """
        if slots < 1 or slot_size < 1:
            raise ValueError("slots and slot_size must be at least 1")
        try:
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            pass
        attr = L.Attr(slots, slot_size, mode, max_procs)
        handle = L.HANDLE()
        if L.create(_fspath(path), proj_id, ctypes.byref(attr), ctypes.byref(handle)) == -1:
            _errors.raise_errno(path)
        return cls(handle.value, path, proj_id)

    @classmethod
    def open(cls, path, proj_id=1):
        """Attach to the mailbox at the key of `path` and `proj_id`.
        FileNotFoundError if there is none (or no key file)."""
        handle = L.HANDLE()
        if L.open_(_fspath(path), proj_id, ctypes.byref(handle)) == -1:
            _errors.raise_errno(path)
        return cls(handle.value, path, proj_id)

    # -- the handle's life: a call in one thread keeps it open for others --

    def _enter(self):
        with self._lock:
            if self._deferred is not None or self._handle is None:
                raise ValueError("I/O operation on a closed mailbox")
            self._busy += 1
            return self._handle

    def _leave(self):
        with self._lock:
            self._busy -= 1
            if self._busy == 0 and self._deferred is not None:
                self._end(self._deferred)

    def _end(self, how):
        handle, self._handle = self._handle, None
        if how(handle) == -1:  # destroy failed: the handle is still open
            self._handle = handle
            self._deferred = None
            _errors.raise_errno(self.path)

    def _shut(self, how):
        self._waiters.close()
        with self._lock:
            if self._handle is None or self._deferred is not None:
                return False
            if self._busy:
                self._deferred = L.close
                return True
            self._end(how)
            return False

    def close(self):
        """Detach from the mailbox; it stays for the others.  Closing twice
        does nothing.  If another thread is in a call on this Mailbox, the
        handle is freed when that call returns (a call waiting for ever
        keeps it until it is woken)."""
        self._shut(L.close)

    def destroy(self):
        """Remove the mailbox for everyone (its segment and semaphores),
        then close.  Processes waiting in it wake with shmbox.Error
        (EIDRM), and so does every later call through any handle to it."""
        if self.closed:
            raise ValueError("I/O operation on a closed mailbox")
        if self._shut(L.destroy):  # others are inside: remove it by its key
            if L.unlink(_fspath(self.path), self.proj_id, 0) == -1:
                _errors.raise_errno(self.path)

    @property
    def closed(self):
        """True once close() or destroy() was called."""
        return self._handle is None or self._deferred is not None

    def __enter__(self):
        if self.closed:
            raise ValueError("I/O operation on a closed mailbox")
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None and not self._busy:
            L.close(self._handle)
            self._handle = None

    def __repr__(self):
        state = "closed" if self.closed else "%d slots of %d bytes" % (self.slots, self.slot_size)
        return "<shmbox.Mailbox %r proj_id=%d, %s>" % (os.fspath(self.path), self.proj_id, state)

    # -- messages --

    def _buf(self):
        buf = getattr(self._local, "buf", None)
        if buf is None:
            buf = self._local.buf = ctypes.create_string_buffer(self.slot_size)
        return buf

    def put(self, data, timeout=None):
        """Put one message (bytes-like, at most slot_size bytes) at the
        tail, waiting for a free slot as `timeout` says.  shmbox.Error
        (EMSGSIZE) if it is too long."""
        ptr, n = _as_buffer(data)
        ms = to_ms(timeout)
        h = self._enter()
        try:
            if L.put(h, ptr, n, ms) == -1:
                _errors.raise_errno()
        finally:
            self._leave()

    def get(self, timeout=None):
        """Take the oldest message and return it as bytes, waiting for one
        as `timeout` says."""
        ms = to_ms(timeout)
        buf = self._buf()
        h = self._enter()
        try:
            n = L.get(h, buf, self.slot_size, ms)
            if n == -1:
                _errors.raise_errno()
            return ctypes.string_at(buf, n)
        finally:
            self._leave()

    # -- request/reply --

    def call(self, request, timeout=None):
        """Send `request` to a server (one that calls accept) and return
        its reply as bytes; `timeout` covers the whole call.  shmbox.Error
        (ECONNRESET) if the server died before replying.  A call that fails
        with TimeoutError or InterruptedError is withdrawn, but a server may
        have carried it out already."""
        ptr, n = _as_buffer(request)
        ms = to_ms(timeout)
        buf = self._buf()
        h = self._enter()
        try:
            r = L.call(h, ptr, n, buf, self.slot_size, ms)
            if r == -1:
                _errors.raise_errno()
            return ctypes.string_at(buf, r)
        finally:
            self._leave()

    def accept(self, timeout=None):
        """Take the oldest call; return (request, ticket), where request
        is bytes and ticket says where reply(ticket, data) sends the
        answer, now or later, from any thread or process."""
        ms = to_ms(timeout)
        buf = self._buf()
        ticket = L.Ticket()
        h = self._enter()
        try:
            n = L.accept(h, buf, self.slot_size, ctypes.byref(ticket), ms)
            if n == -1:
                _errors.raise_errno()
            return ctypes.string_at(buf, n), Ticket(ticket.slot, ticket.gen)
        finally:
            self._leave()

    def reply(self, ticket, data):
        """Answer the call `ticket` came with (once).  shmbox.Error
        (ECANCELED) if its caller gave up or it was answered already."""
        ptr, n = _as_buffer(data)
        t = L.Ticket(*ticket)
        h = self._enter()
        try:
            if L.reply(h, ctypes.byref(t), ptr, n) == -1:
                _errors.raise_errno()
        finally:
            self._leave()

    # -- looking --

    def stat(self):
        """The mailbox's counters now, as a shmbox.Stat named tuple."""
        st = L.CStat()
        h = self._enter()
        try:
            if L.stat(h, ctypes.byref(st)) == -1:
                _errors.raise_errno()
        finally:
            self._leave()
        return _stat.from_c(st)

    def fileno(self, what="get"):
        """shmbox_fd's descriptor for "get", "put" or "accept": readable
        while that call with timeout 0 may succeed, for select, poll or an
        event loop.  It belongs to the Mailbox: never read or close it.
        After the call with timeout 0 raised BlockingIOError, it turns
        readable no later than the call could succeed; it may also turn
        readable when the call would still find nothing."""
        try:
            kind = _FD_KINDS[what]
        except KeyError:
            raise ValueError('what must be "get", "put" or "accept", not %r' % (what,)) from None
        h = self._enter()
        try:
            fd = L.fd(h, kind)
            if fd == -1:
                _errors.raise_errno()
            return fd
        finally:
            self._leave()

    # -- asyncio, through the descriptors --

    async def get_async(self):
        """get() for asyncio: waits in the event loop, not in the library."""
        return await self._waiters.until(self, "get", self.get)

    async def put_async(self, data):
        """put() for asyncio: waits in the event loop for a free slot."""
        return await self._waiters.until(self, "put", lambda timeout: self.put(data, timeout))

    async def accept_async(self):
        """accept() for asyncio: returns (request, ticket); reply() never
        waits, so answer with it."""
        return await self._waiters.until(self, "accept", self.accept)

    # -- zero copy --

    def reserve(self, timeout=None):
        """Zero copy put: `with box.reserve() as buf:` claims a free slot
        and gives its slot_size bytes to write in place.  buf takes item
        and slice assignment and write(data); buf.view is a writable
        memoryview of the slot for APIs that fill a buffer (recv_into,
        struct.pack_into).  Leaving the block publishes the message: the
        length buf.commit(n) gave, or else the bytes written through buf
        itself (up to the furthest one; writes through buf.view count only
        with commit(n)).  buf.view is released then and raises ValueError if
        used.  The library cannot take a claim back, so a block left by an
        exception publishes an empty message: compute first, then reserve.
        Keep the block short: the readers behind the slot wait for it."""
        return _zerocopy.Reservation(self, to_ms(timeout))

    def peek(self, timeout=None):
        """Zero copy get: `with box.peek() as view:` claims the next message
        and gives a read-only memoryview of it in its slot; leaving the
        block frees the slot and releases the view (using it then raises
        ValueError).  Copy what must outlive the block (bytes(view[a:b]));
        a slice or buffer of the view still held then would read whatever
        the slot holds next, so leaving the block with one alive raises
        BufferError (after freeing the slot).  Keep the block short: the
        writers behind the slot wait for it."""
        return _zerocopy.Peek(self, to_ms(timeout))


def unlink(path, proj_id=1):
    """Remove the mailbox at the key of `path` and `proj_id` with no
    handle (shmbox_unlink): also one that can no longer be opened.
    FileNotFoundError if there is none."""
    if L.unlink(_fspath(path), proj_id, 0) == -1:
        _errors.raise_errno(path)
