/*
 * shmbox.pml -- a Promela model of shmbox's put/get slot protocol: the
 * slot ring's state machine (put_claim, get_claim, wait_turn,
 * shmbox__publish, shmbox__release, shmbox__ring_put, shmbox__ring_get)
 * and its dead-holder transitions (revoke_if_dead, revoke), in src/ring.c
 * (src/recover.c calls it for a token taken over); sleeping and waking (shmbox__sleep, unannounce,
 * shmbox__wake) and the tokens held with SEM_UNDO, in src/sem.c.
 * README.md in this directory says what is modelled, what is abstracted
 * away and why, and how to run it (check-model.sh).  The comments name C
 * functions, not line numbers, so that they survive the code moving.
 *
 * Granularity.  Every process is one loop of steps; each step (one option
 * of the loop, a d_step) performs exactly one access to shared memory or one
 * semaphore operation -- a load, a store, a compare-and-swap, semop,
 * semctl(GETVAL) -- together with the purely local computation that follows
 * it in the C code.  `pc` is the process's program counter; every step is
 * annotated with the C function and operation it models.  The payload is
 * two cells written (memcpy in shmbox__ring_put) and read
 * (shmbox__ring_get) one after the other, and `slen` stands for the slot
 * header fields (len, pid, seq) stored after the payload (shmbox__publish);
 * the get reads len before it claims (get_claim).  A copy that mixes two
 * messages shows as cells that differ.  Zero copy (src/zerocopy.c) is the
 * same protocol cut in two.
 *
 * The pollable descriptor (POLLER, PUTPOLLER; doc/descriptor.md, src/fd.c,
 * src/fdwatch.c).  With POLLER, consumer 1 is not a blocking getter but a
 * caller of poll(2) on the descriptor of shmbox_fd(SHMBOX_FD_GET): it
 * polls, then gets with timeout 0, again and again until a get fails with
 * EAGAIN (it may also poll between two gets that succeed, as a caller that
 * handles one message per wake-up does), then polls again.  With
 * PUTPOLLER, producer 1 does the same with shmbox_fd(SHMBOX_FD_PUT) and
 * puts; the ring then starts full (PREFILL messages), and the consumers,
 * blocking getters, may die at any step.  The descriptor is modelled as
 * `sock`, the datagrams queued on its socket S, and `wall`, the processes
 * whose pidfds it holds (W); poll returns when S holds a datagram or one
 * of those has died.
 * A call with timeout 0 is the call above with a deadline that has passed
 * already: no spin and no sleep, but revoke_if_dead still frees a dead
 * holder's claim.  Where it would fail with EAGAIN, the listener's path
 * (`listening` in src/ring.c) drains S and arms (shmbox__fd_arm; `armed`
 * is the listener's bit in the ring's armed_get or armed_put), brings its
 * watches up to date (shmbox__watch_refresh: when the header's count of
 * attaches, `joins`, moved or a watched process died, it reads every token
 * and holds a pidfd of each other process alive), and looks once more,
 * with get_claim or put_claim alone; if that look succeeds it rings S
 * itself (shmbox__fd_keep_ready), else, if the claim in the way belongs to
 * a process dead already, it rings S itself (shmbox__fd_watch).  A changer
 * rings the listeners that are armed (shmbox__fd_ring): it loads armed,
 * sends a datagram if the bit is set, then clears the bit with a CAS on
 * the word it loaded, which fails, and leaves the bit set, if the listener
 * armed again meanwhile (the word counts arms).  A publish, and a revoke of
 * a dead put's WRITING (getters then skip the slot), ring the get side
 * after their wakes; a release, a revoke of a dead get's READING, and a
 * get freeing a dead put's DEAD, the put side.  A process that attaches
 * counts itself in joins, then rings (attach_token, src/segment.c): with
 * LATE, producer 2 (POLLER) or consumer 2 (PUTPOLLER) attaches after the
 * start.  That the descriptor goes quiet is checked by a search for cycles
 * (check-model.sh's `np` runs): the model has no progress labels, so any
 * run that goes on for ever is an error.
 *
 * Processes.  Producer 1 puts P1MSGS messages and producer 2 P2MSGS, one
 * after the other (the second put starts when the first has returned).
 * Consumer 1 gets until every published message has been taken (the ghost
 * condition ALLDONE; the C consumer would simply keep calling get).
 * Consumer 2 (NCONS=2) makes at most C2GETS gets, may stop between two, and
 * may give up in the middle of one (its deadline passed, wait_turn).  The
 * killer picks at most one process to die (DEATHS); the victim dies at its
 * next step, wherever it is -- between any two steps, asleep included --
 * and its token drops to 0 in the same step (the kernel's SEM_UNDO).
 *
 * Knobs (spin -DNAME=value):
 *   P1MSGS, P2MSGS  messages put by producer 1 and 2 (P2MSGS=0: no
 *                   producer 2); at most 4 in all (default 2 and 1)
 *   NCONS      1 or 2 consumers (default 2)
 *   C2GETS     gets consumer 2 makes at most (default 2)
 *   DEATHS     who may die (at most one of them does), a bit mask:
 *              1 producer 1, 2 producer 2, 4 consumer 2, 8 consumer 1
 *              (default 7); 0: nobody dies
 *   TIMEOUTS   how the time slice of semtimedop (sleep_span, shmbox__sleep)
 *              is modelled:
 *              0: a slice never ends -- P blocks until someone posts.  With
 *                 no deaths, a sleeper that is never woken is then an
 *                 invalid end state: a lost wakeup is a deadlock.
 *              1: slices end only when no process can take a step; then
 *                 the clock process ends every sleeper's slice at once and
 *                 asserts that the previous round of looks did something
 *                 (!livelock): survivors must finish.
 *              2: a slice may end at any moment (default; safety runs).
 *   SPIN_LIMIT looks before the first sleep (the adaptive budget of
 *              shmbox__spinner, 32 to 1024 in C; a spin is just one more
 *              look; default 0)
 *   NO_BATON_PUT, NO_BATON_GET  leave out one side of the baton (a
 *              completed put also wakes a putter, a completed get a getter;
 *              BROKEN_NO_BATON leaves out both).
 *   POLLER     consumer 1 polls a descriptor (see above); NCONS=2 keeps
 *              consumer 2 a blocking getter
 *   PUTPOLLER  producer 1 polls the put side's descriptor (see above);
 *              P2MSGS must be 0; PREFILL (default 2) messages are queued at
 *              the start; C1GETS (default 1) and C2GETS bound the gets of
 *              the consumers, each of which may also stop between two
 *   LATE       (POLLER, PUTPOLLER) producer 2 (POLLER) or consumer 2
 *              (PUTPOLLER) attaches after the start
 *   NO_PID_REUSE  (POLLER, PUTPOLLER) a pidfd that the refresh opens for a
 *              process gone since its look at the tokens fires (else it
 *              never does: the pid may be another process's by then)
 *   CHECK_WAITERS  assert that getters_waiting / putters_waiting never
 *              count more processes than are in the sleep protocol; spin
 *              finds that they can: the drift that the comment on
 *              sleeping and waking describes (use with DEATHS=0).
 *
 * Deliberately broken variants, each of which check-model.sh requires spin
 * to reject:
 *   BROKEN_PUBLISH_BEFORE_COPY  put publishes FULL before it copies
 *   BROKEN_WAKE_BEFORE_PUBLISH  put looks at getters_waiting before it
 *                               publishes (the waker's order reversed)
 *   BROKEN_RECOVER_NO_TOKEN     recovery frees a READING slot without
 *                               looking at the reader's token
 *   BROKEN_NO_RECHECK           a sleeper does not look at its slot again
 *                               after announcing itself
 *   BROKEN_NO_RECOVERY          nobody ever revokes a dead holder's claim
 *                               (shows that the livelock check can fail)
 *   BROKEN_NO_BATON             one wake per publish or release, no baton:
 *                               the code before commit d8502ba
 * and of the descriptor (POLLER, PUTPOLLER):
 *   BROKEN_ARM_AFTER_CHECK      the listener looks once more, then arms
 *   BROKEN_NO_SELF_RING         no ring of S after the look that found work
 *   BROKEN_NO_DRAIN             S is never drained: the descriptor
 *                               never goes quiet (a non-progress cycle)
 *   BROKEN_ARM_NO_COUNT         the armed word counts no arms: a ringer's
 *                               CAS may clear an arm it did not ring
 *   BROKEN_RING_XCHG            a ringer clears the bit by exchange, then
 *                               sends (the design before commit dede292)
 *   BROKEN_NO_WATCH             no pidfds: no process watched
 *   BROKEN_NO_WATCH_ALL         the holder of the claim in the way watched
 *                               alone (the design before commit 5e58c07,
 *                               without its ring before publish's CAS; on
 *                               the put side, before fc607dd)
 *   BROKEN_WATCH_AFTER_LOOK     the watches brought up to date after the
 *                               look, nothing after it (commit fc607dd)
 *   BROKEN_NO_HOLDER_CHECK      no look at the token of the holder of the
 *                               claim in the way after the look
 *   BROKEN_KEEP_WATCH           a dead process's pidfd is kept: readable
 *                               for ever (a non-progress cycle)
 *   BROKEN_ATTACH_NO_RING       a process that attaches counts itself in
 *                               joins but does not ring (with LATE)
 */

