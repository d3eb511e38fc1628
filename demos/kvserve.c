/*
 * One kvd worker: a forked process that opens the mailbox itself (handles
 * do not cross fork), accepts calls, answers each from the shared store,
 * and exits 0 when the daemon sends it SIGTERM.  See kv.h for the protocol.
 * Its event loop is one ppoll over its accept descriptor (shmbox_fd) with
 * SIGTERM let in only there (tool_wait): a SIGTERM that comes while it
 * waits, or just before, ends the wait at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <libutil.h>

#include "kv.h"
#include "kvd.h"
#include "../common/tool.h"

/* The daemon blocked its signals before forking us: SIGTERM sets
 * tool_interrupted (tool_catch_signals), Ctrl-C and hangups are left to
 * the daemon, and the daemon's death is a SIGTERM. */
static void worker_signals(pid_t parent)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, dfl = {.sa_handler = SIG_DFL};
	sigset_t none;

	tool_catch_signals();
	sigaction(SIGINT, &ign, NULL);
	sigaction(SIGHUP, &ign, NULL);
	sigaction(SIGCHLD, &dfl, NULL);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		tool_interrupted = 1; /* it died before prctl */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static size_t status_reply(char *rep, char status, const char *text)
{
	int n = snprintf(rep, KV_SLOT_SIZE, "%c%s", status, text);

	return n < KV_SLOT_SIZE ? (size_t)n : KV_SLOT_SIZE - 1;
}

struct request {
	char cmd;
	const char *key, *val;
	size_t klen, vlen;
};

/* "C KEY" or "S KEY VALUE"; -1 if it is neither. */
static int parse(const char *req, size_t len, struct request *r)
{
	const char *end = req + len, *sp;

	if (len < 3 || req[1] != ' ')
		return -1;
	r->cmd = req[0];
	r->key = req + 2;
	sp = memchr(r->key, ' ', (size_t)(end - r->key));
	r->klen = (size_t)((sp != NULL ? sp : end) - r->key);
	r->val = sp != NULL ? sp + 1 : end;
	r->vlen = (size_t)(end - r->val);
	if (!kv_key_ok(r->key, r->klen) || (r->cmd == KV_SET) != (sp != NULL))
		return -1;
	return 0;
}

static size_t store_failed(char *rep)
{
	if (errno == ENOSPC)
		return status_reply(rep, KV_ERROR, "the store is full");
	if (errno == EINVAL)
		return status_reply(rep, KV_ERROR, "value too long");
	kvd_log(LOG_ERR, "store: %s", strerror(errno));
	return status_reply(rep, KV_ERROR, strerror(errno));
}

/* Carry out one request; the reply goes in rep, its length is returned. */
static size_t answer(struct kv_store *s, const char *req, size_t len, char *rep)
{
	struct request r;
	size_t vlen;
	int found;

	if (parse(req, len, &r) == -1)
		return status_reply(rep, KV_ERROR, "malformed request");
	switch (r.cmd) {
	case KV_SET:
		if (kv_store_set(s, r.key, r.klen, r.val, r.vlen) == -1)
			return store_failed(rep);
		return status_reply(rep, KV_OK, "");
	case KV_GET:
		found = kv_store_get(s, r.key, r.klen, rep + 1, &vlen);
		if (found == 1) {
			rep[0] = KV_OK;
			return vlen + 1;
		}
		break;
	case KV_DEL:
		found = kv_store_del(s, r.key, r.klen);
		break;
	default:
		return status_reply(rep, KV_ERROR, "unknown command");
	}
	if (found == -1)
		return store_failed(rep);
	return status_reply(rep, found ? KV_OK : KV_NOT_FOUND, "");
}

struct call {
	shmbox_t *box;
	char req[KV_SLOT_SIZE];
	shmbox_ticket_t ticket;
};

/* An accept that does not wait: tool_wait does. */
static ssize_t accept_now(void *arg)
{
	struct call *c = arg;

	return shmbox_accept(c->box, c->req, sizeof(c->req), &c->ticket, 0);
}

/* Accept and answer until SIGTERM: 0, or 1 if the mailbox failed us. */
static int serve(shmbox_t *box, struct kv_store *s, unsigned id)
{
	static struct call c;
	static char rep[KV_SLOT_SIZE];
	ssize_t n;

	c.box = box;
	for (;;) {
		n = tool_wait(box, SHMBOX_FD_ACCEPT, accept_now, &c, -1);
		if (n == -1 && errno == EINTR) /* SIGTERM, the way to stop */
			return 0;
		if (n == -1) {
			kvd_log(LOG_ERR, "worker %u: accept: %s", id, shmbox_strerror(errno));
			return 1;
		}
		if (shmbox_reply(box, &c.ticket, rep, answer(s, c.req, (size_t)n, rep)) == -1) {
			/* The caller gave up; its request was carried out all the same. */
			if (errno == ECANCELED)
				continue;
			kvd_log(LOG_ERR, "worker %u: reply: %s", id, shmbox_strerror(errno));
			return 1;
		}
	}
}

int kvd_worker(struct kvd *d, unsigned id, pid_t parent)
{
	shmbox_t *box;
	int status;

	worker_signals(parent);
	/* The daemon's locks stay with the daemon. */
	pidfile_close(d->pfh);
	close(d->keyfd);
	if (shmbox_open(d->keyfile, KV_PROJ, &box) == -1) {
		kvd_log(LOG_ERR, "worker %u: open %s: %s", id, d->keyfile, shmbox_strerror(errno));
		return 1;
	}
	status = serve(box, d->store, id);
	shmbox_close(box);
	return status;
}
