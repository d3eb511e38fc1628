/* shmbox info: one mailbox, all there is to know, read-only (the observer
 * holds no token, so it is not among the processes it lists). */
#include <err.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <sysexits.h>

#include "cli.h"

/* After an attached process: "; listens for get (armed), accept" for the
 * descriptors it holds.  A process attached twice has them on its first line. */
static void listens(const struct cli_mailbox *m, size_t p)
{
	pid_t pid = m->procs[p].pid;
	const char *sep = "; listens for ";
	size_t i;

	for (i = 0; i < p; i++)
		if (m->procs[i].pid == pid)
			return;
	for (i = 0; i < m->nlisteners; i++) {
		if (m->listeners[i].pid != pid)
			continue;
		printf("%s%s%s", sep, cli_what(m->listeners[i].what),
		       m->listeners[i].armed ? " (armed)" : "");
		sep = ", ";
	}
}

static void text(const struct cli_mailbox *m)
{
	const struct shmbox_stat *st = &m->st;
	char a[16], b[16], t1[32], t2[32], comm[32], l[128];
	size_t i;

	printf("mailbox   %s (project %d)\n", m->path, m->proj);
	printf("ids       key 0x%08x, shmid %d, semid %d\n", (unsigned)st->key, st->shmid,
	       st->semid);
	printf("geometry  %zu slots of %s", st->slots, cli_size(a, sizeof(a), st->slot_size));
	if (st->slot_size >= 1024)
		printf(" (%zu bytes)", st->slot_size);
	printf(", segment %s\n", cli_size(b, sizeof(b), m->seg_size));
	printf("messages  %zu queued, %zu free, %zu being written, %zu being read\n", st->queued,
	       st->free, st->writing, st->reading);
	printf("calls     %zu waiting for a server, %zu in progress (at most %zu)\n",
	       st->requests, st->calls, st->reply_slots);
	printf("traffic   %" PRIu64 " put, last %s; %" PRIu64 " taken, last %s\n", st->puts,
	       cli_time(t1, sizeof(t1), st->last_put), st->gets,
	       cli_time(t2, sizeof(t2), st->last_get));
	printf("asleep    %zu in get, %zu in put, %zu in accept\n", st->getters_waiting,
	       st->putters_waiting, st->servers_waiting);
	printf("listening %s\n", cli_listening(l, sizeof(l), m->listeners, m->nlisteners));
	printf("owner     %s (uid %lu), mode %04o, created by pid %ld\n", cli_user(st->uid),
	       (unsigned long)st->uid, (unsigned)st->mode, (long)st->creator);
	printf("attached  %zu of %zu%s\n", m->nprocs, st->max_procs, m->nprocs ? ":" : "");
	for (i = 0; i < m->nprocs; i++) {
		printf("          pid %-7ld %-16s since %s", (long)m->procs[i].pid,
		       cli_comm(m->procs[i].pid, comm, sizeof(comm)),
		       cli_time(t1, sizeof(t1), m->procs[i].since));
		listens(m, i);
		putchar('\n');
	}
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "info %s: standard output", m->path);
}

int cli_info(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	/* static: see fail.c */
	static struct cli_mailbox m;
	static json_t *j;
	shmbox_t *box;
	int c, as_json = 0;

	while ((c = cli_getopt(cmd, argc, argv, ":hVp:", longopts)) != -1) {
		if (c != 'j')
			cli_usage(cmd);
		as_json = 1;
	}
	m.path = cli_path(cmd, argc, argv);
	cli_no_more(cmd, argc, argv);
	box = cli_open("info", m.path, SHMBOX_RDONLY);
	if (cli_mailbox_read(box, &m) == -1 || cli_mailbox_procs(box, &m) == -1)
		cli_fail("info", m.path);
	shmbox_close(box);
	if (as_json) {
		j = cli_json_mailbox(&m);
		cli_json_print(j, "info");
		json_decref(j);
	} else {
		text(&m);
	}
	free(m.procs);
	return EX_OK;
}