#ifndef P1MSGS
#define P1MSGS 2		/* messages put by producer 1 */
#endif
#ifndef P2MSGS
#define P2MSGS 1		/* messages put by producer 2; 0: no producer 2 */
#endif
#ifndef NCONS
#define NCONS 2
#endif
#ifndef DEATHS
#define DEATHS 7
#endif
#ifndef TIMEOUTS
#define TIMEOUTS 2
#endif
#ifndef C2GETS
#define C2GETS 2		/* consumer 2 makes at most this many gets */
#endif
#ifndef SPIN_LIMIT
#define SPIN_LIMIT 0
#endif

#if defined(POLLER) && defined(PUTPOLLER)
#error "POLLER and PUTPOLLER: one listener at a time"
#endif
#if defined(POLLER) || defined(PUTPOLLER)
#define LISTENER
#endif
#ifdef PUTPOLLER
#ifndef PREFILL
#define PREFILL 2		/* messages queued before anyone runs */
#endif
#ifndef C1GETS
#define C1GETS 1		/* consumer 1 makes at most this many gets */
#endif
#if P2MSGS > 0
#error "PUTPOLLER: producer 1 is the only producer (P2MSGS=0)"
#endif
#if defined(LATE) && NCONS < 2
#error "LATE: consumer 2 is the late attacher (NCONS=2)"
#endif
#define LATECOMER C2
#else
#define PREFILL 0
#if defined(LATE) && defined(POLLER)
#if P2MSGS == 0
#error "LATE: producer 2 is the late attacher (P2MSGS > 0)"
#endif
#define LATECOMER 2
#endif
#endif

#define NSLOTS 2
#if P2MSGS > 0
#define NPROD 2
#else
#define NPROD 1
#endif
#define NMSG (P1MSGS + P2MSGS + PREFILL)	/* at most 4 */
#define NPROC (NPROD + NCONS)
#define C1 3			/* the consumer that stays */
#define C2 4			/* the consumer that may leave or die */
/* Positions: one per successful put claim (NMSG) and one for the claim a
 * dying producer may leave behind: 5.  MAXPOS keeps every lap below 4, so a
 * state word fits in a byte; the model asserts the bound. */
#define MAXPOS 8

/* layout.h: enum shmbox__state */
#define FREE 1
#define WRITING 2
#define FULL 3
#define READING 4
#define DEAD 5

/* layout.h: shmbox__word(lap, owner, state), one word so that one CAS
 * changes all three.  Owner 0 means none (FREE, FULL, DEAD). */
#define W(l, o, s) ((l) * 64 + (o) * 8 + (s))
#define LAP(x) ((x) / 64)
#define OWN(x) (((x) / 8) % 8)
#define ST(x) ((x) % 8)
#define SLOT(p) ((p) % NSLOTS)
#define PLAP(p) ((p) / NSLOTS)	/* the lap of position p: put_claim */

/* ---------------- shared memory: the segment ---------------- */
byte word[NSLOTS];	/* shmbox__slot.word */
byte d0[NSLOTS];	/* payload, first half */
byte d1[NSLOTS];	/* payload, second half */
byte slen[NSLOTS];	/* shmbox__slot.len (and pid, seq) */
byte tail, head;	/* shmbox__ring_hdr.tail, .head */
byte gw, pw;		/* .getters_waiting, .putters_waiting */

/* ---------------- kernel objects: the semaphore set ---------------- */
byte gsem, psem;	/* SHMBOX__SEM_GETTERS, SHMBOX__SEM_PUTTERS */
bit token[5];      	/* SHMBOX__SEM_TOKENS + i: 1 while i lives */

#ifdef LISTENER
/* ---------------- the descriptor (src/fd.c) ---------------- */
bit armed;	/* segment: the listener's bit in the ring's armed_get
		   (POLLER) or armed_put (PUTPOLLER) */
/* Kernel: datagrams queued on the listener's socket S.  Poll sees only
 * "some" or "none" and a drain takes them all, so one is as good as any
 * number: a send to a socket that holds one already is the C code's
 * EAGAIN ("rung already") and changes nothing. */
bit sock;
#define SEND() sock = 1	/* sendto(S, MSG_DONTWAIT) */
/* The armed word is the listener's bit and a count of arms, so that a
 * ringer's CAS on the word it loaded fails if the listener armed again, or
 * another ringer cleared the bit, since its load.  stale[i]: process i's
 * loaded word is not the word any more (1 while i is not ringing). */
bit stale[5];
#ifdef BROKEN_ARM_NO_COUNT
#define ARMED_AGAIN skip	/* broken: the word does not change */
#else
#define ARMED_AGAIN STALE_ALL()
#endif
#define STALE_ALL() stale[1] = 1; stale[2] = 1; stale[3] = 1; stale[4] = 1
/* W, the watches (src/fdwatch.c, shmbox__watch_refresh).  Segment: the
 * header's count of attaches, and each process's pid in the proc table
 * (haspid: stored).  The listener's own (one process, so global here):
 * wall[i], its pidfd of process i (opened while i lived: readable once i
 * is gone); wj, the count when it last brought them up to date; wmade,
 * whether it ever did; lj and ts, what that loaded (joins, and the tokens
 * of semctl(GETALL) as a bit mask). */
byte joins;
bit haspid[5];
bit wall[5];
byte wj, lj, ts;
bit wmade;
#define GONE(i) (wall[i] && !token[i])
#ifdef BROKEN_NO_WATCH_ALL
/* broken: W is one pidfd, of the holder of the claim in the way; 0: none
 * (or one opened too late: see the step L_WATCH) */
byte watch;
#define FIRED (watch != 0 && !token[watch])
#else
#define FIRED (GONE(1) || GONE(2) || GONE(3) || GONE(4))
#endif
/* watch_token for token i, by the listener (me); see the step A_OPEN */
#define ALIVE_THEN(i) (i != me && (ts & (1 << i)) != 0 && haspid[i])
#if defined(NO_PID_REUSE)
#define OPEN(i) wall[i] = ALIVE_THEN(i)
#elif defined(BROKEN_KEEP_WATCH)
#define OPEN(i) wall[i] = (wall[i] || (ALIVE_THEN(i) && token[i]))
#else
#define OPEN(i) wall[i] = (ALIVE_THEN(i) && (wall[i] || token[i]))
#endif
#endif

