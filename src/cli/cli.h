/* The shmbox command: what its subcommands share. */
#ifndef SHMBOX_CLI_H
#define SHMBOX_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/shm.h>
#include <time.h>

#include "shmbox.h"
#include "../../common/tool.h" /* STR, numbers, Ctrl-C, waits: shared with the demos */

#define CLI_PROJ 1	  /* -p default: the same everywhere */
#define CLI_SLOTS 16	  /* create -n default */
#define CLI_SLOT_SIZE 4096 /* create -s default */
#define CLI_WATCH_INTERVAL 250 /* watch -i default, ms */
#define CLI_MAX_LISTENERS (3 * SHMBOX_FD_MAX) /* descriptors on a mailbox at most */

/* One subcommand: its name, its SYNOPSIS line (as in shmbox.1), its job. */
struct cli_cmd {
	const char *name;
	const char *synopsis;
	int (*run)(const struct cli_cmd *cmd, int argc, char **argv);
	const char *help; /* --help: what it does, and its options */
};

int cli_create(const struct cli_cmd *cmd, int argc, char **argv);
int cli_rm(const struct cli_cmd *cmd, int argc, char **argv);
int cli_send(const struct cli_cmd *cmd, int argc, char **argv);
int cli_recv(const struct cli_cmd *cmd, int argc, char **argv);
int cli_call(const struct cli_cmd *cmd, int argc, char **argv);
int cli_serve(const struct cli_cmd *cmd, int argc, char **argv);
int cli_info(const struct cli_cmd *cmd, int argc, char **argv);
int cli_ls(const struct cli_cmd *cmd, int argc, char **argv);
int cli_watch(const struct cli_cmd *cmd, int argc, char **argv);
int cli_bridge(const struct cli_cmd *cmd, int argc, char **argv);
int cli_keygen(const struct cli_cmd *cmd, int argc, char **argv);
#define BRIDGE_WINDOW 1024 /* bridge --window default */
#define BRIDGE_CALLS 16	   /* bridge --calls default */

/* args.c: options every subcommand has, numbers, usage */
#define CLI_COMMON_LONGOPTS                                                                \
	{"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'},            \
	{"proj", required_argument, NULL, 'p'}
/* getopt_long for a subcommand, with --help, --version and -p handled
 * here; returns the other options, -1 at the end. */
int cli_getopt(const struct cli_cmd *cmd, int argc, char **argv, const char *optstring,
	       const struct option *longopts);
extern int cli_proj; /* -p: the ftok project number, CLI_PROJ unless given */
void cli_usage(const struct cli_cmd *cmd) __attribute__((noreturn));
void cli_version(void) __attribute__((noreturn));
long long cli_number(char opt, const char *arg, const char *what, long long min, long long max);
int cli_timeout(char opt, const char *arg);
/* The one PATH operand after the options, or a usage error. */
const char *cli_path(const struct cli_cmd *cmd, int argc, char **argv);
/* A usage error if operands are left. */
void cli_no_more(const struct cli_cmd *cmd, int argc, char **argv);

/* fail.c: errno to sysexits(3), "shmbox: VERB PATH: message"; opening */
int cli_exit_code(int err);
void cli_fail(const char *verb, const char *path) __attribute__((noreturn));
void cli_warn(const char *verb, const char *path);
/* How a recv or serve loop that took n of count (0: no limit) ends. */
int cli_stopped(const char *verb, const char *path, long long n, long long count);
/* shmbox_open_flags, or cli_fail */
shmbox_t *cli_open(const char *verb, const char *path, int flags);
/* The mailbox's geometry (slots, slot size, mode, max_procs), from the
 * handle: no system call */
void cli_getattr(const shmbox_t *box, const char *verb, const char *path, shmbox_attr_t *attr);

/* hints.c: what to do about an error: the kernel setting to raise, the
 * shmbox command that makes or clears what is at the key, the ipcrm
 * command for a segment that is not a mailbox; NULL: nothing to add.
 * verb is the subcommand, "rm -f" for rm with -f. */
const char *cli_hint(int err, const char *verb, const char *path, int proj);

/* SIGINT and SIGTERM end a wait at once (no SA_RESTART): the handler and
 * the one way of waiting that the demos use too, in common/tool.c.  The
 * waits: tool_wait for the mailbox, tool_poll and tool_sleep for watch. */
#define cli_interrupted tool_interrupted
#define cli_catch_signals tool_catch_signals

/* mailbox.c: what info and ls know of one mailbox */
struct cli_mailbox {
	const char *path; /* its key file; NULL in ls (a segment names only its key) */
	int proj;	  /* the ftok project number, from the key */
	/* For a broken one, only key, shmid, semid (-1: none), uid, mode and
	 * creator: the rest is in a segment the library will not read. */
	struct shmbox_stat st;
	uint64_t seg_size;
	const char *broken;	   /* NULL, or what is broken (cli_broken) */
	struct shmbox_proc *procs; /* the attached processes (info), or NULL */
	size_t nprocs;
	/* the descriptors' listeners (info): valid when procs is not NULL */
	struct shmbox_listener listeners[CLI_MAX_LISTENERS];
	size_t nlisteners;
};
/* From an open handle: 0, or -1 with errno. */
int cli_mailbox_read(shmbox_t *box, struct cli_mailbox *m);
/* Add the attached processes and the descriptors' listeners: 0, or -1
 * with errno. */
int cli_mailbox_procs(shmbox_t *box, struct cli_mailbox *m);
/* A leftover at segment shmid (the library's open said EIDRM), from the
 * kernel's view of the segment. */
void cli_mailbox_broken(int shmid, const struct shmid_ds *ds, struct cli_mailbox *m);
/* What is broken in the leftover at key: "semaphore set gone", "marked
 * removed" (its destroyed word set, the set still there). */
const char *cli_broken(key_t key);

/* json.c: --json; one schema per kind of object, as in shmbox(1) */
struct json_t *cli_json_mailbox(const struct cli_mailbox *m);
/* Write j on one line, or exit with EX_IOERR saying "what: standard output". */
void cli_json_print(struct json_t *j, const char *what);

/* format.c: sizes, times, owners, command names, listeners */
const char *cli_size(char *buf, size_t len, uint64_t bytes);
const char *cli_time(char *buf, size_t len, time_t t);
const char *cli_user(uid_t uid);
const char *cli_comm(pid_t pid, char *buf, size_t len);
/* "get", "put" or "accept": what a descriptor (SHMBOX_FD_*) is for. */
const char *cli_what(int what);
/* The listeners counted by what, with how many are armed:
 * "1 for get (1 armed), 0 for put, 2 for accept (1 armed)". */
const char *cli_listening(char *buf, size_t len, const struct shmbox_listener *l, size_t n);

#endif /* SHMBOX_CLI_H */
