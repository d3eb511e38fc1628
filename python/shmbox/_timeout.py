"""Timeouts in seconds, as Python takes them, to the library's milliseconds."""
import math

_INT_MAX = 2**31 - 1


def to_ms(timeout):
    """None: wait for ever (-1); 0: never wait; > 0: at most that long,
    rounded up to a whole millisecond so that a short wait is still one."""
    if timeout is None:
        return -1
    if timeout < 0:
        raise ValueError("timeout must be None or >= 0 seconds, not %r" % (timeout,))
    ms = math.ceil(timeout * 1000)
    if ms > _INT_MAX:
        raise OverflowError("timeout too large (at most %d s; None waits for ever)"
                            % (_INT_MAX // 1000))
    return ms
