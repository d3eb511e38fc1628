/*
 * shmbox ls: every mailbox on the host.  The kernel lists every segment in
 * /proc/sysvipc/shm; each is attached read-only and kept only if the
 * library recognises its header.  Segments we may not read are counted,
 * not shown; segments without a key are passed over.
 */
#include <err.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/shm.h>
#include <sysexits.h>

#include "cli.h"

#define SYSVIPC_SHM "/proc/sysvipc/shm"

struct row {
	struct shmbox_stat st;
	uint64_t seg_size;
};

static void heading(void)
{
	printf("%-10s %7s %6s %6s %6s %9s %5s %-8s %4s\n", "KEY", "SHMID", "SIZE", "SLOTS",
	       "SLOTSZ", "FILL", "PROCS", "OWNER", "MODE");
}

static void text(const struct row *r)
{
	char a[16], b[16], fill[32];

	snprintf(fill, sizeof(fill), "%zu/%zu", r->st.queued, r->st.slots);
	printf("0x%08x %7d %6s %6zu %6s %9s %5zu %-8s %04o\n", (unsigned)r->st.key, r->st.shmid,
	       cli_size(a, sizeof(a), r->seg_size), r->st.slots,
	       cli_size(b, sizeof(b), r->st.slot_size), fill, r->st.attached,
	       cli_user(r->st.uid), (unsigned)r->st.mode);
}

static void json(const struct row *r, int first)
{
	printf("%s{\"key\":\"0x%08x\",\"shmid\":%d,\"semid\":%d,\"segment_size\":%" PRIu64
	       ",\"slots\":%zu,\"slot_size\":%zu,\"queued\":%zu,\"free\":%zu,\"attached\":%zu"
	       ",\"max_procs\":%zu,\"uid\":%lu,\"mode\":\"%04o\",\"creator\":%ld}",
	       first ? "" : ",", (unsigned)r->st.key, r->st.shmid, r->st.semid, r->seg_size,
	       r->st.slots, r->st.slot_size, r->st.queued, r->st.free, r->st.attached,
	       r->st.max_procs, (unsigned long)r->st.uid, (unsigned)r->st.mode,
	       (long)r->st.creator);
}

/* 1: a mailbox, described in *r; 0: not one, or gone; -1: we may not look. */
static int look(int shmid, struct row *r)
{
	struct shmid_ds ds;
	shmbox_t *box;
	int ok;

	if (shmbox_attach_id(shmid, SHMBOX_RDONLY, &box) == -1) {
		if (errno == EACCES || errno == EPERM)
			return -1;
		if (errno != EPROTO && errno != EIDRM && errno != EINVAL && errno != ENOENT)
			warnx("ls: segment %d: %s", shmid, shmbox_strerror(errno));
		return 0;
	}
	ok = shmbox_stat(box, &r->st) == 0;
	r->seg_size = shmctl(shmid, IPC_STAT, &ds) == 0 ? ds.shm_segsz : 0;
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
	char line[512];
	struct row r;
	int c, as_json = 0, shown = 0, hidden = 0, key, shmid;
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
	if (as_json)
		putchar('[');
	else
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
		switch (look(shmid, &r)) {
		case 1:
			if (as_json)
				json(&r, shown == 0);
			else
				text(&r);
			shown++;
			break;
		case -1: hidden++; break;
		}
	}
	fclose(f);
	if (as_json)
		printf("]\n");
	if (hidden > 0)
		warnx("ls: %d segment%s not readable by you (may hold mailboxes)", hidden,
		      hidden == 1 ? "" : "s");
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "ls: standard output");
	return EX_OK;
}
