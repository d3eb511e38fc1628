/*
 * shmbox_fd: a descriptor to poll for one side of a ring, between
 * unrelated processes that share only the key file.  doc/descriptor.md has
 * the design and why no wake-up is lost; test/model checks the protocol.
 *
 * Per descriptor, in this process: a Unix datagram socket bound to an
 * abstract name (nothing in the file system; gone with the process), the
 * watches on processes whose death it must hear of (fdwatch.c), and an
 * epoll instance holding them all: the descriptor the caller polls.  In the segment: the entry that
 * names the socket, and the entry's bit in the side's armed mask.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fd.h"
#include "fdwatch.h"
#include "sem.h"

/* A descriptor's kind: its index in the handle and in the segment's
 * table of listeners. */
enum { FD_GET = 0, FD_PUT = 1, FD_ACCEPT = 2, NFDS = SHMBOX__FD_KINDS };

struct shmbox__listener {
	int ep;		/* the epoll instance the caller polls */
	int sock;	/* rung by datagrams */
	unsigned entry; /* our entry in the segment's table for our kind */
	uint64_t nonce; /* names the socket */
	struct sockaddr_un addr;
	socklen_t addr_len;
	struct shmbox__watch watch; /* every attached process: fdwatch.h */
};

#define NAME_PREFIX "shmbox.fd."

/* The abstract socket name for nonce: "\0shmbox.fd.<16 hex digits>". */
static socklen_t name_for(uint64_t nonce, struct sockaddr_un *a)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = sizeof(NAME_PREFIX) - 1;

	*a = (struct sockaddr_un){.sun_family = AF_UNIX};
	__builtin_memcpy(a->sun_path + 1, NAME_PREFIX, n);
	for (int i = 0; i < 16; i++)
		a->sun_path[1 + n + (size_t)i] = hex[(nonce >> (60 - 4 * i)) & 0xf];
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n + 16);
}

/* The mask listener kind k arms, and its kind from a ring side. */
#define mask_of shmbox__fd_armed
static int kind_of(const struct shmbox__ring *r, bool get)
{
	if (r->messages)
		return get ? FD_GET : FD_PUT;
	return get ? FD_ACCEPT : -1; /* a call waiting for room has no descriptor */
}

static int sender(struct shmbox *b)
{
	int s = atomic_load_explicit(&b->sender, memory_order_acquire), fd, none = 0;

	if (s != 0)
		return s - 1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (!atomic_compare_exchange_strong(&b->sender, &none, fd + 1)) {
		close(fd); /* another thread made one first */
		return none - 1;
	}
	return fd;
}

/* One byte to entry i's socket.  Its word and nonce are untrusted: the
 * worst a forged one does is ring another shmbox descriptor.  EAGAIN (its
 * queue is full: it is rung already) and ECONNREFUSED (its process is
 * gone) need nothing more. */
static void ring_entry(const struct shmbox__header *h, int sock, int k, unsigned i)
{
	const struct shmbox__listen_entry *e = &h->listeners[k][i];
	struct sockaddr_un a;
	uint64_t nonce;
	char one = 1;

	if ((atomic_load_explicit(&e->word, memory_order_acquire) & SHMBOX__L_USED) == 0)
		return;
	nonce = atomic_load_explicit(&e->nonce, memory_order_acquire);
	if (nonce != 0)
		(void)sendto(sock, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
			     (const struct sockaddr *)&a, name_for(nonce, &a));
}

/* Ring first, then clear what we rang, with a CAS on the word we read: a
 * ringer killed in between leaves its listeners armed (rung again by the
 * next change) rather than deaf.  If the CAS fails, someone armed since
 * we read: after our change, so its look after arming sees it, and it
 * needs no ring from us; the bits stay set, and the next change rings
 * whoever they are once more (a ring too many, drained with the first). */
void shmbox__fd_ring(struct shmbox *b, const struct shmbox__ring *r, bool get)
{
	int k = kind_of(r, get), sock;
	_Atomic uint64_t *armed;
	uint64_t w;

	if (k == -1)
		return; /* nobody may listen there; the bits are a corrupt segment's */
	armed = mask_of(b->hdr, k);
	w = atomic_load_explicit(armed, memory_order_seq_cst);
	if (SHMBOX__ARMED_BITS(w) == 0 || (sock = sender(b)) == -1)
		return; /* out of descriptors: they stay armed for the next change */
	for (uint32_t m = SHMBOX__ARMED_BITS(w); m != 0; m &= m - 1)
		ring_entry(b->hdr, sock, k, (unsigned)__builtin_ctz(m));
	atomic_compare_exchange_strong_explicit(armed, &w, w & ~UINT64_C(0xffffffff),
						memory_order_seq_cst, memory_order_relaxed);
}

