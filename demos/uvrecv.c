/*
 * uvrecv: the receiver inside an event loop (libuv).  One thread waits on
 * the mailbox's descriptors (shmbox_fd) as it would on sockets, next to a
 * timer and two signals: it prints each message, answers each call with
 * the number of messages received so far, and prints a heartbeat every
 * -t milliseconds, so you see the loop doing other work while the mailbox
 * is empty.  Ctrl-C ends it; a mailbox it created, it removes.
 *
 *   uvrecv [-f PATH] [-c COUNT] [-t MS]
 *
 * Talk to it with demos/sender, and call it with `shmbox call PATH hi`.
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <uv.h>

#include "demo.h"
#include "options.h"

#define SLOTS 16
#define SLOT_SIZE 4096

_Noreturn static void usage(int status)
{
	fprintf(status == 0 ? stdout : stderr,
		"usage: %s [-f PATH] [-c COUNT] [-t MS]\n"
		"  -f PATH   the mailbox's key file (default " DEMO_PATH ")\n"
		"  -c COUNT  stop after COUNT messages (default: until Ctrl-C)\n"
		"  -t MS     print a heartbeat every MS milliseconds (default 1000)\n",
		getprogname());
	exit(status);
}

/* Everything the callbacks share.  One thread runs them all, one at a
 * time: no locks. */
struct app {
	uv_loop_t loop;
	shmbox_t *box;
	const char *path;
	char *buf; /* a slot's worth */
	size_t size;
	long long count, received; /* -c (0: no end), and messages so far */
	int status;		   /* the exit status */
	uv_poll_t messages, calls; /* the SHMBOX_FD_GET and SHMBOX_FD_ACCEPT descriptors */
	uv_timer_t heartbeat;
	uv_signal_t sigint, sigterm;
};

static void close_handle(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if (!uv_is_closing(handle))
		uv_close(handle, NULL);
}

/* End the loop: closing every handle stops polling the descriptors, which
 * must happen before shmbox_close closes them (after uv_run returns). */
static void stop(struct app *app, int status)
{
	if (status > app->status)
		app->status = status;
	uv_walk(&app->loop, close_handle, NULL);
}

/* The descriptor polls readable: take messages with timeout 0 until the
 * mailbox is empty.  The EAGAIN that says so also re-arms the descriptor:
 * it turns readable again when the next message comes (shmbox_fd(3)). */
static void on_messages(uv_poll_t *poll, int status, int events)
{
	struct app *app = poll->data;
	ssize_t len;

	(void)events;
	if (status < 0) {
		warnx("poll: %s", uv_strerror(status));
		stop(app, 1);
		return;
	}
	while ((len = shmbox_get(app->box, app->buf, app->size, 0)) >= 0) {
		printf("received %zd bytes: %.*s\n", len, (int)len, app->buf);
		if (++app->received == app->count) {
			stop(app, 0);
			return;
		}
	}
	if (errno != EAGAIN) { /* EIDRM: someone removed the mailbox */
		warnx("get %s: %s", app->path, shmbox_strerror(errno));
		stop(app, 1);
	}
}

/* The same for calls: accept with timeout 0 until EAGAIN, answer each. */
static void on_calls(uv_poll_t *poll, int status, int events)
{
	struct app *app = poll->data;
	shmbox_ticket_t ticket;
	char reply[32];
	ssize_t len;
	int n;

	(void)events;
	if (status < 0) {
		warnx("poll: %s", uv_strerror(status));
		stop(app, 1);
		return;
	}
	while ((len = shmbox_accept(app->box, app->buf, app->size, &ticket, 0)) >= 0) {
		n = snprintf(reply, sizeof reply, "%lld", app->received);
		printf("call \"%.*s\": answered %s\n", (int)len, app->buf, reply);
		/* ECANCELED: the caller gave up already; nothing to do */
		if (shmbox_reply(app->box, &ticket, reply, (size_t)n) == -1 && errno != ECANCELED)
			warnx("reply %s: %s", app->path, shmbox_strerror(errno));
	}
	if (errno != EAGAIN) {
		warnx("accept %s: %s", app->path, shmbox_strerror(errno));
		stop(app, 1);
	}
}

