/* What the demo programs share: the default mailbox, its key file, and a
 * Ctrl-C that ends a wait instead of killing the program. */
#ifndef DEMO_H
#define DEMO_H

#include "shmbox.h"
/* tool_catch_signals, tool_interrupted and tool_wait, shared with the
 * shmbox command */
#include "../common/tool.h"

#define DEMO_PATH "/tmp/shmbox-demo"
#define DEMO_PROJ 1

/* The demos wait as the shmbox command does: each call with timeout 0,
 * and between tries one ppoll on the mailbox's descriptor (tool_wait).
 * After tool_catch_signals(), SIGINT and SIGTERM set tool_interrupted and
 * end that wait at once with EINTR, nothing taken or added; Ctrl-Z stops
 * the process, and fg goes on waiting. */
/* Sleep ms milliseconds, or until Ctrl-C (-H: a claim held on purpose). */
void demo_hold(long long ms);
/* Make sure the key file exists (ftok needs a file). */
void demo_touch(const char *path);
/* Exit with "PROG: WHAT PATH: message" for a library error. */
void demo_fail(const char *what, const char *path) __attribute__((noreturn));

#endif