void shmbox__fd_ring_all(const struct shmbox__header *h, int sock)
{
	int own = -1;

	if (sock == -1) {
		own = sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (sock == -1)
			return;
	}
	for (int k = 0; k < NFDS; k++)
		for (unsigned i = 0; i < SHMBOX__KIND_LISTENERS; i++)
			ring_entry(h, sock, k, i);
	if (own != -1)
		close(own);
}

static void ring_self(struct shmbox__listener *l)
{
	char one = 1;

	(void)sendto(l->sock, &one, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
		     (const struct sockaddr *)&l->addr, l->addr_len);
}

/* Read every ring: many in one system call, which is most of the cost of
 * a wake-up on a virtual machine (bench/README.md). */
static void drain(struct shmbox__listener *l)
{
	enum { AT_ONCE = 16 };
	char buf[AT_ONCE];
	struct iovec iov[AT_ONCE];
	struct mmsghdr m[AT_ONCE];

	for (int i = 0; i < AT_ONCE; i++) {
		iov[i] = (struct iovec){.iov_base = &buf[i], .iov_len = 1};
		m[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
	}
	while (recvmmsg(l->sock, m, AT_ONCE, MSG_DONTWAIT, NULL) == AT_ONCE)
		;
}

/* Set our bit and count an arm (layout.h). */
static void arm(_Atomic uint64_t *armed, unsigned entry)
{
	uint64_t w = atomic_load_explicit(armed, memory_order_relaxed), next;

	do
		next = (SHMBOX__ARMS(w) + 1) << 32 | SHMBOX__ARMED_BITS(w) | UINT32_C(1) << entry;
	while (!atomic_compare_exchange_weak_explicit(armed, &w, next, memory_order_seq_cst,
						      memory_order_relaxed));
}

static struct shmbox__listener *listener_of(struct shmbox *b, const struct shmbox__ring *r,
					    bool get)
{
	int k = kind_of(r, get);

	return k == -1 ? NULL : atomic_load_explicit(&b->fds[k], memory_order_acquire);
}

bool shmbox__fd_arm(struct shmbox *b, const struct shmbox__ring *r, bool get)
{
	struct shmbox__listener *l;

	if (errno != EAGAIN || (l = listener_of(b, r, get)) == NULL)
		return false;
	drain(l);
	arm(mask_of(b->hdr, kind_of(r, get)), l->entry);
	atomic_thread_fence(memory_order_seq_cst);
	/* A destroy that rang us before the drain set the flag first. */
	if (shmbox__destroyed(b)) {
		errno = EIDRM;
		return false;
	}
	if (shmbox__watch_refresh(b, &l->watch)) /* before the look: fdwatch.c */
		ring_self(l);
	return true;
}

void shmbox__fd_watch(struct shmbox *b, const struct shmbox__ring *r, bool get, uint64_t blocker)
{
	struct shmbox__listener *l = listener_of(b, r, get);

	if (l != NULL && shmbox__watch_holder_dead(b, blocker))
		ring_self(l); /* a call now frees its slot */
}

void shmbox__fd_keep_ready(struct shmbox *b, const struct shmbox__ring *r, bool get)
{
	struct shmbox__listener *l = listener_of(b, r, get);

	if (l != NULL)
		ring_self(l);
}

/* Take a free entry of our kind, or one whose owner's token is gone. */
static int claim_entry(struct shmbox *b, int k, int what)
{
	uint64_t mine = SHMBOX__L_USED | (uint64_t)b->me << 8 | (unsigned)what;
	struct shmbox__listen_entry *t = b->hdr->listeners[k];
	unsigned i;

	for (i = 0; i < SHMBOX__KIND_LISTENERS; i++) {
		uint64_t w = 0;

		if (atomic_compare_exchange_strong(&t[i].word, &w, mine))
			return (int)i;
	}
	for (i = 0; i < SHMBOX__KIND_LISTENERS; i++) {
		uint64_t w = atomic_load(&t[i].word);
		unsigned owner = (unsigned)(w >> 8) & 0xffffu;

		if (owner != b->me && shmbox__token_alive(b, owner) == 0 &&
		    atomic_compare_exchange_strong(&t[i].word, &w, mine))
			return (int)i;
	}
	errno = EMFILE;
	return -1;
}

static void release_entry(struct shmbox *b, int k, unsigned i, uint64_t w)
{
	atomic_fetch_and(mask_of(b->hdr, k), ~(UINT64_C(1) << i));
	atomic_store(&b->hdr->listeners[k][i].nonce, 0);
	atomic_compare_exchange_strong(&b->hdr->listeners[k][i].word, &w, 0);
}

static void listener_free(struct shmbox *b, struct shmbox__listener *l, bool owner, int k,
			  int what)
{
	if (owner && l->entry < SHMBOX__KIND_LISTENERS)
		release_entry(b, k, l->entry,
			      SHMBOX__L_USED | (uint64_t)b->me << 8 | (unsigned)what);
	shmbox__watch_close(&l->watch, owner);
	if (l->ep != -1)
		close(l->ep);
	if (l->sock != -1)
		close(l->sock);
	free(l);
}

/* The socket, under a fresh random name (a name in use: draw again). */
static int bind_socket(struct shmbox__listener *l)
{
	uint64_t nonce;

	l->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->sock == -1)
		return -1;
	for (int tries = 0; tries < 8; tries++) {
		if (getrandom(&nonce, sizeof(nonce), 0) != sizeof(nonce))
			return -1;
		if (nonce == 0)
			continue;
		l->addr_len = name_for(nonce, &l->addr);
		if (bind(l->sock, (const struct sockaddr *)&l->addr, l->addr_len) == 0) {
			l->nonce = nonce;
			return 0;
		}
		if (errno != EADDRINUSE)
			return -1;
	}
	return -1;
}

