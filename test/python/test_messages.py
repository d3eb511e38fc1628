"""put and get, open and close, timeouts, attributes: the basic contract."""
import ctypes
import errno
import os
import threading

import pytest

import shmbox


def test_create_put_get_in_order(box):
    for i in range(5):
        box.put(b"message %d" % i)
    assert [box.get(timeout=0) for _ in range(5)] == [b"message %d" % i for i in range(5)]


def test_any_bytes_like_goes_in_and_bytes_come_out(box):
    box.put(bytearray(b"bytearray"))
    box.put(memoryview(b"readonly view"))
    box.put(memoryview(bytearray(b"xwritable viewx"))[1:-1])
    box.put(ctypes.create_string_buffer(b"ctypes", 6))
    box.put(b"")
    got = [box.get(0) for _ in range(5)]
    assert got == [b"bytearray", b"readonly view", b"writable view", b"ctypes", b""]
    assert all(type(g) is bytes for g in got)


def test_str_is_refused(box):
    with pytest.raises(TypeError, match="encode"):
        box.put("text")


def test_a_message_of_slot_size_fits_one_more_does_not(box):
    box.put(b"x" * box.slot_size)
    assert box.get(0) == b"x" * box.slot_size
    with pytest.raises(shmbox.Error) as e:
        box.put(b"x" * (box.slot_size + 1))
    assert e.value.errno == errno.EMSGSIZE


def test_attributes(box, keyfile):
    assert (box.slots, box.slot_size, box.mode, box.max_procs) == (8, 256, 0o600, 64)
    assert box.path == keyfile and box.proj_id == 1
    assert "8 slots of 256 bytes" in repr(box)


def test_open_sees_what_create_put(box, keyfile):
    with shmbox.Mailbox.open(keyfile) as other:
        box.put(b"across handles")
        assert other.get(timeout=1) == b"across handles"
        assert other.slot_size == 256


def test_create_makes_the_key_file(keys):
    path = os.path.join(keys.dir, "made-by-create")
    keys.made.append(path)
    with shmbox.Mailbox.create(path, slots=2, slot_size=16) as b:
        assert os.path.isfile(path)
        b.destroy()


def test_proj_id_and_geometry(keyfile):
    with shmbox.Mailbox.create(keyfile, proj_id=2, slots=3, slot_size=100, mode=0o640,
                               max_procs=5) as b:
        try:
            assert (b.slots, b.slot_size, b.mode, b.max_procs) == (3, 100, 0o640, 5)
            with pytest.raises(FileNotFoundError):
                shmbox.Mailbox.open(keyfile, proj_id=1)
            with shmbox.Mailbox.open(keyfile, proj_id=2) as o:
                assert o.slots == 3
        finally:
            b.destroy()


def test_timeouts(box):
    with pytest.raises(BlockingIOError) as e:
        box.get(timeout=0)
    assert e.value.errno == errno.EAGAIN
    with pytest.raises(TimeoutError) as e:
        box.get(timeout=0.02)
    assert e.value.errno == errno.ETIMEDOUT
    for i in range(box.slots):
        box.put(b"%d" % i, timeout=0)
    with pytest.raises(BlockingIOError):
        box.put(b"full", timeout=0)
    with pytest.raises(TimeoutError):
        box.put(b"full", timeout=0.001)  # rounded up to 1 ms, not to "never wait"


def test_bad_timeouts(box):
    with pytest.raises(ValueError):
        box.get(timeout=-1)
    with pytest.raises(OverflowError):
        box.get(timeout=1e10)


def test_a_waiting_get_gets_a_later_put(box):
    got = []
    t = threading.Thread(target=lambda: got.append(box.get(timeout=10)))
    t.start()
    box.put(b"wake up")
    t.join()
    assert got == [b"wake up"]


def test_close_and_use_after_close(keyfile):
    b = shmbox.Mailbox.create(keyfile, slots=2, slot_size=16)
    with b:
        assert not b.closed
    assert b.closed
    for use in (lambda: b.put(b"x"), lambda: b.get(0), b.stat, b.fileno,
                lambda: b.call(b"x"), lambda: b.accept(0), b.reserve().__enter__,
                b.peek().__enter__, b.destroy):
        with pytest.raises(ValueError, match="closed"):
            use()
    b.close()  # twice: nothing
    with pytest.raises(ValueError):
        with b:
            pass
    # closing detached only: the mailbox is still there
    with shmbox.Mailbox.open(keyfile) as again:
        again.destroy()


def test_destroy_removes_it_for_everyone(box, keyfile):
    other = shmbox.Mailbox.open(keyfile)
    box.destroy()
    assert box.closed
    with pytest.raises(shmbox.Error) as e:
        other.get(0)
    assert e.value.errno == errno.EIDRM
    other.close()
    with pytest.raises(FileNotFoundError):
        shmbox.Mailbox.open(keyfile)


def test_unlink(keyfile):
    shmbox.Mailbox.create(keyfile, slots=1, slot_size=8).close()
    shmbox.unlink(keyfile)
    with pytest.raises(FileNotFoundError):
        shmbox.unlink(keyfile)


def test_stat(box, keyfile):
    box.put(b"a")
    box.put(b"b")
    box.get()
    st = box.stat()
    assert isinstance(st, shmbox.Stat)
    assert (st.slots, st.slot_size, st.queued, st.free) == (8, 256, 1, 7)
    assert (st.puts, st.gets, st.attached, st.creator) == (2, 1, 1, os.getpid())
    assert st.mode == 0o600 and st.uid == os.getuid()
    assert st.key == os.stat(keyfile).st_ino & 0xFFFF | (os.stat(keyfile).st_dev & 0xFF) << 16 | 1 << 24
    assert st.last_put > 0 and st.reply_slots == 8
    assert st.getters_waiting == st.putters_waiting == st.servers_waiting == 0
    assert set(st._fields) >= {"shmid", "semid", "requests", "calls", "writing", "reading"}
