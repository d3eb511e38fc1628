/*
 * Copying payloads into and out of slots.
 *
 * glibc's memcpy moves a block of about 2 KiB or more with `rep movsb`.
 * On AMD Zen 3 that runs much slower when the slot's lines were last
 * written or read by another CPU, which is every put (the slot is the
 * destination) and every get (the slot is the source); within one process
 * it is as fast as vector moves.  Turning it off
 * (GLIBC_TUNABLES=glibc.cpu.x86_rep_movsb_threshold) showed the cost; the
 * runs are in bench/README.md.  So on a CPU with AVX2, payloads of SHMBOX__COPY_LOOP_MIN (256) bytes and
 * more go through a loop of 32-byte moves.  256 is the lowest glibc's own
 * threshold can be tuned to, so no slot copy that glibc might do with
 * `rep movsb` is left to it.  Shorter ones, other CPUs and other
 * architectures use memcpy.
 */
#include <string.h>

#include "copy.h"

#if defined(__x86_64__) && defined(__GNUC__)
typedef unsigned char v32 __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) void move128(unsigned char *d, const unsigned char *s)
{
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

/* n >= 128: blocks of 128 bytes, then the last 128 bytes, overlapping the
 * blocks already copied, instead of a tail that memcpy would do by
 * `rep movsq`.  The empty asm keeps the compiler from turning the loop
 * back into a call to memcpy. */
__attribute__((target("avx2"))) static void copy_avx2(unsigned char *restrict d,
						      const unsigned char *restrict s, size_t n)
{
	size_t i;

	for (i = 0; i + 128 < n; i += 128) {
		move128(d + i, s + i);
		__asm__("" : "+r"(i));
	}
	move128(d + n - 128, s + n - 128);
}

void shmbox__copy_large(void *restrict dst, const void *restrict src, size_t n)
{
	if (__builtin_cpu_supports("avx2"))
		copy_avx2(dst, src, n);
	else
		memcpy(dst, src, n);
}
#else
void shmbox__copy_large(void *restrict dst, const void *restrict src, size_t n)
{
	memcpy(dst, src, n);
}
#endif
