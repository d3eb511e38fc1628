/* Shared by the test files: key files, IPC clean-up, forked children. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <check.h>
#include <sys/types.h>

#include "shmbox.h"

#define TU_PROJ 'T'

/* A new key file in this run's private directory (path in a static buffer). */
const char *tu_keyfile(void);
/* Create a mailbox on a new key file, or fail the test. */
shmbox_t *tu_create(size_t slots, size_t slot_size, const char **pathp);
shmbox_t *tu_open(const char *path);

/* Set up and tear down this run's directory; tu_sweep removes every IPC
 * object keyed by one of its files and returns how many it removed. */
void tu_run_begin(void);
int tu_sweep(void);
void tu_run_end(void);

/* Wait (bounded, 10 s) until n processes sleep on semaphore `sem` of the
 * mailbox at path: a blocked child is then known to be inside the call. */
void tu_wait_sleepers(const char *path, int sem, int n);
/* n, or n / 20 when SHMBOX_TEST_QUICK is set (under valgrind, where every
 * message costs fifty times more; the counts still pass the limits the
 * tests are about). */
unsigned tu_scale(unsigned n);
/* fork(), failing the test if it fails. */
pid_t tu_fork(void);
/* Signal a child every 10 ms until it exits (a signal that lands just
 * between two sleeps of a blocked call is handled but ends no sleep);
 * its exit status, as tu_reap.  Fails the test after 10 s. */
int tu_signal_until_exit(pid_t pid, int sig);
/* Pin the calling process to the first CPU it may use. */
void tu_pin_first_cpu(void);
/* A child that spins on the first CPU until killed (tu_kill_hog), and
 * dies with the test process if that ends first. */
pid_t tu_hog(void);
void tu_kill_hog(pid_t pid);
/* Wait for a child; its exit status, or 128 + signal. */
int tu_reap(pid_t pid);

/* CLOCK_MONOTONIC in nanoseconds: one clock for every process. */
int64_t tu_now_ns(void);
/* Zeroed memory shared with the children forked after it (munmap it). */
void *tu_shared(size_t size);
/* A pseudo-random number below n (n > 0) from *state, any non-zero seed. */
unsigned tu_rand(uint64_t *state, unsigned n);
/* poll() fd for POLLIN: 1 readable, 0 not within timeout_ms (failing the
 * test on an error or on readiness other than POLLIN). */
int tu_readable(int fd, int timeout_ms);
/* True when the test runs under valgrind, where every step is slow. */
int tu_under_valgrind(void);
/* Sleep for ns nanoseconds (0: return at once). */
void tu_pause_ns(long ns);

/* A call failed (returned -1) with errno err, or fail the test. */
void tu_expect_fail(long rc, int err);

/* Messages that check themselves: producer id, sequence, length, checksum. */
size_t tu_message(unsigned char *buf, size_t size, unsigned producer, unsigned seq);
int tu_check_message(const unsigned char *buf, size_t len, unsigned *producer, unsigned *seq);

Suite *suite_basic(void);
Suite *suite_errors(void);
Suite *suite_procs(void);
Suite *suite_crash(void);
Suite *suite_race(void);
Suite *suite_call(void);
Suite *suite_call_remote(void);
Suite *suite_observe(void);
Suite *suite_zerocopy(void);
Suite *suite_hostile(void);
Suite *suite_limits(void);
Suite *suite_survive(void);
Suite *suite_unlink(void);
Suite *suite_fd(void);
Suite *suite_fd_poll(void);
Suite *suite_baton(void);

#endif
