/*
 * Small helpers that the shmbox command (src/cli) and the demo programs
 * (demos/) share, so that each exists once: a number's digits for help
 * texts, an option's number, a Ctrl-C that ends a wait instead of killing
 * the program, and the one way they all wait for a mailbox.  Neither the
 * library nor its users need them: shmbox.h does not include this file.
 */
#ifndef SHMBOX_TOOL_H
#define SHMBOX_TOOL_H

#include <poll.h>
#include <signal.h>
#include <sys/types.h>

#include "shmbox.h"

/* A number's digits, for help texts that name a default. */
#define STR_(x) #x
#define STR(x) STR_(x)

/* The number in option -opt's argument arg, min to max (strtonum, from
 * libbsd), or exit with status and "CMD: -opt ARG: WHAT is too large
 * (MIN to MAX)"; cmd may be NULL, for a program without subcommands. */
long long tool_number(int status, const char *cmd, char opt, const char *arg, const char *what,
		      long long min, long long max);

/* Set by SIGINT and SIGTERM once tool_catch_signals was called. */
extern volatile sig_atomic_t tool_interrupted;
/* SIGINT and SIGTERM set tool_interrupted, and end the wait in tool_poll,
 * tool_sleep or tool_wait at once, however they fall: the program ends
 * cleanly (closing its handle, giving the terminal back).  No SA_RESTART,
 * so a read or a waitpid elsewhere returns EINTR too.  Ctrl-Z (SIGTSTP)
 * keeps its default, or ncurses' handler: it stops the process at once,
 * and fg goes on with the wait. */
void tool_catch_signals(void);

/* ppoll(fds, n) for timeout_ms (-1: no limit), with SIGINT and SIGTERM
 * let in only while it sleeps: blocked from the look at tool_interrupted
 * to the sleep, so that one that comes in between ends the sleep instead
 * of waiting for the next event.  Returns what ppoll does: > 0 ready,
 * 0 time up, -1 with errno; EINTR when a handler ran, ours (then
 * tool_interrupted is set, also when it was before the call) or another's
 * (ncurses' SIGWINCH, say).  n may be 0: a sleep that Ctrl-C ends. */
int tool_poll(struct pollfd *fds, nfds_t n, int timeout_ms);

/* Sleep ms milliseconds, or until SIGINT or SIGTERM: 0, or -1 with EINTR. */
int tool_sleep(long long ms);

/* A library call that waits, the way this project waits: op(arg) makes the
 * call on box with timeout 0 (get, peek: SHMBOX_FD_GET; put, reserve:
 * SHMBOX_FD_PUT; accept: SHMBOX_FD_ACCEPT, as `what`).  It is made until
 * it succeeds or fails otherwise than with EAGAIN; after each EAGAIN the
 * process sleeps in one ppoll on the handle's descriptor (shmbox_fd) with
 * SIGINT and SIGTERM let in (tool_poll).  Returns what op returned, or -1
 * with EAGAIN (timeout_ms 0, as the call itself), ETIMEDOUT (timeout_ms
 * passed; -1 waits for ever), EINTR (SIGINT or SIGTERM, now or before:
 * then op is not made at all, nothing is taken or added), or the errno of
 * shmbox_fd (EMFILE: 64 descriptors on the mailbox already).  A stop and
 * continue, or another signal's handler, does not end the wait. */
ssize_t tool_wait(shmbox_t *box, int what, ssize_t (*op)(void *arg), void *arg, int timeout_ms);

#endif /* SHMBOX_TOOL_H */
