/*
 * shmbox_fd's contract: which handles may have one, whose it is and when
 * it is closed, when it polls readable and when it goes quiet, what a
 * destroy and a death leave behind, and the room a mailbox has for
 * SHMBOX_FD_MAX descriptors of each kind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include "util.h"

#define SLOT_SIZE 32
#define LONG_MS 10000 /* "becomes readable": any wait this long is a failure */
#define NAME_PREFIX "@shmbox.fd."
#define PER_KIND SHMBOX_FD_MAX /* descriptors of each kind per mailbox */

static const int whats[3] = {SHMBOX_FD_GET, SHMBOX_FD_PUT, SHMBOX_FD_ACCEPT};

static int fd_of(shmbox_t *box, int what)
{
	int fd = shmbox_fd(box, what);

	ck_assert_msg(fd >= 0, "shmbox_fd(%d): %s", what, shmbox_strerror(errno));
	return fd;
}

/* The call that `what` is about, with timeout 0: its result. */
static long try_once(shmbox_t *box, int what)
{
	char buf[SLOT_SIZE];
	shmbox_ticket_t t;
	long r;

	switch (what) {
	case SHMBOX_FD_GET:
		return shmbox_get(box, buf, sizeof(buf), 0);
	case SHMBOX_FD_PUT:
		return shmbox_put(box, "p", 1, 0);
	default:
		r = shmbox_accept(box, buf, sizeof(buf), &t, 0);
		if (r >= 0)
			ck_assert_int_eq(shmbox_reply(box, &t, "r", 1), 0);
		return r;
	}
}

/* Poll until readable and call, until the call succeeds: its result.
 * A poll that times out fails the test. */
static long call_when_readable(shmbox_t *box, int fd, int what)
{
	long r;

	for (;;) {
		ck_assert_int_eq(tu_readable(fd, LONG_MS), 1);
		if ((r = try_once(box, what)) >= 0)
			return r;
		tu_expect_fail(r, EAGAIN);
	}
}

/* Call until EAGAIN, as a user does after the descriptor polled readable. */
static void drain(shmbox_t *box, int what)
{
	long r;

	while ((r = try_once(box, what)) >= 0)
		;
	tu_expect_fail(r, EAGAIN);
}

/* Make the mailbox full, so that a put fails with EAGAIN. */
static void fill(shmbox_t *box)
{
	int r;

	while ((r = shmbox_put(box, "f", 1, 0)) == 0)
		;
	tu_expect_fail(r, EAGAIN);
}

static int count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A child of this process that stays until killed: dies with us too. */
static void stay_until_killed(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(90);
	alarm(30);
	for (;;)
		pause();
}

/* --- which handles may have one -------------------------------------- */

START_TEST(what_is_exactly_one_of_the_three)
{
	static const int bad[] = {0, 3, 5, 6, 7, 8, 16, -1, -SHMBOX_FD_GET, INT_MAX};
	shmbox_t *box = tu_create(2, SLOT_SIZE, NULL);
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tu_expect_fail(shmbox_fd(box, bad[i]), EINVAL);
	for (i = 0; i < 3; i++)
		tu_expect_fail(shmbox_fd(NULL, whats[i]), EINVAL);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(an_observer_has_none)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path), *ro;
	int i;

	ck_assert_int_eq(shmbox_open_flags(path, TU_PROJ, SHMBOX_RDONLY, &ro), 0);
	for (i = 0; i < 3; i++)
		tu_expect_fail(shmbox_fd(ro, whats[i]), EBADF);
	ck_assert_int_eq(shmbox_close(ro), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* Put n messages from another process (its own handle). */
static void put_elsewhere(const char *path, int n)
{
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_t *mine;

		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		while (n-- > 0)
			if (shmbox_put(mine, "m", 1, 0) == -1)
				_exit(101);
		_exit(shmbox_close(mine) == 0 ? 0 : 102);
	}
	ck_assert_int_eq(tu_reap(pid), 0);
}

/* A child of fork() gets EBADF with its parent's handle, and its close
 * only closes its copies: the parent's descriptor, armed, is still rung. */