/* ---------------- ghost state: for the properties only ---------------- */
byte kill;		/* the process chosen to die, 0: none */
bit dead[5];
byte nended;		/* processes that finished, left or died */
byte prods_done;	/* producers that finished or died */
bit published[5]; /* its WRITING -> FULL CAS succeeded */
bit claimed[5];	/* a get moved it FULL -> READING */
bit recvd[5];	/* a get released it, i.e. returned it */
bit lostdead[5];	/* claimed by a get that died before releasing it */
byte slotid[NSLOTS];	/* the message last published into the slot */

/* One flag per property; each is asserted false in the step that sets it,
 * so that pan's error message names the property. */
bit torn;	/* (1) a get returned a copy that is not one whole message */
bit dup;	/* (2) a get returned a message returned before */
bit order;	/* (4) a consumer got one producer's messages out of order */
bit lost;	/* (3) a live get's claim was revoked: its message is dropped */
bit overwrite;	/* (3) a put claimed a slot whose message nobody claimed */
bit skipped;	/* (3) head moved past a message nobody claimed */
bit hole;	/* (5) tail moved past a slot no put claimed */
bit missing;	/* (3) at the end, a published message was neither returned
		   nor claimed by a consumer that died holding it */
bit corrupt;	/* a claim returned EPROTO on a sound ring */

/* A message was claimed, or not (yet) published. */
#define ACC(i) ((i) > NMSG || !published[i] || claimed[i])
#define ALLCLAIMED (ACC(1) && ACC(2) && ACC(3) && ACC(4))
#define ALLDONE (prods_done == NPROD && ALLCLAIMED)

#ifdef CHECK_WAITERS
/* ghost: processes between announcing themselves and leaving the sleep,
 * per side; the counters may count more (the comment on sleeping and
 * waking: "the counter may drift above the true number of sleepers") */
byte gin, pin;
bit phantom;
#define IN(d) if :: isput -> pin = pin + (d) :: else -> gin = gin + (d) fi
#define CHECKW() phantom = (gw > gin || pw > pin); assert(!phantom)
#else
#define IN(d) skip
#define CHECKW() skip
#endif

/* ghost: the clock of TIMEOUTS == 1 */
bit epoch;		/* flips at each tick */

#if TIMEOUTS == 0
#define SLICE_OVER false
#elif TIMEOUTS == 1
#define SLICE_OVER (slept != epoch)	/* a tick since we went to sleep */
#else
#define SLICE_OVER true
#endif

#if defined(BROKEN_RECOVER_NO_TOKEN)
#define HOLDER_GONE(x) (ST(x) == READING || !token[OWN(x)])
#elif defined(BROKEN_NO_RECOVERY)
#define HOLDER_GONE(x) false
#else
#define HOLDER_GONE(x) (!token[OWN(x)])
#endif

/* ---------------- program counters ---------------- */
/* put: shmbox__ring_put, shmbox__put_wait, put_claim, shmbox__publish
 * (src/ring.c).  Each step names the C function and operation it models. */
#define P_NEXT 1	/* between two puts */
#define P_WORD 2	/* put_claim: load the slot word */
#define P_TAIL 3	/* put_claim: load tail */
#define P_CLAIM 4	/* put_claim: CAS FREE(L) -> WRITING(L, me) */
#define P_ADVANCE 5	/* put_claim: CAS tail pos -> pos+1, look again */
#define P_ADVANCE_MINE 6 /* put_claim: CAS tail pos -> pos+1, claimed */
#define P_FREEDEAD 7	/* put_claim: CAS DEAD(L-1) -> FREE(L) */
#define P_MOVED 8	/* put_claim, moved_on: load tail */
#define P_COPY0 9	/* shmbox__ring_put: memcpy, first half */
#define P_COPY1 10	/* shmbox__ring_put: memcpy, second half */
#define P_CHECK 11	/* shmbox__publish: load the word: still our claim? */
#define P_LEN 12	/* shmbox__publish: len, pid, seq, reply, gen */
#define P_PUBLISH 13	/* shmbox__publish: CAS WRITING(L, me) -> FULL(L) */
#define P_EARLY 14	/* BROKEN_WAKE_BEFORE_PUBLISH only */
/* get: shmbox__ring_get, shmbox__get_wait, get_claim, shmbox__release
 * (src/ring.c) */
#define G_NEXT 20	/* between two gets */
#define G_HEAD 21	/* get_claim: load head */
#define G_WORD 22	/* get_claim: load the slot word */
#define G_LEN 23	/* get_claim: load len */
#define G_CLAIM 24	/* get_claim: CAS FULL(L) -> READING(L, me) */
#define G_ADVANCE 25	/* get_claim: CAS head pos -> pos+1, again */
#define G_ADVANCE_MINE 26 /* get_claim: CAS head pos -> pos+1, claimed */
#define G_FREEDEAD 27	/* get_claim: CAS DEAD(L) -> FREE(L+1) */
#define G_MOVED 28	/* get_claim, moved_on: load head */
#define G_COPY0 29	/* shmbox__ring_get: memcpy, first half */
#define G_COPY1 30	/* shmbox__ring_get: memcpy, second half */
#define G_RELEASE 31	/* shmbox__release: CAS READING(L, me) -> FREE(L+1) */
/* waiting: wait_turn (src/ring.c), revoke_if_dead and revoke (recovery),
 * shmbox__sleep, unannounce and shmbox__wake (sleep and wake) */
#define W_TOKEN 40	/* revoke_if_dead: the holder's token, semctl(GETVAL) */
#define W_REVOKE 41	/* revoke: CAS the claim away */
#define W_ANNOUNCE 42	/* shmbox__sleep: fetch_add(waiting, 1) */
#define W_RECHECK 43	/* shmbox__sleep: load the slot word again */
#define W_SLEEP 44	/* shmbox__sleep: semtimedop(-1) */
#define W_UNANNOUNCE 45	/* unannounce: take ourselves off the counter */
#define W_TAKEBACK 48	/* unannounce: semop(-1, IPC_NOWAIT) */
#define K_WAKE 46	/* shmbox__wake: fence; take a sleeper off */
#define K_POST 47	/* shmbox__wake_one: semop(+1) */
#define X_END 50	/* the process returns from its last call */
/* the poller (POLLER, PUTPOLLER): poll(2); listening (src/ring.c),
 * shmbox__fd_arm, shmbox__fd_watch, shmbox__fd_keep_ready (src/fd.c); the
 * changer's ring, shmbox__fd_ring_if_armed, shmbox__fd_ring_after and
 * shmbox__fd_ring; W, shmbox__watch_refresh (src/fdwatch.c); a process
 * that attaches late, attach_token (src/segment.c) */
#define L_POLL 60	/* poll: wait until S or W is readable */
#define L_DRAIN 61	/* fd_arm: drain S */
#define L_ARM 62	/* fd_arm: arm: fetch_or(armed), fence */
#define L_WATCH 63	/* BROKEN_NO_WATCH_ALL: watch the holder alone */
#define L_CHECK 64	/* fd_watch: the holder's token, semctl(GETVAL) */
#define L_SELF 65	/* fd_keep_ready: ring S ourselves */
#define R_LOAD 66	/* fd_ring_if_armed, fd_ring: (fence,) load armed */
#define R_SEND 67	/* ring_entry: sendto(S, MSG_DONTWAIT) */
#define R_CAS 68	/* fd_ring: CAS armed: clear the bits rung */
#define R_XCHG 69	/* BROKEN_RING_XCHG: m = exchange(armed, 0) */
#define G_BATON 32	/* shmbox__release: the baton (PUTPOLLER: after the ring) */
#define A_TAKE 70	/* attach_token: shmbox__token_take, semop(+1, SEM_UNDO) */
#define A_PID 71	/* attach_token: store our pid in the proc table */
#define A_JOIN 72	/* attach_token: fetch_add(joins) */
#define A_JOINS 73	/* watch_refresh: load joins */
#define A_POLLALL 74	/* watch_refresh: poll(all, 0): a watched one gone? */
#define A_TOKENS 75	/* watch_refresh: shmbox__sem_values, semctl(GETALL) */
#define A_OPEN 76	/* watch_refresh: per token, load the pid, pidfd_open */

