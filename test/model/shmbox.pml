/*
 * shmbox.pml -- a Promela model of shmbox's put/get slot protocol.
 *
 * What it models (see README.md in this directory for the full story):
 * the message ring of src/ring.c at the granularity of its atomic steps
 * (every load, store and compare-and-swap of shared memory is one Promela
 * step; a CAS is one d_step), the sleep/wake protocol of src/wait.c, the
 * recovery of src/recover.c and the process tokens of src/token.c, with a
 * process that may die between any two of its steps.
 *
 * Processes: NPROD producers each put MSGS messages, NCONS consumers get
 * until every published message has been taken (a ghost condition: the C
 * consumer would just keep calling get).  The "killer" picks at most one
 * process to die; it dies at its next step, wherever it is, and its token
 * drops to 0 at once (the kernel's SEM_UNDO).
 *
 * Knobs (spin -DNAME=value ...):
 *   NCONS      1 or 2 consumers                         (default 2)
 *   DEATHS     0: nobody dies; 1: at most one process dies (default 1)
 *   TIMEOUTS   how semtimedop's time slice is modelled   (default 2)
 *              0: never times out (P blocks until posted)
 *              1: times out only when the whole system is stuck
 *                 (Promela's `timeout`): the slice is long compared with
 *                 any step, and a livelock shows as a non-progress cycle
 *              2: may time out at any moment (safety runs)
 *   SPIN_LIMIT retries before the first sleep (SHMBOX__SPIN_LIMIT, 256 in
 *              C; any number >= 0 here, default 1)
 *   FIX_BATON  a proposed fix for the lost-wakeup-by-baton defect found by
 *              this model (README.md, "Findings"): a put that completes also
 *              wakes a sleeping putter, a get that completes also wakes a
 *              sleeping getter.
 *
 * Deliberately broken variants (each must be rejected by check-model.sh):
 *   BROKEN_PUBLISH_BEFORE_COPY  put publishes FULL before copying the payload
 *   BROKEN_WAKE_BEFORE_PUBLISH  put reads getters_waiting before publishing
 *   BROKEN_RECOVER_NO_TOKEN     recovery frees a READING slot without looking
 *                               at the reader's token
 *   BROKEN_NO_RECHECK           a sleeper does not look at the slot again after
 *                               announcing itself
 */

#ifndef NCONS
#define NCONS 2
#endif
#ifndef DEATHS
#define DEATHS 1
#endif
#ifndef TIMEOUTS
#define TIMEOUTS 2
#endif
#ifndef SPIN_LIMIT
#define SPIN_LIMIT 0
#endif

#define NSLOTS 2
#define NPROD 2
#define MSGS 2		/* producer 1 puts MSGS messages, producer 2 puts P2MSGS */
#ifndef P2MSGS
#define P2MSGS 1
#endif
#define NMSG (MSGS + P2MSGS)
#define NPROC (NPROD + NCONS)
/* Positions used: one per successful put claim (NMSG) plus one per claim a
 * dying producer leaves behind (at most 1); 8 leaves room and keeps the lap
 * of every state word below 4, so a word fits in a byte. */
#define MAXPOS 8

/* layout.h: enum shmbox__state */
#define FREE 1
#define WRITING 2
#define FULL 3
#define READING 4
#define DEAD 5

/* layout.h: shmbox__word(lap, owner, state) -- lap | owner | state packed
 * in one word, so that one CAS changes all three at once. */
#define W(l, o, s) ((l) * 64 + (o) * 8 + (s))
#define LAP(x) ((x) / 64)
#define OWN(x) (((x) / 8) % 8)
#define ST(x) ((x) % 8)

/* ---- shared memory (the segment) ---- */
byte word[NSLOTS]; /* shmbox__slot.word */
byte d0[NSLOTS];   /* payload, first half  } memcpy in ring.c:206 and 240 is */
byte d1[NSLOTS];   /* payload, second half } two separate stores/loads here   */
byte slen[NSLOTS];  /* shmbox__slot.len (stands for len, pid, seq: the header
		      fields stored after the payload, ring.c:207-211) */
