/*
 * kvd's store: a fixed-size open-addressing hash table in an anonymous
 * shared mapping made before the workers are forked, so every worker sees
 * the same table.  One process-shared, robust mutex guards it: a worker
 * that dies holding it does not block the others, and the one that gets
 * the lock next (EOWNERDEAD) drops the entry the dead worker was changing,
 * whose bytes may be half written, before it marks the lock consistent.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include "kv.h"
#include "kvd.h"

#define ENTRIES 1024

enum { EMPTY = 0, USED, GONE }; /* GONE: deleted; probing goes past it */

struct entry {
	unsigned char state;
	unsigned char klen;
	uint16_t vlen;
	char key[KV_KEY_MAX];
	char value[KV_VALUE_MAX];
};

struct kv_store {
	pthread_mutex_t lock;
	_Atomic int dirty; /* entry being changed under the lock, or -1 */
	struct entry e[ENTRIES];
};

struct kv_store *kv_store_new(void)
{
	pthread_mutexattr_t ma;
	struct kv_store *s;
	int e;

	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return NULL;
	atomic_init(&s->dirty, -1);
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	e = pthread_mutex_init(&s->lock, &ma);
	pthread_mutexattr_destroy(&ma);
	if (e != 0) {
		munmap(s, sizeof(*s));
		errno = e;
		return NULL;
	}
	return s;
}

void kv_store_free(struct kv_store *s)
{
	pthread_mutex_destroy(&s->lock);
	munmap(s, sizeof(*s));
}

/* The previous holder died: forget what it was in the middle of. */
static void repair(struct kv_store *s)
{
	int i = atomic_load(&s->dirty);

	if (i >= 0 && i < ENTRIES) {
		struct entry *e = &s->e[i];

		e->state = GONE;
		kvd_log(LOG_WARNING, "a worker died changing key \"%.*s\"; the key is dropped",
			e->klen < KV_KEY_MAX ? (int)e->klen : KV_KEY_MAX, e->key);
	}
	atomic_store(&s->dirty, -1);
}

static int lock(struct kv_store *s)
{
	int e = pthread_mutex_lock(&s->lock);

	if (e == EOWNERDEAD) {
		repair(s);
		e = pthread_mutex_consistent(&s->lock);
	}
	if (e != 0) {
		errno = e;
		return -1;
	}
	return 0;
}

static void unlock(struct kv_store *s)
{
	pthread_mutex_unlock(&s->lock);
}

/* Mark entry i as being changed; the fence keeps the change after the mark. */
static void begin_change(struct kv_store *s, size_t i)
{
	atomic_store(&s->dirty, (int)i);
	atomic_thread_fence(memory_order_seq_cst);
}

static void end_change(struct kv_store *s)
{
	atomic_store(&s->dirty, -1);
}

static size_t hash(const char *key, size_t klen)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < klen; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h % ENTRIES;
}

/* Where the key is (found: 1), or where it would go (0; -1 if nowhere). */
static int find(struct kv_store *s, const char *key, size_t klen, size_t *at)
{
	size_t i = hash(key, klen), n;
	bool have_free = false;

	for (n = 0; n < ENTRIES; n++, i = (i + 1) % ENTRIES) {
		struct entry *e = &s->e[i];

		if (e->state == USED && e->klen == klen && memcmp(e->key, key, klen) == 0) {
			*at = i;
			return 1;
		}
		if (e->state != USED && !have_free) {
			*at = i;
			have_free = true;
		}
		if (e->state == EMPTY)
			break;
	}
	return have_free ? 0 : -1;
}

int kv_store_get(struct kv_store *s, const char *key, size_t klen, char *val, size_t *vlen)
{
	size_t i;
	int found;

	if (lock(s) == -1)
		return -1;
	found = find(s, key, klen, &i) == 1;
	if (found) {
		*vlen = s->e[i].vlen;
		memcpy(val, s->e[i].value, *vlen);
	}
	unlock(s);
	return found;
}

int kv_store_set(struct kv_store *s, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct entry *e;
	size_t i;

	if (klen > KV_KEY_MAX || vlen > KV_VALUE_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (lock(s) == -1)
		return -1;
	if (find(s, key, klen, &i) == -1) {
		unlock(s);
		errno = ENOSPC;
		return -1;
	}
	e = &s->e[i];
	begin_change(s, i);
	e->klen = (unsigned char)klen;
	memcpy(e->key, key, klen);
	e->vlen = (uint16_t)vlen;
	memcpy(e->value, val, vlen);
	e->state = USED;
	end_change(s);
	unlock(s);
	return 0;
}

int kv_store_del(struct kv_store *s, const char *key, size_t klen)
{
	size_t i;
	int found;

	if (lock(s) == -1)
		return -1;
	found = find(s, key, klen, &i) == 1;
	if (found) {
		begin_change(s, i);
		s->e[i].state = GONE;
		end_change(s);
	}
	unlock(s);
	return found;
}