/* A consumer asleep with nothing left to get stops (ghost): otherwise its
 * endless idle wait would keep the clock ticking and read as a livelock. */
#define IDLE (!isput && ALLDONE)

#define GETTERS 0
#define PUTTERS 1

/* The baton (shmbox__publish, shmbox__release): after its own wake, a
 * completed put also wakes a putter (BATON_PUT), a completed get also wakes
 * a getter (BATON_GET).  BROKEN_NO_BATON is the code before commit d8502ba. */
#if defined(BROKEN_NO_BATON) || defined(NO_BATON_PUT)
#define BATON_PUT false
#else
#define BATON_PUT true
#endif
#if defined(BROKEN_NO_BATON) || defined(NO_BATON_GET)
#define BATON_GET false
#else
#define BATON_GET true
#endif

/* Where a blocked claim looks again: the start of put_claim or get_claim. */
#define RETRY (isput -> P_TAIL : G_HEAD)

/* Where wait_turn goes when revoke_if_dead has found nothing to do: to
 * sleep; for the poller, whose deadline (timeout 0) has passed, to EAGAIN,
 * that is, to the listener's path (listening): drain, arm, bring W up to
 * date, then one more get_claim or put_claim (fdstep = 1); if that one is
 * blocked too, the look at the holder's token. */
#ifdef LISTENER
#ifdef POLLER
#define POLLING (me == C1)
#else
#define POLLING (me == 1)	/* PUTPOLLER: producer 1 */
#endif
#define RETRIED (POLLING && fdstep)
#define NOT_NOW L_DRAIN
#define SLEEP_OR_EAGAIN (POLLING -> NOT_NOW : W_ANNOUNCE)
#else
#define POLLING false
#define RETRIED false
#define SLEEP_OR_EAGAIN W_ANNOUNCE
#endif
#define INFLIGHT(x) (ST(x) == WRITING || ST(x) == READING)

/* The listener's path, step by step: where each part goes on.  Drain,
 * arm, W (A_JOINS ...), look (LOOK); blocked again: the holder's token
 * (L_CHECK), if a claim is in flight, then EAGAIN (L_POLL).  The broken
 * variants change the order. */
#define LOOK() fdstep = 1; cpos = 0; cw = 0; pc = RETRY
#define HOLDER_OR(next)							\
	if								\
	:: INFLIGHT(cw) -> pc = L_CHECK					\
	:: else -> cpos = 0; cw = 0; pc = next				\
	fi
#if defined(BROKEN_ARM_AFTER_CHECK)
#define DRAIN_DONE() cpos = 0; cw = 0; pc = A_JOINS
#define ARM_DONE() HOLDER_OR(L_POLL)
#define BLOCKED_AGAIN() pc = L_ARM
#define CHECK_DONE L_POLL
#define REFRESH_DONE() LOOK()
#elif defined(BROKEN_WATCH_AFTER_LOOK)
/* as shmbox__watch did before 9480b8f: W, then the holder's token */
#define DRAIN_DONE() pc = L_ARM
#define ARM_DONE() LOOK()
#define BLOCKED_AGAIN() pc = A_JOINS
#define CHECK_DONE L_POLL
#define REFRESH_DONE() HOLDER_OR(L_POLL)
#elif defined(BROKEN_NO_WATCH_ALL)
#define DRAIN_DONE() pc = L_ARM
#define ARM_DONE() LOOK()
#define BLOCKED_AGAIN() pc = L_WATCH
#define CHECK_DONE L_POLL
#elif defined(BROKEN_NO_WATCH)
#define DRAIN_DONE() pc = L_ARM
#define ARM_DONE() LOOK()
#define BLOCKED_AGAIN() HOLDER_OR(L_POLL)
#define CHECK_DONE L_POLL
#elif defined(BROKEN_NO_HOLDER_CHECK)
#define DRAIN_DONE() pc = L_ARM
#define ARM_DONE() cpos = 0; cw = 0; pc = A_JOINS
#define BLOCKED_AGAIN() cpos = 0; cw = 0; pc = L_POLL
#define CHECK_DONE L_POLL	/* never used */
#define REFRESH_DONE() LOOK()
#else
#define DRAIN_DONE() pc = L_ARM
#define ARM_DONE() cpos = 0; cw = 0; pc = A_JOINS
#define BLOCKED_AGAIN() HOLDER_OR(L_POLL)
#define CHECK_DONE L_POLL
#define REFRESH_DONE() LOOK()
#endif

/* shmbox__put_wait / shmbox__get_wait: the claim returned BLOCKED with
 * cw, the word that stopped us, at cpos; wait_turn starts (listening:
 * after the look that follows the arm, the look at the holder's token
 * does).  Local. */
#define BLOCK()								\
	cpos = pos; cw = w;						\
	if /* shmbox__spin_again: no spin with timeout 0 */		\
	:: RETRIED -> BLOCKED_AGAIN() /* listening: blocked again */	\
	:: !POLLING && spins < SPIN_LIMIT -> spins++; pc = RETRY /* spin */ \
	:: else ->							\
		if /* revoke_if_dead: in_flight(w)? */			\
		:: INFLIGHT(cw) -> pc = W_TOKEN				\
		:: else -> pc = SLEEP_OR_EAGAIN /* deadline passed? */ \
		fi							\
	fi

/* Call shmbox__wake on side S (GETTERS or PUTTERS), then go on at R. */
#define WAKE(S, R) wsel = S; ret = R; pc = K_WAKE

/* The wakes that a completed put makes (shmbox__publish: getters, then the
 * baton).  With the poller, the ring of the get side's listeners comes
 * after them, then the put returns; revoke's ring comes after its wake. */
#ifdef POLLER
#define WAKE_RING(S, R) rret = R; WAKE(S, R_LOAD)
#define AFTER_PUBLISH (ret == R_LOAD && rret == P_NEXT)
#else
#define WAKE_RING(S, R) WAKE(S, R)
#define AFTER_PUBLISH (ret == P_NEXT)
#endif
/* The same for the put side's listener (PUTPOLLER): a release, a revoke of
 * a READING claim, a dead put's DEAD freed by a get. */
#ifdef PUTPOLLER
#define WAKE_RING_PUT(S, R) rret = R; WAKE(S, R_LOAD)
#else
#define WAKE_RING_PUT(S, R) WAKE(S, R)
#endif
#ifdef LISTENER
#define RING_DONE() pc = rret; rret = 0; stale[me] = 1
#endif

/* PUTPOLLER, ghost: a put with timeout 0 would succeed now.  Only the
 * poller puts, so when it polls tail is exact; its slot is FREE, or held
 * in the last lap by a claim that the put frees (revoke_if_dead), or DEAD */
#define TW word[SLOT(tail)]
#define CAN_PUT ((LAP(TW) == PLAP(tail) && ST(TW) == FREE) || \
		 (LAP(TW) + 1 == PLAP(tail) && \
		  (ST(TW) == DEAD || ((ST(TW) == WRITING || ST(TW) == READING) && \
				      !token[OWN(TW)]))))

