/* A call's timeout: -1 waits for ever, 0 never waits, > 0 that many ms.
 * The clock starts when the call first has to wait, not before: a call
 * that never waits never reads the clock. */
#ifndef SHMBOX_DEADLINE_H
#define SHMBOX_DEADLINE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct shmbox__deadline {
	int timeout_ms;
	bool started;
	struct timespec at;
};

static inline void shmbox__deadline_init(struct shmbox__deadline *d, int timeout_ms)
{
	d->timeout_ms = timeout_ms;
	d->started = false;
}
bool shmbox__deadline_passed(struct shmbox__deadline *d);
/* CLOCK_MONOTONIC, in ns. */
int64_t shmbox__now_ns(void);
/* cap_ns, or the time left if that is shorter (never below 0). */
long shmbox__deadline_cap_ns(struct shmbox__deadline *d, long cap_ns);
/* The errno of a wait that ran out of time: EAGAIN if it was not to wait. */
static inline int shmbox__deadline_errno(const struct shmbox__deadline *d)
{
	return d->timeout_ms == 0 ? EAGAIN : ETIMEDOUT;
}

#endif /* SHMBOX_DEADLINE_H */
