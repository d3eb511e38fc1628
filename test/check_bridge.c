/*
 * The bridge's frames and window, without sockets: what comes off the
 * wire is checked whole before use (any prefix, any lie about counts or
 * lengths is refused), and the window holds, acknowledges and resends
 * exactly what it should.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../src/cli/bridge_window.h"
#include "../src/cli/bridge_wire.h"

static const unsigned char ID[WIRE_ID_LEN] = "0123456789abcdef";

/* A batch of n messages "m0", "m11", "m222", ... from seq first. */
static size_t make_batch(unsigned char *buf, uint64_t first, uint32_t n)
{
	size_t off = WIRE_MSGS_HEAD;

	wire_write_msgs_head(buf, ID, first - 1, first, n);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = i + 2;

		wire_write_len(buf + off, len);
		buf[off + WIRE_LEN_PREFIX] = 'm';
		memset(buf + off + WIRE_LEN_PREFIX + 1, '0' + (int)i % 10, len - 1);
		off += WIRE_LEN_PREFIX + len;
	}
	return off;
}

START_TEST(batch_round_trip)
{
	unsigned char buf[512];
	size_t n = make_batch(buf, 7, 5), off = 0;
	struct wire_msgs m;

	ck_assert(wire_read_msgs(buf, n, &m));
	ck_assert_mem_eq(m.id, ID, WIRE_ID_LEN);
	ck_assert_uint_eq(m.first, 7);
	ck_assert_uint_eq(m.acked, 6);
	ck_assert_uint_eq(m.count, 5);
	for (uint32_t i = 0; i < 5; i++) {
		const unsigned char *msg;
		uint32_t len;

		wire_next_msg(&m, &off, &msg, &len);
		ck_assert_uint_eq(len, i + 2);
		ck_assert_int_eq(msg[0], 'm');
		ck_assert_int_eq(msg[len - 1], '0' + (int)i);
	}
	ck_assert_uint_eq(off, m.body_len);
}
END_TEST

START_TEST(batch_every_cut_refused)
{
	unsigned char buf[512];
	size_t n = make_batch(buf, 1, 4);
	struct wire_msgs m;

	for (size_t k = 0; k < n; k++)
		ck_assert_msg(!wire_read_msgs(buf, k, &m), "a batch cut to %zu bytes was taken", k);
	buf[n] = 0;
	ck_assert(!wire_read_msgs(buf, n + 1, &m)); /* a byte too many */
}
END_TEST

START_TEST(batch_lies_refused)
{
	unsigned char buf[512], bad[512];
	size_t n = make_batch(buf, 1, 3);
	struct wire_msgs m;

	memcpy(bad, buf, n);
	wire_write_msgs_head(bad, ID, 0, 1, 4); /* one message more than there is */
	ck_assert(!wire_read_msgs(bad, n, &m));
	wire_write_msgs_head(bad, ID, 0, 1, 0); /* none */
	ck_assert(!wire_read_msgs(bad, WIRE_MSGS_HEAD, &m));
	wire_write_msgs_head(bad, ID, 0, 0, 3); /* seq 0 is never used */
	ck_assert(!wire_read_msgs(bad, n, &m));
	wire_write_msgs_head(bad, ID, 0, UINT64_MAX, 3); /* past the last seq */
	ck_assert(!wire_read_msgs(bad, n, &m));
	memcpy(bad, buf, n);
	wire_write_len(bad + WIRE_MSGS_HEAD, 0xffffffffu); /* a length past the end */
	ck_assert(!wire_read_msgs(bad, n, &m));
	memcpy(bad, buf, n);
	bad[1] = WIRE_VERSION + 1;
	ck_assert(!wire_read_msgs(bad, n, &m));
	ck_assert_int_eq(wire_type(bad, n), 0);
}
END_TEST

START_TEST(ack_and_call_round_trip)
{
	unsigned char buf[64];
	struct wire_ack a = {.put = 5, .received = 9}, b;
	struct wire_call c;

	memcpy(a.id, ID, WIRE_ID_LEN);
	wire_write_ack(buf, &a);
	ck_assert(wire_read_ack(buf, WIRE_ACK_LEN, &b));
	ck_assert_uint_eq(b.put, 5);
	ck_assert_uint_eq(b.received, 9);
	ck_assert(!wire_read_ack(buf, WIRE_ACK_LEN - 1, &b));
	a.put = 10; /* put past received cannot be */
	wire_write_ack(buf, &a);
	ck_assert(!wire_read_ack(buf, WIRE_ACK_LEN, &b));

	wire_write_call_head(buf, WIRE_CALL, 42, -1);
	memcpy(buf + WIRE_CALL_HEAD, "req", 3);
	ck_assert(wire_read_call(buf, WIRE_CALL_HEAD + 3, &c));
	ck_assert_uint_eq(c.id, 42);
	ck_assert_int_eq(c.value, -1);
	ck_assert_uint_eq(c.len, 3);
	ck_assert_mem_eq(c.data, "req", 3);
	ck_assert(!wire_read_call(buf, WIRE_CALL_HEAD - 1, &c));
	wire_write_call_head(buf, WIRE_REPLY, 42, 104);
	ck_assert(wire_read_call(buf, WIRE_CALL_HEAD, &c));
	ck_assert_int_eq(c.value, 104);

	wire_write_quit(buf);
	ck_assert_int_eq(wire_type(buf, WIRE_QUIT_LEN), WIRE_QUIT);
	ck_assert_int_eq(wire_type(buf, WIRE_QUIT_LEN + 1), 0); /* a goodbye carries nothing */
}
END_TEST

