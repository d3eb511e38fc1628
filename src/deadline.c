/* Deadlines on the monotonic clock (deadline.h). */
#include "deadline.h"

#define NSEC 1000000000L

static struct timespec now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t;
}

int64_t shmbox__now_ns(void)
{
	struct timespec t = now();

	return (int64_t)t.tv_sec * NSEC + t.tv_nsec;
}

static void start(struct shmbox__deadline *d)
{
	if (d->started || d->timeout_ms < 0)
		return;
	d->at = now();
	d->at.tv_sec += d->timeout_ms / 1000;
	d->at.tv_nsec += (long)(d->timeout_ms % 1000) * 1000000L;
	if (d->at.tv_nsec >= NSEC) {
		d->at.tv_sec++;
		d->at.tv_nsec -= NSEC;
	}
	d->started = true;
}

bool shmbox__deadline_passed(struct shmbox__deadline *d)
{
	struct timespec t;

	if (d->timeout_ms < 0)
		return false;
	if (d->timeout_ms == 0)
		return true;
	start(d);
	t = now();
	return t.tv_sec > d->at.tv_sec || (t.tv_sec == d->at.tv_sec && t.tv_nsec >= d->at.tv_nsec);
}

long shmbox__deadline_cap_ns(struct shmbox__deadline *d, long cap_ns)
{
	struct timespec t;
	long left_ns;

	if (d->timeout_ms < 0)
		return cap_ns;
	start(d);
	t = now();
	if (d->at.tv_sec - t.tv_sec > 1)
		return cap_ns; /* more than a second left: no cap in ns needs more */
	left_ns = (d->at.tv_sec - t.tv_sec) * NSEC + (d->at.tv_nsec - t.tv_nsec);
	if (left_ns < cap_ns)
		cap_ns = left_ns < 0 ? 0 : left_ns;
	return cap_ns;
}