START_TEST(a_child_of_fork_has_none_with_its_parents_handle)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	int fd = fd_of(box, SHMBOX_FD_GET);
	pid_t pid;

	drain(box, SHMBOX_FD_GET);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	pid = tu_fork();
	if (pid == 0) {
		int i;

		for (i = 0; i < 3; i++)
			if (shmbox_fd(box, whats[i]) != -1 || errno != EBADF)
				_exit(1 + i);
		_exit(shmbox_close(box) == 0 ? 0 : 10);
	}
	ck_assert_int_eq(tu_reap(pid), 0);
	put_elsewhere(path, 1);
	ck_assert_int_eq(tu_readable(fd, LONG_MS), 1);
	ck_assert_int_eq(try_once(box, SHMBOX_FD_GET), 1);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_destroyed_mailbox_has_none)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path), *other = tu_open(path);
	int i;

	ck_assert_int_eq(shmbox_destroy(other), 0);
	for (i = 0; i < 3; i++)
		tu_expect_fail(shmbox_fd(box, whats[i]), EIDRM);
	ck_assert_int_eq(shmbox_close(box), 0);
}
END_TEST

/* --- whose it is, and when it is closed ------------------------------ */

START_TEST(one_descriptor_per_handle_and_what_close_on_exec)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path), *other = tu_open(path);
	int fds[3], i, j;

	for (i = 0; i < 3; i++) {
		fds[i] = fd_of(box, whats[i]);
		ck_assert_int_eq(fcntl(fds[i], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
		for (j = 0; j < i; j++)
			ck_assert_int_ne(fds[i], fds[j]);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(shmbox_fd(box, whats[i]), fds[i]);
		ck_assert_int_ne(fd_of(other, whats[i]), fds[i]); /* another handle's own */
	}
	ck_assert_int_eq(shmbox_close(other), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* After close (or destroy), the three descriptors are closed, and so is
 * everything behind them: the count of open descriptors is back to what
 * it was before the handle was opened.  A ring sent from this handle
 * first makes it open its sending socket too. */
static void closed_with_the_handle(int destroy)
{
	const char *path = tu_keyfile();
	shmbox_attr_t attr = {.slots = 2, .slot_size = SLOT_SIZE};
	int before = count_open_fds(), fds[3], i;
	shmbox_t *box;

	ck_assert_int_eq(shmbox_create(path, TU_PROJ, &attr, &box), 0);
	for (i = 0; i < 3; i++)
		fds[i] = fd_of(box, whats[i]);
	drain(box, SHMBOX_FD_GET);
	ck_assert_int_eq(shmbox_put(box, "r", 1, 0), 0); /* rings our own GET descriptor */
	ck_assert_int_eq(tu_readable(fds[0], LONG_MS), 1);
	ck_assert_int_eq(destroy ? shmbox_destroy(box) : shmbox_close(box), 0);
	/* before anything else opens a descriptor that could take a number */
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(fcntl(fds[i], F_GETFD), -1);
		ck_assert_int_eq(errno, EBADF);
	}
	ck_assert_int_eq(count_open_fds(), before);
	if (!destroy) {
		ck_assert_int_eq(shmbox_open(path, TU_PROJ, &box), 0);
		ck_assert_int_eq(shmbox_destroy(box), 0);
	}
}

START_TEST(close_closes_them) { closed_with_the_handle(0); }
END_TEST
START_TEST(destroy_closes_them) { closed_with_the_handle(1); }
END_TEST

/* --- readable and quiet ---------------------------------------------- */

START_TEST(a_new_descriptor_is_readable_until_a_call_finds_nothing)
{
	shmbox_t *box = tu_create(2, SLOT_SIZE, NULL);
	int i, fd;

	for (i = 0; i < 3; i++) {
		if (whats[i] == SHMBOX_FD_PUT)
			fill(box);
		fd = fd_of(box, whats[i]);
		ck_assert_int_eq(tu_readable(fd, 0), 1);
		ck_assert_int_eq(tu_readable(fd, 0), 1); /* polling drains nothing */
		drain(box, whats[i]);
		ck_assert_int_eq(tu_readable(fd, 0), 0);
		ck_assert_int_eq(try_once(box, whats[i]), -1);
		ck_assert_int_eq(tu_readable(fd, 100), 0); /* and stays quiet */
	}
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_put_by_another_process_makes_get_readable_while_messages_wait)
{
	const char *path;
	shmbox_t *box = tu_create(4, SLOT_SIZE, &path);
	int fd = fd_of(box, SHMBOX_FD_GET);

	drain(box, SHMBOX_FD_GET);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	put_elsewhere(path, 2);
	ck_assert_int_eq(tu_readable(fd, LONG_MS), 1);
	ck_assert_int_eq(try_once(box, SHMBOX_FD_GET), 1);
	ck_assert_int_eq(tu_readable(fd, 0), 1); /* level-triggered: one more waits */
	ck_assert_int_eq(try_once(box, SHMBOX_FD_GET), 1);
	drain(box, SHMBOX_FD_GET);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_get_by_another_process_makes_put_readable)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	int fd = fd_of(box, SHMBOX_FD_PUT);
	pid_t pid;

	fill(box);
	drain(box, SHMBOX_FD_PUT);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	pid = tu_fork();
	if (pid == 0) {
		shmbox_t *mine;
		char buf[SLOT_SIZE];

		if (shmbox_open(path, TU_PROJ, &mine) == -1 ||
		    shmbox_get(mine, buf, sizeof(buf), 0) != 1)
			_exit(100);
		_exit(shmbox_close(mine) == 0 ? 0 : 101);
	}
	ck_assert_int_eq(tu_reap(pid), 0);
	ck_assert_int_eq(tu_readable(fd, LONG_MS), 1);
	ck_assert_int_eq(try_once(box, SHMBOX_FD_PUT), 0);
	drain(box, SHMBOX_FD_PUT);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_call_by_another_process_makes_accept_readable)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	int fd = fd_of(box, SHMBOX_FD_ACCEPT);
	pid_t pid;

	drain(box, SHMBOX_FD_ACCEPT);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	pid = tu_fork();
	if (pid == 0) {
		shmbox_t *mine;
		char rep[SLOT_SIZE];

		if (shmbox_open(path, TU_PROJ, &mine) == -1 ||
		    shmbox_call(mine, "q", 1, rep, sizeof(rep), LONG_MS) != 1 || rep[0] != 'r')
			_exit(100);
		_exit(shmbox_close(mine) == 0 ? 0 : 101);
	}
	/* The caller is still putting its request: a ring may come before the
	 * request can be taken (spurious, and allowed), so as a user does:
	 * poll until readable, call, and again if the call found nothing. */
	ck_assert_int_eq(call_when_readable(box, fd, SHMBOX_FD_ACCEPT), 1); /* replies "r" */
	ck_assert_int_eq(tu_reap(pid), 0);
	drain(box, SHMBOX_FD_ACCEPT);
	ck_assert_int_eq(tu_readable(fd, 0), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* Every descriptor, quiet, turns readable when another process removes
 * the mailbox, and stays so: the next call fails with EIDRM.  The box is
 * full (for PUT and ACCEPT to be quiet) or empty (GET and ACCEPT). */
static void removed_elsewhere(int unlink, int full)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	int check[2] = {full ? SHMBOX_FD_PUT : SHMBOX_FD_GET, SHMBOX_FD_ACCEPT}, fds[2], i;
	pid_t pid;

	if (full)
		fill(box);
	for (i = 0; i < 2; i++) {
		fds[i] = fd_of(box, check[i]);
		drain(box, check[i]);
		ck_assert_int_eq(tu_readable(fds[i], 0), 0);
	}
	pid = tu_fork();
	if (pid == 0) {
		shmbox_t *mine;

		if (unlink)
			_exit(shmbox_unlink(path, TU_PROJ, 0) == 0 ? 0 : 100);
		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(101);
		_exit(shmbox_destroy(mine) == 0 ? 0 : 102);
	}
	ck_assert_int_eq(tu_reap(pid), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(tu_readable(fds[i], LONG_MS), 1);
		tu_expect_fail(try_once(box, check[i]), EIDRM);
		ck_assert_int_eq(tu_readable(fds[i], 0), 1);
	}
	ck_assert_int_eq(shmbox_close(box), 0);
}

START_TEST(a_destroy_by_another_process_makes_all_readable)
{
	removed_elsewhere(0, 0);
	removed_elsewhere(0, 1);
}
END_TEST
START_TEST(an_unlink_by_another_process_makes_all_readable)
{
	removed_elsewhere(1, 0);
	removed_elsewhere(1, 1);
}
END_TEST

/* --- what is left behind --------------------------------------------- */

/* The abstract names starting NAME_PREFIX of the Unix sockets process pid
 * has open, from /proc/net/unix (where a socket's line has its inode). */
#define MAX_NAMES 256
struct names {
	size_t n;
	char name[MAX_NAMES][40];
};

static void socket_names_of(pid_t pid, struct names *out)
{
	unsigned long inodes[256];
	size_t ninodes = 0, i;
	char dir[64], link[PATH_MAX], target[128], line[512];
	struct dirent *e;
	FILE *f;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL && ninodes < 256) {
		ssize_t n;

		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (sscanf(target, "socket:[%lu]", &inodes[ninodes]) == 1)
			ninodes++;
	}
	closedir(d);
	out->n = 0;
	f = fopen("/proc/net/unix", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned long inode;
		char path[128];

		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %lu %127s", &inode, path) != 2 ||
		    strncmp(path, NAME_PREFIX, strlen(NAME_PREFIX)) != 0 ||
		    strlen(path) >= sizeof(out->name[0]))
			continue;
		for (i = 0; i < ninodes; i++)
			if (inodes[i] == inode && out->n < MAX_NAMES)
				snprintf(out->name[out->n++], sizeof(out->name[0]), "%s", path);
	}
	fclose(f);
}

