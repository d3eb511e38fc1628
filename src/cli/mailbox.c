/*
 * What info and ls know of one mailbox, gathered once and then shown as
 * text or as JSON (json.c): from an open handle, or, for a broken
 * leftover the library cannot open, from the kernel's view of its
 * segment.
 */
#include <err.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sysexits.h>

#include "cli.h"

/* ftok puts the project number in the key's top byte. */
static int key_proj(key_t key)
{
	return (int)(((unsigned)key >> 24) & 0xff);
}

int cli_mailbox_read(shmbox_t *box, struct cli_mailbox *m)
{
	struct shmid_ds ds;

	if (shmbox_stat(box, &m->st) == -1)
		return -1;
	m->proj = key_proj(m->st.key);
	m->seg_size = shmctl(m->st.shmid, IPC_STAT, &ds) == 0 ? ds.shm_segsz : 0;
	m->broken = NULL;
	return 0;
}

int cli_mailbox_procs(shmbox_t *box, struct cli_mailbox *m)
{
	ssize_t n;

	m->procs = calloc(m->st.max_procs, sizeof(*m->procs));
	if (m->procs == NULL)
		return -1;
	n = shmbox_procs(box, m->procs, m->st.max_procs);
	if (n == -1)
		return -1;
	m->nprocs = (size_t)n;
	n = shmbox_listeners(box, m->listeners, CLI_MAX_LISTENERS);
	if (n == -1)
		return -1;
	m->nlisteners = (size_t)n;
	return 0;
}

const char *cli_broken(key_t key)
{
	/* The library says EIDRM for both; the set's absence tells them apart. */
	if (semget(key, 0, 0) == -1 && errno == ENOENT)
		return "semaphore set gone";
	return "marked removed";
}

void cli_mailbox_broken(int shmid, const struct shmid_ds *ds, struct cli_mailbox *m)
{
	key_t key = ds->shm_perm.__key;

	*m = (struct cli_mailbox){
		.proj = key_proj(key),
		.seg_size = ds->shm_segsz,
		.broken = cli_broken(key),
		.st = {.key = key,
		       .shmid = shmid,
		       .semid = semget(key, 0, 0),
		       .uid = ds->shm_perm.uid,
		       .mode = ds->shm_perm.mode & 0777,
		       .creator = ds->shm_cpid},
	};
}
