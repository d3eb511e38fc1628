/*
 * Small helpers that the shmbox command (src/cli) and the demo programs
 * (demos/) share, so that each exists once: a number's digits for help
 * texts, an option's number, and a Ctrl-C that interrupts a blocked call
 * instead of killing the program.  Neither the library nor its users need
 * them: shmbox.h does not include this file.
 */
#ifndef SHMBOX_TOOL_H
#define SHMBOX_TOOL_H

#include <signal.h>

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
/* SIGINT and SIGTERM set tool_interrupted.  No SA_RESTART: a call blocked
 * in the library returns EINTR, and the program ends cleanly (closing its
 * handle, giving the terminal back).  Calls also return EINTR, with the
 * flag clear, after the process was stopped and continued (Ctrl-Z, fg):
 * Linux ends semtimedop so, handler or not (signal(7)). */
void tool_catch_signals(void);

#endif /* SHMBOX_TOOL_H */
