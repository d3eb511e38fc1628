"""shmbox: a message mailbox in one System V shared-memory segment, for
processes on one Linux host, over the C library libshmbox (through ctypes).

    import shmbox
    with shmbox.Mailbox.create("/tmp/mybox", slots=64, slot_size=4096) as box:
        box.put(b"hello")
        print(box.get(timeout=1))     # b'hello'
        box.destroy()

Mailbox.open(path) attaches to a mailbox another process made; call,
accept and reply are request/reply; reserve and peek read and write in
place (zero copy); get_async and accept_async wait in an asyncio loop.
help(shmbox.Mailbox) has every call; the C library's man pages
(shmbox(3), shmbox_put(3), ...) have the details.
"""
from ._errors import Error, strerror
from ._mailbox import Mailbox, Ticket, unlink
from ._stat import Stat
from ._zerocopy import Peek, Reservation

__all__ = ["Mailbox", "Stat", "Ticket", "Error", "Reservation", "Peek",
           "unlink", "strerror"]

for _name in __all__:  # help() and repr() name them as users import them
    globals()[_name].__module__ = __name__
del _name
