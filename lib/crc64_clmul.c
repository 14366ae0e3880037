// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CRC-64/NVME by carry-less multiplication (PCLMULQDQ), after Intel's
 * "Fast CRC Computation for Generic Polynomials Using PCLMULQDQ" (2009),
 * reflected form, with the final reduction left to the tables.
 *
 * In the reflected form a 128-bit lane holds a polynomial of degree < 128
 * with bit m the coefficient of x^(127 - m), so that 16 message bytes load
 * as they are (little-endian). Write a lane as A x^64 + B, A its low
 * quadword. Folding it forward over F bits of message replaces A x^(F+64)
 * + B x^F by A (x^(F+63) mod G) + B (x^(F-1) mod G) computed with
 * PCLMULQDQ: the reflected product of two 64-bit values lands one bit
 * lower than the polynomial product, which the "- 1" in the exponents
 * makes up for. Eight lanes fold 128 bytes per step; the lanes are then
 * folded into one, 16-byte blocks follow one by one, and what remains (the
 * last lane's 16 bytes, then fewer than 16 message bytes) goes through the
 * table code with a zero CRC, which gives exactly lane * x^64 mod G.
 *
 * Built only for x86-64 (AZB_HAVE_CLMUL); the functions carry their own
 * target attribute, so the rest of the library needs no -mpclmul, and
 * crc64.c calls them only when the CPU has the instructions.
 */
#include <immintrin.h>
#include <string.h>

#include "azb.h"

#define TARGET __attribute__((target("pclmul,sse4.1")))

TARGET static inline __m128i fold(__m128i x, __m128i k)
{
	return _mm_xor_si128(_mm_clmulepi64_si128(x, k, 0x00),
			     _mm_clmulepi64_si128(x, k, 0x11));
}

TARGET static inline __m128i load(const unsigned char *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/*
 * The pairs of constants that fold a lane over 1024 and 128 bits of
 * message: {x^(F+63) mod G, x^(F-1) mod G}, reflected. The unit tests
 * check them against azb_crc64_xpow().
 */
#define K1024_LO	0xa1ca681e733f9c40ULL	/* x^1087 */
#define K1024_HI	0x5f852fb61e8d92dcULL	/* x^1023 */
#define K128_LO		0xeadc41fd2ba3d420ULL	/* x^191 */
#define K128_HI		0x21e9761e252621acULL	/* x^127 */

const uint64_t azb_crc64_clmul_k[4] = { K1024_LO, K1024_HI, K128_LO, K128_HI };

TARGET uint64_t azb_crc64_raw_clmul(uint64_t crc, const unsigned char *p,
				    size_t n)
{
	unsigned char tail[16];
	__m128i x[8], k1024, k128, acc;

	if (n < 128)
		return azb_crc64_raw_table(crc, p, n);
	k1024 = _mm_set_epi64x((long long)K1024_HI, (long long)K1024_LO);
	k128 = _mm_set_epi64x((long long)K128_HI, (long long)K128_LO);
	for (int i = 0; i < 8; i++)
		x[i] = load(p + 16 * i);
	x[0] = _mm_xor_si128(x[0], _mm_cvtsi64_si128((long long)crc));
	p += 128;
	n -= 128;
	while (n >= 128) {
		for (int i = 0; i < 8; i++)
			x[i] = _mm_xor_si128(fold(x[i], k1024),
					     load(p + 16 * i));
		p += 128;
		n -= 128;
	}
	acc = x[0];
	for (int i = 1; i < 8; i++)
		acc = _mm_xor_si128(fold(acc, k128), x[i]);
	while (n >= 16) {
		acc = _mm_xor_si128(fold(acc, k128), load(p));
		p += 16;
		n -= 16;
	}
	_mm_storeu_si128((__m128i *)(void *)tail, acc);
	crc = azb_crc64_raw_table(0, tail, 16);
	return azb_crc64_raw_table(crc, p, n);
}
