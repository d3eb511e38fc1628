/*
 * libFuzzer harness: a real mailbox whose segment the fuzzer overwrites
 * (header, positions, slot words, lengths, reply slots), then every call on
 * it, with timeout 0.  Built and run by test/fuzz/run.sh (clang,
 * -fsanitize=fuzzer,address,undefined).  Crashes and hangs are findings;
 * any errno is fine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "corrupt.h"
#include "shmbox.h"

static shmbox_t *box;
static unsigned char *seg, *pristine;
static size_t seg_size;
static char path[] = "/tmp/shmbox-fuzz.XXXXXX";

static void cleanup(void)
{
	if (seg != NULL)
		memcpy(seg, pristine, seg_size);
	shmbox_destroy(box);
	unlink(path);
}

static void setup(void)
{
	/* 4 slots find theirs with a mask, 3 by division (layout.h): run both */
	const char *slots = getenv("SHMBOX_FUZZ_SLOTS");
	shmbox_attr_t attr = {.slots = slots != NULL && atoi(slots) == 3 ? 3 : 4,
			      .slot_size = 64,
			      .max_procs = 4};
	struct shmbox_stat st;
	struct shmid_ds ds;

	close(mkstemp(path));
	if (shmbox_create(path, 1, &attr, &box) == -1 || shmbox_stat(box, &st) == -1)
		abort();
	seg = shmat(st.shmid, NULL, 0);
	if (seg == (void *)-1 || shmctl(st.shmid, IPC_STAT, &ds) == -1)
		abort();
	seg_size = ds.shm_segsz;
	shmbox_put(box, "seed", 4, 0);
	/* Descriptors: calls that find nothing then arm, watch and ring
	 * through a listener table that is corrupt too. */
	if (shmbox_fd(box, SHMBOX_FD_GET) == -1 || shmbox_fd(box, SHMBOX_FD_PUT) == -1 ||
	    shmbox_fd(box, SHMBOX_FD_ACCEPT) == -1)
		abort();
	pristine = malloc(seg_size);
	memcpy(pristine, seg, seg_size);
	atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	unsigned char buf[128], states[4];
	struct shmbox_stat st;
	struct shmbox_proc procs[4];
	shmbox_ticket_t t = {1, 1};
	shmbox_zc_t zc;
	shmbox_t *other;

	if (box == NULL)
		setup();
	memcpy(seg, pristine, seg_size);
	corrupt_segment_with(seg, seg_size, data, len);
	shmbox_put(box, "hello", 5, 0);
	shmbox_get(box, buf, sizeof(buf), 0);
	shmbox_call(box, "q", 1, buf, sizeof(buf), 0);
	shmbox_accept(box, buf, sizeof(buf), &t, 0);
	shmbox_reply(box, &t, "r", 1);
	shmbox_stat(box, &st);
	shmbox_slot_states(box, states, 4, NULL, NULL);
	shmbox_procs(box, procs, 4);
	if (shmbox_peek(box, &zc, 0) >= 0)
		shmbox_release(box, &zc);
	if (shmbox_reserve(box, &zc, 0) == 0)
		shmbox_commit(box, &zc, 3);
	/* A zero magic number reads as "being created": open would wait for
	 * its creator (us) for two seconds; test/test_errors.c covers that. */
	if (memcmp(seg, "\0\0\0\0\0\0\0\0", 8) != 0 && shmbox_open(path, 1, &other) == 0)
		shmbox_close(other);
	return 0;
}
