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
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static ssize_t accept_one(void *arg, int timeout_ms)
{
	struct server *s = arg;

	return shmbox_accept(s->box, s->req, s->slot_size, &s->ticket, timeout_ms);
}

static void __attribute__((noreturn)) child(char **command, int in[2], int out[2])
{
	int e;

	signal(SIGPIPE, SIG_DFL);
	if (dup2(in[0], STDIN_FILENO) == -1 || dup2(out[1], STDOUT_FILENO) == -1)
		_exit(126);
	execvp(command[0], command);
	e = errno;
	warn("serve: %s", command[0]);
	_exit(e == ENOENT ? 127 : 126); /* as the shell says "not found", "cannot run" */
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
	int in[2], out[2], status;
	size_t got;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1)
		err(EX_OSERR, "serve: pipe");
	pid = fork();
	if (pid == -1)
		err(EX_OSERR, "serve: fork");
	if (pid == 0)
		child(s->command, in, out);
	close(in[0]);
	close(out[1]);
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

static bool executable(const char *file)
{
	struct stat st;

	return stat(file, &st) == 0 && S_ISREG(st.st_mode) && access(file, X_OK) == 0;
}

/* Can execvp run this?  Looked for once, at the start, so that a typo in
 * the command fails there instead of answering every call with nothing. */
static bool runnable(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;
	char file[PATH_MAX];

	if (strchr(name, '/') != NULL)
		return executable(name);
	if (path == NULL)
		path = "/bin:/usr/bin";
	for (p = path;; p = end + 1) {
		end = strchrnul(p, ':');
		if (snprintf(file, sizeof(file), "%.*s%s%s", (int)(end - p), p, end > p ? "/" : "",
			     name) < (int)sizeof(file) &&
		    executable(file))
			return true;
		if (*end == '\0')
			return false;
	}
}

/* One request: 0 answered (or its caller gave up), -1 errno. */
static int serve_one(struct server *s, int timeout_ms)
{
	ssize_t len;
	size_t rlen;
	const char *rep;

	len = cli_wait(accept_one, s, timeout_ms);
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
	struct shmbox_stat st;
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
		if (!runnable(s.command[0]))
			errx(EX_UNAVAILABLE, "serve %s: %s: no such command, or not executable",
			     s.path, s.command[0]);
	}
	cli_catch_signals();
	signal(SIGPIPE, SIG_IGN); /* a command that does not read its input */
	s.box = cli_open("serve", s.path, 0);
	cli_stat(s.box, "serve", s.path, &st);
	s.slot_size = st.slot_size;
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
