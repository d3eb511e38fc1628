"""Load libshmbox with ctypes and declare the C calls the module uses.

The library is looked for, in order: the file $SHMBOX_LIBRARY names (the
tests set it to the one just built); the build tree's .libs/ when this
package sits in a source tree (python/shmbox/ next to .libs/); the
directory `make install` put it in; the dynamic loader's own search.
"""
import ctypes
import ctypes.util
import os

SONAME = "libshmbox.so.0"


def _candidates():
    env = os.environ.get("SHMBOX_LIBRARY")
    if env:
        yield env
        return
    here = os.path.dirname(os.path.abspath(__file__))
    yield os.path.join(here, os.pardir, os.pardir, ".libs", SONAME)
    try:
        from ._config import LIBDIR
    except ImportError:  # a source tree that was never built with make
        LIBDIR = None
    if LIBDIR:
        yield os.path.join(LIBDIR, SONAME)
    yield ctypes.util.find_library("shmbox") or SONAME


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path)
            continue
        try:
            return ctypes.CDLL(path, use_errno=True)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    raise ImportError("shmbox: cannot load the C library libshmbox; tried: "
                      + "; ".join(tried)
                      + ". Install shmbox (make install) or set SHMBOX_LIBRARY "
                      "to the path of libshmbox.so.0")


lib = _load()

c_ssize_t = ctypes.c_ssize_t
c_size_t = ctypes.c_size_t
c_int = ctypes.c_int
c_void_p = ctypes.c_void_p
c_char_p = ctypes.c_char_p
POINTER = ctypes.POINTER


class Attr(ctypes.Structure):
    _fields_ = [("slots", c_size_t), ("slot_size", c_size_t),
                ("mode", ctypes.c_uint), ("max_procs", c_size_t)]


class Ticket(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_uint32), ("gen", ctypes.c_uint32)]


class ZeroCopy(ctypes.Structure):
    """shmbox_zc_t: where the claimed slot is, and the claim itself."""
    _fields_ = [("data", c_void_p), ("len", c_size_t),
                ("priv", ctypes.c_uint64 * 2)]


class CStat(ctypes.Structure):
    """struct shmbox_stat, field for field (pid_t, key_t: int; mode_t,
    uid_t: unsigned int; time_t: long, as on Linux)."""
    _fields_ = [
        ("slots", c_size_t), ("slot_size", c_size_t), ("queued", c_size_t),
        ("free", c_size_t), ("writing", c_size_t), ("reading", c_size_t),
        ("max_procs", c_size_t), ("attached", c_size_t),
        ("puts", ctypes.c_uint64), ("gets", ctypes.c_uint64),
        ("creator", c_int),
        ("requests", c_size_t), ("calls", c_size_t), ("reply_slots", c_size_t),
        ("last_put", ctypes.c_long), ("last_get", ctypes.c_long),
        ("getters_waiting", c_size_t), ("putters_waiting", c_size_t),
        ("servers_waiting", c_size_t),
        ("mode", ctypes.c_uint), ("uid", ctypes.c_uint), ("key", c_int),
        ("shmid", c_int), ("semid", c_int),
    ]


def _declare(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = argtypes
    return f


HANDLE = c_void_p  # shmbox_t *, opaque
create = _declare("shmbox_create", c_int, c_char_p, c_int, POINTER(Attr), POINTER(HANDLE))
open_ = _declare("shmbox_open", c_int, c_char_p, c_int, POINTER(HANDLE))
getattr_ = _declare("shmbox_getattr", c_int, HANDLE, POINTER(Attr))
unlink = _declare("shmbox_unlink", c_int, c_char_p, c_int, c_int)
close = _declare("shmbox_close", c_int, HANDLE)
destroy = _declare("shmbox_destroy", c_int, HANDLE)
put = _declare("shmbox_put", c_int, HANDLE, c_void_p, c_size_t, c_int)
get = _declare("shmbox_get", c_ssize_t, HANDLE, c_void_p, c_size_t, c_int)
reserve = _declare("shmbox_reserve", c_int, HANDLE, POINTER(ZeroCopy), c_int)
commit = _declare("shmbox_commit", c_int, HANDLE, POINTER(ZeroCopy), c_size_t)
peek = _declare("shmbox_peek", c_ssize_t, HANDLE, POINTER(ZeroCopy), c_int)
release = _declare("shmbox_release", c_int, HANDLE, POINTER(ZeroCopy))
stat = _declare("shmbox_stat", c_int, HANDLE, POINTER(CStat))
call = _declare("shmbox_call", c_ssize_t, HANDLE, c_void_p, c_size_t, c_void_p, c_size_t, c_int)
accept = _declare("shmbox_accept", c_ssize_t, HANDLE, c_void_p, c_size_t, POINTER(Ticket), c_int)
reply = _declare("shmbox_reply", c_int, HANDLE, POINTER(Ticket), c_void_p, c_size_t)
fd = _declare("shmbox_fd", c_int, HANDLE, c_int)
strerror = _declare("shmbox_strerror", c_char_p, c_int)

FD_GET, FD_PUT, FD_ACCEPT = 1, 2, 4
