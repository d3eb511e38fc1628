"""What a new user reads: the README's example runs as written, help()
shows every call's docstring, and the demos work."""
import os
import pydoc
import re
import subprocess
import sys

import pytest

import shmbox
from conftest import SRC, wait_for


def test_readme_example_runs_as_written(keys):
    text = open(os.path.join(SRC, "README.md")).read()
    example = re.search(r"^```python\n(.*?)^```$", text, re.S | re.M).group(1)
    assert '"/tmp/mybox"' in example
    key = os.path.join(keys.dir, "mybox")
    keys.made.append(key)
    # Only the key file differs, so that tests can run side by side.
    r = subprocess.run([sys.executable, "-c", example.replace('"/tmp/mybox"', repr(key))],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split("\n") == [
        "b'hello'", "b'PING'", "b'in place'", "b'for asyncio'", "0", ""]
    with pytest.raises(FileNotFoundError):  # it removed its mailbox
        shmbox.Mailbox.open(key)


def test_help_shows_every_call():
    text = pydoc.render_doc(shmbox.Mailbox, renderer=pydoc.plaintext)
    for name in ["create", "open", "put", "get", "call", "accept", "reply", "stat", "fileno",
                 "get_async", "accept_async", "put_async", "reserve", "peek", "close",
                 "destroy"]:
        doc = getattr(shmbox.Mailbox, name).__doc__
        assert doc and doc.split("\n")[0].strip() in text, name
    assert "FileNotFoundError" in text and "KeyboardInterrupt" in text
    for thing in (shmbox, shmbox.Stat, shmbox.Ticket, shmbox.Error, shmbox.unlink):
        assert thing.__doc__


def test_python_demos(keys, children):
    demos = os.path.join(SRC, "demos", "python")
    key = keys.new("demo")
    os.unlink(key)
    receiver = children.start([sys.executable, os.path.join(demos, "receiver.py"),
                               "-f", key, "-c", "3"])
    assert receiver.stdout.readline().startswith(b"receiver: created mailbox")
    r = subprocess.run([sys.executable, os.path.join(demos, "sender.py"), "-f", key,
                        "hello", "from python"], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, os.path.join(demos, "sender.py"), "-f", key],
                       input=b"a line\n", capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    out, err = receiver.communicate(timeout=30)
    assert out == (b"received 5 bytes: hello\nreceived 11 bytes: from python\n"
                   b"received 6 bytes: a line\n"), err
    with pytest.raises(FileNotFoundError):  # the receiver removed what it made
        shmbox.Mailbox.open(key)