byte tail, head;   /* shmbox__ring_hdr.tail / .head */
byte gw, pw;	   /* getters_waiting / putters_waiting */

/* ---- kernel objects ---- */
byte gsem, psem;	  /* SHMBOX__SEM_GETTERS / SHMBOX__SEM_PUTTERS */
bit token[NPROC + 1];	  /* token i: 1 while process i lives (SEM_UNDO) */

/* ---- ghost state: bookkeeping for the properties, not in the C code ---- */
byte kill;			/* the process chosen to die (0: none) */
bit dead[NPROC + 1];
byte nended;			/* processes that finished or died */
byte prods_done;		/* producers that finished or died */
bit published[NMSG + 1];	/* its WRITING -> FULL CAS succeeded */
bit claimed[NMSG + 1];		/* a get moved it FULL -> READING */
bit recvd[NMSG + 1];		/* a get released it: the get returned it */
byte claimer[NMSG + 1];		/* who claimed it */
byte slotid[NSLOTS];		/* the message last published into the slot */

/* Error flags, one per property; each is asserted false where it is set,
 * so that pan names the property it found violated. */
bit torn;	/* (1) a get returned a copy that is not one whole message */
bit dup;	/* (2) a message was returned twice */
bit lost;	/* (3) a live get's claim was taken away: its message is gone */
bit overwrite;	/* (3) a put claimed a slot whose message nobody claimed */
bit skipped;	/* (3) head moved past a message nobody claimed */
bit hole;	/* (5) tail moved past a slot nobody claimed */
bit order;	/* (4) one producer's messages out of order at one consumer */
bit missing;	/* (3) at the end: a published message was neither returned
		   nor claimed by a consumer that then died */
bit corrupt;	/* put_claim/get_claim returned EPROTO on a sound ring */

#define ACC(i) (!published[i] || claimed[i])
/* Every producer finished or died and every published message was claimed:
 * the consumers may stop (the C consumer would keep waiting). */
#if P2MSGS == 2
#define ALLDONE (prods_done == NPROD && ACC(1) && ACC(2) && ACC(3) && ACC(4))
#else
#define ALLDONE (prods_done == NPROD && ACC(1) && ACC(2) && ACC(3))
#endif

#if TIMEOUTS == 0
#define SLICE_OVER false
#elif TIMEOUTS == 1
#define SLICE_OVER timeout
#else
#define SLICE_OVER true
#endif

#define CLAIMED 0
#define BLOCKED 1

/* ---- wait.c ---- */

/* wait.c:164 unannounce(): load, then CAS n -> n-1 while n > 0.  The loop
 * linearises at its successful CAS or at its load of 0: one step. */
inline unannounce(waiting)
{
	d_step { if :: waiting > 0 -> waiting-- :: else -> skip fi }
}

/* wait.c:206 shmbox__wake(): fence; n = waiting; CAS n -> n-1 while n > 0
 * (one step, as above), then semop(+1) on the semaphore: a second step, so
 * a waker may die between taking a sleeper off the counter and posting. */
inline wake(waiting, sem)
{
	d_step {
		if
		:: waiting > 0 -> waiting--; post = 1
		:: else -> post = 0
		fi
	};
	if
	:: post -> sem++; post = 0 /* wait.c:218 semop(+1) */
	:: else -> skip
	fi
}

/* wait.c:182 shmbox__sleep(): announce, look at the slot once more, sleep
 * in semtimedop for one time slice.  Returns to the caller's retry loop in
 * every case (0: look again). */
