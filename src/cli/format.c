/* Output helpers: sizes (humanize_number), times, owners, command names. */
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
