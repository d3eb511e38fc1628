/* What the demo programs share: the default mailbox, its key file, and a
 * Ctrl-C that interrupts a blocked call instead of killing the program. */
#ifndef DEMO_H
#define DEMO_H

#include "shmbox.h"
/* tool_catch_signals and tool_interrupted, shared with the shmbox command */
#include "../common/tool.h"

#define DEMO_PATH "/tmp/shmbox-demo"
#define DEMO_PROJ 1

/* After tool_catch_signals(), SIGINT and SIGTERM set tool_interrupted and
 * blocked calls return EINTR.  They also return EINTR, with the flag
 * clear, after the process was stopped and continued (Ctrl-Z, fg; kill
 * -STOP, -CONT).  Then the demos repeat the call: nothing was taken or
 * added. */
/* Sleep ms milliseconds, or until Ctrl-C (-H: a claim held on purpose). */
void demo_hold(long long ms);
/* Make sure the key file exists (ftok needs a file). */
void demo_touch(const char *path);
/* Exit with "PROG: WHAT PATH: message" for a library error. */
void demo_fail(const char *what, const char *path) __attribute__((noreturn));

#endif