inline sleep(waiting, sem)
{
	waiting++; /* wait.c:191 atomic_fetch_add(waiting, 1), seq_cst */
#ifndef BROKEN_NO_RECHECK
	if
	:: word[cpos % NSLOTS] != cw -> /* wait.c:192 the slot changed */
		unannounce(waiting)	/* wait.c:193 */
	:: else ->
#endif
		if
		:: atomic { sem > 0 -> sem-- }	/* wait.c:196 woken by a post */
		:: SLICE_OVER ->		/* wait.c:196 EAGAIN: slice over */
			unannounce(waiting)	/* wait.c:199 */
		:: iscons && ALLDONE ->		/* ghost: nothing left to get */
			goto finished
		fi
#ifndef BROKEN_NO_RECHECK
	fi
#endif
}

/* ---- recover.c ---- */

/* recover.c:21 revoke(): CAS the exact word seen; on success wake the side
 * that waits behind the new state. */
inline revoke()
{
	d_step {
		if
		:: word[cpos % NSLOTS] == cw ->
			if
			:: ST(cw) == WRITING -> word[cpos % NSLOTS] = W(LAP(cw), 0, DEAD)
			:: else -> word[cpos % NSLOTS] = W(LAP(cw) + 1, 0, FREE)
			fi;
			ok = 1
		:: else -> ok = 0
		fi
	};
	if
	:: ok && ST(cw) == WRITING -> wake(gw, gsem) /* recover.c:38 */
	:: ok && ST(cw) == READING -> wake(pw, psem) /* recover.c:40 */
	:: else -> skip
	fi;
	ok = 0
}

#ifdef BROKEN_RECOVER_NO_TOKEN
#define HOLDER_GONE(x) (ST(x) == READING || !token[OWN(x)])
#else
#define HOLDER_GONE(x) (!token[OWN(x)])
#endif

/* ring.c:156 wait_turn(): spin a little; else recover (recover.c:46: if the
 * word that blocked us is a claim whose holder's token reads 0, revoke it
 * and return 1: look again); else sleep. */
inline wait_turn(waiting, sem)
{
	if
	:: spins < SPIN_LIMIT -> spins++ /* ring.c:161-167 cpu_relax; look again */
	:: else ->
		if
		/* recover.c:50 in_flight(w), recover.c:52 token_alive: semctl GETVAL */
		:: (ST(cw) == WRITING || ST(cw) == READING) && HOLDER_GONE(cw) ->
			revoke()	/* recover.c:57, return 1 */
		:: else ->		/* recover.c:51/56 return 0 */
			/* ring.c:172 deadline: all calls here wait for ever (-1) */
			sleep(waiting, sem) /* ring.c:176 */
		fi
	fi
}

/* ---- ring.c ---- */

/* CAS(tail, pos, pos + 1), with the ghost check that tail only ever moves
 * past a position whose slot was claimed in that lap. */
inline advance_tail()
{
	d_step {
		if
		:: tail == pos ->
			tail = pos + 1;
			w = word[pos % NSLOTS];
			hole = !(LAP(w) > pos / NSLOTS ||
				 (LAP(w) == pos / NSLOTS && ST(w) != FREE));
			assert(!hole)
		:: else -> skip
		fi
	}
}

/* CAS(head, pos, pos + 1), with the ghost check that head only ever moves
 * past a position whose message was claimed (or that a dead put left). */
inline advance_head()
{
	d_step {
		if
		:: head == pos ->
			head = pos + 1;
			w = word[pos % NSLOTS];
			skipped = !(LAP(w) > pos / NSLOTS ||
				    (LAP(w) == pos / NSLOTS && ST(w) == READING));
			assert(!skipped)
		:: else -> skip
		fi
	}
}

/* ring.c:49 put_claim().  Leaves rc, cpos (the position) and cw (the word
 * we set, or the word that blocked us). */
