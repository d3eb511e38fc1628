#include <stdint.h>
#include <string.h>

#include "corrupt.h"
#include "layout.h"

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Values that hit the protocol's edges more often than random bytes do. */
static uint64_t nasty(uint64_t r, uint64_t pick)
{
	static const uint64_t edges[] = {0, 1, 2, 3, 4, 5, 0xff, 0xffff, 0xffffffff, UINT64_MAX,
					 (uint64_t)1 << 24, ((uint64_t)1 << 24) | 3,
					 ((uint64_t)1 << 24) | 0x104, ((uint64_t)2 << 24) | 1};

	return pick % 3 ? edges[r % (sizeof(edges) / sizeof(edges[0]))] : r;
}

void corrupt_segment(unsigned char *seg, size_t size, unsigned seed)
{
	uint64_t s = 0x9e3779b97f4a7c15ull ^ seed, n = 1 + next(&s) % 4, i;
	/* The live parts: the whole header, then the rest of the segment. */
	size_t hot = sizeof(struct shmbox__header) + 4 * sizeof(struct shmbox__proc) + 256;

	for (i = 0; i < n; i++) {
		uint64_t v = nasty(next(&s), next(&s));
		size_t width = (size_t)1 << (next(&s) % 4); /* 1, 2, 4 or 8 bytes */
		size_t off = next(&s) % 2 ? next(&s) % (hot < size ? hot : size) : next(&s) % size;

		off &= ~(width - 1);
		if (off + width > size)
			continue;
		memcpy(seg + off, &v, width); /* little-endian: the low bytes */
	}
}

void corrupt_segment_with(unsigned char *seg, size_t size, const unsigned char *data, size_t len)
{
	size_t i;

	/* Each 10 bytes: a 2-byte offset (scaled to the segment) and 8 bytes. */
	for (i = 0; i + 10 <= len; i += 10) {
		size_t off = ((size_t)data[i] | (size_t)data[i + 1] << 8) * size / 65536;

		off &= ~(size_t)7;
		if (off + 8 <= size)
			memcpy(seg + off, data + i + 2, 8);
	}
}
