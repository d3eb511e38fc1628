/*
 * The listener's gate (ZeroMQ's ZAP, RFC 27): with CURVE and no handler,
 * ZeroMQ lets every key in, so a thread answers each handshake's question
 * "may this key in?" from the keys in DIR/peers/, read once at start.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "bridge.h"

#define ZAP_FRAMES 7 /* version, request id, domain, address, identity, mechanism, key */
#define MAX_PEERS 1024

struct peer_key {
	unsigned char raw[32];
	char name[256]; /* the file's name: the user id on each message */
};

static struct peer_key *peers;
static size_t npeers;
static pthread_t thread;
static void *rep;
static const char *keydir;

static void add_peer(const char *file, const char *name, void *arg)
{
	char key[BRIDGE_KEY_LEN + 1];

	(void)arg;
	if (npeers == MAX_PEERS || bridge_read_key(file, key, false) == -1)
		return; /* logged; the others still count */
	zmq_z85_decode(peers[npeers].raw, key);
	snprintf(peers[npeers].name, sizeof(peers[npeers].name), "%s", name);
	npeers++;
}

static int load_peers(const char *dir)
{
	keydir = dir;
	if ((peers = calloc(MAX_PEERS, sizeof(*peers))) == NULL ||
	    bridge_peer_keys(dir, add_peer, NULL) == -1)
		return -1;
	if (npeers == 0)
		bridge_log(LOG_WARNING, "%s/peers: no keys (NAME.pub): no connecting bridge can "
					"get in", dir);
	return 0;
}

static const struct peer_key *known(const unsigned char *raw)
{
	for (size_t i = 0; i < npeers; i++)
		if (memcmp(peers[i].raw, raw, 32) == 0)
			return &peers[i];
	return NULL;
}

/* One request, whole; false when the context ends. */
static bool answer(void)
{
	zmq_msg_t f[ZAP_FRAMES];
	int n = 0, more = 1;
	const struct peer_key *who = NULL;
	char z85[BRIDGE_KEY_LEN + 1] = "?", addr[64] = "?";
	const char *code = "400", *text = "malformed request";

	while (more) {
		zmq_msg_t m;

		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, rep, 0) == -1) {
			zmq_msg_close(&m);
			for (int i = 0; i < n; i++)
				zmq_msg_close(&f[i]);
			return zmq_errno() != ETERM;
		}
		more = zmq_msg_more(&m);
		if (n < ZAP_FRAMES) {
			zmq_msg_init(&f[n]);
			zmq_msg_move(&f[n++], &m);
		}
		zmq_msg_close(&m);
	}
	if (n == ZAP_FRAMES && zmq_msg_size(&f[6]) == 32) {
		const unsigned char *raw = zmq_msg_data(&f[6]);

		zmq_z85_encode(z85, raw, 32);
		snprintf(addr, sizeof(addr), "%.*s", (int)zmq_msg_size(&f[3]),
			 (const char *)zmq_msg_data(&f[3]));
		who = known(raw);
		code = who != NULL ? "200" : "400";
		text = who != NULL ? "OK" : "key not in peers/";
	}
	if (who == NULL)
		bridge_log(LOG_WARNING, "refused a connection from %s: key %s is not in %s/peers/",
			   addr, z85, keydir);
	zmq_send(rep, "1.0", 3, ZMQ_SNDMORE);
	if (n >= 2)
		zmq_send(rep, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
	else
		zmq_send(rep, "", 0, ZMQ_SNDMORE);
	zmq_send(rep, code, 3, ZMQ_SNDMORE);
	zmq_send(rep, text, strlen(text), ZMQ_SNDMORE);
	zmq_send(rep, who != NULL ? who->name : "", who != NULL ? strlen(who->name) : 0,
		 ZMQ_SNDMORE);
	zmq_send(rep, "", 0, 0);
	for (int i = 0; i < n; i++)
		zmq_msg_close(&f[i]);
	return true;
}

static void *run(void *arg)
{
	(void)arg;
	while (answer())
		;
	zmq_close(rep);
	return NULL;
}

int bridge_zap_start(struct bridge *br)
{
	int linger = 0;

	if (load_peers(br->o.keys) == -1)
		return -1;
	if ((rep = zmq_socket(br->ctx, ZMQ_REP)) == NULL ||
	    zmq_setsockopt(rep, ZMQ_LINGER, &linger, sizeof(linger)) == -1 ||
	    zmq_bind(rep, "inproc://zeromq.zap.01") == -1) {
		bridge_log(LOG_ERR, "the key check: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	if (pthread_create(&thread, NULL, run, NULL) != 0) {
		bridge_log(LOG_ERR, "the key check: cannot start its thread");
		return -1;
	}
	return 0;
}

void bridge_zap_join(void)
{
	if (rep != NULL)
		pthread_join(thread, NULL);
	free(peers);
}
