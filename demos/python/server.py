#!/usr/bin/env python3
"""A key-value server that demos/kvctl can talk to: kvd's protocol (see
demos/README-kv.md) in Python, on request/reply.  Ctrl-C stops it and
removes its mailbox, as SIGTERM does.
    ./demos/python/server.py &    ./demos/kvctl set k v    ./demos/kvctl get k"""
import argparse, fcntl, signal, sys
import shmbox

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("-k", default="/tmp/shmbox-kv", metavar="KEYFILE", help="the key file")
args = p.parse_args()

signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # through `finally` below
store = {}
box = shmbox.Mailbox.create(args.k, slots=64, slot_size=1024)
lock = open(args.k)
fcntl.flock(lock, fcntl.LOCK_EX)  # kvctl checks for this lock: "a server is running"
print("server: serving on %s (Ctrl-C to stop)" % args.k, flush=True)
try:
    while True:
        req, ticket = box.accept()
        op, _, rest = req.partition(b" ")
        key, _, value = rest.partition(b" ")
        if op == b"S" and key:
            store[key] = value
            box.reply(ticket, b"+")
        elif op in (b"G", b"D") and key:
            found = store.get(key) if op == b"G" else store.pop(key, None)
            box.reply(ticket, b"-" if found is None else b"+" + (found if op == b"G" else b""))
        else:
            box.reply(ticket, b"!malformed request")
except KeyboardInterrupt:
    pass
finally:
    box.destroy()
