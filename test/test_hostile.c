/*
 * A hostile or corrupt segment: bytes of the header, the slot words and
 * lengths, and the reply slots are overwritten with garbage, and every call
 * is made on it.  Each must return a clear error or work: no crash, no
 * out-of-bounds access (run under AddressSanitizer), no hang (all calls use
 * timeout 0, and Check's timeout catches a loop).  The corpus is fixed:
 * seeds 1..N, so a failure replays.  test/fuzz/ drives the same code with
 * libFuzzer.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>

#include "layout.h"
#include "util.h"
#include "corrupt.h"

#define SEEDS 3000

/* What a call may say about a corrupt mailbox. */
static int acceptable(int r, int err)
{
	return r >= 0 || err == EPROTO || err == EAGAIN || err == EMSGSIZE || err == ETIMEDOUT ||
	       err == ESTALE || err == EIDRM || err == ECANCELED || err == ECONNRESET ||
	       err == EUSERS || err == EINVAL;
}

#define TRY(call)                                                                          \
	do {                                                                               \
		errno = 0;                                                                 \
		long r_ = (long)(call);                                                    \
		ck_assert_msg(acceptable((int)r_, errno), "seed %u: %s -> %ld (%s)", seed, \
			      #call, r_, strerror(errno));                                 \
	} while (0)

/* Both ways of finding a slot (layout.h): a mask for a power of two,
 * division otherwise. */
static const size_t hostile_slots[] = {4, 3};

START_TEST(every_call_survives_a_corrupt_segment)
{
	const char *path;
	shmbox_t *box = tu_create(hostile_slots[_i], 64, &path), *other;
	int id = shmget(ftok(path, TU_PROJ), 0, 0);
	unsigned char *seg = shmat(id, NULL, 0), *pristine;
	struct shmid_ds ds;
	unsigned char buf[128], states[4];
	struct shmbox_stat st;
	struct shmbox_proc procs[4];
	shmbox_ticket_t t;
	shmbox_zc_t zc;
	unsigned seed;

	ck_assert_ptr_ne(seg, (void *)-1);
	ck_assert_int_eq(shmctl(id, IPC_STAT, &ds), 0);
	pristine = malloc(ds.shm_segsz);
	ck_assert_int_eq(shmbox_put(box, "abc", 3, 0), 0);
	memcpy(pristine, seg, ds.shm_segsz);
	for (seed = 1; seed <= tu_scale(SEEDS); seed++) {
		memcpy(seg, pristine, ds.shm_segsz);
		corrupt_segment(seg, ds.shm_segsz, seed);
		TRY(shmbox_put(box, "hello", 5, 0));
		TRY(shmbox_get(box, buf, sizeof(buf), 0));
		TRY(shmbox_get(box, buf, 2, 0));
		TRY(shmbox_call(box, "q", 1, buf, sizeof(buf), 0));
		TRY(shmbox_accept(box, buf, sizeof(buf), &t, 0));
		t.slot = seed % 8;
		t.gen = seed;
		TRY(shmbox_reply(box, &t, "r", 1));
		TRY(shmbox_stat(box, &st));
		TRY(shmbox_slot_states(box, states, 4, NULL, NULL));
		TRY(shmbox_procs(box, procs, 4));
		if (shmbox_peek(box, &zc, 0) >= 0)
			TRY(shmbox_release(box, &zc));
		if (shmbox_reserve(box, &zc, 0) == 0) {
			if (seed % 3 == 0)
				TRY(shmbox_cancel(box, &zc));
			else
				TRY(shmbox_commit(box, &zc, seed % 80));
		}
		errno = 0;
		if (shmbox_open(path, TU_PROJ, &other) == 0) {
			TRY(shmbox_put(other, "x", 1, 0));
			TRY(shmbox_get(other, buf, sizeof(buf), 0));
			shmbox_close(other);
		} else {
			ck_assert_msg(acceptable(-1, errno), "seed %u: open: %s", seed, strerror(errno));
		}
	}
	memcpy(seg, pristine, ds.shm_segsz);
	free(pristine);
	shmdt(seg);
	ck_assert_int_eq(shmbox_destroy(box), 0);
}
END_TEST

Suite *suite_hostile(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("corrupt-segment");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, every_call_survives_a_corrupt_segment, 0,
			    (int)(sizeof(hostile_slots) / sizeof(hostile_slots[0])));
	suite_add_tcase(s, tc);
	return s;
}
