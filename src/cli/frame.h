/* shmbox watch: what one frame shows, and drawing it. */
#ifndef SHMBOX_CLI_FRAME_H
#define SHMBOX_CLI_FRAME_H

#include "cli.h"

struct frame {
	const char *path;
	struct shmbox_stat st;
	unsigned char *states; /* one SHMBOX_SLOT_* per slot */
	size_t nslots;
	uint64_t head, tail;	   /* ring positions: next get, next put */
	struct shmbox_proc *procs; /* attached processes */
	size_t nprocs;
	double put_rate, get_rate; /* per second */
	bool rates;		   /* false: not measured yet */
	int interval_ms;
	int cols, lines; /* terminal size; lines 0: no limit */
	bool colour;	 /* SGR colours */
	bool live;	 /* refreshing, not --once */
};

void cli_draw(FILE *f, const struct frame *fr);

#endif /* SHMBOX_CLI_FRAME_H */
