/* shmbox send: one message per argument, or per line of standard input
 * (-0: per NUL-terminated string; -r: all of it, as one message). */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "cli.h"

struct sender {
	shmbox_t *box;
	const char *path;
	int timeout_ms;
	size_t slot_size;
	unsigned long long n; /* messages sent */
};

struct message {
	shmbox_t *box;
	const void *msg;
	size_t len;
};

static ssize_t put(void *arg)
{
	struct message *m = arg;

	return shmbox_put(m->box, m->msg, m->len, 0);
}

static void send_one(struct sender *s, const void *msg, size_t len)
{
	struct message m = {s->box, msg, len};
	int e;

	if (tool_wait(s->box, SHMBOX_FD_PUT, put, &m, s->timeout_ms) == 0) {
		s->n++;
		return;
	}
	if (errno == EMSGSIZE)
		errx(EX_DATAERR, "send %s: message %llu is %zu bytes; the slot size is %zu",
		     s->path, s->n + 1, len, s->slot_size);
	e = errno;
	cli_warn("send", s->path);
	if (s->n > 0)
		warnx("send %s: %llu message%s had been sent before it", s->path, s->n,
		      s->n == 1 ? "" : "s");
	exit(cli_exit_code(e));
}

/* Read standard input whole; one byte more than a slot is enough to know
 * the message is too big. */
static void send_raw(struct sender *s)
{
	static char *buf; /* static: see fail.c */
	size_t cap = s->slot_size + 1, len = 0, r;

	buf = malloc(cap);
	if (buf == NULL)
		err(EX_OSERR, "send %s", s->path);
	while (len < cap && (r = fread(buf + len, 1, cap - len, stdin)) > 0)
		len += r;
	if (ferror(stdin))
		err(EX_IOERR, "send %s: standard input", s->path);
	if (len > s->slot_size)
		errx(EX_DATAERR, "send %s: standard input is more than the slot size (%zu bytes)",
		     s->path, s->slot_size);
	send_one(s, buf, len);
	free(buf);
}

static void send_lines(struct sender *s, int delim)
{
	static char *line; /* static: see fail.c */
	static size_t cap;
	ssize_t len;

	while ((len = getdelim(&line, &cap, delim, stdin)) != -1) {
		if (len > 0 && line[len - 1] == delim)
			len--;
		send_one(s, line, (size_t)len);
	}
	if (ferror(stdin))
		err(EX_IOERR, "send %s: standard input", s->path);
	free(line);
}

int cli_send(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"null", no_argument, NULL, '0'},
		{"raw", no_argument, NULL, 'r'},
		{"timeout", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	struct sender s = {.timeout_ms = -1};
	shmbox_attr_t attr;
	int c, delim = '\n', raw = 0;

	while ((c = cli_getopt(cmd, argc, argv, ":hVp:0rt:", longopts)) != -1) {
		switch (c) {
		case '0': delim = '\0'; break;
		case 'r': raw = 1; break;
		case 't': s.timeout_ms = cli_timeout('t', optarg); break;
		default: cli_usage(cmd);
		}
	}
	s.path = cli_path(cmd, argc, argv);
	if ((raw || delim == '\0') && optind < argc) {
		warnx("send: -0 and -r read standard input: give no message arguments");
		cli_usage(cmd);
	}
	if (raw && delim == '\0') {
		warnx("send: -0 and -r do not go together");
		cli_usage(cmd);
	}
	cli_catch_signals();
	s.box = cli_open("send", s.path, 0);
	cli_getattr(s.box, "send", s.path, &attr);
	s.slot_size = attr.slot_size;
	if (raw)
		send_raw(&s);
	else if (optind < argc)
		for (; optind < argc; optind++)
			send_one(&s, argv[optind], strlen(argv[optind]));
	else
		send_lines(&s, delim);
	shmbox_close(s.box);
	return EX_OK;
}
