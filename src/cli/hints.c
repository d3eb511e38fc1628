/*
 * What to do about an error, beyond what shmbox_strerror says: which
 * kernel setting is exhausted, which shmbox command makes or clears what
 * is (or is not) at the key, and the ipcrm command for a segment that is
 * not a mailbox, which shmbox never removes.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

#define SHMMAX "/proc/sys/kernel/shmmax"
#define SHMALL "/proc/sys/kernel/shmall"
#define SHMMNI "/proc/sys/kernel/shmmni"
#define SEM "/proc/sys/kernel/sem"

static char hint[512];

/* The first n numbers of a /proc file; how many were read. */
static int read_numbers(const char *path, unsigned long long *v, int n)
{
	FILE *f = fopen(path, "r");
	int k = 0;

	if (f == NULL)
		return 0;
	while (k < n && fscanf(f, "%llu", &v[k]) == 1)
		k++;
	fclose(f);
	return k;
}

/* Rows of a /proc/sysvipc table, and the sum of its 4th column (segment
 * size in shm, semaphores in sem). */
static unsigned long long table(const char *path, unsigned long long *sum)
{
	char line[512];
	unsigned long long rows = 0, a, b, size;
	FILE *f = fopen(path, "r");
	long long key;

	*sum = 0;
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lld %llu %llo %llu", &key, &a, &b, &size) != 4)
			continue; /* the heading */
		*sum += size;
		rows++;
	}
	fclose(f);
	return rows;
}

static void add(const char *fmt, unsigned long long a, unsigned long long b)
{
	size_t len = strlen(hint);

	snprintf(hint + len, sizeof(hint) - len, fmt, len == 0 ? "" : ", ", a, b);
}

/* Segments and sets are counted: a full count is certain.  Pages and
 * semaphores depend on the size of what was being made, which we do not
 * know, so with no count full we show how much of each is in use. */
static const char *no_space(void)
{
	unsigned long long sem[4], lim, bytes, sems, nseg, nsets;
	long page = sysconf(_SC_PAGESIZE);
	int have_sem = read_numbers(SEM, sem, 4) == 4;

	hint[0] = '\0';
	nseg = table("/proc/sysvipc/shm", &bytes);
	nsets = table("/proc/sysvipc/sem", &sems);
	if (read_numbers(SHMMNI, &lim, 1) == 1 && nseg >= lim)
		add("%s" SHMMNI " is full (%llu of %llu segments)", nseg, lim);
	if (have_sem && nsets >= sem[3])
		add("%sSEMMNI is full (%llu of %llu semaphore sets)", nsets, sem[3]);
	if (hint[0] != '\0')
		return hint;
	if (read_numbers(SHMALL, &lim, 1) == 1 && page > 0)
		add("%sin use: %llu of " SHMALL "'s %llu pages", bytes / (unsigned long long)page,
		    lim);
	if (have_sem)
		add("%s%llu of SEMMNS's %llu semaphores", sems, sem[1]);
	return hint[0] != '\0' ? hint : NULL;
}

static const char *limit(const char *fmt, const char *path, int field)
{
	unsigned long long v[4];

	if (read_numbers(path, v, field + 1) != field + 1)
		return NULL;
	snprintf(hint, sizeof(hint), fmt, v[field]);
	return hint;
}

/* " -p N" when the project is not the default, for the commands we suggest */
static const char *proj_opt(int proj)
{
	static char opt[16];

	if (proj == CLI_PROJ)
		return "";
	snprintf(opt, sizeof(opt), " -p %d", proj);
	return opt;
}

/* A semaphore set alone at the key: its mailbox's segment was removed
 * (ipcrm -m, or a process killed while removing it). */
static const char *lone_set(key_t key, const char *path, int proj)
{
	if (key == -1 || shmget(key, 0, 0) != -1 || errno != ENOENT || semget(key, 0, 0) == -1)
		return NULL;
	snprintf(hint, sizeof(hint),
		 "only a semaphore set is at the key, without its segment; remove it with: "
		 "shmbox rm -f%s %s",
		 proj_opt(proj), path);
	return hint;
}

/* The library said EIDRM: a mailbox removed as we used it (nothing is at
 * the key any more), or a broken leftover it will not open. */