inline put_claim()
{
	do
	:: pos = tail;	/* ring.c:54 */
		assert(pos < MAXPOS);
		w = word[pos % NSLOTS]; /* ring.c:57 */
		if
		:: LAP(w) == pos / NSLOTS -> /* ring.c:62 LAP_SAME */
			if
			:: ST(w) == FREE ->
				d_step { /* ring.c:64 claim: FREE(L) -> WRITING(L, me) */
					if
					:: word[pos % NSLOTS] == w ->
						word[pos % NSLOTS] = W(pos / NSLOTS, me, WRITING);
						ok = 1;
						overwrite = (slotid[pos % NSLOTS] != 0 &&
							     !claimed[slotid[pos % NSLOTS]]);
						assert(!overwrite)
					:: else -> ok = 0
					fi
				};
				if
				:: ok ->
					ok = 0;
					advance_tail(); /* ring.c:66 */
					cpos = pos; cw = W(pos / NSLOTS, me, WRITING);
					rc = CLAIMED;
					break /* ring.c:68 */
				:: else -> skip /* ring.c:65 continue */
				fi
			:: ST(w) >= WRITING && ST(w) <= DEAD ->
				advance_tail() /* ring.c:72-75 claimed already; tail lags */
			:: else -> d_step { corrupt = 1; assert(!corrupt) } /* ring.c:71 */
			fi
		:: LAP(w) == pos / NSLOTS + 1 -> /* ring.c:74 LAP_NEXT */
			advance_tail()
		:: LAP(w) + 1 == pos / NSLOTS -> /* ring.c:77 LAP_PREV */
			if
			:: ST(w) == DEAD -> /* ring.c:78-80 DEAD(L-1) -> FREE(L) */
				d_step {
					if
					:: word[pos % NSLOTS] == w ->
						word[pos % NSLOTS] = W(pos / NSLOTS, 0, FREE)
					:: else -> skip
					fi
				}
			:: ST(w) >= WRITING && ST(w) <= READING -> /* ring.c:84-85 full */
				cpos = pos; cw = w; rc = BLOCKED;
				break
			:: else -> d_step { corrupt = 1; assert(!corrupt) } /* ring.c:83 */
			fi
		:: else -> /* ring.c:86-89 moved_on(): laps ahead and tail moved */
			if
			:: LAP(w) > pos / NSLOTS + 1 && tail != pos -> skip
			:: else -> d_step { corrupt = 1; assert(!corrupt) }
			fi
		fi;
		w = 0; pos = 0
	od;
	w = 0; pos = 0
}

/* ring.c:94 get_claim().  Leaves rc, cpos, cw and rl (the length, read once
 * before the claim, ring.c:112). */
inline get_claim()
{
	do
	:: pos = head;	/* ring.c:99 */
		assert(pos < MAXPOS);
		w = word[pos % NSLOTS]; /* ring.c:102 */
		if
		:: LAP(w) == pos / NSLOTS -> /* ring.c:108 LAP_SAME */
			if
			:: ST(w) == FULL ->
				rl = slen[pos % NSLOTS]; /* ring.c:112 */
				d_step { /* ring.c:119 claim: FULL(L) -> READING(L, me) */
					if
					:: word[pos % NSLOTS] == w ->
						word[pos % NSLOTS] = W(pos / NSLOTS, me, READING);
						ok = 1;
						claimed[slotid[pos % NSLOTS]] = 1;
						claimer[slotid[pos % NSLOTS]] = me
					:: else -> ok = 0
					fi
				};
				if
				:: ok ->
					ok = 0;
					advance_head(); /* ring.c:121 */
					cpos = pos; cw = W(pos / NSLOTS, me, READING);
					rc = CLAIMED;
					break /* ring.c:123 */
				:: else -> rl = 0 /* ring.c:120 continue */
				fi
			:: ST(w) == DEAD -> /* ring.c:124-127 DEAD(L) -> FREE(L+1) */
				d_step {
					if
					:: word[pos % NSLOTS] == w ->
						word[pos % NSLOTS] = W(pos / NSLOTS + 1, 0, FREE);
						ok = 1
					:: else -> ok = 0
					fi
				};
				if
				:: ok -> ok = 0; wake(pw, psem) /* ring.c:126 */
				:: else -> skip
				fi
			:: ST(w) == READING -> /* ring.c:128-130 taken; head lags */
				advance_head()
			:: ST(w) == FREE || ST(w) == WRITING -> /* ring.c:131-134 */
				cpos = pos; cw = w; rc = BLOCKED;
				break
			:: else -> d_step { corrupt = 1; assert(!corrupt) } /* ring.c:136 */
			fi
		:: LAP(w) == pos / NSLOTS + 1 -> /* ring.c:138-140 LAP_NEXT */
			advance_head()
		:: LAP(w) + 1 == pos / NSLOTS -> /* ring.c:141-145 LAP_PREV */
			if
			:: ST(w) == READING ->
				cpos = pos; cw = w; rc = BLOCKED;
				break
			:: else -> d_step { corrupt = 1; assert(!corrupt) } /* ring.c:143 */
			fi
		:: else -> /* ring.c:146-149 moved_on() */
			if
			:: LAP(w) > pos / NSLOTS + 1 && head != pos -> skip
			:: else -> d_step { corrupt = 1; assert(!corrupt) }
			fi
		fi;
		w = 0; pos = 0
	od;
	w = 0; pos = 0
}

