/*
 * shmbox serve: answer calls.  With no command, each reply is the request
 * itself (an echo server, to try shmbox call with); with a command, the
 * reply is what the command prints when given the request on its
 * standard input, one run per request.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <sysexits.h>
#include <unistd.h>

#include "cli.h"

struct server {
	shmbox_t *box;
	const char *path;
	char **command; /* NULL: echo */
	char *req, *rep;
	size_t slot_size;
	shmbox_ticket_t ticket; /* of the request being answered */
};

static ssize_t accept_one(void *arg)
{
	struct server *s = arg;

	return shmbox_accept(s->box, s->req, s->slot_size, &s->ticket, 0);
}

/* posix_spawnp with in and out (-1: inherited) as the command's standard
 * input and output, and SIGPIPE back to its default (serve ignores it).
 * The pipes' own descriptors are close-on-exec, so the command holds no
 * other end open.  Returns 0 or an errno value. */
static int spawn(char *const argv[], int in, int out, pid_t *pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t dfl;
	int e;

	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	if ((e = posix_spawn_file_actions_init(&fa)) != 0)
		return e;
	if ((e = posix_spawnattr_init(&attr)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return e;
	}
	if ((in == -1 || (e = posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO)) == 0) &&
	    (out == -1 || (e = posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO)) == 0) &&
	    (e = posix_spawnattr_setsigdefault(&attr, &dfl)) == 0 &&
	    (e = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF)) == 0)
		e = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return e;
}

/* Feed the request in and read the reply out together, so that neither
 * pipe can fill up and stall the other; past the slot size, output is
 * read and counted but not kept.  Returns the output's whole length. */
static size_t exchange(int to, int from, const char *req, size_t len, char *rep, size_t cap)
{
	char spill[4096];
	size_t sent = 0, got = 0;
	ssize_t r;

	if (len == 0) {
		close(to);
		to = -1;
	}
	while (from != -1) {
		struct pollfd p[2] = {{.fd = from, .events = POLLIN}, {.fd = to, .events = POLLOUT}};

		if (poll(p, to == -1 ? 1 : 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			err(EX_OSERR, "serve: poll");
		}
		if (to != -1 && p[1].revents != 0) {
			r = write(to, req + sent, len - sent);
			if (r > 0)
				sent += (size_t)r;
			if ((r == -1 && errno != EAGAIN && errno != EINTR) || sent == len) {
				close(to); /* done, or EPIPE: the command stopped reading */
				to = -1;
			}
		}
		if (p[0].revents != 0) {
			r = read(from, got < cap ? rep + got : spill,
				 got < cap ? cap - got : sizeof(spill));
			if (r > 0)
				got += (size_t)r;
			else if (r == 0 || (errno != EINTR && errno != EAGAIN))
				from = -1;
		}
	}
	if (to != -1)
		close(to);
	return got;
}

static size_t run(struct server *s, size_t len)
{
	int in[2], out[2], status, e;
	size_t got;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		err(EX_OSERR, "serve: pipe");
	e = spawn(s->command, in[0], out[1], &pid);
	close(in[0]);
	close(out[1]);
	if (e != 0) { /* gone since the start, say: the reply is empty */
		warnx("serve %s: %s: %s", s->path, s->command[0], strerror(e));
		close(in[1]);
		close(out[0]);
		return 0;
	}
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	got = exchange(in[1], out[0], s->req, len, s->rep, s->slot_size);
	close(out[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		warnx("serve %s: %s exited %d", s->path, s->command[0], WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		warnx("serve %s: %s killed by signal %d", s->path, s->command[0],
		      WTERMSIG(status));
	if (got > s->slot_size) {
		warnx("serve %s: %s printed %zu bytes; the reply is cut to the slot size, %zu",
		      s->path, s->command[0], got, s->slot_size);
		got = s->slot_size;
	}
	return got;
}

/* Can the command be started?  Asked once, at the start, so that a typo
 * fails there instead of answering every call with nothing; and asked of
 * posix_spawnp itself rather than of a PATH search of our own.  Given an
 * argument longer than Linux takes (MAX_ARG_STRLEN, 32 pages), it looks
 * for the command exactly as it will for a request, and the kernel,
 * having opened the file, refuses to run it with E2BIG: the command never
 * starts.  ENOENT, EACCES and the like mean it cannot be started.
 * Returns 0 or that errno value. */
static int startable(char *name)
{
	size_t len = (size_t)sysconf(_SC_PAGESIZE) * 32 + 1;
	char *arg = malloc(len + 1), *argv[] = {name, arg, NULL};
	pid_t pid;
	int e;

	if (arg == NULL)
		err(EX_OSERR, "serve");
	memset(arg, 'x', len);
	arg[len] = '\0';
	e = spawn(argv, -1, -1, &pid);
	free(arg);
	if (e == 0) { /* a kernel that took it after all: stop it at once */
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
			;
	}
	return e == E2BIG ? 0 : e;
}

/* One request: 0 answered (or its caller gave up), -1 errno. */
static int serve_one(struct server *s, int timeout_ms)
{
	ssize_t len;
	size_t rlen;
	const char *rep;

	len = tool_wait(s->box, SHMBOX_FD_ACCEPT, accept_one, s, timeout_ms);
	if (len == -1)
		return -1;
	rep = s->req;
	rlen = (size_t)len;
	if (s->command != NULL) {
		rlen = run(s, (size_t)len);
		rep = s->rep;
	}
	if (shmbox_reply(s->box, &s->ticket, rep, rlen) == -1) {
		if (errno != ECANCELED)
			return -1;
		/* the caller gave up (timed out, interrupted, died): serve on */
		warnx("serve %s: reply: %s", s->path, shmbox_strerror(errno));
	}
	return 0;
}

int cli_serve(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"count", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	static struct server s; /* static: see fail.c */
	shmbox_attr_t attr;
	long long count = 0, n;
	int c, timeout_ms = -1, status = EX_OK, e;

	/* "+": options end at the command, which has options of its own */
	while ((c = cli_getopt(cmd, argc, argv, "+:hVp:c:t:", longopts)) != -1) {
		switch (c) {
		case 'c': count = cli_number('c', optarg, "the count", 1, LLONG_MAX); break;
		case 't': timeout_ms = cli_timeout('t', optarg); break;
		default: cli_usage(cmd);
		}
	}
	s.path = cli_path(cmd, argc, argv);
	if (optind < argc) {
		s.command = argv + optind;
		e = startable(s.command[0]);
		if (e != 0)
			errx(EX_UNAVAILABLE, "serve %s: %s: no such command, or not executable (%s)",
			     s.path, s.command[0], strerror(e));
	}
	cli_catch_signals();
	signal(SIGPIPE, SIG_IGN); /* a command that does not read its input */
	s.box = cli_open("serve", s.path, 0);
	cli_getattr(s.box, "serve", s.path, &attr);
	s.slot_size = attr.slot_size;
	s.req = malloc(s.slot_size);
	s.rep = malloc(s.slot_size);
	if (s.req == NULL || s.rep == NULL)
		err(EX_OSERR, "serve %s", s.path);
	for (n = 0; count == 0 || n < count; n++) {
		if (serve_one(&s, timeout_ms) == -1) {
			e = errno;
			status = cli_stopped("serve", s.path, n, count);
			errno = e;
			break;
		}
	}
	free(s.req);
	free(s.rep);
	shmbox_close(s.box);
	return status;
}
