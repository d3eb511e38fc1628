/* The shmbox command: what its subcommands share. */
#ifndef SHMBOX_CLI_H
#define SHMBOX_CLI_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "shmbox.h"
#include "../../common/tool.h" /* STR, numbers, Ctrl-C: shared with the demos */

#define CLI_PROJ 1	  /* -p default: the same everywhere */
#define CLI_SLOTS 16	  /* create -n default */
#define CLI_SLOT_SIZE 4096 /* create -s default */
#define CLI_WATCH_INTERVAL 250 /* watch -i default, ms */

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
/* The mailbox's geometry and counts, or cli_fail: a system call per
 * process slot; where the geometry is all that is needed, cli_getattr */
void cli_stat(shmbox_t *box, const char *verb, const char *path, struct shmbox_stat *st);
/* The mailbox's geometry (slots, slot size, mode, max_procs), from the
 * handle: no system call */
void cli_getattr(const shmbox_t *box, const char *verb, const char *path, shmbox_attr_t *attr);

/* hints.c: what to do about an error: the kernel setting to raise, the
 * ipcrm command for what the library cannot remove; NULL: nothing to add */
const char *cli_hint(int err, const char *verb, const char *path, int proj);

/* SIGINT and SIGTERM interrupt a blocked call (no SA_RESTART): the
 * handler the demos use too, in common/tool.c, under the CLI's names */
#define cli_interrupted tool_interrupted
#define cli_catch_signals tool_catch_signals
/* signals.c: op(arg, timeout) until it succeeds, fails otherwise than by
 * timing out, timeout_ms passes, or cli_interrupted (EINTR). */
ssize_t cli_wait(ssize_t (*op)(void *arg, int timeout_ms), void *arg, int timeout_ms);

/* format.c: sizes, times, JSON strings */
const char *cli_size(char *buf, size_t len, uint64_t bytes);
const char *cli_time(char *buf, size_t len, time_t t);
void cli_json_string(FILE *f, const char *s);
const char *cli_user(uid_t uid);
const char *cli_comm(pid_t pid, char *buf, size_t len);

#endif /* SHMBOX_CLI_H */
