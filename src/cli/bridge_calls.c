/* The listener's pool of threads making calls (bridge_calls.h). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bridge_calls.h"
#include "bridge_wire.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work = PTHREAD_COND_INITIALIZER;
static struct call_job *todo, *todo_tail, *done, *done_tail;
static size_t busy;
static int efd = -1;
static struct bridge *bridge;

static void append(struct call_job **head, struct call_job **tail, struct call_job *j)
{
	j->next = NULL;
	if (*tail != NULL)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

/* The caller's time left now: its timeout less the time the call waited here. */
static int remaining(const struct call_job *j)
{
	int64_t left;

	if (j->timeout_ms < 0)
		return -1;
	left = j->timeout_ms - (bridge_now_ns() - j->came_ns) / 1000000;
	return left > 0 ? (int)left : 0;
}

static void make(struct call_job *j, unsigned char *rep)
{
	int ms = remaining(j);
	ssize_t n = -1;
	int status;

	if (ms == 0)
		errno = ETIMEDOUT;
	else
		n = shmbox_call(bridge->box, j->req, j->len, rep + WIRE_REPLY_HEAD,
				bridge->slot_size, ms);
	status = n >= 0 ? 0 : errno;
	if (n < 0)
		n = 0;
	j->frame_len = WIRE_REPLY_HEAD + (size_t)n;
	if ((j->frame = malloc(j->frame_len)) == NULL)
		return; /* the main thread answers ENOMEM */
	wire_write_call_head(j->frame, WIRE_REPLY, j->id, status);
	memcpy(j->frame + WIRE_REPLY_HEAD, rep + WIRE_REPLY_HEAD, (size_t)n);
}

static void *worker(void *arg)
{
	unsigned char *rep = malloc(WIRE_REPLY_HEAD + bridge->slot_size);
	uint64_t one = 1;

	(void)arg;
	for (;;) {
		struct call_job *j;

		pthread_mutex_lock(&lock);
		while (todo == NULL)
			pthread_cond_wait(&work, &lock);
		j = todo;
		todo = j->next;
		if (todo == NULL)
			todo_tail = NULL;
		pthread_mutex_unlock(&lock);
		j->frame = NULL;
		if (rep != NULL)
			make(j, rep);
		pthread_mutex_lock(&lock);
		append(&done, &done_tail, j);
		pthread_mutex_unlock(&lock);
		if (write(efd, &one, sizeof(one)) == -1) {
			/* the counter cannot overflow at one per call */
		}
	}
	return NULL;
}

int calls_start(struct bridge *br, int n)
{
	pthread_attr_t attr;

	bridge = br;
	if ((efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return -1;
	pthread_attr_init(&attr);
	/* never joined: a call may wait for ever; exit ends them */
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < n; i++) {
		pthread_t t;

		if (pthread_create(&t, &attr, worker, NULL) != 0) {
			pthread_attr_destroy(&attr);
			errno = EAGAIN;
			return -1;
		}
	}
	pthread_attr_destroy(&attr);
	return efd;
}

void calls_submit(struct call_job *job)
{
	pthread_mutex_lock(&lock);
	append(&todo, &todo_tail, job);
	busy++;
	pthread_cond_signal(&work);
	pthread_mutex_unlock(&lock);
}

struct call_job *calls_done(void)
{
	struct call_job *list;
	uint64_t count;

	if (read(efd, &count, sizeof(count)) == -1) {
		/* EAGAIN: nothing new since the last look */
	}
	pthread_mutex_lock(&lock);
	list = done;
	for (struct call_job *j = list; j != NULL; j = j->next)
		busy--;
	done = done_tail = NULL;
	pthread_mutex_unlock(&lock);
	return list;
}

size_t calls_busy(void)
{
	size_t n;

	pthread_mutex_lock(&lock);
	n = busy;
	pthread_mutex_unlock(&lock);
	return n;
}
