/*
 * shmbox through two bridges (issue 17): mailbox A, `shmbox bridge
 * --connect` taking from it, loopback TCP, `shmbox bridge --listen`
 * putting into mailbox B.  Senders and callers use A, receivers and
 * servers B; the two mailboxes have key files of their own in the same IPC
 * namespace (two hosts' worth of mailboxes, without namespaces).  Every
 * channel starts its two bridges (the shmbox command, as processes of the
 * parent) and stops them with SIGTERM when it is removed; their CPU time
 * while the figure runs is counted in the figure's.  bridge-curve is the
 * same with CURVE keys from `shmbox keygen`.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <shmbox.h>

#include "bench.h"

#define BRIDGE_PROJ 66	 /* -p of the shmbox command: 1 to 255 */
#define START_MS 10000	 /* a bridge that has not said it is up by then has failed */
#define STOP_MS 10000	 /* SIGTERM, then this long, then SIGKILL */
#define LOG_KEEP 1024	 /* the end of a bridge's log, for the error */
#define LISTENING "shmbox bridge: listening on "
#define CONNECTED "shmbox bridge: connected to "

enum { LISTENER, CONNECTOR, NB };
static const char *const side[NB] = {"--listen", "--connect"};

struct bridge {
	pid_t pid;
	int log; /* the read end of its standard error; non-blocking */
	char tail[LOG_KEEP];
};

struct chan {
	shmbox_t *parent_a, *parent_b; /* the creator's handles */
	shmbox_t *a, *b;	       /* a child's own */
	bool curve;
	char path_a[PATH_MAX], path_b[PATH_MAX];
	char keys[NB][PATH_MAX]; /* bridge-curve: each side's key directory */
	struct bridge br[NB];
};

/* ---- the shmbox command ---- */

/* $BENCH_SHMBOX_BIN, else the shmbox command of the build tree this
 * program is in: bench/.libs/ (libtool), or bench/, or the top directory
 * (built by hand). */
static const char *shmbox_bin(void)
{
	static char bin[PATH_MAX];
	static bool looked;
	static const char *const rel[] = {"/../../shmbox", "/../shmbox", "/shmbox"};
	char exe[PATH_MAX];
	ssize_t n;

	if (looked)
		return bin[0] ? bin : NULL;
	looked = true;
	if (getenv("BENCH_SHMBOX_BIN") != NULL && *getenv("BENCH_SHMBOX_BIN") != '\0') {
		snprintf(bin, sizeof(bin), "%s", getenv("BENCH_SHMBOX_BIN"));
		return bin;
	}
	if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) <= 0)
		return NULL;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
		struct stat st;

		snprintf(bin, sizeof(bin), "%s%s", exe, rel[i]);
		if (stat(bin, &st) == 0 && S_ISREG(st.st_mode) && access(bin, X_OK) == 0)
			return bin;
	}
	bin[0] = '\0';
	return NULL;
}

/* Fork and exec the shmbox command with argv[1...]; its standard output
 * to /dev/null, its standard error into *log (non-blocking), or to
 * /dev/null if log is NULL.  It gets SIGTERM if this process dies. */
