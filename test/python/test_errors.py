"""Every error, as Python's own OSError subclass or shmbox.Error, with errno
set and the library's words; most caused on purpose."""
import errno
import os
import signal
import threading

import pytest

import shmbox
from shmbox import _errors

BUILTIN = {
    errno.ENOENT: FileNotFoundError, errno.EEXIST: FileExistsError,
    errno.EACCES: PermissionError, errno.EPERM: PermissionError,
    errno.ETIMEDOUT: TimeoutError, errno.EAGAIN: BlockingIOError,
    errno.EINTR: InterruptedError,
}
LIBRARY_OWN = [errno.EIDRM, errno.EPROTO, errno.ESTALE, errno.EMSGSIZE, errno.ECONNRESET,
               errno.ECANCELED, errno.EBADF, errno.EUSERS, errno.EBUSY, errno.ENOSPC,
               errno.EFBIG, errno.ERANGE, errno.EMFILE, errno.EINVAL]


@pytest.mark.parametrize("code", sorted(BUILTIN))
def test_builtin_classes(code):
    e = _errors.error(code, "/some/key")
    assert type(e) is BUILTIN[code] and not isinstance(e, shmbox.Error)
    assert e.errno == code and e.strerror == shmbox.strerror(code)
    assert e.filename == "/some/key"


@pytest.mark.parametrize("code", LIBRARY_OWN)
def test_library_codes_are_shmbox_error(code):
    e = _errors.error(code)
    assert type(e) is shmbox.Error and isinstance(e, OSError)
    assert e.errno == code and e.strerror == shmbox.strerror(code)
    # the library's own words, not the C library's
    assert e.strerror != os.strerror(code) or code == errno.EINVAL


def test_strerror_words():
    assert shmbox.strerror(errno.EIDRM) == "Mailbox was removed"
    assert shmbox.strerror(errno.ENOENT) == "No such mailbox (or no such key file)"


def test_enoent(keyfile):
    with pytest.raises(FileNotFoundError) as e:
        shmbox.Mailbox.open(keyfile)
    assert e.value.errno == errno.ENOENT and e.value.filename == keyfile
    assert "No such mailbox" in str(e.value)


def test_eexist(box, keyfile):
    with pytest.raises(FileExistsError) as e:
        shmbox.Mailbox.create(keyfile)
    assert e.value.errno == errno.EEXIST


def as_nobody(fn):
    """Run fn in a child as user nobody; its exit status is returned."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgid(65534)
            os.setuid(65534)
            os._exit(fn())
        except BaseException:
            os._exit(99)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def test_eacces_and_eperm(keys):
    keyfile = keys.new()
    if os.getuid() != 0:
        with shmbox.Mailbox.create(keyfile, slots=1, slot_size=8, mode=0o400) as b:
            with pytest.raises(PermissionError) as e:
                shmbox.Mailbox.open(keyfile)
            assert e.value.errno == errno.EACCES
            b.destroy()
        return
    os.chmod(keys.dir, 0o755)  # nobody must reach the key file

    def open_it():
        try:
            shmbox.Mailbox.open(keyfile)
        except PermissionError as e:
            return 10 if e.errno == errno.EACCES else 11
        return 12

    def destroy_it():
        b = shmbox.Mailbox.open(keyfile)
        try:
            b.destroy()
        except PermissionError as e:
            return 20 if e.errno == errno.EPERM else 21
        return 22

    with shmbox.Mailbox.create(keyfile, slots=1, slot_size=8, mode=0o600) as b:
        assert as_nobody(open_it) == 10
        b.destroy()
    with shmbox.Mailbox.create(keyfile, slots=1, slot_size=8, mode=0o666) as b:
        assert as_nobody(destroy_it) == 20
        b.destroy()


def test_eintr_from_a_handler_that_returns(box):
    rang = []
    old = signal.signal(signal.SIGALRM, lambda *a: rang.append(1))
    # Every 50 ms, in case one lands just before the library sleeps.
    signal.setitimer(signal.ITIMER_REAL, 0.05, 0.05)
    try:
        with pytest.raises(InterruptedError) as e:
            box.get(timeout=10)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert e.value.errno == errno.EINTR and rang


def test_eidrm(box, keyfile):
    other = shmbox.Mailbox.open(keyfile)
    try:
        other.destroy()
        with pytest.raises(shmbox.Error) as e:
            box.put(b"x")
        assert e.value.errno == errno.EIDRM
        assert str(e.value) == "[Errno %d] Mailbox was removed" % errno.EIDRM
    finally:
        other.close()


def test_emsgsize(box):
    with pytest.raises(shmbox.Error) as e:
        box.put(bytes(257))
    assert e.value.errno == errno.EMSGSIZE
    with pytest.raises(shmbox.Error) as e:
        box.call(bytes(257), timeout=0)
    assert e.value.errno == errno.EMSGSIZE


def test_ecanceled_late_reply_and_second_reply(box):
    accepted = []
    gave_up = threading.Event()

    def server():
        accepted.append(box.accept(timeout=10))
        gave_up.wait(10)

    t = threading.Thread(target=server)
    t.start()
    with pytest.raises(TimeoutError):
        box.call(b"too slow", timeout=0.2)
    gave_up.set()
    t.join()
    req, ticket = accepted[0]
    assert req == b"too slow"
    with pytest.raises(shmbox.Error) as e:
        box.reply(ticket, b"late")
    assert e.value.errno == errno.ECANCELED


def test_econnreset_when_the_server_dies(box, keyfile, children):
    server = children.python("""
        import os, signal, sys, shmbox
        box = shmbox.Mailbox.open(sys.argv[1])
        box.accept()
        os.kill(os.getpid(), signal.SIGKILL)
    """, keyfile)
    with pytest.raises(shmbox.Error) as e:
        box.call(b"anyone?", timeout=10)
    assert e.value.errno == errno.ECONNRESET
    assert server.wait(10) == -signal.SIGKILL


def test_ebadf_after_fork(box):
    pid = os.fork()
    if pid == 0:
        try:
            box.put(b"from the child")
            os._exit(1)
        except shmbox.Error as e:
            os._exit(2 if e.errno == errno.EBADF and "fork" in e.strerror else 3)
        except BaseException:
            os._exit(4)
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 2
    assert box.stat().queued == 0
