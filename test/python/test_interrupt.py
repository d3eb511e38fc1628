"""Ctrl-C (SIGINT) during a blocking get, put, call or accept raises
KeyboardInterrupt in the process, at once."""
import signal
import time

import pytest

import shmbox
from conftest import wait_for

CHILD = """
import sys, time, shmbox
box = shmbox.Mailbox.open(sys.argv[1])
what = sys.argv[2]
if what == "put":
    while True:
        try:
            box.put(b"fill", timeout=0)
        except BlockingIOError:
            break
try:
    {"get": lambda: box.get(), "put": lambda: box.put(b"x"),
     "call": lambda: box.call(b"x"), "accept": lambda: box.accept()}[what]()
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(3)
print("returned", flush=True)
"""


def asleep(box, what):
    st = box.stat()
    return {"get": st.getters_waiting, "put": st.putters_waiting,
            "accept": st.servers_waiting, "call": st.requests}[what] == 1


@pytest.mark.parametrize("what", ["get", "put", "call", "accept"])
def test_ctrl_c_in_a_blocking_call(box, keyfile, children, what):
    child = children.python(CHILD, keyfile, what)
    wait_for(lambda: asleep(box, what), what="the child waiting in %s" % what)
    if what == "call":  # queued: give it the moment to go to sleep on its reply slot
        wait_for(lambda: box.stat().calls == 1, what="the call in progress")
    # A signal that lands just before the library goes to sleep wakes
    # nothing (as for any blocking call): send it again until the child
    # ends, for 5 s at most.
    deadline = time.monotonic() + 5
    while child.poll() is None and time.monotonic() < deadline:
        child.send_signal(signal.SIGINT)
        try:
            child.wait(0.2)
        except Exception:
            pass
    out, err = child.communicate(timeout=5)
    assert (child.returncode, out) == (3, b"KeyboardInterrupt\n"), err
