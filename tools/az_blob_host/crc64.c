// SPDX-License-Identifier: GPL-2.0
/*
 * CRC-64/NVME, slicing by 8: eight 256-entry tables built once, eight bytes
 * per step. Request buffers are small, but the same code checks the CRC of
 * bodies in the tests, where speed matters.
 */
#include <pthread.h>

#include "crc64.h"

/* The reflected polynomial. */
#define AZ_CRC64_POLY	0x9A6C9329AC4BC9B5ULL

static uint64_t crc64_table[8][256];
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init(void)
{
	for (unsigned int i = 0; i < 256; i++) {
		uint64_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? AZ_CRC64_POLY : 0);
		crc64_table[0][i] = c;
	}
	for (unsigned int i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc64_table[t][i] = (crc64_table[t - 1][i] >> 8) ^
				crc64_table[0][crc64_table[t - 1][i] & 0xff];
}

uint64_t az_crc64(uint64_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	pthread_once(&crc64_once, crc64_init);
	crc = ~crc;
	while (len >= 8) {
		uint64_t w;

		/* Little-endian load, whatever the alignment. */
		w = (uint64_t)p[0] | (uint64_t)p[1] << 8 |
		    (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
		    (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
		    (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
		crc ^= w;
		crc = crc64_table[7][crc & 0xff] ^
		      crc64_table[6][(crc >> 8) & 0xff] ^
		      crc64_table[5][(crc >> 16) & 0xff] ^
		      crc64_table[4][(crc >> 24) & 0xff] ^
		      crc64_table[3][(crc >> 32) & 0xff] ^
		      crc64_table[2][(crc >> 40) & 0xff] ^
		      crc64_table[1][(crc >> 48) & 0xff] ^
		      crc64_table[0][crc >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc64_table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
