/*
 * The bridge's log: "shmbox bridge: ..." on standard error, or syslog when
 * it runs as a daemon; its counters; its signals.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "bridge.h"

static bool to_syslog;

void bridge_log_init(bool daemon)
{
	to_syslog = daemon;
	if (daemon)
		openlog("shmbox-bridge", LOG_PID, LOG_DAEMON);
}

void bridge_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (to_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		/* one write per line, so the lines of two threads never mix */
		char line[1024];
		int n = vsnprintf(line, sizeof(line), fmt, ap);

		if (n >= 0)
			fprintf(stderr, "shmbox bridge: %.*s\n", (int)sizeof(line) - 1, line);
	}
	va_end(ap);
}

void bridge_stats_print(const struct bridge *br)
{
	const struct bridge_stats *s = &br->st;

	bridge_log(LOG_INFO,
		   "stats: messages %" PRIu64 ", calls %" PRIu64 ", resent %" PRIu64
		   ", repeats %" PRIu64 ", refused %" PRIu64 ", failed %" PRIu64
		   ", malformed %" PRIu64,
		   s->messages, s->calls, s->resent, s->repeats, s->refused, s->failed,
		   s->malformed);
}

bool bridge_log_due(uint64_t n)
{
	return n <= 10 || n % 1000 == 0;
}

void bridge_malformed(struct bridge *br, const char *what)
{
	if (bridge_log_due(++br->st.malformed))
		bridge_log(LOG_WARNING, "dropped %s (%" PRIu64 " malformed so far)", what,
			   br->st.malformed);
}

int64_t bridge_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool bridge_signals(struct bridge *br)
{
	struct signalfd_siginfo si;

	while (read(br->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			bridge_stats_print(br);
			continue;
		}
		if (br->stopping)
			return true;
		bridge_log(LOG_INFO, "stopping: finishing what is in flight (again to stop now)");
		br->stopping = true;
		br->stop_by_ns = bridge_now_ns() + (int64_t)BRIDGE_STOP_MS * 1000000;
	}
	return false;
}