static void on_heartbeat(uv_timer_t *timer)
{
	struct app *app = timer->data;

	printf("heartbeat: %lld messages so far\n", app->received);
}

/* Ctrl-C or kill: libuv turns the signal into an event of the loop, so it
 * arrives between two callbacks, never inside a library call. */
static void on_signal(uv_signal_t *signal, int signum)
{
	(void)signum;
	stop(signal->data, 0);
}

/* Exit with "uvrecv: WHAT: message" if a libuv call failed. */
static void uv_check(int rc, const char *what)
{
	if (rc < 0)
		errx(1, "%s: %s", what, uv_strerror(rc));
}

static shmbox_t *create_or_open(const char *path, int *created)
{
	shmbox_attr_t attr = {.slots = SLOTS, .slot_size = SLOT_SIZE};
	shmbox_t *box;

	demo_touch(path);
	*created = shmbox_create(path, DEMO_PROJ, &attr, &box) == 0;
	if (!*created && (errno != EEXIST || shmbox_open(path, DEMO_PROJ, &box) == -1))
		demo_fail(errno == EEXIST ? "create" : "open", path);
	return box;
}

/* Call cb whenever the handle's descriptor for `what` polls readable. */
static void watch(struct app *app, uv_poll_t *poll, int what, uv_poll_cb cb)
{
	int fd = shmbox_fd(app->box, what);

	if (fd == -1)
		demo_fail("shmbox_fd", app->path);
	uv_check(uv_poll_init(&app->loop, poll, fd), "uv_poll_init");
	uv_check(uv_poll_start(poll, UV_READABLE, cb), "uv_poll_start");
	poll->data = app;
}

int main(int argc, char **argv)
{
	static struct app app = {.path = DEMO_PATH}; /* static: reachable if errx() ends us (LSan) */
	long long period = 1000;
	shmbox_attr_t attr;
	int c, created;

	while ((c = demo_getopt(argc, argv, ":hf:c:t:", usage)) != -1) {
		switch (c) {
		case 'f': app.path = optarg; break;
		case 'c':
			app.count = demo_number('c', optarg, "the count", 1, LLONG_MAX);
			break;
		case 't': period = demo_number('t', optarg, "milliseconds", 1, 3600000); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	setvbuf(stdout, NULL, _IOLBF, 0); /* each line as it happens, also into a pipe */
	app.box = create_or_open(app.path, &created);
	if (shmbox_getattr(app.box, &attr) == -1 || (app.buf = malloc(attr.slot_size)) == NULL)
		demo_fail("getattr", app.path);
	app.size = attr.slot_size;

	uv_check(uv_loop_init(&app.loop), "uv_loop_init");
	watch(&app, &app.messages, SHMBOX_FD_GET, on_messages);
	watch(&app, &app.calls, SHMBOX_FD_ACCEPT, on_calls);
	uv_check(uv_timer_init(&app.loop, &app.heartbeat), "uv_timer_init");
	app.heartbeat.data = &app;
	uv_check(uv_timer_start(&app.heartbeat, on_heartbeat, (uint64_t)period, (uint64_t)period),
		 "uv_timer_start");
	uv_check(uv_signal_init(&app.loop, &app.sigint), "uv_signal_init");
	uv_check(uv_signal_init(&app.loop, &app.sigterm), "uv_signal_init");
	app.sigint.data = app.sigterm.data = &app;
	uv_check(uv_signal_start(&app.sigint, on_signal, SIGINT), "uv_signal_start");
	uv_check(uv_signal_start(&app.sigterm, on_signal, SIGTERM), "uv_signal_start");

	printf("uvrecv: %s mailbox %s; waiting for messages and calls (Ctrl-C to stop)\n",
	       created ? "created" : "opened", app.path);
	uv_run(&app.loop, UV_RUN_DEFAULT); /* until stop() has closed every handle */
	uv_loop_close(&app.loop);

	free(app.buf);
	if (created) {
		if (shmbox_destroy(app.box) == 0)
			printf("uvrecv: removed mailbox %s\n", app.path);
	} else {
		shmbox_close(app.box);
	}
	return app.status;
}
