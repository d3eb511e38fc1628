"""reserve/commit and peek/release: in place, and views that end with the
claim."""
import errno
import socket
import struct

import pytest

import shmbox


def test_reserve_commits_what_was_written(box):
    with box.reserve() as buf:
        assert len(buf) == box.slot_size
        buf[0:5] = b"hello"
        buf[5] = ord("!")
    with box.reserve() as buf:
        assert buf.write(b"ab") == 2
        buf.write(memoryview(b"cd"))
    with box.reserve() as buf:
        buf[10:20:3] = b"WXYZ"  # the furthest byte written is 19
    assert box.get(0) == b"hello!"
    assert box.get(0) == b"abcd"
    assert box.get(0)[10:20:3] == b"WXYZ" and box.stat().puts == 3


def test_commit_n_and_the_view_for_buffer_apis(box):
    a, b = socket.socketpair()
    with a, b:
        a.sendall(b"from a socket")
        with box.reserve() as buf:
            n = b.recv_into(buf.view)
            buf.commit(n)
        with box.reserve() as buf:
            struct.pack_into("!I", buf.view, 0, 0xDEADBEEF)
            buf.commit(4)
    assert box.get(0) == b"from a socket"
    assert box.get(0) == struct.pack("!I", 0xDEADBEEF)


def test_views_are_released_when_the_claim_ends(box):
    with box.reserve() as buf:
        view = buf.view
        buf[0:1] = b"x"
    with pytest.raises(ValueError):
        view[0] = 1
    with pytest.raises(ValueError):
        buf[0] = 1
    with pytest.raises(ValueError):
        buf.commit(1)
    with box.peek() as msg:
        assert bytes(msg) == b"x" and msg.readonly
    with pytest.raises(ValueError):
        bytes(msg)


def test_peek_reads_in_place(box):
    box.put(b"in place")
    box.put(b"")
    with box.peek(timeout=1) as msg:
        assert isinstance(msg, memoryview) and msg.tobytes() == b"in place"
        with pytest.raises(TypeError):
            msg[0] = 1
        assert box.stat().reading == 1
    assert box.stat().reading == 0
    with box.peek(timeout=0) as msg:
        assert len(msg) == 0
    with pytest.raises(BlockingIOError):
        with box.peek(timeout=0):
            pass
    with pytest.raises(TimeoutError):
        with box.peek(timeout=0.01):
            pass


def test_a_kept_slice_is_reported(box):
    box.put(b"keep me")
    with pytest.raises(BufferError, match="kept"):
        with box.peek() as msg:
            kept = msg[0:4]
    assert box.stat().reading == 0  # the slot was freed all the same
    del kept
    with pytest.raises(BufferError, match="kept"):
        with box.reserve() as buf:
            kept = buf.view[0:4]
            kept[:] = b"abcd"
            buf.commit(4)
    del kept
    assert box.get(0) == b"abcd"


def test_an_exception_in_the_block(box):
    # The library cannot take a reservation back: an empty message goes.
    with pytest.raises(KeyError):
        with box.reserve() as buf:
            buf[0:4] = b"half"
            raise KeyError("oops")
    assert box.get(0) == b""
    box.put(b"still here")
    with pytest.raises(KeyError):
        with box.peek() as msg:
            raise KeyError("oops")
    assert box.stat().queued == 0 and box.stat().reading == 0  # the message was taken


def test_too_long(box):
    with box.reserve() as buf:
        with pytest.raises(shmbox.Error) as e:
            buf.commit(box.slot_size + 1)
        assert e.value.errno == errno.EMSGSIZE
        buf.write(bytes(box.slot_size - 1))
        with pytest.raises(shmbox.Error):
            buf.write(b"xx")
        with pytest.raises(ValueError):
            buf.commit(-1)
        buf.commit(box.slot_size)  # the slot stayed reserved
    assert len(box.get(0)) == box.slot_size


def test_reserve_on_a_full_mailbox(box):
    for _ in range(box.slots):
        box.put(b".")
    with pytest.raises(BlockingIOError):
        with box.reserve(timeout=0):
            pass
    assert box.stat().writing == 0


def test_close_waits_for_the_claim(box, keyfile):
    box.put(b"claimed")
    with box.peek() as msg:
        box.close()  # the handle lives until the claim ends
        assert bytes(msg) == b"claimed"
    assert box._handle is None
    shmbox.unlink(keyfile)
