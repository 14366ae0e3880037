// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CRC-64/NVME, the CRC of Azure Storage's x-ms-content-crc64: reflected
 * polynomial 0x9A6C9329AC4BC9B5 (normal form 0xAD93D23594C93659), initial
 * value and final XOR all ones; "123456789" gives 0xAE8B14860A799888.
 *
 * Two implementations of the same raw update: slicing-by-8 tables (eight
 * bytes per step, any CPU) and carry-less multiplication (crc64_clmul.c,
 * x86-64 with PCLMULQDQ), chosen once per process from the CPU's features.
 * The tables and the choice are computed once (pthread_once) and then only
 * read: the library's only process-wide state besides libcurl's.
 *
 * The host VSP (tools/az_blob_host) builds this file and crc64_clmul.c
 * into itself for the CRC of its request and response buffers, so they
 * use nothing else of the library (azb_crc64_base64() is in util.c).
 */
#include <pthread.h>
#include <string.h>

#include "azb.h"

#define CRC64_POLY	0x9A6C9329AC4BC9B5ULL

static uint64_t crc64_table[8][256];
static bool crc64_clmul_ok;
static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static void crc64_init(void)
{
	for (unsigned int i = 0; i < 256; i++) {
		uint64_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? CRC64_POLY : 0);
		crc64_table[0][i] = c;
	}
	for (unsigned int i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc64_table[t][i] = (crc64_table[t - 1][i] >> 8) ^
				crc64_table[0][crc64_table[t - 1][i] & 0xff];
#if defined(__x86_64__) && defined(AZB_HAVE_CLMUL)
	__builtin_cpu_init();
	crc64_clmul_ok = __builtin_cpu_supports("pclmul") &&
			 __builtin_cpu_supports("sse4.1");
#endif
}

uint64_t azb_crc64_xpow(unsigned int n)
{
	/* Reflected: bit i is the coefficient of x^(63 - i); x^0 is bit 63. */
	uint64_t r = 1ULL << 63;

	while (n--)
		r = (r >> 1) ^ ((r & 1) ? CRC64_POLY : 0);
	return r;
}

bool azb_crc64_have_clmul(void)
{
	pthread_once(&crc64_once, crc64_init);
	return crc64_clmul_ok;
}

uint64_t azb_crc64_raw_table(uint64_t crc, const unsigned char *p, size_t n)
{
	pthread_once(&crc64_once, crc64_init);
	while (n >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
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
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ crc64_table[0][(crc ^ *p++) & 0xff];
	return crc;
}

#if !defined(__x86_64__) || !defined(AZB_HAVE_CLMUL)
uint64_t azb_crc64_raw_clmul(uint64_t crc, const unsigned char *p, size_t n)
{
	return azb_crc64_raw_table(crc, p, n);
}
#endif

AZB_EXPORT uint64_t azblob_crc64(uint64_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (len >= 128 && azb_crc64_have_clmul())
		return ~azb_crc64_raw_clmul(~crc, p, len);
	return ~azb_crc64_raw_table(~crc, p, len);
}
