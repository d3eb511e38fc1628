/* The key-value protocol that kvd serves and kvctl speaks: where the
 * mailbox is, how big things may be, and what requests and replies look
 * like.  Each request is one shmbox_call:
 *
 *   "S KEY VALUE"   set      reply "+"        (or "!message")
 *   "G KEY"         get      reply "+VALUE"   or "-" (not found)
 *   "D KEY"         delete   reply "+"        or "-" (not found)
 *
 * A reply is a status byte, then its text: '+' ok/found, '-' not found,
 * '!' error (the text says why).  VALUE is any bytes, spaces included. */
#ifndef KV_H
#define KV_H

#include <stdbool.h>
#include <stddef.h>

#define KV_KEYFILE "/tmp/shmbox-kv"
#define KV_PROJ 1 /* as the other demos, and the shmbox command's default */
#define KV_SLOTS 64
#define KV_SLOT_SIZE 1024 /* largest request and reply */
#define KV_MAX_PROCS 128  /* daemon, workers and clients attached at once */

#define KV_KEY_MAX 64
#define KV_VALUE_MAX 512

#define KV_SET 'S'
#define KV_GET 'G'
#define KV_DEL 'D'

#define KV_OK '+'
#define KV_NOT_FOUND '-'
#define KV_ERROR '!'

/* A key is 1 to KV_KEY_MAX bytes, none of them a space or control
 * character, so that it ends where the value begins. */
static inline bool kv_key_ok(const char *key, size_t len)
{
	size_t i;

	if (len == 0 || len > KV_KEY_MAX)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)key[i] <= ' ' || key[i] == 0x7f)
			return false;
	return true;
}

#endif /* KV_H */
