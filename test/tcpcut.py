#!/usr/bin/env python3
"""A TCP proxy that can cut the link: for the bridge tests (test/bridge-link.sh).

    tcpcut.py [--down SECONDS] [--freeze SECONDS] [--cut-after BYTES] [--cuts N]
              TARGET_PORT

Listens on 127.0.0.1 (a free port, printed as "tcpcut: listening on PORT")
and forwards each connection to 127.0.0.1:TARGET_PORT.  A cut drops every
connection it carries, on both sides (shut down, then closed with a reset),
and closes its listening socket for --down seconds, so that new connections
are refused: the remote port is unreachable; then it listens again on the
same port.  A cut comes on SIGUSR1, or by itself once --cut-after bytes
have gone towards the target since the link came up (mid-stream, however
fast the traffic), --cuts times.  SIGUSR2 freezes the link instead, for
--freeze seconds: connections stay open but nothing moves and none is
accepted, as when packets are dropped on the way; then it all moves again.
Each event is one line on standard output: "cut N", "up N" (N counts the
cuts), "frozen", "thawed", "forwarded BYTES" at exit.  SIGTERM ends it.
"""
import argparse
import select
import signal
import socket
import struct
import sys
import threading
import time


def say(line):
    print("tcpcut: " + line, flush=True)


class Proxy:
    def __init__(self, target, down, freeze, cut_after, cuts):
        self.target = target
        self.down = down
        self.freeze = freeze
        self.frozen = False
        self.freeze_wanted = False
        self.thaw_at = None
        self.cut_after = cut_after
        self.cuts_left = cuts
        self.lock = threading.Lock()
        self.conns = set()  # every socket of every link carried
        self.port = 0
        self.listener = None
        self.up_at = None  # when to listen again, while cut
        self.cuts = 0
        self.since_up = 0  # bytes towards the target since the link came up
        self.total = 0
        self.cut_wanted = False
        self.up = False  # the link is up, and may be cut by --cut-after
        self.stop = False

    def listen(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(64)
        self.port = s.getsockname()[1]
        self.listener = s

    def accept(self):
        client, _ = self.listener.accept()
        try:
            server = socket.create_connection(("127.0.0.1", self.target), timeout=2)
        except OSError:
            client.close()  # the target is down: so is the link
            return
        server.settimeout(None)
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.lock:
            self.conns.update((client, server))
        threading.Thread(target=self.pump, args=(client, server, True), daemon=True).start()
        threading.Thread(target=self.pump, args=(server, client, False), daemon=True).start()

    def pump(self, src, dst, towards_target):
        """Copy one direction until either side fails or is cut."""
        while True:
            try:
                while self.frozen:
                    time.sleep(0.01)
                chunk = src.recv(65536)
                if not chunk:
                    break
                while self.frozen:  # what came as the freeze began waits too
                    time.sleep(0.01)
                dst.sendall(chunk)
            except OSError:
                break
            if towards_target:
                with self.lock:
                    self.since_up += len(chunk)
                    self.total += len(chunk)
                    if self.up and self.cuts_left > 0 and self.cut_after and \
                            self.since_up >= self.cut_after:
                        self.up = False  # one cut per time up
                        self.cuts_left -= 1
                        self.cut_wanted = True
        for s in (src, dst):  # an orderly end on one side ends the other
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            self.up = False
            self.cuts += 1
            conns, self.conns = self.conns, set()
        for s in conns:  # an abrupt loss, not an orderly close: RST
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        if self.listener is not None:
            self.listener.close()
            self.listener = None
        self.up_at = time.monotonic() + self.down
        say("cut %d" % self.cuts)

    def run(self):
        self.listen()
        self.up = True
        say("listening on %d" % self.port)
        while not self.stop:
            if self.cut_wanted:
                self.cut_wanted = False
                if self.listener is not None:
                    self.cut()
            if self.freeze_wanted:
                self.freeze_wanted = False
                self.frozen = True
                self.thaw_at = time.monotonic() + self.freeze
                say("frozen")
            if self.thaw_at is not None and time.monotonic() >= self.thaw_at:
                self.thaw_at = None
                self.frozen = False
                say("thawed")
            if self.up_at is not None and time.monotonic() >= self.up_at:
                self.up_at = None
                self.listen()
                with self.lock:
                    self.since_up = 0
                    self.up = True
                say("up %d" % self.cuts)
            if self.listener is None or self.frozen:
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([self.listener], [], [], 0.01)
            except InterruptedError:
                continue
            if ready:
                self.accept()
        say("forwarded %d" % self.total)


def main():
    ap = argparse.ArgumentParser(description="a TCP proxy that can cut the link")
    ap.add_argument("--down", type=float, default=1.0, help="seconds a cut lasts")
    ap.add_argument("--freeze", type=float, default=5.0, help="seconds a freeze lasts")
    ap.add_argument("--cut-after", type=int, default=0, help="cut after BYTES forwarded")
    ap.add_argument("--cuts", type=int, default=1, help="how many cuts --cut-after makes")
    ap.add_argument("target", type=int, help="port on 127.0.0.1 to forward to")
    args = ap.parse_args()
    proxy = Proxy(args.target, args.down, args.freeze, args.cut_after, args.cuts)

    def on_cut(signum, frame):
        proxy.cut_wanted = True

    def on_freeze(signum, frame):
        proxy.freeze_wanted = True

    def on_term(signum, frame):
        proxy.stop = True

    signal.signal(signal.SIGUSR1, on_cut)
    signal.signal(signal.SIGUSR2, on_freeze)
    signal.signal(signal.SIGTERM, on_term)
    proxy.run()


if __name__ == "__main__":
    sys.exit(main())
