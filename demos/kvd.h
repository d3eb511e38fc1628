/* kvd's parts and what they share: the daemon's settings, the store that
 * every worker sees (kvstore.c), the worker pool (kvpool.c), one worker's
 * loop (kvserve.c), and logging (kvd.c). */
#ifndef KVD_H
#define KVD_H

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>
#include <sys/types.h>

#include "shmbox.h"

struct kv_store;
struct pidfh;

struct kvd {
	char *keyfile;		/* absolute: the daemon runs in / */
	char *pidpath;		/* absolute, likewise */
	unsigned workers;
	bool foreground;
	struct pidfh *pfh;	/* locked pid file */
	int keyfd;		/* locked key file: a kvd serves it */
	struct kv_store *store; /* shared by all workers */
	shmbox_t *box;		/* the daemon's own handle, to remove the mailbox */
};

/* kvd.c: syslog once daemonized, standard error with -f. */
void kvd_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* kvstore.c: a fixed-size hash table in shared memory, made before the
 * workers are forked.  Lookups return 1 found, 0 not found, -1 errno. */
struct kv_store *kv_store_new(void);
void kv_store_free(struct kv_store *s);
int kv_store_get(struct kv_store *s, const char *key, size_t klen, char *val, size_t *vlen);
int kv_store_set(struct kv_store *s, const char *key, size_t klen, const char *val,
		 size_t vlen); /* 0, or -1 with ENOSPC when the table is full */
int kv_store_del(struct kv_store *s, const char *key, size_t klen);

/* kvpool.c: start the workers, restart any that dies, stop them all on
 * SIGTERM, SIGINT or SIGHUP (which the caller has blocked).  Returns the
 * daemon's exit status. */
int kvd_pool_run(struct kvd *d);

/* kvserve.c: one worker process, from fork to exit status. */
int kvd_worker(struct kvd *d, unsigned id, pid_t parent);

#endif /* KVD_H */
