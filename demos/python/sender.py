#!/usr/bin/env python3
"""Send each argument, or each line of standard input, as one message:
demos/sender in Python.  The receiver (receiver.py, or the C one) makes the
mailbox; -w waits for it that long."""
import argparse, sys, time
import shmbox

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("-f", default="/tmp/shmbox-demo", metavar="PATH", help="the key file")
p.add_argument("-w", type=float, default=0, metavar="SECONDS", help="wait for the mailbox")
p.add_argument("message", nargs="*")
args = p.parse_args()

deadline = time.monotonic() + args.w
while True:
    try:
        box = shmbox.Mailbox.open(args.f)
        break
    except FileNotFoundError:
        if time.monotonic() > deadline:
            sys.exit("sender: no mailbox at %s: start the receiver first" % args.f)
        time.sleep(0.05)
with box:
    for m in args.message or (line.rstrip("\n") for line in sys.stdin):
        box.put(m.encode())
