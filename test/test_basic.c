/* One process: what put and get promise on their own. */
#include <errno.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <unistd.h>

#include "util.h"

START_TEST(put_then_get_returns_the_bytes_and_length)
{
	shmbox_t *box = tu_create(4, 64, NULL);
	char buf[64];

	ck_assert_int_eq(shmbox_put(box, "hello", 5, 0), 0);
	ck_assert_int_eq(shmbox_get(box, buf, sizeof(buf), 0), 5);
	ck_assert_mem_eq(buf, "hello", 5);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(zero_length_messages_are_messages)
{
	shmbox_t *box = tu_create(2, 8, NULL);
	struct shmbox_stat st;

	ck_assert_int_eq(shmbox_put(box, NULL, 0, 0), 0);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.queued, 1);
	ck_assert_int_eq(shmbox_get(box, NULL, 0, 0), 0);
	ck_assert_int_eq(shmbox_get(box, NULL, 0, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* A ring of a power of two finds its slots with a mask, others by division
 * (layout.h): both must wrap the same way. */
static const size_t lap_ring_slots[] = {3, 4, 1};

START_TEST(messages_come_out_in_order_across_many_laps)
{
	shmbox_t *box = tu_create(lap_ring_slots[_i], 16, NULL);
	unsigned i, v, next = 0;

	/* Up to two stay queued, so the ring wraps with messages in it. */
	for (i = 0; i < 1000; i++) {
		ck_assert_int_eq(shmbox_put(box, &i, sizeof(i), 0), 0);
		if (i + 1 < lap_ring_slots[_i] && i < 2)
			continue;
		ck_assert_int_eq(shmbox_get(box, &v, sizeof(v), 0), (ssize_t)sizeof(v));
		ck_assert_uint_eq(v, next++);
	}
	while (shmbox_get(box, &v, sizeof(v), 0) == (ssize_t)sizeof(v))
		ck_assert_uint_eq(v, next++);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_uint_eq(next, 1000);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_full_box_takes_exactly_its_slots)
{
	shmbox_t *box = tu_create(5, 8, NULL);
	struct shmbox_stat st;
	int i;

	for (i = 0; i < 5; i++)
		ck_assert_int_eq(shmbox_put(box, "x", 1, 0), 0);
	ck_assert_int_eq(shmbox_put(box, "x", 1, 0), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(shmbox_stat(box, &st), 0);
	ck_assert_uint_eq(st.slots, 5);
	ck_assert_uint_eq(st.slot_size, 8);
	ck_assert_uint_eq(st.queued, 5);
	ck_assert_uint_eq(st.free, 0);
	ck_assert_uint_eq(st.puts, 5);
	ck_assert_uint_eq(st.gets, 0);
	ck_assert_uint_eq(st.attached, 1);
	ck_assert_int_eq(st.creator, getpid());
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(a_slot_holds_exactly_slot_size_bytes)
{
	shmbox_t *box = tu_create(1, 100, NULL);
	char in[100], out[100];

	memset(in, 'q', sizeof(in));
	ck_assert_int_eq(shmbox_put(box, in, 100, 0), 0);
	ck_assert_int_eq(shmbox_get(box, out, 100, 0), 100);
	ck_assert_mem_eq(in, out, 100);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

/* Long payloads go through the library's own copy loop (src/copy.c), in
 * blocks of 128 bytes and an overlapping last block, short ones through
 * memcpy.  Every length around those steps, each way on its own: a put
 * seen in place by peek, a message written in place and taken by get, from
 * an odd address to an odd address, and a get writes nothing outside the
 * message.  The bytes do not repeat with any short period, so a block
 * copied from the wrong place shows. */
#define LONGEST 9000
static const size_t copy_lengths[] = {1,   127, 128, 129,  255,  256,  257,
				      383, 384, 385, 4095, 4096, 4097, LONGEST};

static unsigned char copy_byte(size_t k, size_t len)
{
	return (unsigned char)(((k + 1) * 2654435761u ^ len) >> 13);
}

START_TEST(every_length_arrives_whole_and_nothing_past_it)
{
	size_t len = copy_lengths[_i], k;
	shmbox_t *box = tu_create(2, LONGEST, NULL);
	static unsigned char in[LONGEST + 1], out[LONGEST + 8];
	shmbox_zc_t zc;

	for (k = 0; k < sizeof(in); k++)
		in[k] = copy_byte(k, len);
	/* put's copy alone */
	ck_assert_int_eq(shmbox_put(box, in + 1, len, 0), 0);
	ck_assert_int_eq(shmbox_peek(box, &zc, 0), (ssize_t)len);
	ck_assert_mem_eq(zc.data, in + 1, len);
	ck_assert_int_eq(shmbox_release(box, &zc), 0);
	/* get's copy alone */
	ck_assert_int_eq(shmbox_reserve(box, &zc, 0), 0);
	memcpy(zc.data, in + 1, len);
	ck_assert_int_eq(shmbox_commit(box, &zc, len), 0);
	memset(out, 0xa5, sizeof(out));
	ck_assert_int_eq(shmbox_get(box, out + 3, LONGEST, 0), (ssize_t)len);
	ck_assert_mem_eq(out + 3, in + 1, len);
	for (k = 0; k < sizeof(out); k++)
		if (k < 3 || k >= 3 + len)
			ck_assert_uint_eq(out[k], 0xa5);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

static void check_mode(const char *path, int want)
{
	key_t key = ftok(path, TU_PROJ);
	struct shmid_ds sd;
	struct semid_ds semds;
	union {
		int val;
		struct semid_ds *buf;
	} arg = {.buf = &semds};

	ck_assert_int_eq(shmctl(shmget(key, 0, 0), IPC_STAT, &sd), 0);
	ck_assert_int_eq(sd.shm_perm.mode & 0777, want);
	ck_assert_int_eq(semctl(semget(key, 0, 0), 0, IPC_STAT, arg), 0);
	ck_assert_int_eq(semds.sem_perm.mode & 0777, want);
}

START_TEST(default_permissions_are_0600)
{
	const char *path;
	shmbox_t *box = tu_create(1, 8, &path);

	check_mode(path, 0600);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(mode_sets_both_objects_permissions)
{
	shmbox_attr_t attr = {.slots = 1, .slot_size = 8, .mode = 0660};
	const char *path = tu_keyfile();
	shmbox_t *box;

	ck_assert_int_eq(shmbox_create(path, TU_PROJ, &attr, &box), 0);
	check_mode(path, 0660);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

START_TEST(open_sees_what_create_put_and_close_leaves_it)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path), *other;
	char buf[8];

	ck_assert_int_eq(shmbox_put(box, "kept", 4, 0), 0);
	ck_assert_int_eq(shmbox_close(box), 0);
	other = tu_open(path);
	ck_assert_int_eq(shmbox_get(other, buf, sizeof(buf), 0), 4);
	ck_assert_mem_eq(buf, "kept", 4);
	ck_assert_int_eq(shmbox_destroy(other), 0);
}
END_TEST

START_TEST(destroy_removes_segment_and_semaphores)
{
	const char *path;
	shmbox_t *box = tu_create(2, 8, &path);
	key_t key = ftok(path, TU_PROJ);

	ck_assert_int_eq(shmbox_destroy(box), 0);
	ck_assert_int_eq(shmget(key, 0, 0), -1);
	ck_assert_int_eq(semget(key, 0, 0), -1);
}
END_TEST

START_TEST(strerror_names_the_library_codes)
{
	ck_assert_str_eq(shmbox_strerror(EIDRM), "Mailbox was removed");
	ck_assert_ptr_nonnull(strstr(shmbox_strerror(EPROTO), "Not a shmbox mailbox"));
	ck_assert_ptr_nonnull(shmbox_strerror(12345));
}
END_TEST

Suite *suite_basic(void)
{
	Suite *s = suite_create("basic");
	TCase *tc = tcase_create("put-get");

	tcase_add_test(tc, put_then_get_returns_the_bytes_and_length);
	tcase_add_test(tc, zero_length_messages_are_messages);
	tcase_add_loop_test(tc, messages_come_out_in_order_across_many_laps, 0,
			    (int)(sizeof(lap_ring_slots) / sizeof(lap_ring_slots[0])));
	tcase_add_test(tc, a_full_box_takes_exactly_its_slots);
	tcase_add_test(tc, a_slot_holds_exactly_slot_size_bytes);
	tcase_add_loop_test(tc, every_length_arrives_whole_and_nothing_past_it, 0,
			    (int)(sizeof(copy_lengths) / sizeof(copy_lengths[0])));
	tcase_add_test(tc, default_permissions_are_0600);
	tcase_add_test(tc, mode_sets_both_objects_permissions);
	tcase_add_test(tc, open_sees_what_create_put_and_close_leaves_it);
	tcase_add_test(tc, destroy_removes_segment_and_semaphores);
	tcase_add_test(tc, strerror_names_the_library_codes);
	suite_add_tcase(s, tc);
	return s;
}