static pid_t spawn(char *const argv[], int *log)
{
	int p[2] = {-1, -1};
	pid_t parent = getpid(), pid;

	if (log != NULL && pipe2(p, O_CLOEXEC) == -1)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == 0) {
		int null = open("/dev/null", O_RDWR);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
			_exit(126);
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(log != NULL ? p[1] : null, STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	if (log != NULL) {
		close(p[1]);
		if (pid == -1)
			close(p[0]);
		else
			*log = p[0], fcntl(p[0], F_SETFL, O_NONBLOCK);
	}
	return pid;
}

static int wait_exit(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return -1;
	return st;
}

/* Whether this shmbox command has a bridge: `shmbox bridge --help` exits 0. */
static const char *no_bridge(void)
{
	static char why[PATH_MAX + 100];
	static bool asked;
	const char *bin = shmbox_bin();
	pid_t pid;
	int st;

	if (asked)
		return why[0] ? why : NULL;
	asked = true;
	if (bin == NULL)
		snprintf(why, sizeof(why),
			 "no shmbox command next to shmbox-bench; set BENCH_SHMBOX_BIN");
	else if ((pid = spawn((char *[]){(char *)bin, "bridge", "--help", NULL}, NULL)) == -1 ||
		 (st = wait_exit(pid)) == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		snprintf(why, sizeof(why), "%s bridge --help failed: no bridge in that build", bin);
	return why[0] ? why : NULL;
}

/* ---- a bridge's log ---- */

/* Read what a bridge has written, keeping the end of it. */
static void drain(struct bridge *b)
{
	const size_t keep = sizeof(b->tail) - 1;
	char buf[4096];
	ssize_t n;

	while (b->log >= 0 && (n = read(b->log, buf, sizeof(buf))) > 0) {
		size_t have = strlen(b->tail), add = (size_t)n;
		const char *from = buf;

		if (add > keep)
			from += add - keep, add = keep;
		if (have + add > keep) { /* keep the last keep - add bytes */
			memmove(b->tail, b->tail + have + add - keep, keep - add);
			have = keep - add;
		}
		memcpy(b->tail + have, from, add);
		b->tail[have + add] = '\0';
	}
}

/* The last line of its log, for an error message. */
static const char *last_line(struct bridge *b)
{
	size_t n = strlen(b->tail);
	char *nl;

	while (n > 0 && b->tail[n - 1] == '\n')
		b->tail[--n] = '\0';
	nl = strrchr(b->tail, '\n');
	return nl != NULL ? nl + 1 : b->tail[0] ? b->tail : "(nothing logged)";
}

/* Wait until the bridge's log has a line starting with `what`; the rest of
 * that line into rest.  0, or -1 and why in msg. */
static int await_line(struct bridge *b, int i, const char *what, char *rest, size_t rlen,
		      char *msg, size_t len)
{
	uint64_t deadline = now_ns() + (uint64_t)START_MS * 1000000u;

	for (;;) {
		struct pollfd p = {.fd = b->log, .events = POLLIN};
		const char *at, *end;
		int64_t left = ((int64_t)deadline - (int64_t)now_ns()) / 1000000;
		int st;

		drain(b);
		if ((at = strstr(b->tail, what)) != NULL && (end = strchr(at, '\n')) != NULL) {
			at += strlen(what);
			snprintf(rest, rlen, "%.*s", (int)(end - at), at);
			return 0;
		}
		if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
			b->pid = 0;
			drain(b);
			snprintf(msg, len, "shmbox bridge %s exited (status %d): %s", side[i],
				 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), last_line(b));
			return -1;
		}
		if (left <= 0) {
			snprintf(msg, len, "shmbox bridge %s: no \"%s\" within %d ms: %s", side[i],
				 what, START_MS, last_line(b));
			return -1;
		}
		poll(&p, 1, left < 50 ? (int)left : 50); /* and look at the process again */
	}
}

/* ---- keys (bridge-curve) ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static int copy_file(const char *from, const char *to)
{
	char buf[256];
	int in = open(from, O_RDONLY | O_CLOEXEC), out;
	ssize_t n = in == -1 ? -1 : read(in, buf, sizeof(buf));

	if (in != -1)
		close(in);
	if (n <= 0 || (out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) == -1)
		return -1;
	n = write(out, buf, (size_t)n) == n ? 0 : -1;
	return close(out) == -1 ? -1 : (int)n;
}

/* Each side's key pair (shmbox keygen) and the other's public key in its
 * peers/. */
