/*
 * shmbox ls: every mailbox on the host.  The kernel lists every segment in
 * /proc/sysvipc/shm; each is attached read-only and kept if the library
 * recognises its header, or if it is a broken leftover of a mailbox (its
 * semaphore set gone, or marked removed: the library says EIDRM), which
 * `shmbox rm -f` removes.  Segments we may not read are counted, not
 * shown; segments without a key are passed over.
 */
#include <err.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/shm.h>
#include <sysexits.h>

#include "cli.h"

#define SYSVIPC_SHM "/proc/sysvipc/shm"

static void heading(void)
{
	printf("%-10s %7s %6s %6s %6s %9s %5s %-8s %4s\n", "KEY", "SHMID", "SIZE", "SLOTS",
	       "SLOTSZ", "FILL", "PROCS", "OWNER", "MODE");
}

/* A broken one has no geometry or counts to show: dashes, and what is
 * broken after the mode. */
static void text(const struct cli_mailbox *m)
{
	char a[16], b[16], fill[32];
	const struct shmbox_stat *st = &m->st;

	if (m->broken != NULL) {
		printf("0x%08x %7d %6s %6s %6s %9s %5s %-8s %04o broken: %s\n", (unsigned)st->key,
		       st->shmid, cli_size(a, sizeof(a), m->seg_size), "-", "-", "-", "-",
		       cli_user(st->uid), (unsigned)st->mode, m->broken);
		return;
	}
	snprintf(fill, sizeof(fill), "%zu/%zu", st->queued, st->slots);
	printf("0x%08x %7d %6s %6zu %6s %9s %5zu %-8s %04o\n", (unsigned)st->key, st->shmid,
	       cli_size(a, sizeof(a), m->seg_size), st->slots, cli_size(b, sizeof(b), st->slot_size),
	       fill, st->attached, cli_user(st->uid), (unsigned)st->mode);
}

/* The library refused the segment with EIDRM: a leftover, unless it is
 * only being removed right now (then the kernel marks it SHM_DEST and
 * takes its key away). */
static int leftover(int shmid, struct cli_mailbox *m)
{
	struct shmid_ds ds;

	if (shmctl(shmid, IPC_STAT, &ds) == -1 || ds.shm_perm.__key == IPC_PRIVATE ||
	    (ds.shm_perm.mode & SHM_DEST))
		return 0;
	cli_mailbox_broken(shmid, &ds, m);
	return 1;
}

/* 1: a mailbox, described in *m; 0: not one, or gone; -1: we may not look. */
static int look(int shmid, struct cli_mailbox *m)
{
	shmbox_t *box;
	int ok;

	*m = (struct cli_mailbox){0}; /* no path, no processes */
	if (shmbox_attach_id(shmid, SHMBOX_RDONLY, &box) == -1) {
		if (errno == EACCES || errno == EPERM)
			return -1;
		if (errno == EIDRM)
			return leftover(shmid, m);
		if (errno != EPROTO && errno != EINVAL && errno != ENOENT)
			warnx("ls: segment %d: %s", shmid, shmbox_strerror(errno));
		return 0;
	}
	ok = cli_mailbox_read(box, m) == 0;
	shmbox_close(box);
	return ok;
}

int cli_ls(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	static json_t *list; /* static: see fail.c */
	struct cli_mailbox m;
	char line[512];
	int c, as_json = 0, hidden = 0, key, shmid;
	FILE *f;

	while ((c = cli_getopt(cmd, argc, argv, ":hV", longopts)) != -1) {
		if (c != 'j')
			cli_usage(cmd);
		as_json = 1;
	}
	cli_no_more(cmd, argc, argv);
	f = fopen(SYSVIPC_SHM, "r");
	if (f == NULL)
		err(EX_OSFILE, "ls: %s", SYSVIPC_SHM);
	if (as_json && (list = json_array()) == NULL)
		errx(EX_OSERR, "out of memory for JSON output");
	if (!as_json)
		heading();
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%d %d", &key, &shmid) != 2)
			continue; /* the heading */
		/* A mailbox is found by its ftok key: a segment without one
		 * (IPC_PRIVATE, or removed and waiting for its last detach) is
		 * not one anybody can open.  Skipping it also spares us the
		 * library's wait for a header that will never come. */
		if (key == 0)
			continue;
		switch (look(shmid, &m)) {
		case 1:
			if (!as_json)
				text(&m);
			else if (json_array_append_new(list, cli_json_mailbox(&m)) == -1)
				errx(EX_OSERR, "out of memory for JSON output");
			break;
		case -1: hidden++; break;
		}
	}
	fclose(f);
	if (as_json) {
		cli_json_print(list, "ls");
		json_decref(list);
	}
	if (hidden > 0)
		warnx("ls: %d segment%s not readable by you (may hold mailboxes)", hidden,
		      hidden == 1 ? "" : "s");
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "ls: standard output");
	return EX_OK;
}
