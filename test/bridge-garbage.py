#!/usr/bin/env python3
"""Garbage for a listening bridge's port: for test/bridge-keys.sh.

    bridge-garbage.py raw PORT SEED    random bytes from a raw TCP client
    bridge-garbage.py zmtp PORT SEED   a well-formed ZeroMQ peer (ZMTP 3.0,
                                       NULL security, a DEALER) that sends
                                       malformed bridge messages

The second reaches past ZeroMQ's own checks, into the bridge's reading of
its frames: messages that start like the bridge's own (a kind letter, then
numbers that claim more than follows) but are short, too long, or random.
Exits 0 once everything is sent (or the listener closed the connection,
which a CURVE listener does to a NULL peer): what matters is how the
listener takes it, which the test checks.
"""
import random
import socket
import struct
import sys


def send_all(sock, data):
    try:
        sock.sendall(data)
        return True
    except OSError:
        return False


def raw(sock, rng):
    for _ in range(16):
        if not send_all(sock, bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 4096)))):
            return


def frame(body, more):
    flags = 0x01 if more else 0x00
    if len(body) > 255:
        return bytes([flags | 0x02]) + struct.pack(">Q", len(body)) + body
    return bytes([flags, len(body)]) + body


def command(name, body):
    data = bytes([len(name)]) + name + body
    return bytes([0x04, len(data)]) + data


def prop(name, value):
    return bytes([len(name)]) + name + struct.pack(">I", len(value)) + value


def bodies(rng):
    """Message bodies in the shape of the bridge's frames, and not."""
    for kind in b"HMACRhmacrXZ\x00\xff":
        k = bytes([kind])
        yield [k]  # the kind alone
        yield [k + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 7)))]  # short
        # a sequence number, then a count far larger than what follows
        yield [k + struct.pack("<QI", rng.getrandbits(64), 0xFFFFFFFF) + b"xy"]
        yield [k + struct.pack("<QIi", 1, 1, -1) + b"\xff\xff\xff\x7f"]
        yield [k, b"", bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))]
    for _ in range(20):  # random multipart messages
        yield [bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
               for _ in range(rng.randint(1, 5))]


def zmtp(sock, rng):
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") \
        + b"\x00" + b"\x00" * 31
    ready = command(b"READY", prop(b"Socket-Type", b"DEALER") + prop(b"Identity", b""))
    if not send_all(sock, greeting + ready):
        return
    for parts in bodies(rng):
        data = b"".join(frame(p, i + 1 < len(parts)) for i, p in enumerate(parts))
        if not send_all(sock, data):
            return


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("raw", "zmtp"):
        sys.exit("usage: bridge-garbage.py raw|zmtp PORT SEED")
    rng = random.Random(int(sys.argv[3]))
    sock = socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=5)
    (raw if sys.argv[1] == "raw" else zmtp)(sock, rng)
    sock.settimeout(0.3)
    try:  # read what comes back a moment, so that the listener reads it all
        while sock.recv(65536):
            pass
    except OSError:
        pass
    sock.close()


if __name__ == "__main__":
    main()
