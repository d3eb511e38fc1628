#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static char run_dir[PATH_MAX];

void tu_run_begin(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(run_dir, sizeof(run_dir), "%s/shmbox-test.XXXXXX", tmp ? tmp : "/tmp");
	if (mkdtemp(run_dir) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
	/* Readable by all: a test drops to `nobody`, who must still ftok. */
	chmod(run_dir, 0755);
}

const char *tu_keyfile(void)
{
	static char path[PATH_MAX + 16];
	int fd;

	snprintf(path, sizeof(path), "%s/key.XXXXXX", run_dir);
	fd = mkstemp(path);
	ck_assert_msg(fd != -1, "mkstemp: %s", strerror(errno));
	fchmod(fd, 0644);
	close(fd);
	return path;
}

shmbox_t *tu_create(size_t slots, size_t slot_size, const char **pathp)
{
	shmbox_attr_t attr = {.slots = slots, .slot_size = slot_size};
	const char *path = tu_keyfile();
	shmbox_t *box = NULL;

	ck_assert_msg(shmbox_create(path, TU_PROJ, &attr, &box) == 0, "create: %s",
		      shmbox_strerror(errno));
	if (pathp)
		*pathp = path;
	return box;
}

shmbox_t *tu_open(const char *path)
{
	shmbox_t *box = NULL;

	ck_assert_msg(shmbox_open(path, TU_PROJ, &box) == 0, "open %s: %s", path,
		      shmbox_strerror(errno));
	return box;
}

static int remove_key(key_t key)
{
	int id, n = 0;

	if ((id = shmget(key, 0, 0)) != -1 && shmctl(id, IPC_RMID, NULL) == 0)
		n++;
	if ((id = semget(key, 0, 0)) != -1 && semctl(id, 0, IPC_RMID) == 0)
		n++;
	return n;
}

int tu_sweep(void)
{
	DIR *d = opendir(run_dir);
	struct dirent *e;
	char path[PATH_MAX * 2];
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		key_t key;
		int proj;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", run_dir, e->d_name);
		for (proj = 1; proj < 256; proj++)
			if ((key = ftok(path, proj)) != -1)
				n += remove_key(key);
	}
	closedir(d);
	return n;
}

void tu_run_end(void)
{
	DIR *d = opendir(run_dir);
	struct dirent *e;
	char path[PATH_MAX * 2];

	if (d != NULL) {
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", run_dir, e->d_name);
			unlink(path);
		}
		closedir(d);
	}
	rmdir(run_dir);
}

void tu_wait_sleepers(const char *path, int sem, int n)
{
	struct timespec ms = {0, 1000000L};
	int semid = semget(ftok(path, TU_PROJ), 0, 0), i, v = -1;

	ck_assert_msg(semid != -1, "semget: %s", strerror(errno));
	for (i = 0; i < 10000; i++) {
		v = semctl(semid, sem, GETNCNT);
		if (v >= n)
			return;
		nanosleep(&ms, NULL);
	}
	ck_abort_msg("%d sleepers on semaphore %d after 10 s, wanted %d", v, sem, n);
}

unsigned tu_scale(unsigned n)
{
	return getenv("SHMBOX_TEST_QUICK") ? (n / 20 > 0 ? n / 20 : 1) : n;
}

pid_t tu_fork(void)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	ck_assert_msg(pid != -1, "fork: %s", strerror(errno));
	return pid;
}

void tu_pin_first_cpu(void)
{
	cpu_set_t all, one;
	int cpu;

	ck_assert_int_eq(sched_getaffinity(0, sizeof(all), &all), 0);
	for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &all); cpu++)
		;
	ck_assert_int_lt(cpu, CPU_SETSIZE);
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	ck_assert_int_eq(sched_setaffinity(0, sizeof(one), &one), 0);
}

pid_t tu_hog(void)
{
	pid_t parent = getpid(), pid = tu_fork();

	if (pid == 0) {
		volatile unsigned long spin = 0;

		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
			_exit(1);
		tu_pin_first_cpu();
		for (;;)
			spin++;
	}
	return pid;
}

void tu_kill_hog(pid_t pid)
{
	kill(pid, SIGKILL);
	ck_assert_int_eq(tu_reap(pid), 128 + SIGKILL);
}

int tu_reap(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) == -1)
		ck_assert_msg(errno == EINTR, "waitpid: %s", strerror(errno));
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

int tu_signal_until_exit(pid_t pid, int sig)
{
	struct timespec ms10 = {0, 10000000L};
	int i, st;

	for (i = 0; i < 1000; i++) {
		kill(pid, sig);
		nanosleep(&ms10, NULL);
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
	}
	kill(pid, SIGKILL);
	tu_reap(pid);
	ck_abort_msg("child %d still running 10 s after the first signal", (int)pid);
	return -1;
}

/* Layout: producer (4 bytes), seq (4), checksum (4), filler. */
static uint32_t checksum(const unsigned char *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

size_t tu_message(unsigned char *buf, size_t size, unsigned producer, unsigned seq)
{
	size_t len = 12 + (producer * 7 + seq * 13) % (size - 12 + 1), i;
	uint32_t sum;

	memcpy(buf, &producer, 4);
	memcpy(buf + 4, &seq, 4);
	for (i = 12; i < len; i++)
		buf[i] = (unsigned char)(producer + seq + i);
	sum = checksum(buf + 12, len - 12) ^ producer ^ (seq * 2654435761u);
	memcpy(buf + 8, &sum, 4);
	return len;
}

int tu_check_message(const unsigned char *buf, size_t len, unsigned *producer, unsigned *seq)
{
	uint32_t sum;

	if (len < 12)
		return -1;
	memcpy(producer, buf, 4);
	memcpy(seq, buf + 4, 4);
	memcpy(&sum, buf + 8, 4);
	return sum == (checksum(buf + 12, len - 12) ^ *producer ^ (*seq * 2654435761u)) ? 0 : -1;
}

void tu_expect_fail(long rc, int err)
{
	ck_assert_int_eq(rc, -1);
	ck_assert_msg(errno == err, "errno %d (%s), wanted %d (%s)", errno, strerror(errno), err,
		      strerror(err));
}

int64_t tu_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void *tu_shared(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_msg(p != MAP_FAILED, "mmap: %s", strerror(errno));
	return p;
}

unsigned tu_rand(uint64_t *state, unsigned n)
{
	/* xorshift64* */
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (unsigned)((*state * 2685821657736338717ULL) >> 32) % n;
}

void tu_pause_ns(long ns)
{
	struct timespec t = {ns / 1000000000L, ns % 1000000000L};

	while (ns > 0 && nanosleep(&t, &t) == -1 && errno == EINTR)
		;
}

int tu_under_valgrind(void)
{
	const char *preload = getenv("LD_PRELOAD");

	return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

int tu_readable(int fd, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int n;

	while ((n = poll(&p, 1, timeout_ms)) == -1 && errno == EINTR)
		;
	ck_assert_msg(n != -1, "poll: %s", strerror(errno));
	ck_assert_msg(n == 0 || p.revents == POLLIN, "poll: revents %#x", (unsigned)p.revents);
	return n;
}