/* ring.c:192 shmbox__ring_put() */
inline put(id)
{
	spins = 0;
put_again: /* ring.c:199 for (;;) */
	do /* ring.c:200-202 */
	:: put_claim();
		if
		:: rc == CLAIMED -> break
		:: else -> wait_turn(pw, psem)
		fi
	od;
#ifdef BROKEN_WAKE_BEFORE_PUBLISH
	/* broken: shmbox__wake's look at getters_waiting moved before the
	 * publishing CAS */
	d_step {
		if
		:: gw > 0 -> gw--; post = 1
		:: else -> post = 0
		fi
	};
#endif
#ifdef BROKEN_PUBLISH_BEFORE_COPY
	/* broken: the publishing CAS moved before the copy */
	d_step {
		if
		:: word[cpos % NSLOTS] == cw ->
			word[cpos % NSLOTS] = W(LAP(cw), 0, FULL);
			ok = 1; published[id] = 1; slotid[cpos % NSLOTS] = id
		:: else -> ok = 0
		fi
	};
	d0[cpos % NSLOTS] = id;
	d1[cpos % NSLOTS] = id;
	slen[cpos % NSLOTS] = id;
#else
	d0[cpos % NSLOTS] = id;	/* ring.c:206 memcpy, first half */
	d1[cpos % NSLOTS] = id;	/* ring.c:206 memcpy, second half */
	slen[cpos % NSLOTS] = id; /* ring.c:207-211 len, pid, seq, ... */
	d_step { /* ring.c:214-215 publish: WRITING(L, me) -> FULL(L) */
		if
		:: word[cpos % NSLOTS] == cw ->
			word[cpos % NSLOTS] = W(LAP(cw), 0, FULL);
			ok = 1; published[id] = 1; slotid[cpos % NSLOTS] = id
		:: else -> ok = 0
		fi
	};
#endif
	if
	:: ok -> ok = 0 /* ring.c:216 break */
	:: else -> goto put_again /* claim taken from us: put it again */
	fi;
	cw = 0; cpos = 0;
#ifdef BROKEN_WAKE_BEFORE_PUBLISH
	if
	:: post -> gsem++; post = 0
	:: else -> skip
	fi;
#else
	wake(gw, gsem); /* ring.c:218 */
#endif
#ifdef FIX_BATON
	wake(pw, psem);
#endif
	skip
}

