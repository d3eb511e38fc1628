"""errno to exception: Python's own OSError subclasses where Python has
one that says it (a missing mailbox is a FileNotFoundError, a timeout a
TimeoutError), shmbox.Error for the rest; the message is always
shmbox_strerror's, worded for mailboxes."""
import ctypes
import errno as E

from . import _library

# These become the OSError subclass Python itself picks for the errno.
_BUILTIN = frozenset((E.ENOENT, E.EEXIST, E.EACCES, E.EPERM, E.ETIMEDOUT,
                      E.EAGAIN, E.EINTR))

_check_signals = ctypes.pythonapi.PyErr_CheckSignals
_check_signals.restype = ctypes.c_int
_check_signals.argtypes = ()


class Error(OSError):
    """A failure the library reports with one of its own codes: EIDRM (the
    mailbox was removed), EPROTO, ESTALE, EMSGSIZE, ECONNRESET (the server
    died during a call), ECANCELED (a reply too late), EBADF, EUSERS, ...
    `errno` holds the code, `strerror` the library's words for it."""


def strerror(code):
    """shmbox_strerror: the library's words for an errno value."""
    return _library.strerror(code).decode("utf-8", "replace")


def error(code, filename=None):
    """The exception for errno `code` (not raised)."""
    args = (code, strerror(code)) + ((filename,) if filename is not None else ())
    if code in _BUILTIN:
        return OSError(*args)
    return Error(*args)


def raise_errno(filename=None):
    """Raise the exception for the errno the last C call left.

    After EINTR, Python's signal handlers run first (as PEP 475 has
    Python's own calls do), so Ctrl-C during a blocking call raises
    KeyboardInterrupt at once; if every handler returned, the call raises
    InterruptedError rather than starting again, since a call may have
    reached its server already."""
    code = ctypes.get_errno()
    if code == E.EINTR:
        _check_signals()  # through pythonapi: raises what a handler raised
    raise error(code, filename)
