/*
 * Kill -9 torture.  Producers and consumers (then clients and servers) run
 * against one mailbox while a driver kills random ones with SIGKILL at
 * random instants and starts replacements.  At the end it checks:
 *   - no deadlock: messages keep flowing, and every survivor finishes
 *     within a bound once told to stop;
 *   - no torn message (each carries a checksum), no duplicate;
 *   - each producer's order, as each consumer sees it;
 *   - every message whose put returned was received, except at most one
 *     per consumer killed (the message it had taken when it died);
 *   - calls: no caller waits past its timeout, and afterwards every reply
 *     slot can be used again at once.
 * It prints its figures.  Quick run: the default; a long run:
 *   SHMBOX_TORTURE_SECONDS=600 test/torture
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shmbox.h"

#define PROJ 'K'
#define SLOTS 16
#define SLOT_SIZE 512
#define PRODUCERS 3
#define CONSUMERS 3
#define PER_LIFE 2048	  /* messages a producer puts before it retires */
#define MAX_LIVES 150000 /* producer lifetimes (incarnations) tracked */
#define CLIENTS 4
#define SERVERS 2
#define CALL_TIMEOUT_MS 300
#define LATE_MS 150 /* how far past its timeout a call may return */

struct shared {
	_Atomic int committed[MAX_LIVES]; /* highest seq whose put returned */
	_Atomic unsigned char seen[MAX_LIVES][PER_LIFE / 8];
	_Atomic long received, torn, dups, disorder, errors;
	_Atomic long calls, call_late, call_bad, call_failed;
	_Atomic int lives;
	_Atomic int stop;
};

static struct shared *sh;
static char keypath[64];

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint32_t mix(uint32_t h, uint32_t v)
{
	return (h ^ v) * 16777619u;
}

/* Message: life (4 bytes), seq (4), checksum (4), filler. */
static size_t make_msg(unsigned char *m, int life, int seq)
{
	size_t len = 12 + (size_t)(life * 31 + seq * 7) % (SLOT_SIZE - 12), i;
	uint32_t h = 2166136261u;

	memcpy(m, &life, 4);
	memcpy(m + 4, &seq, 4);
	for (i = 12; i < len; i++) {
		m[i] = (unsigned char)(life + seq * 3 + i);
		h = mix(h, m[i]);
	}
	h = mix(mix(h, (uint32_t)life), (uint32_t)seq);
	memcpy(m + 8, &h, 4);
	return len;
}

static int check_msg(const unsigned char *m, size_t len, int *life, int *seq)
{
	uint32_t h = 2166136261u, want;
	size_t i;

	if (len < 12)
		return -1;
	memcpy(life, m, 4);
	memcpy(seq, m + 4, 4);
	memcpy(&want, m + 8, 4);
	for (i = 12; i < len; i++)
		h = mix(h, m[i]);
	h = mix(mix(h, (uint32_t)*life), (uint32_t)*seq);
	return h == want && *life >= 0 && *life < MAX_LIVES && *seq >= 0 && *seq < PER_LIFE ? 0
													  : -1;
}

static shmbox_t *open_box(void)
{
	shmbox_t *b;

	if (shmbox_open(keypath, PROJ, &b) == -1)
		_exit(90);
	return b;
}

static void producer(void)
{
	unsigned char m[SLOT_SIZE];
	shmbox_t *b = open_box();
	int life = atomic_fetch_add(&sh->lives, 1), seq;

	if (life >= MAX_LIVES)
		_exit(0);
	for (seq = 0; seq < PER_LIFE && !atomic_load(&sh->stop); seq++) {
		if (shmbox_put(b, m, make_msg(m, life, seq), 2000) == -1) {
			if (errno != ETIMEDOUT)
				atomic_fetch_add(&sh->errors, 1);
			break;
		}
		atomic_store(&sh->committed[life], seq);
	}
	shmbox_close(b);
	_exit(0);
}

