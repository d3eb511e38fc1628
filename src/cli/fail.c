/* Errors: the library's errno, worded by shmbox_strerror, becomes
 * "shmbox: VERB PATH: message" and an exit status from sysexits(3).  The
 * mapping is documented in shmbox(1), EXIT STATUS. */
#include <err.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

int cli_exit_code(int err)
{
	switch (err) {
	case 0: return EX_OK;
	case ENOENT:
	case EIDRM: return EX_NOINPUT;
	case EEXIST: return EX_CANTCREAT;
	case EACCES:
	case EPERM: return EX_NOPERM;
	case ETIMEDOUT:
	case EAGAIN:
	case EBUSY:
	case EINTR: return EX_TEMPFAIL;
	case EMSGSIZE:
	case EPROTO:
	case ESTALE: return EX_DATAERR;
	case EUSERS:
	case ECONNRESET: return EX_UNAVAILABLE;
	case EIO:
	case EPIPE: return EX_IOERR;
	case EBADF: return EX_SOFTWARE;
	default: return EX_OSERR; /* kernel limits (ENOSPC, EFBIG, ERANGE), ENOMEM, ... */
	}
}

/* The library cannot tell a put's wait from a get's; the command can. */
static const char *words(int e, const char *verb)
{
	bool send = strcmp(verb, "send") == 0, recv = strcmp(verb, "recv") == 0;

	if (e == EAGAIN && send)
		return "The mailbox is full, and -t 0 says not to wait";
	if (e == EAGAIN && recv)
		return "No message is queued, and -t 0 says not to wait";
	if (e == ETIMEDOUT && send)
		return "Timed out: the mailbox stayed full";
	if (e == ETIMEDOUT && recv)
		return "Timed out: no message came";
	return shmbox_strerror(e);
}

static void report(int e, const char *verb, const char *path)
{
	const char *hint = cli_hint(e, verb, path, cli_proj);

	if (hint != NULL)
		warnx("%s %s: %s; %s", verb, path, words(e, verb), hint);
	else
		warnx("%s %s: %s", verb, path, words(e, verb));
}

void cli_warn(const char *verb, const char *path)
{
	report(errno, verb, path);
}

void cli_fail(const char *verb, const char *path)
{
	int e = errno;

	report(e, verb, path);
	exit(cli_exit_code(e));
}

/* Program-lifetime memory is kept reachable from static storage, so that
 * err(3) may exit at any point without LeakSanitizer calling it a leak. */
static shmbox_t *open_box;

shmbox_t *cli_open(const char *verb, const char *path, int flags)
{
	if (shmbox_open_flags(path, cli_proj, flags, &open_box) == -1)
		cli_fail(verb, path);
	return open_box;
}

void cli_getattr(const shmbox_t *box, const char *verb, const char *path, shmbox_attr_t *attr)
{
	if (shmbox_getattr(box, attr) == -1)
		cli_fail(verb, path);
}

/* Why a recv or serve loop stopped, as an exit status.  Without a count,
 * Ctrl-C is how it ends, and so is a timeout once something came. */
int cli_stopped(const char *verb, const char *path, long long n, long long count)
{
	int e = errno;

	if (e == EINTR && cli_interrupted) {
		if (count == 0)
			return EX_OK;
		warnx("%s %s: interrupted after %lld of %lld", verb, path, n, count);
		return EX_TEMPFAIL;
	}
	if ((e == ETIMEDOUT || e == EAGAIN) && count == 0 && n > 0)
		return EX_OK;
	if ((e == ETIMEDOUT || e == EAGAIN) && count > 0)
		warnx("%s %s: %s, after %lld of %lld", verb, path, words(e, verb), n, count);
	else
		report(e, verb, path);
	return cli_exit_code(e);
}