static const char *leftover(key_t key, const char *path, int proj)
{
	if (key == -1 || shmget(key, 0, 0) == -1)
		return NULL;
	snprintf(hint, sizeof(hint),
		 "it is a broken leftover (%s); remove it with: shmbox rm -f%s %s",
		 cli_broken(key), proj_opt(proj), path);
	return hint;
}

/* EPROTO: a segment at the key that the library will not use.  rm -f
 * removes one that was a mailbox (half made by a process that died,
 * damaged, or of another layout) and refuses anything else. */
static const char *foreign(key_t key, const char *verb, const char *path, int proj)
{
	if (key == -1)
		return NULL;
	if (strcmp(verb, "rm -f") != 0) {
		snprintf(hint, sizeof(hint),
			 "if it is a mailbox that cannot be used (half made by a process that "
			 "died, damaged, or of another version): shmbox rm -f%s %s",
			 proj_opt(proj), path);
		return hint;
	}
	snprintf(hint, sizeof(hint),
		 "rm -f leaves what is not a mailbox alone; if nothing else uses key 0x%08x: "
		 "ipcrm -M 0x%08x -S 0x%08x",
		 (unsigned)key, (unsigned)key, (unsigned)key);
	return hint;
}

/* create said EEXIST: a mailbox, or something rm -f would clear? */
static const char *exists(key_t key, const char *path, int proj)
{
	shmbox_t *box;

	if (key == -1)
		return NULL;
	if (shmget(key, 0, 0) == -1)
		return lone_set(key, path, proj);
	if (shmbox_open_flags(path, proj, SHMBOX_RDONLY, &box) == 0) {
		shmbox_close(box);
		return NULL; /* a mailbox: that is all there is to say */
	}
	return cli_hint(errno, "create", path, proj);
}

/* Could we make a file at path: is its directory there, and ours to
 * write in? */
static bool can_make(const char *path)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return true; /* cannot tell: say nothing about it */
	return access(dirname(dir), W_OK | X_OK) == 0;
}

/* ENOENT: which is missing, the key file or the mailbox at it; suggest
 * `shmbox create` only where it can work. */
static const char *missing(key_t key, const char *verb, const char *path, int proj)
{
	struct stat st;
	bool there;

	if (path == NULL)
		return NULL;
	if (lone_set(key, path, proj) != NULL)
		return hint;
	if (strncmp(verb, "rm", 2) == 0 || strcmp(verb, "create") == 0)
		return NULL;
	there = stat(path, &st) == 0;
	if ((there && S_ISDIR(st.st_mode)) || (*path != '\0' && path[strlen(path) - 1] == '/'))
		return "a key file is a file, not a directory";
	if (!there && !can_make(path))
		return "there is no such file, and none can be made there (no such directory, "
		       "or no permission)";
	snprintf(hint, sizeof(hint), "%s; make one with: shmbox create%s %s",
		 there ? "no mailbox at this file yet" : "there is no such file", proj_opt(proj),
		 path);
	return hint;
}

const char *cli_hint(int err, const char *verb, const char *path, int proj)
{
	key_t key = path != NULL ? ftok(path, proj) : -1;

	switch (err) {
	case ENOSPC: return no_space();
	case EFBIG: return limit(SHMMAX " is %llu bytes now", SHMMAX, 0);
	case ERANGE: return limit("SEMMSL is %llu now", SEM, 0);
	/* key is -1 without a path: these say nothing then */
	case EEXIST: return strcmp(verb, "create") == 0 ? exists(key, path, proj) : NULL;
	case EIDRM: return leftover(key, path, proj);
	case EPROTO: return foreign(key, verb, path, proj);
	case ESTALE:
		if (strcmp(verb, "rm") == 0)
			return "rm -f removes it anyway";
		snprintf(hint, sizeof(hint),
			 "if nobody uses it any more: shmbox rm -f%s %s, then create it again",
			 proj_opt(proj), path != NULL ? path : "PATH");
		return hint;
	case ENOENT: return missing(key, verb, path, proj);
	case ETIMEDOUT:
		if (strcmp(verb, "call") != 0)
			return NULL;
		snprintf(hint, sizeof(hint),
			 "no reply in time: is a server accepting calls (shmbox serve%s %s)?",
			 proj_opt(proj), path != NULL ? path : "PATH");
		return hint;
	case ENOMEM:
		return strcmp(verb, "create") == 0
			       ? "not enough memory for a mailbox that large: use fewer or smaller "
				 "slots (-n, -s)"
			       : NULL;
	default: return NULL;
	}
}