static int make_keys(struct chan *c, char *msg, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	char from[PATH_MAX + 16], to[PATH_MAX + 32];

	for (int i = 0; i < NB; i++) {
		pid_t pid;
		int st;

		snprintf(c->keys[i], sizeof(c->keys[i]), "%s/shmbox-bench-keys.XXXXXX",
			 tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
		if (mkdtemp(c->keys[i]) == NULL) {
			snprintf(msg, len, "mkdtemp %s: %s", c->keys[i], strerror(errno));
			c->keys[i][0] = '\0';
			return -1;
		}
		snprintf(to, sizeof(to), "%s/k", c->keys[i]);
		pid = spawn((char *[]){(char *)shmbox_bin(), "keygen", to, NULL}, NULL);
		if (pid == -1 || (st = wait_exit(pid)) == -1 || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0) {
			snprintf(msg, len, "shmbox keygen %s failed", to);
			return -1;
		}
		snprintf(to, sizeof(to), "%s/k/peers", c->keys[i]); /* keygen may make it */
		if (mkdir(to, 0700) == -1 && errno != EEXIST) {
			snprintf(msg, len, "mkdir %s: %s", to, strerror(errno));
			return -1;
		}
	}
	for (int i = 0; i < NB; i++) {
		snprintf(from, sizeof(from), "%s/k/key.pub", c->keys[i]);
		snprintf(to, sizeof(to), "%s/k/peers/other.pub", c->keys[1 - i]);
		if (copy_file(from, to) == -1) {
			snprintf(msg, len, "copying %s to %s failed", from, to);
			return -1;
		}
	}
	return 0;
}

/* ---- the channel ---- */

static void stop(struct bridge *b)
{
	uint64_t deadline = now_ns() + (uint64_t)STOP_MS * 1000000u;

	if (b->pid > 0 && kill(b->pid, SIGTERM) == 0) {
		while (waitpid(b->pid, NULL, WNOHANG) == 0) {
			struct timespec ts = {0, 1000000};

			if (now_ns() > deadline) {
				kill(b->pid, SIGKILL);
				wait_exit(b->pid);
				break;
			}
			nanosleep(&ts, NULL);
		}
	}
	b->pid = 0;
	if (b->log >= 0)
		close(b->log);
	b->log = -1;
}

static void bridge_destroy(struct chan *c)
{
	char dir[PATH_MAX + 4];

	stop(&c->br[CONNECTOR]); /* it finishes what is in flight */
	stop(&c->br[LISTENER]);
	if (c->parent_a != NULL)
		shmbox_destroy(c->parent_a);
	if (c->parent_b != NULL)
		shmbox_destroy(c->parent_b);
	if (c->path_a[0] != '\0')
		unlink(c->path_a);
	if (c->path_b[0] != '\0')
		unlink(c->path_b);
	for (int i = 0; i < NB; i++) {
		snprintf(dir, sizeof(dir), "%s", c->keys[i]);
		if (dir[0] != '\0')
			nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	}
	free(c);
}

/* Start one side: the listener on tcp://127.0.0.1:* (its log names the
 * port), the connector to `endpoint`; 0 once it says so. */
static int start(struct chan *c, int i, char *endpoint, size_t elen, char *msg, size_t len)
{
	char proj[8], keys[PATH_MAX + 4], rest[256];
	char *argv[12];
	int n = 0;

	snprintf(proj, sizeof(proj), "%d", BRIDGE_PROJ);
	snprintf(keys, sizeof(keys), "%s/k", c->keys[i]);
	argv[n++] = (char *)shmbox_bin();
	argv[n++] = "bridge";
	argv[n++] = (char *)side[i];
	argv[n++] = i == LISTENER ? "tcp://127.0.0.1:*" : endpoint;
	argv[n++] = "-p";
	argv[n++] = proj;
	if (c->curve) {
		argv[n++] = "--keys";
		argv[n++] = keys;
	}
	argv[n++] = i == LISTENER ? c->path_b : c->path_a;
	argv[n] = NULL;
	if ((c->br[i].pid = spawn(argv, &c->br[i].log)) == -1) {
		c->br[i].pid = 0;
		snprintf(msg, len, "fork: %s", strerror(errno));
		return -1;
	}
	if (await_line(&c->br[i], i, i == LISTENER ? LISTENING : CONNECTED, rest, sizeof(rest),
		       msg, len) == -1)
		return -1;
	if (i == LISTENER)
		snprintf(endpoint, elen, "%s", rest);
	return 0;
}

static struct chan *chan_make(size_t size, bool curve, char *msg, size_t len)
{
	struct chan *c = calloc(1, sizeof(*c));
	char endpoint[256];

	if (c == NULL) {
		snprintf(msg, len, "calloc: %s", strerror(errno));
		return NULL;
	}
	c->curve = curve;
	c->br[0].log = c->br[1].log = -1;
	if ((c->parent_a = bench_box_create(queue_depth(size), size, BRIDGE_PROJ, c->path_a, msg,
					    len)) == NULL ||
	    (c->parent_b = bench_box_create(queue_depth(size), size, BRIDGE_PROJ, c->path_b, msg,
					    len)) == NULL ||
	    (curve && make_keys(c, msg, len) == -1) ||
	    start(c, LISTENER, endpoint, sizeof(endpoint), msg, len) == -1 ||
	    start(c, CONNECTOR, endpoint, sizeof(endpoint), msg, len) == -1) {
		bridge_destroy(c);
		return NULL;
	}
	snprintf(msg, len,
		 "mailbox A -> shmbox bridge --connect -> tcp://127.0.0.1 -> shmbox bridge --listen "
		 "-> mailbox B, the bridges' defaults%s; each mailbox as shmbox's (slots %zu of the "
		 "message size, mkstemp key files of their own); senders and callers shmbox_put/"
		 "shmbox_call on A, receivers and servers shmbox_get/shmbox_accept on B, "
		 "timeouts -1; bridges started for each repetition, connected before it starts",
		 curve ? ", --keys (shmbox keygen, each side's public key in the other's peers/)"
		       : ", no CURVE",
		 queue_depth(size));
	return c;
}

static struct chan *plain_create(size_t size, char *msg, size_t len)
{
	return chan_make(size, false, msg, len);
}

static struct chan *curve_create(size_t size, char *msg, size_t len)
{
	return chan_make(size, true, msg, len);
}

/* CPU time from the scheduler's own count (ns), as precise as wait4's;
 * -1 if the process is gone. */
static double cpu_of(pid_t pid)
{
	char path[64];
	unsigned long long ns;
	FILE *f;
	int got;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	got = fscanf(f, "%llu", &ns);
	fclose(f);
	return got == 1 ? (double)ns / 1e9 : -1;
}

static int bridge_helpers(struct chan *c, double *cpu_s, char *err, size_t len)
{
	*cpu_s = 0;
	for (int i = 0; i < NB; i++) {
		struct bridge *b = &c->br[i];
		double s;
		int st;

		drain(b); /* a full pipe would stop it */
		if (b->pid <= 0 || waitpid(b->pid, &st, WNOHANG) == b->pid) {
			if (b->pid > 0)
				snprintf(err, len, "shmbox bridge %s exited (status %d): %s", side[i],
					 WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
					 last_line(b));
			else
				snprintf(err, len, "shmbox bridge %s is gone", side[i]);
			b->pid = 0;
			return -1;
		}
		if ((s = cpu_of(b->pid)) < 0) {
			snprintf(err, len, "/proc/%ld/schedstat: %s", (long)b->pid, strerror(errno));
			return -1;
		}
		*cpu_s += s;
	}
	return 0;
}

/* ---- what the children do: A for senders and callers, B for the others ---- */

static int bridge_attach(struct chan *c, unsigned role, char *err, size_t len)
{
	bool on_a = role & (ROLE_SEND | ROLE_CALL);

	if (role == 0)
		return 0;
	if (shmbox_open(on_a ? c->path_a : c->path_b, BRIDGE_PROJ, on_a ? &c->a : &c->b) == -1) {
		snprintf(err, len, "shmbox_open: %s", shmbox_strerror(errno));
		return -1;
	}
	return 0;
}

static int bridge_send(struct chan *c, void *msg, size_t len)
{
	return shmbox_put(c->a, msg, len, -1);
}

static ssize_t bridge_recv(struct chan *c, void *buf, size_t size)
{
	return shmbox_get(c->b, buf, size, -1);
}

static ssize_t bridge_call(struct chan *c, void *req, size_t len, void *rep, size_t size)
{
	return shmbox_call(c->a, req, len, rep, size, -1);
}

static ssize_t bridge_accept(struct chan *const *c, int n, void *buf, size_t size,
			     uint64_t *from)
{
	shmbox_ticket_t t;
	ssize_t len = shmbox_accept(c[0]->b, buf, size, &t, -1);

	(void)n;
	*from = (uint64_t)t.slot << 32 | t.gen;
	return len;
}

static int bridge_reply(struct chan *const *c, uint64_t from, void *rep, size_t len)
{
	shmbox_ticket_t t = {.slot = (uint32_t)(from >> 32), .gen = (uint32_t)from};

	return shmbox_reply(c[0]->b, &t, rep, len);
}

#define BRIDGE_TRANSPORT(tname, make)                                                         \
	{                                                                                     \
		.name = tname, .create = make, .attach = bridge_attach, .send = bridge_send,   \
		.recv = bridge_recv, .destroy = bridge_destroy,                                \
		.rpc_how = "clients shmbox_call() on A, the server shmbox_accept() + "          \
			   "shmbox_reply() on B, through the bridges",                         \
		.call = bridge_call, .accept = bridge_accept, .reply = bridge_reply,            \
		.helpers = bridge_helpers, .unavailable = no_bridge,                           \
	}

const struct transport t_bridge = BRIDGE_TRANSPORT("bridge", plain_create);
const struct transport t_bridge_curve = BRIDGE_TRANSPORT("bridge-curve", curve_create);
