/* What the demo programs share: the default mailbox, its key file, and a
 * Ctrl-C that interrupts a blocked call instead of killing the program. */
#ifndef DEMO_H
#define DEMO_H

#include <signal.h>

#include "shmbox.h"

#define DEMO_PATH "/tmp/shmbox-demo"
#define DEMO_PROJ 1

extern volatile sig_atomic_t demo_interrupted;

/* SIGINT and SIGTERM set demo_interrupted; blocked calls return EINTR.
 * They also return EINTR, with the flag clear, after the process was
 * stopped and continued (Ctrl-Z, fg; kill -STOP, -CONT): Linux ends
 * semtimedop so, handler or not (signal(7)).  Then the call is repeated:
 * nothing was taken or added. */
void demo_catch_signals(void);
/* Sleep ms milliseconds, or until Ctrl-C (-H: a claim held on purpose). */
void demo_hold(long long ms);
/* Make sure the key file exists (ftok needs a file). */
void demo_touch(const char *path);
/* Exit with "PROG: WHAT PATH: message" for a library error. */
void demo_fail(const char *what, const char *path) __attribute__((noreturn));

#endif
