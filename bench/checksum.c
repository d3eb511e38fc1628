/*
 * shmbox-bench: the receivers' checksum of every payload.
 *
 * It runs once per message in every transport's receiver, so its cost is
 * added to every figure alike; a slow check would hide the differences the
 * benchmark is there to show.  It is a Fletcher-style sum over 64-bit
 * words in eight lanes (two 32-byte vectors): it sees every byte and where
 * each word is.  The AVX2 build of it is chosen at load time where the CPU
 * has AVX2 (gcc's target_clones); both builds compute the same value.
 */
#include <stdint.h>
#include <string.h>

#include "measure.h"

typedef uint64_t v4u64 __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
uint64_t payload_sum(const void *p, size_t n)
{
	const unsigned char *s = p;
	v4u64 a0 = {1, 2, 3, 4}, a1 = {5, 6, 7, 8}, b0 = {0, 0, 0, 0}, b1 = {0, 0, 0, 0};
	uint64_t r = 0;
	size_t i = 0;

	for (; i + 64 <= n; i += 64) {
		v4u64 w0, w1;

		memcpy(&w0, s + i, 32);
		memcpy(&w1, s + i + 32, 32);
		a0 += w0;
		a1 += w1;
		b0 += a0;
		b1 += a1;
	}
	if (i + 32 <= n) { /* a 64 B message has 32 B of payload: keep it short */
		v4u64 w;

		memcpy(&w, s + i, 32);
		a0 += w;
		b0 += a0;
		i += 32;
	}
	/* Lanes folded with distinct small factors: independent multiplies,
	 * not a chain, so a short message's check stays short. */
	r = a0[0] + 3 * a0[1] + 5 * a0[2] + 7 * a0[3] + 9 * a1[0] + 11 * a1[1] + 13 * a1[2] +
	    15 * a1[3];
	r ^= (b0[0] + 17 * b0[1] + 19 * b0[2] + 23 * b0[3] + 29 * b1[0] + 31 * b1[1] +
	      37 * b1[2] + 41 * b1[3]) *
	     0x9e3779b97f4a7c15ull;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, s + i, 8);
		r = (r ^ w) * 0x100000001b3ull;
	}
	for (; i < n; i++)
		r = (r ^ s[i]) * 0x100000001b3ull;
	return r ^ n;
}
