/* Ctrl-C (SIGINT) and SIGTERM set a flag instead of killing us (the
 * handler is common/tool.c's): a call blocked in the library returns
 * EINTR, and the subcommand ends cleanly (closing its handle, restoring
 * the terminal).  Waits are sliced so that the flag is seen even when the
 * signal came at the wrong moment. */
#include <errno.h>

#include "cli.h"

#define SLICE_MS 200

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A wait in the library, cut into slices of at most SLICE_MS with
 * cli_interrupted looked at between them.  A signal that lands after the
 * library's last look and before it sleeps in semtimedop wakes nothing:
 * sliced, that Ctrl-C is seen within a slice, not at the next message.
 * Right for put, get and accept, which add or take nothing when they time
 * out; not for call, which would send its request again.  An EINTR with
 * no Ctrl-C behind it is a stop and continue (Ctrl-Z, then fg): Linux
 * ends semtimedop with EINTR then, handler or not (signal(7)), and the
 * wait goes on. */
ssize_t cli_wait(ssize_t (*op)(void *arg, int timeout_ms), void *arg, int timeout_ms)
{
	long long end = now_ms() + timeout_ms, left;
	ssize_t r;

	if (timeout_ms == 0)
		return op(arg, 0);
	for (;;) {
		if (cli_interrupted) {
			errno = EINTR;
			return -1;
		}
		left = timeout_ms < 0 ? SLICE_MS : end - now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		r = op(arg, (int)(left < SLICE_MS ? left : SLICE_MS));
		if (r != -1 || (errno != ETIMEDOUT && errno != EINTR))
			return r;
	}
}
