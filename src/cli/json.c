/*
 * --json, through jansson: one schema per kind of object, built here and
 * nowhere else.  A mailbox object is the same for info and ls; a process
 * object is one of a mailbox's attached processes, a listener object one
 * of the descriptors processes hold on it.  shmbox(1) lists the members.
 */
#include <err.h>
#include <inttypes.h>
#include <jansson.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <wchar.h>

#include "cli.h"

static void set(json_t *o, const char *name, json_t *v)
{
	if (v == NULL || json_object_set_new(o, name, v) == -1)
		errx(EX_OSERR, "out of memory for JSON output");
}

static json_t *count(uint64_t n)
{
	return json_integer(n > INT64_MAX ? INT64_MAX : (json_int_t)n);
}

/* Seconds since the epoch, or null for never. */
static json_t *when(time_t t)
{
	return t == 0 ? json_null() : json_integer((json_int_t)t);
}

/* Bytes of the valid UTF-8 sequence at p (left bytes remain), or 0: the
 * C library's UTF-8 decoder (locale C.UTF-8) says what is valid, whatever
 * the user's locale. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	static locale_t utf8;
	mbstate_t st;
	locale_t was;
	size_t n;

	if (utf8 == (locale_t)0 &&
	    (utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0)) == (locale_t)0)
		err(EX_OSERR, "JSON output: locale C.UTF-8");
	memset(&st, 0, sizeof(st));
	was = uselocale(utf8);
	n = mbrtowc(NULL, (const char *)p, left, &st);
	uselocale(was);
	if (n == (size_t)-1 || n == (size_t)-2)
		return 0;
	return n == 0 ? 1 : n; /* 0: the NUL byte, which ends s anyway */
}

/*
 * Member name: the string s.  A key file's path, a command name and a user
 * name are bytes, but JSON text is Unicode and jansson takes only valid
 * UTF-8.  So each byte that is not part of a valid UTF-8 sequence becomes
 * U+FFFD, which keeps the string readable and valid for every parser, and
 * then, and only then, member name_hex holds the exact bytes, two
 * lowercase hex digits each: lossless, and its presence is the mark.  Not
 * \xHH escapes inside the string (they would need a quoting rule of their
 * own), nor lone surrogates as Python's surrogateescape makes (not valid
 * Unicode: strict parsers such as jq replace them).
 */
static void set_text(json_t *o, const char *name, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i, n, k = 0;
	char *fixed, *bytes, hex_name[64];
	json_t *v = json_string(s);

	if (v != NULL) {
		set(o, name, v);
		return;
	}
	fixed = malloc(3 * len + 1);
	bytes = malloc(2 * len + 1);
	if (fixed == NULL || bytes == NULL)
		err(EX_OSERR, "JSON output");
	for (i = 0; i < len; i += n) {
		n = utf8_len(p + i, len - i);
		if (n > 0) {
			memcpy(fixed + k, p + i, n);
			k += n;
		} else {
			memcpy(fixed + k, "\xef\xbf\xbd", 3); /* U+FFFD */
			k += 3;
			n = 1;
		}
	}
	for (i = 0; i < len; i++) {
		bytes[2 * i] = hex[p[i] >> 4];
		bytes[2 * i + 1] = hex[p[i] & 15];
	}
	bytes[2 * len] = '\0';
	snprintf(hex_name, sizeof(hex_name), "%s_hex", name);
	set(o, name, json_stringn(fixed, k));
	set(o, hex_name, json_string(bytes));
	free(fixed);
	free(bytes);
}

static json_t *process(const struct shmbox_proc *p)
{
	json_t *o = json_object();
	char comm[64];

	if (o == NULL)
		errx(EX_OSERR, "out of memory for JSON output");
	set(o, "pid", json_integer(p->pid));
	set_text(o, "command", cli_comm(p->pid, comm, sizeof(comm)));
	set(o, "since", when(p->since));
	return o;
}

static json_t *listener(const struct shmbox_listener *l)
{
	json_t *o = json_object();

	if (o == NULL)
		errx(EX_OSERR, "out of memory for JSON output");
	set(o, "pid", json_integer(l->pid));
	set(o, "what", json_string(cli_what(l->what)));
	set(o, "armed", json_boolean(l->armed));
	return o;
}

json_t *cli_json_mailbox(const struct cli_mailbox *m)
{
	const struct shmbox_stat *st = &m->st;
	json_t *o = json_object(), *procs, *listeners;
	char key[16], mode[8];
	size_t i;

	if (o == NULL)
		errx(EX_OSERR, "out of memory for JSON output");
	if (m->path != NULL)
		set_text(o, "path", m->path);
	set(o, "proj", json_integer(m->proj));
	snprintf(key, sizeof(key), "0x%08x", (unsigned)st->key);
	set(o, "key", json_string(key));
	set(o, "shmid", json_integer(st->shmid));
	set(o, "semid", st->semid == -1 ? json_null() : json_integer(st->semid));
	set(o, "broken", m->broken != NULL ? json_string(m->broken) : json_null());
	set(o, "segment_size", count(m->seg_size));
	set(o, "uid", json_integer(st->uid));
	set_text(o, "user", cli_user(st->uid));
	snprintf(mode, sizeof(mode), "%04o", (unsigned)st->mode);
	set(o, "mode", json_string(mode));
	set(o, "creator", json_integer(st->creator));
	if (m->broken != NULL)
		return o; /* the rest is in the segment, which the library will not read */
	set(o, "slots", count(st->slots));
	set(o, "slot_size", count(st->slot_size));
	set(o, "max_procs", count(st->max_procs));
	set(o, "queued", count(st->queued));
	set(o, "free", count(st->free));
	set(o, "writing", count(st->writing));
	set(o, "reading", count(st->reading));
	set(o, "requests", count(st->requests));
	set(o, "calls", count(st->calls));
	set(o, "reply_slots", count(st->reply_slots));
	set(o, "puts", count(st->puts));
	set(o, "gets", count(st->gets));
	set(o, "last_put", when(st->last_put));
	set(o, "last_get", when(st->last_get));
	set(o, "getters_waiting", count(st->getters_waiting));
	set(o, "putters_waiting", count(st->putters_waiting));
	set(o, "servers_waiting", count(st->servers_waiting));
	set(o, "attached", count(st->attached));
	if (m->procs == NULL)
		return o;
	procs = json_array();
	set(o, "processes", procs);
	for (i = 0; i < m->nprocs; i++)
		if (json_array_append_new(procs, process(&m->procs[i])) == -1)
			errx(EX_OSERR, "out of memory for JSON output");
	listeners = json_array();
	set(o, "listeners", listeners);
	for (i = 0; i < m->nlisteners; i++)
		if (json_array_append_new(listeners, listener(&m->listeners[i])) == -1)
			errx(EX_OSERR, "out of memory for JSON output");
	return o;
}

void cli_json_print(json_t *j, const char *what)
{
	if (json_dumpf(j, stdout, JSON_COMPACT) == -1 || putchar('\n') == EOF ||
	    fflush(stdout) == EOF)
		err(EX_IOERR, "%s: standard output", what);
}
