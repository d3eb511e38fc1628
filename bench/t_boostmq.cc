/*
 * Boost.Interprocess message_queue: a queue in POSIX shared memory
 * (/dev/shm) behind a process-shared mutex and condition variables, so no
 * kernel limit binds it: it gets the pipe's and shmbox's memory,
 * pipe-max-size bytes and at least 64 messages.  The parent creates it
 * under a unique name; each child opens it by name (open_only).
 *
 * The rest of the bench is C: no exception leaves this file.
 */
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include <unistd.h>

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/permissions.hpp>
#include <boost/version.hpp>

extern "C" {
#include "bench.h"
}

namespace bip = boost::interprocess;

struct chan {
	bip::message_queue *mq; /* a child's own handle, opened in attach */
	char name[64];
};

/* In a catch block: -1 and errno for the exception (the system's own where
 * Boost kept it); its text after `what` in err if err is not NULL. */
static int failed(char *err, size_t len, const char *what, const char *name)
{
	const char *text = "unknown exception";

	errno = EIO;
	try {
		throw;
	} catch (const bip::interprocess_exception &e) {
		if (e.get_native_error() > 0)
			errno = e.get_native_error();
		text = e.what();
	} catch (const std::exception &e) {
		text = e.what();
	} catch (...) {
	}
	if (err != NULL)
		snprintf(err, len, "message_queue(%s, %s): %s", what, name, text);
	return -1;
}

/* No exception: the destructor does not throw, remove() says by its result. */
static void bmq_destroy(struct chan *c)
{
	delete c->mq; /* NULL in the parent, which never attaches */
	if (!bip::message_queue::remove(c->name))
		fprintf(stderr, "shmbox-bench: message_queue::remove(%s): %s\n", c->name,
			strerror(errno));
	delete c;
}

static struct chan *bmq_create(size_t msg_size, char *msg, size_t len)
{
	static unsigned counter;
	struct chan *c = new (std::nothrow) chan();
	size_t depth = queue_depth(msg_size);

	if (c == NULL) {
		snprintf(msg, len, "new: %s", strerror(ENOMEM));
		return NULL;
	}
	snprintf(c->name, sizeof(c->name), "shmbox-bench-boost.%ld.%u", (long)getpid(),
		 counter++);
	try {
		/* made, then let go: the children open it by name */
		bip::message_queue q(bip::create_only, c->name, depth, msg_size,
				     bip::permissions(0600));
	} catch (...) {
		failed(msg, len, "create_only", c->name);
		bip::message_queue::remove(c->name); /* a half-made one has the name too */
		delete c;
		return NULL;
	}
	snprintf(msg, len,
		 "boost::interprocess::message_queue (Boost %d.%d) in /dev/shm: max_num_msg %zu "
		 "(pipe-max-size bytes, at least 64), max_msg_size = message size; the parent "
		 "creates it, each child opens it by name (open_only); blocking send/receive, "
		 "priority 0",
		 BOOST_VERSION / 100000, BOOST_VERSION / 100 % 1000, depth);
	return c;
}

static int bmq_attach(struct chan *c, unsigned role, char *err, size_t len)
{
	(void)role;
	try {
		c->mq = new bip::message_queue(bip::open_only, c->name);
	} catch (...) {
		return failed(err, len, "open_only", c->name);
	}
	return 0;
}

static int bmq_send(struct chan *c, void *msg, size_t len)
{
	try {
		c->mq->send(msg, len, 0);
	} catch (...) {
		return failed(NULL, 0, NULL, NULL);
	}
	return 0;
}

static ssize_t bmq_recv(struct chan *c, void *buf, size_t size)
{
	bip::message_queue::size_type got = 0;
	unsigned prio = 0;

	try {
		c->mq->receive(buf, size, got, prio);
	} catch (...) {
		return failed(NULL, 0, NULL, NULL);
	}
	return (ssize_t)got;
}

extern "C" const struct transport t_boostmq = {
	.name = "boost-mq",
	.max_msg = NULL,
	.no_multi = NULL,
	.create = bmq_create,
	.attach = bmq_attach,
	.send = bmq_send,
	.recv = bmq_recv,
	.peek = NULL,
	.release = NULL,
	.destroy = bmq_destroy,
	.rpc_how = NULL,
	.rpc_per_client = false,
	.call = NULL,
	.accept = NULL,
	.reply = NULL,
	.echo = NULL,
	.detach = NULL,
	.helpers = NULL,
	.not_built = NULL,
	.unavailable = NULL,
};