static void consumer(void)
{
	static int last[MAX_LIVES];
	unsigned char m[SLOT_SIZE];
	shmbox_t *b = open_box();
	int life, seq;
	ssize_t n;

	memset(last, 0xff, sizeof(last));
	while ((n = shmbox_get(b, m, sizeof(m), -1)) != 0) {
		if (n < 0) {
			atomic_fetch_add(&sh->errors, 1);
			_exit(91);
		}
		if (check_msg(m, (size_t)n, &life, &seq) == -1) {
			atomic_fetch_add(&sh->torn, 1);
			continue;
		}
		if (atomic_fetch_or(&sh->seen[life][seq / 8], (unsigned char)(1u << (seq % 8))) &
		    (1u << (seq % 8)))
			atomic_fetch_add(&sh->dups, 1);
		if (seq <= last[life])
			atomic_fetch_add(&sh->disorder, 1);
		last[life] = seq;
		atomic_fetch_add(&sh->received, 1);
	}
	shmbox_close(b);
	_exit(0);
}

static void server(void)
{
	unsigned char req[SLOT_SIZE], rep[SLOT_SIZE];
	shmbox_t *b = open_box();
	shmbox_ticket_t t;
	ssize_t n, i;

	while ((n = shmbox_accept(b, req, sizeof(req), &t, -1)) > 0) {
		for (i = 0; i < n; i++)
			rep[i] = (unsigned char)~req[i];
		if (shmbox_reply(b, &t, rep, (size_t)n) == -1 && errno != ECANCELED)
			atomic_fetch_add(&sh->errors, 1);
	}
	if (n < 0)
		atomic_fetch_add(&sh->errors, 1);
	shmbox_close(b);
	_exit(0);
}

static void client(void)
{
	unsigned char req[SLOT_SIZE], rep[SLOT_SIZE];
	shmbox_t *b = open_box();
	unsigned x = (unsigned)getpid();
	ssize_t n, i, len;
	double t0, ms;

	while (!atomic_load(&sh->stop)) {
		len = 1 + (ssize_t)((x = x * 1103515245u + 12345u) % (SLOT_SIZE - 1));
		for (i = 0; i < len; i++)
			req[i] = (unsigned char)(x >> (i % 24));
		t0 = now();
		n = shmbox_call(b, req, (size_t)len, rep, sizeof(rep), CALL_TIMEOUT_MS);
		ms = (now() - t0) * 1e3;
		if (ms > CALL_TIMEOUT_MS + LATE_MS)
			atomic_fetch_add(&sh->call_late, 1);
		if (n == -1) {
			if (errno != ETIMEDOUT && errno != ECONNRESET)
				atomic_fetch_add(&sh->errors, 1);
			atomic_fetch_add(&sh->call_failed, 1);
			continue;
		}
		for (i = 0; i < len; i++)
			if (n != len || rep[i] != (unsigned char)~req[i]) {
				atomic_fetch_add(&sh->call_bad, 1);
				break;
			}
		atomic_fetch_add(&sh->calls, 1);
	}
	shmbox_close(b);
	_exit(0);
}

struct role {
	const char *name;
	void (*run)(void);
	int count;
	pid_t pids[8];
	long kills, exits;
};

static pid_t start(void (*run)(void))
{
	pid_t pid = fork();

	if (pid == -1) {
		perror("fork");
		exit(1);
	}
	if (pid == 0)
		run();
	return pid;
}

/* Replace children that exited on their own (producers retire). */
static void reap_and_restart(struct role *roles, int nroles, int restart)
{
	int st, r, i;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (r = 0; r < nroles; r++)
			for (i = 0; i < roles[r].count; i++)
				if (roles[r].pids[i] == pid) {
					roles[r].pids[i] = restart ? start(roles[r].run) : 0;
					if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
						roles[r].exits++;
				}
}

static void kill_one(struct role *roles, int nroles)
{
	int r = rand() % nroles, i = rand() % roles[r].count;
	pid_t pid = roles[r].pids[i];

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	roles[r].kills++;
	roles[r].pids[i] = start(roles[r].run);
}