/* How many sockets of any process are bound to this name. */
static int bound_to(const char *name)
{
	char line[512], path[128];
	FILE *f = fopen("/proc/net/unix", "r");
	int n = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %127s", path) == 1)
			n += strcmp(path, name) == 0;
	fclose(f);
	return n;
}

/* A process killed while it has a descriptor of each kind: its sockets
 * (one named socket per descriptor) are gone with it. */
START_TEST(a_killed_listener_leaves_no_socket)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path);
	pid_t parent = getpid(), pid;
	static struct names names;
	int ready[2];
	size_t i;
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	pid = tu_fork();
	if (pid == 0) {
		shmbox_t *mine;
		int k;

		close(ready[0]);
		if (shmbox_open(path, TU_PROJ, &mine) == -1)
			_exit(100);
		for (k = 0; k < 3; k++)
			if (shmbox_fd(mine, whats[k]) == -1)
				_exit(101 + k);
		if (write(ready[1], "r", 1) != 1)
			_exit(110);
		stay_until_killed(parent);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	socket_names_of(pid, &names);
	ck_assert_uint_eq(names.n, 3);
	for (i = 0; i < names.n; i++)
		ck_assert_int_eq(bound_to(names.name[i]), 1);
	kill(pid, SIGKILL);
	ck_assert_int_eq(tu_reap(pid), 128 + SIGKILL);
	for (i = 0; i < names.n; i++)
		ck_assert_msg(bound_to(names.name[i]) == 0, "%s still bound", names.name[i]);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* Entries of a directory whose name contains "shmbox", other than the
 * test runs' own directories: the files a library might leave. */
static int shmbox_files_in(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		n += strstr(e->d_name, "shmbox") != NULL &&
		     strncmp(e->d_name, "shmbox-test.", 12) != 0;
	closedir(d);
	return n;
}

/* Which descriptor numbers are open (below MAX_FD). */
#define MAX_FD 4096
static void open_fds(unsigned char open[MAX_FD])
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	ck_assert_ptr_nonnull(d);
	memset(open, 0, MAX_FD);
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd != dirfd(d) && fd < MAX_FD)
			open[fd] = 1;
	}
	closedir(d);
}

