/* shmbox info: one mailbox, all there is to know, read-only (the observer
 * holds no token, so it is not among the processes it lists). */
#include <err.h>
#include <inttypes.h>
#include <stdlib.h>
#include <sys/shm.h>
#include <sysexits.h>

#include "cli.h"

struct info {
	const char *path;
	struct shmbox_stat st;
	uint64_t seg_size;
	struct shmbox_proc *procs;
	size_t nprocs;
};

static void gather(shmbox_t *box, struct info *in)
{
	struct shmid_ds ds;
	ssize_t n;

	cli_stat(box, "info", in->path, &in->st);
	in->seg_size = shmctl(in->st.shmid, IPC_STAT, &ds) == 0 ? ds.shm_segsz : 0;
	in->procs = calloc(in->st.max_procs, sizeof(*in->procs));
	if (in->procs == NULL)
		err(EX_OSERR, "info %s", in->path);
	n = shmbox_procs(box, in->procs, in->st.max_procs);
	if (n == -1)
		cli_fail("info", in->path);
	in->nprocs = (size_t)n;
}

static void text(const struct info *in)
{
	const struct shmbox_stat *st = &in->st;
	char a[16], b[16], t1[32], t2[32], comm[32];
	size_t i;

	printf("mailbox   %s (project %d)\n", in->path, cli_proj);
	printf("ids       key 0x%08x, shmid %d, semid %d\n", (unsigned)st->key, st->shmid,
	       st->semid);
	printf("geometry  %zu slots of %s", st->slots, cli_size(a, sizeof(a), st->slot_size));
	if (st->slot_size >= 1024)
		printf(" (%zu bytes)", st->slot_size);
	printf(", segment %s\n", cli_size(b, sizeof(b), in->seg_size));
	printf("messages  %zu queued, %zu free, %zu being written, %zu being read\n", st->queued,
	       st->free, st->writing, st->reading);
	printf("calls     %zu waiting for a server, %zu in progress (at most %zu)\n",
	       st->requests, st->calls, st->reply_slots);
	printf("traffic   %" PRIu64 " put, last %s; %" PRIu64 " taken, last %s\n", st->puts,
	       cli_time(t1, sizeof(t1), st->last_put), st->gets,
	       cli_time(t2, sizeof(t2), st->last_get));
	printf("asleep    %zu in get, %zu in put, %zu in accept\n", st->getters_waiting,
	       st->putters_waiting, st->servers_waiting);
	printf("owner     %s (uid %lu), mode %04o, created by pid %ld\n", cli_user(st->uid),
	       (unsigned long)st->uid, (unsigned)st->mode, (long)st->creator);
	printf("attached  %zu of %zu%s\n", in->nprocs, st->max_procs, in->nprocs ? ":" : "");
	for (i = 0; i < in->nprocs; i++)
		printf("          pid %-7ld %-16s since %s\n", (long)in->procs[i].pid,
		       cli_comm(in->procs[i].pid, comm, sizeof(comm)),
		       cli_time(t1, sizeof(t1), in->procs[i].since));
}

static void json_time(const char *name, time_t t)
{
	if (t == 0)
		printf(",\"%s\":null", name);
	else
		printf(",\"%s\":%lld", name, (long long)t);
}

static void json(const struct info *in)
{
	const struct shmbox_stat *st = &in->st;
	char comm[32];
	size_t i;

	printf("{\"path\":");
	cli_json_string(stdout, in->path);
	printf(",\"proj\":%d,\"key\":\"0x%08x\",\"shmid\":%d,\"semid\":%d", cli_proj,
	       (unsigned)st->key, st->shmid, st->semid);
	printf(",\"slots\":%zu,\"slot_size\":%zu,\"segment_size\":%" PRIu64, st->slots,
	       st->slot_size, in->seg_size);
	printf(",\"queued\":%zu,\"free\":%zu,\"writing\":%zu,\"reading\":%zu", st->queued,
	       st->free, st->writing, st->reading);
	printf(",\"requests\":%zu,\"calls\":%zu,\"reply_slots\":%zu", st->requests, st->calls,
	       st->reply_slots);
	printf(",\"puts\":%" PRIu64 ",\"gets\":%" PRIu64, st->puts, st->gets);
	json_time("last_put", st->last_put);
	json_time("last_get", st->last_get);
	printf(",\"getters_waiting\":%zu,\"putters_waiting\":%zu,\"servers_waiting\":%zu",
	       st->getters_waiting, st->putters_waiting, st->servers_waiting);
	printf(",\"uid\":%lu,\"user\":", (unsigned long)st->uid);
	cli_json_string(stdout, cli_user(st->uid));
	printf(",\"mode\":\"%04o\",\"creator\":%ld", (unsigned)st->mode, (long)st->creator);
	printf(",\"max_procs\":%zu,\"attached\":[", st->max_procs);
	for (i = 0; i < in->nprocs; i++) {
		printf("%s{\"pid\":%ld,\"command\":", i ? "," : "", (long)in->procs[i].pid);
		cli_json_string(stdout, cli_comm(in->procs[i].pid, comm, sizeof(comm)));
		json_time("since", in->procs[i].since);
		putchar('}');
	}
	printf("]}\n");
}

int cli_info(const struct cli_cmd *cmd, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0},
	};
	static struct info in; /* static: see fail.c */
	shmbox_t *box;
	int c, as_json = 0;

	while ((c = cli_getopt(cmd, argc, argv, ":hVp:", longopts)) != -1) {
		if (c != 'j')
			cli_usage(cmd);
		as_json = 1;
	}
	in.path = cli_path(cmd, argc, argv);
	cli_no_more(cmd, argc, argv);
	box = cli_open("info", in.path, SHMBOX_RDONLY);
	gather(box, &in);
	shmbox_close(box);
	if (as_json)
		json(&in);
	else
		text(&in);
	free(in.procs);
	if (fflush(stdout) == EOF)
		err(EX_IOERR, "info %s: standard output", in.path);
	return EX_OK;
}