/* Wait up to `secs` for every child of the roles to exit. */
static int all_finish(struct role *roles, int nroles, double secs)
{
	double end = now() + secs;
	int r, i, left;

	do {
		reap_and_restart(roles, nroles, 0);
		for (left = 0, r = 0; r < nroles; r++)
			for (i = 0; i < roles[r].count; i++)
				left += roles[r].pids[i] > 0;
		if (left == 0)
			return 0;
		usleep(1000);
	} while (now() < end);
	return -1;
}

/* Run the roles for secs, killing at random; stop early if progress
 * stalls for 5 s (a deadlock), or when *used reaches limit (used may be
 * NULL: no limit). */
static void run_roles(struct role *roles, int nroles, double secs, _Atomic long *progress,
		      _Atomic int *used, int limit)
{
	double end = now() + secs, last_move = now();
	long seen = -1;
	int r, i;

	for (r = 0; r < nroles; r++)
		for (i = 0; i < roles[r].count; i++)
			roles[r].pids[i] = start(roles[r].run);
	while (now() < end) {
		if (used != NULL && atomic_load(used) >= limit) { /* a long run: no more to track */
			fprintf(stderr, "torture: all %d producer lives used; the phase ends early\n",
				limit);
			return;
		}
		usleep((useconds_t)(rand() % 8000)); /* a random instant */
		reap_and_restart(roles, nroles, 1);
		kill_one(roles, nroles);
		if (atomic_load(progress) != seen) {
			seen = atomic_load(progress);
			last_move = now();
		} else if (now() - last_move > 5.0) {
			fprintf(stderr, "torture: no progress for 5 s: deadlock\n");
			atomic_fetch_add(&sh->errors, 1000000);
			return;
		}
	}
}

static int messages(shmbox_t *box, double secs)
{
	struct role prod = {"producer", producer, PRODUCERS, {0}, 0, 0};
	struct role cons = {"consumer", consumer, CONSUMERS, {0}, 0, 0};
	struct role roles[2] = {prod, cons};
	long committed = 0, lost = 0, late_ok = 0;
	int life, seq, i, fails = 0;
	struct shmbox_stat st;

	run_roles(roles, 2, secs, &sh->received, &sh->lives, MAX_LIVES);
	atomic_store(&sh->stop, 1);
	if (all_finish(&roles[0], 1, 10.0) == -1) {
		fprintf(stderr, "torture: producers did not finish within 10 s\n");
		fails++;
	}
	for (i = 0; i < CONSUMERS; i++)
		if (shmbox_put(box, NULL, 0, 10000) == -1)
			fails++;
	if (all_finish(&roles[1], 1, 10.0) == -1) {
		fprintf(stderr, "torture: consumers did not finish within 10 s\n");
		fails++;
	}
	for (life = 0; life < atomic_load(&sh->lives) && life < MAX_LIVES; life++) {
		int top = atomic_load(&sh->committed[life]);

		for (seq = 0; seq < PER_LIFE; seq++) {
			int got = atomic_load(&sh->seen[life][seq / 8]) & (1 << (seq % 8));

			if (seq <= top) {
				committed++;
				lost += !got;
			} else {
				late_ok += !!got; /* put under way when killed, yet delivered */
			}
		}
	}
	shmbox_stat(box, &st);
	printf("messages: %ld committed, %ld received, %ld delivered though their put was "
	       "killed, %ld lost (bound: %ld consumer kills)\n",
	       committed, atomic_load(&sh->received), late_ok, lost, roles[1].kills);
	printf("  kills: %ld producers, %ld consumers; %d producer lives; torn %ld, duplicates "
	       "%ld, out of order %ld, errors %ld; left queued %zu, in flight %zu\n",
	       roles[0].kills, roles[1].kills, atomic_load(&sh->lives), atomic_load(&sh->torn),
	       atomic_load(&sh->dups), atomic_load(&sh->disorder), atomic_load(&sh->errors),
	       st.queued, st.writing + st.reading);
	return fails || lost > roles[1].kills || atomic_load(&sh->torn) || atomic_load(&sh->dups) ||
	       atomic_load(&sh->disorder) || atomic_load(&sh->errors) || st.queued;
}

