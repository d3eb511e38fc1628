/* Output helpers: sizes (humanize_number), times, owners, command names,
 * the descriptors' listeners. */
#include <inttypes.h>
#include <libutil.h>
#include <pwd.h>
#include <stdio.h>

#include "cli.h"

/* "4.5K", "128K", "1.5M": binary units, four characters at most, as ls -h
 * shows them (humanize_number scales until the number fits the buffer). */
const char *cli_size(char *buf, size_t len, uint64_t bytes)
{
	if (bytes > INT64_MAX || len < 5 ||
	    humanize_number(buf, 5, (int64_t)bytes, "", HN_AUTOSCALE,
			    HN_B | HN_NOSPACE | HN_DECIMAL) == -1)
		snprintf(buf, len, "%" PRIu64, bytes);
	return buf;
}

const char *cli_time(char *buf, size_t len, time_t t)
{
	struct tm tm;

	if (t == 0 || localtime_r(&t, &tm) == NULL || strftime(buf, len, "%F %T", &tm) == 0)
		snprintf(buf, len, "never");
	return buf;
}

/* The user's name, or the number if it has none. */
const char *cli_user(uid_t uid)
{
	static char num[24];
	struct passwd *pw = getpwuid(uid);

	if (pw != NULL)
		return pw->pw_name;
	snprintf(num, sizeof(num), "%lu", (unsigned long)uid);
	return num;
}

/* The command name of a process, from /proc; "?" if it is gone. */
const char *cli_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/comm", (long)pid);
	f = fopen(path, "r");
	if (f == NULL || len == 0) {
		if (f != NULL)
			fclose(f);
		snprintf(buf, len, "?");
		return buf;
	}
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		n--;
	buf[n] = '\0';
	return buf;
}

const char *cli_what(int what)
{
	switch (what) {
	case SHMBOX_FD_GET: return "get";
	case SHMBOX_FD_PUT: return "put";
	case SHMBOX_FD_ACCEPT: return "accept";
	default: return "?";
	}
}

const char *cli_listening(char *buf, size_t len, const struct shmbox_listener *l, size_t n)
{
	static const int whats[] = {SHMBOX_FD_GET, SHMBOX_FD_PUT, SHMBOX_FD_ACCEPT};
	size_t k, i, at = 0, count, armed;

	buf[0] = '\0';
	for (k = 0; k < sizeof(whats) / sizeof(whats[0]) && at < len; k++) {
		count = armed = 0;
		for (i = 0; i < n; i++)
			if (l[i].what == whats[k]) {
				count++;
				armed += l[i].armed != 0;
			}
		at += (size_t)snprintf(buf + at, len - at, "%s%zu for %s", k ? ", " : "", count,
				       cli_what(whats[k]));
		if (count > 0 && at < len)
			at += (size_t)snprintf(buf + at, len - at, " (%zu armed)", armed);
	}
	return buf;
}