proctype agent(byte me; bit isput)
{
	byte pc, k, id;		/* k: puts (consumer 2: gets) begun; id: the
				   message being put */
	byte pos, w;		/* what the claim loop loaded */
	byte cpos, cw;		/* struct claim: position, word */
	byte spins;		/* shmbox__spinner.spins (put_wait, get_wait) */
	byte r0, r1, rl;	/* what the get copied */
	byte wsel, ret;		/* shmbox__wake's arguments and return */
	bit post;		/* BROKEN_WAKE_BEFORE_PUBLISH only */
	bit slept;		/* TIMEOUTS == 1: the epoch we went to sleep in */
#ifdef LISTENER
	byte rret;		/* where to go on after a ring */
	bit fdstep;		/* in listening: armed in this call */
#endif

#if defined(LATE)
	pc = (me == LATECOMER -> A_TAKE : (isput -> P_NEXT : G_NEXT));
#elif defined(POLLER)
	pc = (isput -> P_NEXT : (POLLING -> L_POLL : G_NEXT));
#else
	pc = (isput -> P_NEXT : G_NEXT);
#endif
	{
	do
	/* ================= put ================= */
	:: d_step { /* shmbox_put: next message; put_claim: load tail */
		pc == P_NEXT &&
		((me == 1 && k < P1MSGS) || (me == 2 && k < P2MSGS));
		id = (me - 1) * P1MSGS + k + 1; k++; spins = 0;
#ifdef PUTPOLLER
		fdstep = 0;
#endif
		pos = tail; assert(pos < MAXPOS); pc = P_WORD
	   }
#ifdef PUTPOLLER
	/* the poller may poll between two puts that succeeded */
	:: pc == P_NEXT && POLLING && k < P1MSGS -> pc = L_POLL
#endif
	:: pc == P_NEXT &&
	   !((me == 1 && k < P1MSGS) || (me == 2 && k < P2MSGS)) ->
		pc = X_END; break
	:: d_step { /* put_claim: load tail */
		pc == P_TAIL;
		pos = tail; assert(pos < MAXPOS); pc = P_WORD
	   }
	:: d_step { /* put_claim: load the slot word; switch */
		pc == P_WORD;
		w = word[SLOT(pos)];
		if
		:: LAP(w) == PLAP(pos) && ST(w) == FREE -> pc = P_CLAIM
		:: LAP(w) == PLAP(pos) && ST(w) >= WRITING && ST(w) <= DEAD ->
			pc = P_ADVANCE /* claimed already; tail lags */
		:: LAP(w) == PLAP(pos) + 1 -> pc = P_ADVANCE
		:: LAP(w) + 1 == PLAP(pos) && ST(w) == DEAD ->
			pc = P_FREEDEAD
		:: LAP(w) + 1 == PLAP(pos) && ST(w) >= WRITING && ST(w) <= READING ->
			BLOCK() /* the ring is full here */
		:: LAP(w) > PLAP(pos) + 1 -> pc = P_MOVED
		:: else -> corrupt = 1
		fi;
		assert(!corrupt)
	   }
	:: d_step { /* put_claim: claim: CAS FREE(L) -> WRITING(L, me) */
		pc == P_CLAIM;
		if
		:: word[SLOT(pos)] == w ->
			word[SLOT(pos)] = W(PLAP(pos), me, WRITING);
			overwrite = (slotid[SLOT(pos)] != 0 &&
				     !claimed[slotid[SLOT(pos)]]);
			assert(!overwrite);
			cpos = pos; cw = W(PLAP(pos), me, WRITING);
			pc = P_ADVANCE_MINE
		:: else -> pc = P_TAIL /* continue */
		fi;
		w = 0
	   }
	:: d_step { /* put_claim: CAS tail pos -> pos+1 */
		pc == P_ADVANCE || pc == P_ADVANCE_MINE;
		if
		:: tail == pos ->
			tail = pos + 1;
			/* ghost: tail passes only a slot claimed in this lap */
			hole = !(LAP(word[SLOT(pos)]) > PLAP(pos) ||
				 (LAP(word[SLOT(pos)]) == PLAP(pos) &&
				  ST(word[SLOT(pos)]) != FREE));
			assert(!hole)
		:: else -> skip
		fi;
		if
		:: pc == P_ADVANCE -> pc = P_TAIL /* continue */
#ifdef BROKEN_PUBLISH_BEFORE_COPY
		:: else -> pc = P_CHECK /* broken: publish first */
#elif defined(PUTPOLLER)
		/* return CLAIMED; listening: armed in this call? */
		:: else -> pc = (fdstep -> L_SELF : P_COPY0)
#else
		:: else -> pc = P_COPY0 /* return CLAIMED; shmbox__ring_put copies */
#endif
		fi;
		pos = 0; w = 0
	   }
	:: d_step { /* put_claim: CAS DEAD(L-1) -> FREE(L); no wake */
		pc == P_FREEDEAD;
		if
		:: word[SLOT(pos)] == w -> word[SLOT(pos)] = W(PLAP(pos), 0, FREE)
		:: else -> skip
		fi;
		pos = 0; w = 0; pc = P_TAIL /* continue */
	   }
	:: d_step { /* put_claim, moved_on: load tail */
		pc == P_MOVED;
		corrupt = (tail == pos);
		assert(!corrupt);
		pos = 0; w = 0; pc = P_TAIL /* continue */
	   }
	/* shmbox__ring_put: memcpy, in two halves */
	:: d_step { pc == P_COPY0; d0[SLOT(cpos)] = id; pc = P_COPY1 }
	:: d_step {
		pc == P_COPY1;
		d1[SLOT(cpos)] = id;
#ifdef BROKEN_PUBLISH_BEFORE_COPY
		WAKE(GETTERS, P_NEXT)
#else
		pc = P_CHECK /* shmbox__publish */
#endif
	   }
	:: d_step { /* shmbox__publish: is the claim still ours? */
		pc == P_CHECK;
		if
		:: word[SLOT(cpos)] == cw -> pc = P_LEN
		:: else -> /* return false; shmbox__ring_put puts it again */
			cpos = 0; cw = 0; spins = 0; pc = P_TAIL
		fi
	   }
	:: d_step { /* shmbox__publish: len, pid, seq, reply, gen */
		pc == P_LEN;
		slen[SLOT(cpos)] = id;
#if defined(BROKEN_WAKE_BEFORE_PUBLISH)
		pc = P_EARLY
#else
		pc = P_PUBLISH
#endif
	   }
#ifdef BROKEN_WAKE_BEFORE_PUBLISH
	:: d_step { /* broken: shmbox__wake's look at the counter, too early */
		pc == P_EARLY;
		if
		:: gw > 0 -> gw--; post = 1
		:: else -> post = 0
		fi;
		pc = P_PUBLISH
	   }
#endif
	:: d_step { /* shmbox__publish: CAS WRITING(L, me) -> FULL(L) */
		pc == P_PUBLISH;
		if
		:: word[SLOT(cpos)] == cw ->
			word[SLOT(cpos)] = W(LAP(cw), 0, FULL);
			published[id] = 1; slotid[SLOT(cpos)] = id;
#ifdef PUTPOLLER
			id = 0; /* none pending: the poller's poll knows */
#endif
#if defined(BROKEN_PUBLISH_BEFORE_COPY)
			pc = P_COPY0
#elif defined(BROKEN_WAKE_BEFORE_PUBLISH)
			cpos = 0; cw = 0;
			if
			:: post -> post = 0; wsel = GETTERS; ret = P_NEXT; pc = K_POST
			:: else -> pc = P_NEXT
			fi
#else
			cpos = 0; cw = 0;
			/* wake getters, then the baton; ring the listeners */
			WAKE_RING(GETTERS, P_NEXT)
#endif
		:: else -> /* return false; shmbox__ring_put puts it again */
			cpos = 0; cw = 0; spins = 0; pc = P_TAIL
		fi
	   }

	/* ================= get ================= */
	:: d_step { /* shmbox_get: next message; get_claim: load head */
#ifdef PUTPOLLER
		pc == G_NEXT && !ALLDONE && k < (me == C1 -> C1GETS : C2GETS);
		k++; spins = 0;
#else
		pc == G_NEXT && !ALLDONE && (me == C1 || k < C2GETS);
		k = k + (me == C2); spins = 0;
#endif
#ifdef POLLER
		fdstep = 0;
#endif
		pos = head; assert(pos < MAXPOS); pc = G_WORD
	   }
	:: pc == G_NEXT && ALLDONE -> pc = X_END; break /* ghost: all taken */
#ifdef POLLER
	/* the poller may poll between two gets that succeeded */
	:: pc == G_NEXT && POLLING && !ALLDONE -> pc = L_POLL
#endif
#if NCONS >= 2
	:: pc == G_NEXT && me == C2 -> pc = X_END; break /* enough for me */
#endif
#ifdef PUTPOLLER
	:: pc == G_NEXT && me == C1 -> pc = X_END; break /* enough for me */
#endif
	:: d_step { /* get_claim: load head */
		pc == G_HEAD;
		pos = head; assert(pos < MAXPOS); pc = G_WORD
	   }
	:: d_step { /* get_claim: load the slot word; switch */
		pc == G_WORD;
		w = word[SLOT(pos)];
		if
		:: LAP(w) == PLAP(pos) && ST(w) == FULL -> pc = G_LEN
		:: LAP(w) == PLAP(pos) && ST(w) == DEAD -> pc = G_FREEDEAD
		:: LAP(w) == PLAP(pos) && ST(w) == READING ->
			pc = G_ADVANCE /* taken; head lags */
		:: LAP(w) == PLAP(pos) && (ST(w) == FREE || ST(w) == WRITING) ->
			BLOCK() /* empty, or still being written */
		:: LAP(w) == PLAP(pos) + 1 -> pc = G_ADVANCE
		:: LAP(w) + 1 == PLAP(pos) && ST(w) == READING ->
			BLOCK() /* last lap's reader still copying */
		:: LAP(w) > PLAP(pos) + 1 -> pc = G_MOVED
		:: else -> corrupt = 1
		fi;
		assert(!corrupt)
	   }
	:: d_step { pc == G_LEN; rl = slen[SLOT(pos)]; pc = G_CLAIM }
	:: d_step { /* get_claim: claim: CAS FULL(L) -> READING(L, me) */
		pc == G_CLAIM;
		if
		:: word[SLOT(pos)] == w ->
			word[SLOT(pos)] = W(PLAP(pos), me, READING);
			claimed[slotid[SLOT(pos)]] = 1;
			/* ghost: one producer's messages are claimed in the
			 * order they were put (so each consumer gets them in
			 * that order: its gets are one after the other) */
			order = (slotid[SLOT(pos)] != 1 && slotid[SLOT(pos)] != P1MSGS + 1 &&
				 !claimed[slotid[SLOT(pos)] - 1]);
			assert(!order);
			cpos = pos; cw = W(PLAP(pos), me, READING);
			pc = G_ADVANCE_MINE
		:: else -> rl = 0; pc = G_HEAD /* continue */
		fi;
		w = 0
	   }
	:: d_step { /* get_claim: CAS head pos -> pos+1 */
		pc == G_ADVANCE || pc == G_ADVANCE_MINE;
		if
		:: head == pos ->
			head = pos + 1;
			/* ghost: head passes only a message that was claimed,
			 * or a slot whose put died (then FREE of the next lap) */
			skipped = !(LAP(word[SLOT(pos)]) > PLAP(pos) ||
				    (LAP(word[SLOT(pos)]) == PLAP(pos) &&
				     ST(word[SLOT(pos)]) == READING));
			assert(!skipped)
		:: else -> skip
		fi;
		if
		:: pc == G_ADVANCE -> pc = G_HEAD /* continue */
#if defined(POLLER) && !defined(BROKEN_NO_SELF_RING)
		/* return CLAIMED; listening: armed in this call? */
		:: else -> pc = (fdstep -> L_SELF : G_COPY0)
#else
		:: else -> pc = G_COPY0 /* return CLAIMED */
#endif
		fi;
		pos = 0; w = 0
	   }
	:: d_step { /* get_claim: CAS DEAD(L) -> FREE(L+1) */
		pc == G_FREEDEAD;
		if
		:: word[SLOT(pos)] == w ->
			word[SLOT(pos)] = W(PLAP(pos) + 1, 0, FREE);
			/* wake putters (and ring them); continue */
			WAKE_RING_PUT(PUTTERS, G_HEAD)
		:: else -> pc = G_HEAD /* continue */
		fi;
		pos = 0; w = 0
	   }
	:: d_step { /* get_claim, moved_on: load head */
		pc == G_MOVED;
		corrupt = (head == pos);
		assert(!corrupt);
		pos = 0; w = 0; pc = G_HEAD /* continue */
	   }
	:: d_step { pc == G_COPY0; r0 = d0[SLOT(cpos)]; pc = G_COPY1 } /* ring_get */
	:: d_step { pc == G_COPY1; r1 = d1[SLOT(cpos)]; pc = G_RELEASE } /* ring_get */
	:: d_step { /* shmbox__release: CAS READING(L, me) -> FREE(L+1) */
		pc == G_RELEASE;
		if
		:: word[SLOT(cpos)] == cw ->
			word[SLOT(cpos)] = W(LAP(cw) + 1, 0, FREE);
			/* the get returns what it copied (shmbox__ring_get) */
			torn = !(r0 == r1 && r1 == rl && r0 >= 1 && r0 <= NMSG);
			assert(!torn);
			dup = recvd[r0];
			assert(!dup);
			recvd[r0] = 1;
#ifdef PUTPOLLER
			/* shmbox__release: wake putters, ring them, the baton */
			rret = G_BATON; WAKE(PUTTERS, R_LOAD)
#else
			WAKE(PUTTERS, G_NEXT) /* shmbox__release: wake putters, then the baton */
#endif
		:: else ->
			/* shmbox__ring_get: the claim was taken from us, so we
			 * drop the copy and take the next message: the one we
			 * claimed is gone, and we are alive */
			lost = 1;
			assert(!lost)
		fi;
		r0 = 0; r1 = 0; rl = 0; cpos = 0; cw = 0
	   }
#ifdef PUTPOLLER
	:: d_step { /* shmbox__release: the baton, wake a getter */
		pc == G_BATON;
		if
		:: BATON_GET -> WAKE(GETTERS, G_NEXT)
		:: else -> pc = G_NEXT
		fi
	   }
#endif

	/* ============ waiting: wait_turn ============ */
	:: d_step { /* revoke_if_dead: token_alive(owner), semctl(GETVAL) */
		pc == W_TOKEN;
		if
		:: HOLDER_GONE(cw) -> pc = W_REVOKE
		:: else -> pc = SLEEP_OR_EAGAIN /* revoke_if_dead: alive, so sleep */
		fi
	   }
	:: d_step { /* revoke: CAS the exact word seen */
		pc == W_REVOKE;
		if
		:: word[SLOT(cpos)] == cw && ST(cw) == WRITING ->
			word[SLOT(cpos)] = W(LAP(cw), 0, DEAD);
			WAKE_RING(GETTERS, RETRY) /* revoke: wake getters, ring */
		:: word[SLOT(cpos)] == cw && ST(cw) == READING ->
			word[SLOT(cpos)] = W(LAP(cw) + 1, 0, FREE);
			WAKE_RING_PUT(PUTTERS, RETRY) /* revoke: wake putters, ring */
		:: else -> pc = RETRY /* revoke: the word changed, look again */
		fi;
		cpos = 0; cw = 0 /* wait_turn returns 0: look again */
	   }
#if NCONS >= 2
	/* wait_turn: consumer 2's deadline may have passed: its get
	 * returns ETIMEDOUT, holding nothing */
	:: pc == W_ANNOUNCE && me == C2 -> pc = X_END; break
#endif
	:: d_step { /* shmbox__sleep: fetch_add(waiting, 1) */
		pc == W_ANNOUNCE;
		if
		:: isput -> pw++
		:: else -> gw++
		fi;
		IN(1);
#ifdef BROKEN_NO_RECHECK
		pc = W_SLEEP; slept = epoch
#else
		pc = W_RECHECK
#endif
	   }
	:: d_step { /* shmbox__sleep: load the slot word once more */
		pc == W_RECHECK;
		if
		:: word[SLOT(cpos)] != cw -> pc = W_UNANNOUNCE
		:: else -> pc = W_SLEEP; slept = epoch
		fi
	   }
	:: d_step { /* shmbox__sleep: semtimedop, a post woke us */
		pc == W_SLEEP && !IDLE &&
		((isput && psem > 0) || (!isput && gsem > 0));
		if
		:: isput -> psem--
		:: else -> gsem--
		fi;
		IN(-1); CHECKW();
		cpos = 0; cw = 0; pc = RETRY /* shmbox__sleep returns 0 */
	   }
	:: d_step { /* shmbox__sleep: semtimedop, EAGAIN, slice over */
		pc == W_SLEEP && !IDLE && SLICE_OVER;
		pc = W_UNANNOUNCE
	   }
	:: pc == W_SLEEP && IDLE -> /* ghost: nothing left to get */
		pc = X_END; break
	:: d_step { /* unannounce: CAS n -> n-1 while n > 0 */
		pc == W_UNANNOUNCE;
		if
		:: isput && pw > 0 -> pw--; IN(-1); CHECKW(); cpos = 0; cw = 0; pc = RETRY
		:: !isput && gw > 0 -> gw--; IN(-1); CHECKW(); cpos = 0; cw = 0; pc = RETRY
		:: else -> pc = W_TAKEBACK /* a waker took us off already */
		fi
	   }
	:: d_step { /* unannounce: semop(-1, IPC_NOWAIT), take the post */
		pc == W_TAKEBACK;
		if
		:: isput && psem > 0 -> psem--
		:: !isput && gsem > 0 -> gsem--
		:: else -> skip /* not arrived yet: left for a later sleeper */
		fi;
		IN(-1); CHECKW();
		cpos = 0; cw = 0; pc = RETRY /* shmbox__sleep returns 0 */
	   }

	/* ============ shmbox__wake ============ */
	:: d_step { /* shmbox__wake: fence; load; CAS n -> n-1 while n > 0 */
		pc == K_WAKE;
		if
		:: wsel == GETTERS && gw > 0 -> gw--; pc = K_POST
		:: wsel == PUTTERS && pw > 0 -> pw--; pc = K_POST
		:: else ->
			if
			:: BATON_PUT && AFTER_PUBLISH && wsel == GETTERS -> wsel = PUTTERS
			:: BATON_GET && ret == G_NEXT && wsel == PUTTERS -> wsel = GETTERS
			:: else -> pc = ret; ret = 0; wsel = 0
			fi
		fi
	   }
	:: d_step { /* shmbox__wake_one: semop(+1) */
		pc == K_POST;
		if
		:: wsel == GETTERS -> gsem++
		:: else -> psem++
		fi;
		if
		:: BATON_PUT && AFTER_PUBLISH && wsel == GETTERS -> wsel = PUTTERS; pc = K_WAKE
		:: BATON_GET && ret == G_NEXT && wsel == PUTTERS -> wsel = GETTERS; pc = K_WAKE
		:: else -> pc = ret; ret = 0; wsel = 0
		fi
	   }
#ifdef LISTENER
	/* ============ the changer's ring (src/fd.c) ============ */
	/* shmbox__fd_ring_if_armed loads armed, and shmbox__fd_ring loads it
	 * again: one load here, the second (the first only decides whether
	 * there is a second) */
	:: d_step { /* fd_ring_if_armed, fd_ring: (fence;) load armed */
		pc == R_LOAD;
		stale[me] = 0;
		if
#ifdef BROKEN_RING_XCHG
		:: armed -> pc = R_XCHG
#else
		:: armed -> pc = R_SEND
#endif
		:: else -> RING_DONE()
		fi
	   }
#ifdef BROKEN_RING_XCHG
	:: d_step { /* the design before dede292: m = exchange(armed, 0) */
		pc == R_XCHG;
		if
		:: armed -> armed = 0; STALE_ALL(); stale[me] = 0; pc = R_SEND
		:: else -> RING_DONE() /* rung by another */
		fi
	   }
#endif
	:: d_step { /* ring_entry: sendto(S, MSG_DONTWAIT) */
		pc == R_SEND;
		SEND();
#ifdef BROKEN_RING_XCHG
		RING_DONE()
#else
		pc = R_CAS
#endif
	   }
	:: d_step { /* fd_ring: CAS(armed, w, w without its bits), once: if it
		     * fails, the listener armed since our load, and the bit
		     * stays set */
		pc == R_CAS;
		if
		:: !stale[me] -> armed = 0; STALE_ALL()
		:: else -> skip
		fi;
		RING_DONE()
	   }

	/* ============ the poller: poll(2), src/fd.c ============ */
#ifdef POLLER
	:: d_step { /* poll: S has a datagram, or a watched process exited */
		pc == L_POLL && !ALLDONE && (sock || FIRED);
		fdstep = 0; spins = 0; pc = G_HEAD /* shmbox_get, timeout 0 */
	   }
	:: pc == L_POLL && ALLDONE -> pc = X_END; break /* ghost: all taken */
#else
	:: d_step { /* poll: S has a datagram, or a watched process exited */
		pc == L_POLL && (sock || FIRED);
		fdstep = 0; spins = 0;
		if /* shmbox_put, timeout 0 */
		:: id == 0 -> id = k + 1; k++ /* the next message */
		:: else -> skip /* the one that found no room */
		fi;
		pc = P_TAIL
	   }
	/* ghost: no getter left, and a put cannot succeed: none ever will */
	:: pc == L_POLL && nended == NCONS && !CAN_PUT -> pc = X_END; break
#endif
	:: d_step { /* shmbox__fd_arm: drain S (recvmmsg until short) */
		pc == L_DRAIN;
#ifndef BROKEN_NO_DRAIN
		sock = 0;
#endif
		DRAIN_DONE()
	   }
	:: d_step { /* shmbox__fd_arm: arm: CAS in the bit and one more arm; fence */
		pc == L_ARM;
		armed = 1; ARMED_AGAIN;
		ARM_DONE() /* then W, then the look (listening) */
	   }
	:: d_step { /* shmbox__fd_watch, shmbox__watch_holder_dead: the
		     * holder's token, semctl(GETVAL): gone already? ring S
		     * itself (a call now frees its slot) */
		pc == L_CHECK;
		if
		:: !token[OWN(cw)] -> SEND()
		:: else -> skip
		fi;
		cpos = 0; cw = 0; pc = CHECK_DONE /* return EAGAIN */
	   }
	:: d_step { /* shmbox__fd_keep_ready: the drain may have eaten a ring
		     * for a message still queued: ring S ourselves */
		pc == L_SELF;
		SEND();
		pc = (isput -> P_COPY0 : G_COPY0)
	   }
#ifdef BROKEN_NO_WATCH_ALL
	:: d_step { /* broken (the design before 5e58c07): watch the holder
		     * of the claim in the way alone: load its pid, pidfd_open;
		     * a holder that died before gives a pidfd that may never
		     * be readable (its pid reaped and reused): none */
		pc == L_WATCH;
		if
		:: INFLIGHT(cw) ->
			if
			:: watch == OWN(cw) -> skip /* the same holder: kept */
			:: else -> watch = (token[OWN(cw)] -> OWN(cw) : 0)
			fi;
			pc = L_CHECK
		:: else -> /* no claim in flight: unwatch; return EAGAIN */
			watch = 0; cpos = 0; cw = 0; pc = L_POLL
		fi
	   }
#endif
#if !defined(BROKEN_NO_WATCH) && !defined(BROKEN_NO_WATCH_ALL)
	/* ======== W: shmbox__watch_refresh (src/fdwatch.c) ======== */
	:: d_step { /* watch_refresh: load joins, seq_cst */
		pc == A_JOINS;
		lj = joins; pc = A_POLLALL
	   }
	:: d_step { /* watch_refresh: poll(all, 0); nobody came, nobody
		     * watched is gone: the watches stay */
		pc == A_POLLALL;
		if
		:: wmade && lj == wj && !FIRED -> lj = 0; REFRESH_DONE()
		:: else -> pc = A_TOKENS
		fi
	   }
	:: d_step { /* shmbox__sem_values: semctl(GETALL), every token */
		pc == A_TOKENS;
		ts = token[1] * 2 + token[2] * 4 + token[3] * 8 + token[4] * 16;
		pc = A_OPEN
	   }
	:: d_step { /* watch_token, per token alive but ours: load the pid
		     * from the proc table; no pid (its token free, or the pid
		     * not stored yet): no watch; the same process as before:
		     * the pidfd kept; else pidfd_open.  A process gone already
		     * gives a pidfd that may never be readable (its pid reaped
		     * and reused): the model gives it none; NO_PID_REUSE: one
		     * that fires (a zombie's pidfd is readable; for a pid
		     * reaped, pidfd_open fails and a timer fires later) */
		pc == A_OPEN;
		OPEN(1); OPEN(2); OPEN(3); OPEN(4);
		wj = lj; wmade = 1; lj = 0; ts = 0;
		REFRESH_DONE()
	   }
#endif
#ifdef LATE
	/* ======== a process that attaches late: attach_token (src/segment.c) ======== */
	:: d_step { /* shmbox__token_take: semop(+1, SEM_UNDO) */
		pc == A_TAKE;
		token[me] = 1; pc = A_PID
	   }
	:: d_step { /* attach_token: store our pid in the proc table */
		pc == A_PID;
		haspid[me] = 1; pc = A_JOIN
	   }
	:: d_step { /* attach_token: fetch_add(joins), seq_cst; then ring the
		     * armed listeners: fd_ring_if_armed (the model's one) */
		pc == A_JOIN;
		joins++;
#ifdef BROKEN_ATTACH_NO_RING
		pc = (isput -> P_NEXT : G_NEXT)
#else
		rret = (isput -> P_NEXT : G_NEXT); pc = R_LOAD
#endif
	   }
#endif
#endif
	od
	} unless {
		/* killed: the kernel undoes the token's +1 (SEM_UNDO) */
		d_step {
			kill == me;
			token[me] = 0;
			dead[me] = 1;
			/* ghost: a get that dies holding its claim takes the
			 * message with it (revoke) */
			if
			:: !isput && (pc == G_ADVANCE_MINE || pc == G_COPY0 ||
				      pc == G_COPY1 || pc == G_RELEASE) ->
				lostdead[slotid[SLOT(cpos)]] = 1
			:: else -> skip
			fi;
			pc = X_END
		}
	};
	/* returned from the last call (or died, or closed the handle: a
	 * handle closed between calls holds no claim) */
	skip;
	d_step {
		nended++;
		if
		:: isput -> prods_done++
		:: else -> skip
		fi
	}
}

