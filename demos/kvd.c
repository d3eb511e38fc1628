/*
 * kvd: a key-value server on a shmbox mailbox.  It locks its pid file and
 * its key file, makes the mailbox and the store, becomes a daemon (unless
 * -f), and answers kvctl's calls with a pool of worker processes until
 * SIGTERM (or SIGINT, SIGHUP), when it stops the workers, removes the
 * mailbox and the pid file, and exits 0.
 *
 *   kvd [-f] [-k KEYFILE] [-p PIDFILE] [-w WORKERS]
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <libutil.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kv.h"
#include "kvd.h"
#include "options.h"

#define MAX_WORKERS 32
#define WORKERS 4 /* -w default */

static bool to_syslog;

void kvd_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (to_syslog) {
		vsyslog(prio, fmt, ap);
	} else {
		fprintf(stderr, "%s: ", getprogname());
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
	va_end(ap);
}

_Noreturn static void usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
		"usage: %s [-f] [-k KEYFILE] [-p PIDFILE] [-w WORKERS]\n"
		"  -f          stay in the foreground\n"
		"  -k KEYFILE  the mailbox's key file (default " KV_KEYFILE ")\n"
		"  -p PIDFILE  default /run/kvd.pid as root, /tmp/kvd.pid otherwise\n"
		"  -w WORKERS  worker processes answering requests (default " STR(WORKERS) ")\n",
		getprogname());
	exit(status);
}

/* The daemon runs in /: keep paths that still name the same files there. */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX], *abs;

	if (path[0] == '/')
		abs = strdup(path);
	else if (getcwd(cwd, sizeof(cwd)) == NULL)
		err(1, "getcwd");
	else if (asprintf(&abs, "%s/%s", cwd, path) == -1)
		abs = NULL;
	if (abs == NULL)
		err(1, "%s", path);
	return abs;
}

