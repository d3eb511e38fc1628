/*
 * shmbox bridge: what its files share.  A connecting bridge (bridge_connect.c)
 * takes messages and calls from its mailbox and carries them over one
 * ZeroMQ DEALER socket; a listening bridge (bridge_listen.c) puts them into
 * its own mailbox and makes the calls there.  The frames are in
 * bridge_wire.h; doc/bridge.md has the design and why.
 */
#ifndef SHMBOX_BRIDGE_H
#define SHMBOX_BRIDGE_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "cli.h"

#define BRIDGE_KEY_LEN 40  /* a CURVE key in Z85 */
#define BRIDGE_TICK_MS 250 /* timers: resends, calls whose callers left, stopping */
#define BRIDGE_RTO_MS 1000 /* a batch not acknowledged this long is sent again */
#define BRIDGE_STOP_MS 5000 /* SIGTERM: how long to finish what is in flight */

struct bridge_opts {
	const char *endpoint;
	bool listen; /* --listen, else --connect */
	const char *keys; /* --keys: NULL for none */
	long window;
	int calls;
	bool insecure, stats, daemon;
	const char *path;
};

/* Counted by the main thread only; printed by bridge_stats_print. */
struct bridge_stats {
	uint64_t messages; /* carried: acknowledged (connect), put (listen) */
	uint64_t calls;	   /* answered: replies handed to callers, or sent back */
	uint64_t resent;   /* messages sent again after a lost link or ack */
	uint64_t repeats;  /* messages that came again and were dropped (listen) */
	uint64_t refused;  /* too large for the mailbox, never truncated */
	uint64_t failed;   /* calls that failed: link lost, remote errors */
	uint64_t malformed; /* frames that were not ours, dropped */
};

struct bridge_keys {
	char pub[BRIDGE_KEY_LEN + 1], secret[BRIDGE_KEY_LEN + 1];
	char server[BRIDGE_KEY_LEN + 1]; /* connect: the listener's public key */
};

struct bridge {
	struct bridge_opts o;
	shmbox_t *box;
	size_t slot_size;
	void *ctx; /* the ZeroMQ context */
	bool secure;
	struct bridge_keys keys;
	int sigfd; /* SIGINT, SIGTERM, SIGUSR1 as a descriptor */
	struct bridge_stats st;
	bool stopping;
	int64_t stop_by_ns;
};

int bridge_connect(struct bridge *br);
int bridge_listen(struct bridge *br);

/* bridge_log.c: standard error, or syslog with -d */
void bridge_log_init(bool daemon);
void bridge_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bridge_stats_print(const struct bridge *br);
/* Whether the nth of a kind of event that may come by the thousand is
 * logged: the first ten, then every thousandth. */
bool bridge_log_due(uint64_t n);
/* A frame or connection that was not a bridge's: counted, and logged while due. */
void bridge_malformed(struct bridge *br, const char *what);
int64_t bridge_now_ns(void);
/* Read the pending signals: SIGUSR1 prints the stats, SIGINT and SIGTERM
 * start stopping (a second one stops at once: returns true). */
bool bridge_signals(struct bridge *br);

/* bridge_link.c: sockets, set up the same way on both sides */
void *bridge_socket(struct bridge *br, int type);
/* A PAIR socket that reports sock's events (zmq_socket_monitor). */
void *bridge_monitor(struct bridge *br, void *sock);
/* The next event on mon, or 0 if none is waiting; addr gets its endpoint. */
int bridge_event(void *mon, uint32_t *value, char *addr, size_t n);
/* tcp:// on a loopback address, or ipc:// or inproc://: nothing leaves the host. */
bool bridge_is_local(const char *endpoint);

/* bridge_keys.c: the key pair and the peers' public keys */
int bridge_keys_load(struct bridge *br);
/* A key file: 40 Z85 characters, a newline allowed; 0, or -1 logged.
 * secret: refused if others may read it. */
int bridge_read_key(const char *file, char key[BRIDGE_KEY_LEN + 1], bool secret);
/* each(file, name, arg) for every DIR/peers/NAME.pub; returns how many, or
 * -1 (logged) if the directory cannot be read. */
int bridge_peer_keys(const char *dir, void (*each)(const char *file, const char *name, void *arg),
		     void *arg);
/* bridge_zap.c: the listener's gate: only keys in DIR/peers/ get in.
 * Started before the listener binds; stopped after zmq_ctx_shutdown. */
int bridge_zap_start(struct bridge *br);
void bridge_zap_join(void);

#endif /* SHMBOX_BRIDGE_H */
