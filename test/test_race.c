/* Dozens of processes create-or-open one key at the same instant: one
 * creates, the rest open, and none uses a half-initialised mailbox. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

#define RACERS 40
#define ROUNDS 5

static int create_or_open(const char *path, shmbox_t **box)
{
	shmbox_attr_t attr = {.slots = RACERS, .slot_size = 8};

	if (shmbox_create(path, TU_PROJ, &attr, box) == 0)
		return 1;
	if (errno != EEXIST)
		return -1;
	return shmbox_open(path, TU_PROJ, box) == 0 ? 0 : -1;
}

/* Exit status: 0 opened, 1 created, 2+ failed. */
static void racer(const char *path, int start_fd, unsigned id)
{
	shmbox_t *box;
	char c;
	int how;

	if (read(start_fd, &c, 1) != 0) /* returns 0 for all at once */
		_exit(2);
	how = create_or_open(path, &box);
	if (how == -1)
		_exit(3);
	if (shmbox_put(box, &id, sizeof(id), 0) == -1)
		_exit(4);
	shmbox_close(box);
	_exit(how);
}

START_TEST(concurrent_create_or_open)
{
	unsigned round;

	for (round = 0; round < ROUNDS; round++) {
		const char *path = tu_keyfile();
		int fds[2], created = 0, st;
		char seen[RACERS] = {0};
		pid_t pids[RACERS];
		shmbox_t *box;
		unsigned i, id;

		ck_assert_int_eq(pipe(fds), 0);
		for (i = 0; i < RACERS; i++) {
			pids[i] = tu_fork();
			if (pids[i] == 0) {
				close(fds[1]);
				racer(path, fds[0], i);
			}
		}
		close(fds[0]);
		close(fds[1]); /* go */
		for (i = 0; i < RACERS; i++) {
			st = tu_reap(pids[i]);
			ck_assert_msg(st == 0 || st == 1, "racer %u failed with %d", i, st);
			created += st;
		}
		ck_assert_int_eq(created, 1);
		box = tu_open(path);
		for (i = 0; i < RACERS; i++) {
			ck_assert_int_eq(shmbox_get(box, &id, sizeof(id), 0), (ssize_t)sizeof(id));
			ck_assert_uint_lt(id, RACERS);
			ck_assert_int_eq(seen[id], 0);
			seen[id] = 1;
		}
		ck_assert_int_eq(shmbox_destroy(box), 0);
	}
}
END_TEST

Suite *suite_race(void)
{
	Suite *s = suite_create("race");
	TCase *tc = tcase_create("create");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, concurrent_create_or_open);
	suite_add_tcase(s, tc);
	return s;
}