/* Random frames: a batch that is taken must walk to its exact end. */
START_TEST(random_frames)
{
	unsigned char buf[256];
	unsigned seed = 1;
	int taken = 0;

	for (int k = 0; k < 200000; k++) {
		size_t n = (size_t)rand_r(&seed) % sizeof(buf), off = 0;
		struct wire_msgs m;
		struct wire_ack a;
		struct wire_call c;

		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)rand_r(&seed);
		if (n >= 2 && k % 2 == 0) { /* often enough a head of ours */
			buf[0] = "MACR"[k % 4];
			buf[1] = WIRE_VERSION;
		}
		if (n >= WIRE_MSGS_HEAD && k % 4 == 0) { /* small counts and lengths */
			buf[2 + WIRE_ID_LEN + 16] = (unsigned char)(rand_r(&seed) % 4);
			memset(buf + 2 + WIRE_ID_LEN + 17, 0, 3);
			for (size_t i = WIRE_MSGS_HEAD; i + 4 <= n; i += 4)
				memset(buf + i + 1, 0, 3), buf[i] %= 16;
		}
		if (wire_read_msgs(buf, n, &m)) {
			taken++;
			for (uint32_t i = 0; i < m.count; i++) {
				const unsigned char *msg;
				uint32_t len;

				wire_next_msg(&m, &off, &msg, &len);
				ck_assert(msg + len <= buf + n);
			}
			ck_assert_uint_eq(off, m.body_len);
		}
		wire_read_ack(buf, n, &a);
		if (wire_read_call(buf, n, &c))
			ck_assert(c.data + c.len == buf + n);
	}
	ck_assert_msg(taken > 0, "no random batch was well formed: the test tests nothing");
}
END_TEST

static void fill(struct window *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char *slot = window_slot(w);

		memcpy(slot, "abcd", 4);
		window_add(w, 4);
	}
	window_close(w);
}

START_TEST(window_limit_ack_resend)
{
	struct window w;
	struct batch *b;
	int64_t now = 1000000000;

	window_init(&w, 10, 64);
	ck_assert_uint_eq(window_room(&w), 10);
	fill(&w, 4);
	fill(&w, 6);
	ck_assert_uint_eq(window_room(&w), 0);
	ck_assert_uint_eq(window_unacked(&w), 10);
	/* two batches, both due, in order */
	b = window_due(&w, NULL, now, 1000);
	ck_assert_ptr_nonnull(b);
	ck_assert_uint_eq(b->first, 1);
	ck_assert_uint_eq(b->count, 4);
	b->sent_ns = now;
	b = window_due(&w, NULL, now, 1000);
	ck_assert_uint_eq(b->first, 5);
	b->sent_ns = now;
	ck_assert_ptr_null(window_due(&w, NULL, now, 1000));
	/* not acknowledged in time, not received: due again */
	ck_assert_ptr_nonnull(window_due(&w, NULL, now + 2000, 1000));
	/* received but not put (a full remote mailbox): not resent */
	ck_assert_uint_eq(window_ack(&w, 0, 10), 0);
	ck_assert_ptr_null(window_due(&w, NULL, now + 2000, 1000));
	/* put up to 6: the first batch goes, the second stays */
	ck_assert_uint_eq(window_ack(&w, 6, 10), 6);
	ck_assert_uint_eq(window_unacked(&w), 4);
	ck_assert_uint_eq(window_room(&w), 6);
	ck_assert_uint_eq(w.head->first, 5);
	/* an ack from someone else's numbers changes nothing */
	ck_assert_uint_eq(window_ack(&w, 99, 99), 0);
	ck_assert_uint_eq(window_ack(&w, 3, 10), 0);
	/* a new link: everything unacknowledged is sent again, stamped with the ack */
	window_unsend(&w);
	b = window_due(&w, NULL, now, 1000);
	ck_assert_ptr_nonnull(b);
	window_stamp(&w, b);
	{
		struct wire_msgs m;

		ck_assert(wire_read_msgs(b->buf, b->len, &m));
		ck_assert_uint_eq(m.acked, 6);
		ck_assert_uint_eq(m.first, 5);
		ck_assert_uint_eq(m.count, 6);
	}
	ck_assert_uint_eq(window_ack(&w, 10, 10), 4);
	ck_assert_ptr_null(w.head);
	window_free(&w);
}
END_TEST

START_TEST(window_empty_batch_dropped)
{
	struct window w;

	window_init(&w, 4, 64);
	fill(&w, 2);
	window_slot(&w); /* a get that found nothing */
	window_close(&w);
	ck_assert_ptr_nonnull(w.head);
	ck_assert_ptr_eq(w.head, w.tail);
	ck_assert_uint_eq(w.head->count, 2);
	ck_assert_uint_eq(window_ack(&w, 2, 2), 2);
	ck_assert_ptr_null(w.head);
	ck_assert_ptr_null(w.tail);
	window_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bridge");
	TCase *wire = tcase_create("wire"), *win = tcase_create("window");
	SRunner *sr;
	int failed;

	tcase_add_test(wire, batch_round_trip);
	tcase_add_test(wire, batch_every_cut_refused);
	tcase_add_test(wire, batch_lies_refused);
	tcase_add_test(wire, ack_and_call_round_trip);
	tcase_add_test(wire, random_frames);
	tcase_set_timeout(wire, 60);
	tcase_add_test(win, window_limit_ack_resend);
	tcase_add_test(win, window_empty_batch_dropped);
	suite_add_tcase(s, wire);
	suite_add_tcase(s, win);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