/* Chooses at most one victim; may run at any point of any interleaving. */
active proctype killer()
{
	if
#if DEATHS & 1
	:: kill = 1
#endif
#if (DEATHS & 2) && NPROD >= 2
	:: kill = 2
#endif
#if (DEATHS & 4) && NCONS >= 2
	:: kill = C2
#endif
#if DEATHS & 8
	:: kill = C1
#endif
	:: skip
	fi
}

#if TIMEOUTS == 1
/* The clock of TIMEOUTS == 1.  When no process can take a step (Promela's
 * `timeout`) and some have not finished, it ticks: every sleeper's time
 * slice is over, so each looks once more (a fresh claim, recovery of dead
 * holders included) before the clock can tick again.  If a whole round of
 * such looks changes nothing, the next rounds cannot either (a look depends
 * only on the ring, the tokens and what has been done), so the survivors
 * would wait for ever: a livelock, reported by the assertion.  PROGRESS only
 * grows: positions, laps and states of the slots, processes finished.  The
 * poller (POLLER) has no time slice: its poll has no timeout, so it looks
 * only when its descriptor is readable. */
#define RANK(x) (LAP(x) * 8 + (ST(x) == WRITING) * 1 + (ST(x) == FULL) * 2 + \
		 (ST(x) == DEAD) * 2 + (ST(x) == READING) * 3)
