/* shmbox-bench: the speed targets of the issue, judged on this run. */
#ifndef BENCH_TARGETS_H
#define BENCH_TARGETS_H

#include "measure.h"

/* The figure of a transport ("pipe") in a figure ("1to1-64"); NULL if it
 * was not run. */
typedef const struct figure *(*fig_lookup)(const char *transport, const char *fig);

/* Print each target whose figures this run has, with met / NOT met.
 * ring_gbps, bare_gbps: the ring-copy and bare-ring references, 0 if not
 * measured (the bare ring is shown against shmbox as a reference only). */
void print_targets(fig_lookup get, double ring_gbps, double bare_gbps);

#endif