/* Every descriptor opened since `before` is a socket or an anonymous inode
 * (epoll, pidfd, timerfd): nothing with a name in the file system. */
static void new_fds_are_anonymous(const unsigned char before[MAX_FD])
{
	unsigned char now[MAX_FD];
	char link[64], target[PATH_MAX];
	int fd, added = 0;

	open_fds(now);
	for (fd = 0; fd < MAX_FD; fd++) {
		ssize_t n;

		if (!now[fd] || before[fd])
			continue;
		added++;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		ck_assert_int_gt(n, 0);
		target[n] = '\0';
		ck_assert_msg(strncmp(target, "socket:", 7) == 0 ||
				      strncmp(target, "anon_inode:", 11) == 0,
			      "descriptor %d is %s", fd, target);
	}
	ck_assert_int_ge(added, 3);
}

/* The names in `now` that are not in `before`. */
static size_t new_names(const struct names *before, const struct names *now,
			const char **added, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < now->n; i++) {
		for (j = 0; j < before->n && strcmp(now->name[i], before->name[j]) != 0; j++)
			;
		if (j == before->n && n < max)
			added[n++] = now->name[i];
	}
	return n;
}

START_TEST(destroy_leaves_nothing_behind)
{
	int tmp = shmbox_files_in("/tmp"), shm = shmbox_files_in("/dev/shm");
	static struct names had, have;
	unsigned char fds_before[MAX_FD];
	int count_before = count_open_fds(), i;
	const char *path, *added[4];
	shmbox_t *box;
	key_t key;
	size_t n;

	open_fds(fds_before);
	socket_names_of(getpid(), &had);
	box = tu_create(2, SLOT_SIZE, &path);
	key = ftok(path, TU_PROJ);
	for (i = 0; i < 3; i++)
		fd_of(box, whats[i]);
	drain(box, SHMBOX_FD_GET);
	ck_assert_int_eq(shmbox_put(box, "r", 1, 0), 0); /* a ring, sent from here */
	new_fds_are_anonymous(fds_before);
	socket_names_of(getpid(), &have);
	n = new_names(&had, &have, added, 4);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(shmbox_destroy(box), 0);
	for (i = 0; i < (int)n; i++)
		ck_assert_msg(bound_to(added[i]) == 0, "%s still bound", added[i]);
	ck_assert_int_eq(count_open_fds(), count_before);
	ck_assert_int_eq(shmget(key, 0, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(semget(key, 0, 0), -1);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_int_eq(shmbox_files_in("/tmp"), tmp);
	ck_assert_int_eq(shmbox_files_in("/dev/shm"), shm);
}
END_TEST

/* --- SHMBOX_FD_MAX of each kind per mailbox ------------------------ */

#define HANDLES (PER_KIND + 1)

/* A descriptor too many: EMFILE, and nothing kept of the
 * attempt. */
static void one_too_many(shmbox_t *box, int what)
{
	int fds = count_open_fds();

	tu_expect_fail(shmbox_fd(box, what), EMFILE);
	ck_assert_int_eq(count_open_fds(), fds);
}

START_TEST(thirty_two_of_a_kind_then_emfile)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path), *h[HANDLES];
	int i, k;

	for (i = 0; i < HANDLES; i++)
		h[i] = tu_open(path);
	for (i = 0; i < PER_KIND; i++)
		fd_of(h[i], SHMBOX_FD_GET);
	one_too_many(h[PER_KIND], SHMBOX_FD_GET);
	ck_assert_str_ne(shmbox_strerror(EMFILE), strerror(EMFILE)); /* worded for mailboxes */
	/* each kind has its own room */
	for (k = 1; k < 3; k++) {
		for (i = 0; i < PER_KIND; i++)
			fd_of(h[PER_KIND - i], whats[k]);
		one_too_many(h[0], whats[k]);
	}
	/* a handle closed gives its three back */
	ck_assert_int_eq(shmbox_close(h[1]), 0);
	fd_of(h[PER_KIND], SHMBOX_FD_GET);
	fd_of(h[0], SHMBOX_FD_PUT);
	fd_of(h[0], SHMBOX_FD_ACCEPT);
	for (k = 0; k < 3; k++)
		one_too_many(box, whats[k]);
	for (i = 0; i < HANDLES; i++)
		if (i != 1)
			ck_assert_int_eq(shmbox_close(h[i]), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A child that opens the box, makes a GET descriptor, says so, and waits
 * to be killed. */
static pid_t listening_child(const char *path)
{
	pid_t parent = getpid(), pid;
	int ready[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	pid = tu_fork();
	if (pid == 0) {
		shmbox_t *mine;

		close(ready[0]);
		if (shmbox_open(path, TU_PROJ, &mine) == -1 || shmbox_fd(mine, SHMBOX_FD_GET) == -1)
			_exit(100);
		if (write(ready[1], "r", 1) != 1)
			_exit(101);
		stay_until_killed(parent);
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void kill_child(pid_t pid)
{
	kill(pid, SIGKILL);
	ck_assert_int_eq(tu_reap(pid), 128 + SIGKILL);
}

/* A process killed while it holds the last GET entry: the entry is free
 * for the next shmbox_fd.  Two ways: a handle opened before the death
 * takes over an entry whose owner's token is gone; a handle opened after
 * it takes the dead process's token (the lowest free one), and with it
 * the duty to free what that process left, its entry too. */
START_TEST(a_killed_listeners_entry_is_free_again)
{
	const char *path;
	shmbox_t *box = tu_create(2, SLOT_SIZE, &path), *h[PER_KIND], *later;
	int i, fd;
	pid_t pid;

	for (i = 0; i < PER_KIND; i++)
		h[i] = tu_open(path);
	for (i = 0; i < PER_KIND - 1; i++)
		fd_of(h[i], SHMBOX_FD_GET);
	pid = listening_child(path);
	one_too_many(h[PER_KIND - 1], SHMBOX_FD_GET);
	kill_child(pid);
	fd = fd_of(h[PER_KIND - 1], SHMBOX_FD_GET); /* taken over */
	ck_assert_int_eq(tu_readable(fd, 0), 1);     /* a new descriptor, as any */
	one_too_many(box, SHMBOX_FD_GET);

	ck_assert_int_eq(shmbox_close(h[PER_KIND - 1]), 0);
	pid = listening_child(path);
	kill_child(pid);
	later = tu_open(path); /* takes the dead child's token */
	fd = fd_of(later, SHMBOX_FD_GET);
	ck_assert_int_eq(tu_readable(fd, 0), 1);
	one_too_many(box, SHMBOX_FD_GET);
	ck_assert_int_eq(shmbox_close(later), 0);
	for (i = 0; i < PER_KIND - 1; i++)
		ck_assert_int_eq(shmbox_close(h[i]), 0);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

Suite *suite_fd(void)
{
	Suite *s = suite_create("fd");
	TCase *who = tcase_create("whose"), *ready = tcase_create("readable"),
	      *left = tcase_create("left behind");

	tcase_set_timeout(who, 30);
	tcase_add_test(who, what_is_exactly_one_of_the_three);
	tcase_add_test(who, an_observer_has_none);
	tcase_add_test(who, a_child_of_fork_has_none_with_its_parents_handle);
	tcase_add_test(who, a_destroyed_mailbox_has_none);
	tcase_add_test(who, one_descriptor_per_handle_and_what_close_on_exec);
	tcase_add_test(who, close_closes_them);
	tcase_add_test(who, destroy_closes_them);
	suite_add_tcase(s, who);
	tcase_set_timeout(ready, 30);
	tcase_add_test(ready, a_new_descriptor_is_readable_until_a_call_finds_nothing);
	tcase_add_test(ready, a_put_by_another_process_makes_get_readable_while_messages_wait);
	tcase_add_test(ready, a_get_by_another_process_makes_put_readable);
	tcase_add_test(ready, a_call_by_another_process_makes_accept_readable);
	tcase_add_test(ready, a_destroy_by_another_process_makes_all_readable);
	tcase_add_test(ready, an_unlink_by_another_process_makes_all_readable);
	suite_add_tcase(s, ready);
	tcase_set_timeout(left, 30);
	tcase_add_test(left, a_killed_listener_leaves_no_socket);
	tcase_add_test(left, destroy_leaves_nothing_behind);
	tcase_add_test(left, thirty_two_of_a_kind_then_emfile);
	tcase_add_test(left, a_killed_listeners_entry_is_free_again);
	suite_add_tcase(s, left);
	return s;
}