static struct shmbox__listener *listener_new(struct shmbox *b, int k, int what)
{
	struct shmbox__listener *l = calloc(1, sizeof(*l));
	struct epoll_event ev = {.events = EPOLLIN};
	int e, i;

	if (l == NULL)
		return NULL;
	*l = (struct shmbox__listener){.ep = -1, .sock = -1, .entry = SHMBOX__KIND_LISTENERS};
	shmbox__watch_init(&l->watch, -1);
	if (bind_socket(l) == -1 || (l->ep = l->watch.ep = epoll_create1(EPOLL_CLOEXEC)) == -1 ||
	    epoll_ctl(l->ep, EPOLL_CTL_ADD, l->sock, &ev) == -1 || (i = claim_entry(b, k, what)) == -1)
		goto fail;
	l->entry = (unsigned)i;
	atomic_fetch_and(mask_of(b->hdr, k), ~(UINT64_C(1) << i)); /* a dead owner's */
	atomic_store_explicit(&b->hdr->listeners[k][i].nonce, l->nonce, memory_order_release);
	ring_self(l); /* a new descriptor starts readable */
	return l;
fail:
	e = errno;
	listener_free(b, l, true, k, what);
	errno = e;
	return NULL;
}

int shmbox_fd(shmbox_t *b, int what)
{
	struct shmbox__listener *l, *none = NULL;
	int k;

	switch (what) {
	case SHMBOX_FD_GET:
		k = FD_GET;
		break;
	case SHMBOX_FD_PUT:
		k = FD_PUT;
		break;
	case SHMBOX_FD_ACCEPT:
		k = FD_ACCEPT;
		break;
	default:
		errno = EINVAL;
		return -1;
	}
	if (shmbox__check_handle(b, 0) == -1)
		return -1;
	l = atomic_load_explicit(&b->fds[k], memory_order_acquire);
	if (l != NULL)
		return l->ep;
	l = listener_new(b, k, what);
	if (l == NULL)
		return -1;
	if (!atomic_compare_exchange_strong(&b->fds[k], &none, l)) {
		listener_free(b, l, true, k, what); /* another thread made one first */
		l = none;
	}
	return l->ep;
}

void shmbox__fd_revoke_owner(struct shmbox *b, unsigned owner)
{
	for (int k = 0; k < NFDS; k++)
		for (unsigned i = 0; i < SHMBOX__KIND_LISTENERS; i++) {
			uint64_t w = atomic_load(&b->hdr->listeners[k][i].word);

			if ((w & SHMBOX__L_USED) && ((w >> 8) & 0xffffu) == owner)
				release_entry(b, k, i, w);
		}
}

void shmbox__fd_close(struct shmbox *b, bool owner)
{
	int s = atomic_exchange(&b->sender, 0);

	for (int k = 0; k < NFDS; k++) {
		struct shmbox__listener *l = atomic_exchange(&b->fds[k], NULL);

		if (l != NULL)
			listener_free(b, l, owner, k, shmbox__fd_what(k));
	}
	if (s != 0)
		close(s - 1);
}
