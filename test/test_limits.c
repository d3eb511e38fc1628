/*
 * Kernel limits, each in a private IPC namespace (unshare) with the limit
 * lowered: a clear, specific error, and nothing left half-created.  The
 * child's exit status is the errno create gave, or 200+ for leftovers.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

static int write_proc(const char *file, const char *value)
{
	FILE *f = fopen(file, "w");
	int r;

	if (f == NULL)
		return -1;
	r = fputs(value, f) < 0 ? -1 : 0;
	return fclose(f) == 0 ? r : -1;
}

/* Objects in this namespace (lines of /proc/sysvipc/X after the header). */
static int objects(const char *what)
{
	char path[64], line[512];
	FILE *f;
	int n = -1;

	snprintf(path, sizeof(path), "/proc/sysvipc/%s", what);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		n++;
	fclose(f);
	return n;
}

/* In a new IPC namespace: set `file` to `value`, create `creates` mailboxes
 * of `slots` slots; exit with the last create's errno (0 if all worked). */
static int in_namespace(const char *file, const char *value, size_t slots, int creates,
			int keep)
{
	const char *path = tu_keyfile();
	pid_t pid = tu_fork();

	if (pid == 0) {
		shmbox_attr_t attr = {.slots = slots, .slot_size = 4096};
		shmbox_t *box;
		int i, err = 0;

		if (unshare(CLONE_NEWIPC) == -1)
			_exit(77);
		if (write_proc(file, value) == -1)
			_exit(201);
		for (i = 0; i < creates && err == 0; i++)
			if (shmbox_create(path, TU_PROJ + i, &attr, &box) == -1)
				err = errno;
		if (objects("shm") != keep || objects("sem") != keep)
			_exit(202); /* half-created objects left behind */
		_exit(err);
	}
	int r = tu_reap(pid);

	ck_assert_msg(r != 77, "unshare(CLONE_NEWIPC) refused: these tests need root");
	ck_assert_msg(r != 201, "cannot write %s in the new namespace", file);
	ck_assert_msg(r != 202, "objects left half-created");
	return r;
}

START_TEST(a_mailbox_beyond_shmmax_is_efbig)
{
	int r = in_namespace("/proc/sys/kernel/shmmax", "65536", 100, 1, 0);

	ck_assert_int_eq(r, EFBIG);
	ck_assert_ptr_nonnull(strstr(shmbox_strerror(EFBIG), "/proc/sys/kernel/shmmax"));
}
END_TEST

START_TEST(more_semaphores_than_semmsl_is_erange)
{
	int r = in_namespace("/proc/sys/kernel/sem", "20 32000 32 128", 100, 1, 0);

	ck_assert_int_eq(r, ERANGE);
	ck_assert_ptr_nonnull(strstr(shmbox_strerror(ERANGE), "/proc/sys/kernel/sem"));
}
END_TEST

START_TEST(out_of_segment_ids_is_enospc)
{
	int r = in_namespace("/proc/sys/kernel/shmmni", "1", 2, 2, 1);

	ck_assert_int_eq(r, ENOSPC);
	ck_assert_ptr_nonnull(strstr(shmbox_strerror(ENOSPC), "shmmni"));
}
END_TEST

START_TEST(out_of_semaphore_sets_is_enospc)
{
	int r = in_namespace("/proc/sys/kernel/sem", "32000 1024000 500 1", 2, 2, 1);

	ck_assert_int_eq(r, ENOSPC);
}
END_TEST

Suite *suite_limits(void)
{
	Suite *s = suite_create("limits");
	TCase *tc = tcase_create("kernel-limits");

	tcase_add_test(tc, a_mailbox_beyond_shmmax_is_efbig);
	tcase_add_test(tc, more_semaphores_than_semmsl_is_erange);
	tcase_add_test(tc, out_of_segment_ids_is_enospc);
	tcase_add_test(tc, out_of_semaphore_sets_is_enospc);
	suite_add_tcase(s, tc);
	return s;
}
