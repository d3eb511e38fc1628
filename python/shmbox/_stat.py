"""shmbox.Stat: struct shmbox_stat as a named tuple."""
import collections

from . import _library

Stat = collections.namedtuple("Stat", [name for name, _ in _library.CStat._fields_])
Stat.__doc__ = """A mailbox's counters, as shmbox_stat(3) fills them: geometry (slots,
slot_size, max_procs, reply_slots), what is queued (queued, free, writing,
reading, requests, calls), who is attached or asleep (attached, creator,
getters_waiting, putters_waiting, servers_waiting), totals (puts, gets),
times (last_put, last_get: seconds since the epoch, 0 for never) and the
IPC objects (mode, uid, key, shmid, semid)."""


def from_c(cstat):
    return Stat(*(getattr(cstat, name) for name in Stat._fields))