/* ring.c:224 shmbox__ring_get() (no on_claim: plain shmbox_get) */
inline get()
{
	spins = 0;
get_again: /* ring.c:231 for (;;) */
	do /* ring.c:232-234 */
	:: get_claim();
		if
		:: rc == CLAIMED -> break
		:: else -> wait_turn(gw, gsem)
		fi
	od;
	r0 = d0[cpos % NSLOTS];	/* ring.c:240 memcpy, first half */
	r1 = d1[cpos % NSLOTS];	/* ring.c:240 memcpy, second half */
	d_step { /* ring.c:243-246 release: READING(L, me) -> FREE(L+1) */
		if
		:: word[cpos % NSLOTS] == cw ->
			word[cpos % NSLOTS] = W(LAP(cw) + 1, 0, FREE);
			ok = 1;
			/* the get returns (r0, r1, rl): check it */
			torn = !(r0 == r1 && r1 == rl && r0 >= 1 && r0 <= NMSG);
			assert(!torn);
			dup = recvd[r0];
			assert(!dup);
			recvd[r0] = 1;
			order = ((r0 - 1) % MSGS + 1 <= seen[(r0 - 1) / MSGS]);
			assert(!order);
			seen[(r0 - 1) / MSGS] = (r0 - 1) % MSGS + 1
		:: else ->
			/* our claim was revoked while we live: ring.c:241-246
			 * drops the copy and takes the next message, so the one
			 * we had claimed is gone */
			ok = 0;
			lost = 1;
			assert(!lost)
		fi;
		r0 = 0; r1 = 0; rl = 0
	};
	if
	:: ok -> ok = 0
	:: else -> goto get_again
	fi;
	cw = 0; cpos = 0;
	wake(pw, psem); /* ring.c:248 */
#ifdef FIX_BATON
	wake(gw, gsem);
#endif
	skip
}

/* ---- processes ---- */

proctype producer(byte me) /* me: token index, 1..NPROD */
{
	byte k, pos, w, cw, cpos, spins;
	bit rc, ok, post, iscons;

	{
		k = 0;
		do
		:: (me == 1 && k < MSGS) || (me == 2 && k < P2MSGS) ->
			put((me - 1) * MSGS + k + 1); k++
		:: else -> break
		od;
finished:
		skip;
		d_step { prods_done++; nended++ }
	} unless {
		/* dies here: the kernel undoes its token (SEM_UNDO) */
		atomic { kill == me -> token[me] = 0; dead[me] = 1; prods_done++; nended++ }
	}
}

proctype consumer(byte me) /* me: token index, NPROD+1..NPROC */
{
	byte pos, w, cw, cpos, spins, r0, r1, rl;
	byte seen[NPROD];
	bit rc, ok, post, iscons;

	iscons = 1;
	{
		do
		:: ALLDONE -> break
		:: else -> get()
		od;
finished:
		nended++
	} unless {
		atomic { kill == me -> token[me] = 0; dead[me] = 1; nended++ }
	}
}

/* Chooses at most one process to die.  It may run at any point of any
 * interleaving, and its victim dies at the victim's next step. */
active proctype killer()
{
#if DEATHS
	if
	:: kill = 1
	:: kill = 2
#if NCONS >= 2
	:: kill = NPROD + 1
	:: kill = NPROD + 2
#endif
	:: skip
	fi
#else
	skip
#endif
}

/* When every process has finished or died: each published message was
 * returned once, or claimed by a consumer that died holding it. */
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
				  (published[i] && !recvd[i] &&
				   !(claimed[i] && dead[claimer[i]]));
			i++
		:: else -> break
		od;
		assert(!missing)
	}
}

init
{
	byte i;
	d_step {
		i = 0;
		do
		:: i < NSLOTS -> word[i] = W(0, 0, FREE); i++
		:: else -> break
		od;
		i = 1;
		do
		:: i <= NPROC -> token[i] = 1; i++
		:: else -> break
		od;
		i = 0
	};
	atomic {
		run producer(1);
		run producer(2);
		run consumer(3);
#if NCONS >= 2
		run consumer(4);
#endif
	}
}