static void parse_args(int argc, char **argv, struct kvd *d)
{
	const char *keyfile = KV_KEYFILE;
	const char *pidpath = geteuid() == 0 ? "/run/kvd.pid" : "/tmp/kvd.pid";
	int c;

	d->workers = WORKERS;
	while ((c = demo_getopt(argc, argv, ":hfk:p:w:", usage)) != -1) {
		switch (c) {
		case 'f': d->foreground = true; break;
		case 'k': keyfile = optarg; break;
		case 'p': pidpath = optarg; break;
		case 'w':
			d->workers =
				(unsigned)demo_number('w', optarg, "the number of workers", 1, MAX_WORKERS);
			break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	d->keyfile = absolute(keyfile);
	d->pidpath = absolute(pidpath);
}

/* Lock the key file (made if need be; ftok needs it) for as long as kvd
 * runs: a second kvd on the same mailbox is refused, a mailbox found while
 * we hold the lock was left by a kvd that was killed, and kvctl can tell
 * at once whether a kvd is running. */
static int lock_keyfile(const char *path)
{
	int fd = flopen(path, O_RDONLY | O_CREAT | O_NONBLOCK, 0644);

	if (fd == -1 && errno == EWOULDBLOCK)
		warnx("another kvd serves %s", path);
	else if (fd == -1)
		warn("%s", path);
	return fd;
}

/* Lock the pid file, or say who holds it.  Before daemon(), so that
 * "already running" reaches the terminal. */
static struct pidfh *lock_pidfile(const char *path)
{
	struct pidfh *pfh;
	pid_t other = -1;

	pfh = pidfile_open(path, 0644, &other);
	if (pfh != NULL)
		return pfh;
	if (errno == EEXIST && other > 0)
		errx(1, "already running (pid %d, pid file %s)", (int)other, path);
	if (errno == EEXIST)
		errx(1, "already running (pid file %s is locked)", path);
	err(1, "pid file %s", path);
}

/* A mailbox of another geometry is not one a kvd made: leave it alone. */
static bool is_kvd_mailbox(shmbox_t *box, const char *keyfile)
{
	shmbox_attr_t attr;

	if (shmbox_getattr(box, &attr) == -1) {
		warnx("getattr %s: %s", keyfile, shmbox_strerror(errno));
		return false;
	}
	if (attr.slots == KV_SLOTS && attr.slot_size == KV_SLOT_SIZE &&
	    attr.max_procs == KV_MAX_PROCS)
		return true;
	warnx("%s: the mailbox there is not kvd's (%zu slots of %zu bytes): use another key file",
	      keyfile, attr.slots, attr.slot_size);
	return false;
}

/* We hold the key file's lock, so no kvd serves this mailbox: it was
 * left by one that was killed.  -1: said why. */
static int remove_stale(const char *keyfile)
{
	shmbox_t *box;

	if (shmbox_open(keyfile, KV_PROJ, &box) == -1) {
		warnx("open %s: %s", keyfile, shmbox_strerror(errno));
		return -1;
	}
	if (!is_kvd_mailbox(box, keyfile)) {
		shmbox_close(box);
		return -1;
	}
	warnx("%s: removing the mailbox left by a kvd that was killed", keyfile);
	if (shmbox_destroy(box) == -1) {
		warnx("remove %s: %s", keyfile, shmbox_strerror(errno));
		return -1;
	}
	return 0;
}

/* Make the mailbox now, so that errors reach the terminal and kvctl's
 * calls queue up from the moment we return; the handle does not survive
 * daemon()'s fork, so it is closed and the daemon opens its own. */
static int create_mailbox(const char *keyfile)
{
	shmbox_attr_t attr = {
		.slots = KV_SLOTS, .slot_size = KV_SLOT_SIZE, .max_procs = KV_MAX_PROCS};
	shmbox_t *box;
	int r = shmbox_create(keyfile, KV_PROJ, &attr, &box);

	if (r == -1 && errno == EEXIST) {
		if (remove_stale(keyfile) == -1)
			return -1;
		r = shmbox_create(keyfile, KV_PROJ, &attr, &box);
	}
	if (r == -1) {
		warnx("create %s: %s", keyfile, shmbox_strerror(errno));
		return -1;
	}
	return shmbox_close(box);
}

static void on_sigchld(int sig)
{
	(void)sig; /* only so that SIGCHLD is not ignored: sigwaitinfo takes it */
}

/* Block the signals the pool waits for, before any worker exists. */
static void block_signals(void)
{
	struct sigaction sa = {.sa_handler = on_sigchld};
	sigset_t set;

	sigaction(SIGCHLD, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Everything that can fail on the user's terminal; -1: nothing is left. */
static int prepare(struct kvd *d)
{
	d->pfh = lock_pidfile(d->pidpath);
	d->keyfd = lock_keyfile(d->keyfile);
	if (d->keyfd == -1)
		goto fail;
	d->store = kv_store_new();
	if (d->store == NULL) {
		warn("store");
		goto fail;
	}
	if (create_mailbox(d->keyfile) == 0)
		return 0;
	kv_store_free(d->store);
fail:
	if (d->keyfd != -1)
		close(d->keyfd);
	pidfile_remove(d->pfh);
	return -1;
}

/* The mailbox is made but no one has it open: remove it. */
static void remove_mailbox(const char *keyfile)
{
	shmbox_t *box;

	if (shmbox_open(keyfile, KV_PROJ, &box) == 0)
		shmbox_destroy(box);
}

static int become_daemon(struct kvd *d)
{
	if (!d->foreground) {
		if (daemon(0, 0) == -1) {
			warn("daemon");
			return -1;
		}
		openlog(getprogname(), LOG_PID, LOG_DAEMON);
		to_syslog = true;
	}
	if (pidfile_write(d->pfh) == -1)
		kvd_log(LOG_WARNING, "pid file %s: %s", d->pidpath, strerror(errno));
	if (shmbox_open(d->keyfile, KV_PROJ, &d->box) == -1) {
		kvd_log(LOG_ERR, "open %s: %s", d->keyfile, shmbox_strerror(errno));
		return -1;
	}
	return 0;
}

/* From daemon() to the end: serve until told to stop, then clean up. */
static int run(struct kvd *d)
{
	int status = 1;

	if (become_daemon(d) == 0) {
		kvd_log(LOG_INFO, "serving %s (pid %d, %u worker%s)", d->keyfile, (int)getpid(),
			d->workers, d->workers == 1 ? "" : "s");
		status = kvd_pool_run(d);
	}
	if (d->box == NULL)
		remove_mailbox(d->keyfile);
	else if (shmbox_destroy(d->box) == -1)
		kvd_log(LOG_ERR, "remove mailbox %s: %s", d->keyfile, shmbox_strerror(errno));
	kv_store_free(d->store);
	close(d->keyfd);
	pidfile_remove(d->pfh); /* last: once it is gone, all is released */
	kvd_log(status == 0 ? LOG_INFO : LOG_ERR, "stopped");
	return status;
}

int main(int argc, char **argv)
{
	struct kvd d = {0};
	int status = 1;

	parse_args(argc, argv, &d);
	block_signals();
	if (prepare(&d) == 0)
		status = run(&d);
	free(d.keyfile);
	free(d.pidpath);
	return status;
}
