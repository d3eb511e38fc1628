"""Zero copy: a message written or read in its slot, through a memoryview
that lives exactly as long as the claim on the slot."""
import ctypes
import errno as E
import weakref

from . import _errors, _library as L


def _view_over(zc, n, readonly):
    """(weak reference to the ctypes array over the n bytes at zc.data,
    memoryview of it).  Only memoryviews hold the array: once ours is
    released, the array lives on only if someone kept a view of it."""
    array = (ctypes.c_char * n).from_address(zc.data or 0)
    view = memoryview(array).cast("B")
    return weakref.ref(array), (view.toreadonly() if readonly else view)


def _end_view(array, view):
    """Release our view of a slot; an exception if a view derived from it
    (a slice, numpy.frombuffer) outlives it, since that would go on
    reading or writing a slot that is no longer ours."""
    try:
        view.release()
    except BufferError as e:  # a buffer exported from it is still held
        return e
    if array() is not None:
        return BufferError("a slice or buffer of a shmbox slot was kept past its block")
    return None


class Reservation:
    """A slot claimed for writing (Mailbox.reserve): see its docstring."""

    def __init__(self, box, ms):
        self._box, self._ms = box, ms
        self._zc = L.ZeroCopy()
        self._done = True
        self.view = None

    def __enter__(self):
        h = self._box._enter()
        if L.reserve(h, ctypes.byref(self._zc), self._ms) == -1:
            self._box._leave()
            _errors.raise_errno()
        self._len = self._zc.len
        self._array, self.view = _view_over(self._zc, self._len, False)
        self._written = self._pos = 0
        self._done = False
        return self

    def __len__(self):
        return self._len

    def __buffer__(self, flags):  # Python 3.12 and later: memoryview(buf)
        self._check()
        return self.view.__buffer__(flags)

    def _check(self):
        if self._done:
            raise ValueError("the reservation is over (committed)")

    def __getitem__(self, key):
        self._check()
        got = self.view[key]
        return got.tobytes() if isinstance(got, memoryview) else got

    def __setitem__(self, key, value):
        self._check()
        self.view[key] = value
        if isinstance(key, slice):
            r = range(*key.indices(self._len))
            end = max(r[0], r[-1]) + 1 if r else 0
        else:
            end = range(self._len)[key] + 1
        self._written = max(self._written, end)

    def write(self, data):
        """Write data after what write() wrote before, as a file does;
        returns its length.  shmbox.Error (EMSGSIZE) past the slot's end."""
        self._check()
        m = memoryview(data).cast("B")
        end = self._pos + len(m)
        if end > self._len:
            raise _errors.error(E.EMSGSIZE)
        self.view[self._pos:end] = m
        self._pos = end
        self._written = max(self._written, end)
        return len(m)

    def commit(self, n=None):
        """Publish the first n bytes of the slot as one message (n: the
        bytes written through buf, if not given), now; the claim is over."""
        self._check()
        n = self._written if n is None else n
        if n < 0:
            raise ValueError("a message's length cannot be negative")
        if n > self._len:
            raise _errors.error(E.EMSGSIZE)  # the slot stays reserved
        kept = _end_view(self._array, self.view)
        self._array = None
        self._done = True
        h = self._box._handle
        try:
            if L.commit(h, ctypes.byref(self._zc), n) == -1:
                _errors.raise_errno()
        finally:
            self._box._leave()
        if kept is not None:
            raise kept

    def __exit__(self, exc_type, exc, tb):
        if self._done:
            return
        if exc_type is None:
            self.commit()
            return
        # No way to take the claim back: an empty message lets the readers on.
        self._written = 0
        try:
            self.commit(0)
        except BufferError:  # the traceback holds the block's locals
            pass


class Peek:
    """A message claimed for reading (Mailbox.peek): see its docstring."""

    def __init__(self, box, ms):
        self._box, self._ms = box, ms
        self._zc = L.ZeroCopy()

    def __enter__(self):
        h = self._box._enter()
        n = L.peek(h, ctypes.byref(self._zc), self._ms)
        if n == -1:
            self._box._leave()
            _errors.raise_errno()
        self._array, self._view = _view_over(self._zc, n, True)
        return self._view

    def __exit__(self, exc_type, exc, tb):
        kept = _end_view(self._array, self._view)
        self._array = self._view = None
        try:
            if L.release(self._box._handle, ctypes.byref(self._zc)) == -1:
                _errors.raise_errno()  # ECANCELED: what was read may be torn
        finally:
            self._box._leave()
        if kept is not None and exc_type is None:
            raise kept