#define PROGRESS (RANK(word[0]) + RANK(word[1]) + tail + head + nended)
bit livelock;

active proctype clock()
{
	short before = -1;
end_idle:
	do
	:: d_step {
		timeout && nended < NPROC;
		livelock = (PROGRESS == before);
		assert(!livelock);
		before = PROGRESS;
		epoch = 1 - epoch
	   }
	od
}
#endif

/* Once every process has finished, left or died: each published message
 * was returned exactly once (dup is checked as it happens), or was claimed
 * by a consumer that died holding it. */
active proctype monitor()
{
	byte i;
end_wait:
	nended == NPROC;
	d_step {
		i = 1;
		do
		:: i <= NMSG ->
			missing = missing ||
				  (published[i] && !recvd[i] && !lostdead[i]
#ifdef PUTPOLLER
				   /* the getters may stop with messages queued */
				   && !(slotid[0] == i && ST(word[0]) == FULL)
				   && !(slotid[1] == i && ST(word[1]) == FULL)
#endif
				  );
			i++
		:: else -> break
		od;
		assert(!missing);
		i = 0
	}
}

init
{
	d_step {
		word[0] = W(0, 0, FREE);
		word[1] = W(0, 0, FREE);
		token[1] = 1;
		token[2] = (NPROD >= 2);
		token[C1] = 1;
		token[C2] = (NCONS >= 2);
#ifdef LISTENER
		sock = 1; /* shmbox_fd: a new descriptor starts readable */
		STALE_ALL();
		haspid[1] = 1;
		haspid[2] = (NPROD >= 2);
		haspid[C1] = 1;
		haspid[C2] = (NCONS >= 2);
#ifdef LATE
		token[LATECOMER] = 0; /* attaches later */
		haspid[LATECOMER] = 0;
#endif
#endif
#ifdef PUTPOLLER
		/* messages P1MSGS+1 .. P1MSGS+PREFILL queued, one per slot
		 * from position 0 (put by a process gone since) */
#define QUEUED(s) word[s] = W(0, 0, FULL); d0[s] = P1MSGS + 1 + s; \
		d1[s] = d0[s]; slen[s] = d0[s]; slotid[s] = d0[s]; \
		published[d0[s]] = 1
#if PREFILL >= 1
		QUEUED(0);
#endif
#if PREFILL >= 2
		QUEUED(1);
#endif
		tail = PREFILL
#endif
	};
	atomic {
		run agent(1, 1);
#if NPROD >= 2
		run agent(2, 1);
#endif
		run agent(C1, 0);
#if NCONS >= 2
		run agent(C2, 0);
#endif
	}
}
