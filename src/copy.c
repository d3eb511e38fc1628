/*
 * Copying payloads into and out of slots.
 *
 * glibc's memcpy moves a block of about 2 KiB or more with `rep movsb`.
 * On AMD Zen 3 that runs at half the speed or less when the other side of
 * the copy is a slot whose lines another CPU has just written or read,
 * which is every put and get: one process's copy of a 64 KiB buffer is as
 * fast either way, but 4 KiB messages between two processes went from
 * about 2.0 to 5 M/s with glibc's `rep movsb` turned off
 * (GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold; README, Performance).
 * So large copies go through a plain loop of 32-byte moves, in AVX2 where
 * the CPU has it; short ones stay with memcpy.
 */
#include <string.h>

#include "internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
typedef unsigned char v32 __attribute__((vector_size(32)));

/* No loop distribution: gcc would turn the loop back into memcpy. */
#if !defined(__clang__)
__attribute__((target_clones("avx2", "default"), optimize("no-tree-loop-distribute-patterns")))
#endif
void shmbox__copy_large(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	for (; n >= 128; n -= 128, d += 128, s += 128) {
		v32 a, b, c, e;

		memcpy(&a, s, 32);
		memcpy(&b, s + 32, 32);
		memcpy(&c, s + 64, 32);
		memcpy(&e, s + 96, 32);
		memcpy(d, &a, 32);
		memcpy(d + 32, &b, 32);
		memcpy(d + 64, &c, 32);
		memcpy(d + 96, &e, 32);
	}
	memcpy(d, s, n);
}
#else
void shmbox__copy_large(void *restrict dst, const void *restrict src, size_t n)
{
	memcpy(dst, src, n);
}
#endif