static int calls(shmbox_t *box, double secs)
{
	struct role cli = {"client", client, CLIENTS, {0}, 0, 0};
	struct role srv = {"server", server, SERVERS, {0}, 0, 0};
	struct role roles[2] = {cli, srv};
	struct shmbox_stat st;
	int fails = 0, i;
	pid_t pids[SLOTS];

	atomic_store(&sh->stop, 0);
	atomic_store(&sh->errors, 0);
	run_roles(roles, 2, secs, &sh->calls, NULL, 0);
	atomic_store(&sh->stop, 1);
	if (all_finish(&roles[0], 1, (CALL_TIMEOUT_MS + LATE_MS) / 1e3 + 5) == -1) {
		fprintf(stderr, "torture: clients did not finish\n");
		fails++;
	}
	for (i = 0; i < SERVERS; i++)
		if (roles[1].pids[i] > 0)
			kill(roles[1].pids[i], SIGKILL);
	all_finish(&roles[1], 1, 5.0);
	/* Capacity: every reply slot at once, with one live server. */
	shmbox_stat(box, &st);
	atomic_store(&sh->stop, 0);
	roles[1].pids[0] = start(server);
	for (i = 0; i < (int)st.reply_slots; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			char rep[4];
			shmbox_t *b = open_box();

			_exit(shmbox_call(b, "cap", 3, rep, sizeof(rep), 5000) == 3 ? 0 : 1);
		}
	}
	for (i = 0; i < (int)st.reply_slots; i++) {
		int status;

		waitpid(pids[i], &status, 0);
		fails += !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	kill(roles[1].pids[0], SIGKILL);
	waitpid(roles[1].pids[0], NULL, 0);
	printf("calls: %ld answered, %ld failed (timeout or server died), %ld wrong, %ld late "
	       "(> %d ms); kills: %ld clients, %ld servers; capacity after: %s\n",
	       atomic_load(&sh->calls), atomic_load(&sh->call_failed), atomic_load(&sh->call_bad),
	       atomic_load(&sh->call_late), CALL_TIMEOUT_MS + LATE_MS, roles[0].kills,
	       roles[1].kills, fails ? "NOT restored" : "all reply slots usable at once");
	return fails || atomic_load(&sh->call_bad) || atomic_load(&sh->call_late) ||
	       atomic_load(&sh->errors) || atomic_load(&sh->calls) == 0;
}

int main(void)
{
	const char *env = getenv("SHMBOX_TORTURE_SECONDS");
	double secs = env ? atof(env) : 30.0;
	shmbox_attr_t attr = {.slots = SLOTS, .slot_size = SLOT_SIZE};
	shmbox_t *box;
	int fd, bad;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset((void *)sh->committed, 0xff, sizeof(sh->committed));
	snprintf(keypath, sizeof(keypath), "/tmp/shmbox-torture.XXXXXX");
	fd = mkstemp(keypath);
	if (fd == -1)
		return 1;
	close(fd);
	srand((unsigned)time(NULL));
	if (shmbox_create(keypath, PROJ, &attr, &box) == -1) {
		perror("shmbox_create");
		unlink(keypath);
		return 1;
	}
	printf("torture: %.0f s of messages, then %.0f s of calls, killing at random\n", secs,
	       secs / 2);
	fflush(stdout);
	bad = messages(box, secs);
	bad |= calls(box, secs / 2) << 1;
	shmbox_destroy(box);
	unlink(keypath);
	printf("%d passed, %d failed\n", !(bad & 1) + !(bad & 2), !!(bad & 1) + !!(bad & 2));
	return bad ? 1 : 0;
}
