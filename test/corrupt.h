/* Deterministic corruption of a mailbox segment, shared by the corpus test
 * and the fuzz harness: what to overwrite is chosen by a seed. */
#ifndef TEST_CORRUPT_H
#define TEST_CORRUPT_H

#include <stddef.h>

/* Overwrite a few fields of the segment (header, positions, slot words,
 * lengths, reply slots) with values drawn from `seed`. */
void corrupt_segment(unsigned char *seg, size_t size, unsigned seed);
/* The same, with the overwrites taken from `data` (for a fuzzer). */
void corrupt_segment_with(unsigned char *seg, size_t size, const unsigned char *data,
			  size_t len);

#endif
