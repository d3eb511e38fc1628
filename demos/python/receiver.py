#!/usr/bin/env python3
"""Make (or open) a mailbox and print each message with its length:
demos/receiver in Python.  Ctrl-C ends it and removes a mailbox it made."""
import argparse
import shmbox

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("-f", default="/tmp/shmbox-demo", metavar="PATH", help="the key file")
p.add_argument("-c", type=int, default=0, metavar="COUNT", help="stop after COUNT messages")
args = p.parse_args()

try:
    box, made = shmbox.Mailbox.create(args.f, slots=16, slot_size=4096), True
except FileExistsError:
    box, made = shmbox.Mailbox.open(args.f), False
print("receiver: %s mailbox %s; waiting for messages" % ("created" if made else "opened", args.f),
      flush=True)
n = 0
try:
    while args.c == 0 or n < args.c:
        msg = box.get()
        print("received %d bytes: %s" % (len(msg), msg.decode(errors="replace")), flush=True)
        n += 1
except KeyboardInterrupt:
    pass
finally:
    box.destroy() if made else box.close()
