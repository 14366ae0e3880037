// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: CRC-64/NVME: check values, the CLMUL and table paths against
 * each other and against a bit-at-a-time reference.
 */
#include <stdlib.h>

#include "unit.h"

/* One bit at a time, straight from the definition. */
static uint64_t crc_ref(const unsigned char *p, size_t n)
{
	uint64_t c = ~0ULL;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x9A6C9329AC4BC9B5ULL : 0);
	}
	return ~c;
}

static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void check_value(void)
{
	char b64[16];

	CHECK_U64(azblob_crc64(0, "123456789", 9), 0xAE8B14860A799888ULL);
	CHECK_U64(azblob_crc64(0, "", 0), 0);
	CHECK_U64(crc_ref((const unsigned char *)"123456789", 9),
		  0xAE8B14860A799888ULL);
	azb_crc64_base64(0xAE8B14860A799888ULL, b64);
	CHECK_STR(b64, "iJh5CoYUi64=");
}

static void incremental(void)
{
	unsigned char buf[5000];
	uint64_t whole, part;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rnd();
	whole = azblob_crc64(0, buf, sizeof(buf));
	for (size_t cut = 0; cut <= sizeof(buf); cut += 97) {
		part = azblob_crc64(0, buf, cut);
		part = azblob_crc64(part, buf + cut, sizeof(buf) - cut);
		CHECK_U64(part, whole);
	}
	CHECK_U64(whole, crc_ref(buf, sizeof(buf)));
}

static void constants(void)
{
	static const unsigned int pw[4] = { 1087, 1023, 191, 127 };

	for (int i = 0; i < 4; i++)
		CHECK_U64(azb_crc64_clmul_k[i], azb_crc64_xpow(pw[i]));
	/* x^0 is bit 63 in the reflected form; x^64 mod G is the poly. */
	CHECK_U64(azb_crc64_xpow(0), 1ULL << 63);
	CHECK_U64(azb_crc64_xpow(64), 0x9A6C9329AC4BC9B5ULL);
}

/* CLMUL against the table on random lengths and alignments. */
static void clmul_vs_table(void)
{
	size_t cap = (1 << 20) + 64;
	unsigned char *buf = malloc(cap);
	int mismatches = 0;

	if (!buf) {
		CHECK(buf);
		return;
	}
	for (size_t i = 0; i < cap; i++)
		buf[i] = (unsigned char)rnd();
	printf("# CLMUL %s on this CPU\n", azb_crc64_have_clmul() ?
	       "available" : "NOT available (table path twice)");
	for (size_t n = 0; n < 1100; n++)
		for (size_t off = 0; off < 16; off += (n < 300 ? 1 : 5)) {
			uint64_t seed = rnd();

			if (azb_crc64_raw_table(seed, buf + off, n) !=
			    azb_crc64_raw_clmul(seed, buf + off, n))
				mismatches++;
		}
	for (int i = 0; i < 300; i++) {
		size_t n = rnd() % (cap - 64), off = rnd() % 64;
		uint64_t seed = rnd();

		if (azb_crc64_raw_table(seed, buf + off, n) !=
		    azb_crc64_raw_clmul(seed, buf + off, n))
			mismatches++;
	}
	CHECK(mismatches == 0);
	/* And the public entry point against the reference. */
	for (size_t n = 0; n < 600; n += 7)
		CHECK_U64(azblob_crc64(0, buf + 3, n), crc_ref(buf + 3, n));
	CHECK_U64(azblob_crc64(0, buf, cap), crc_ref(buf, cap));
	free(buf);
}

void unit_crc(void)
{
	t_run("crc64: check value 123456789 and base64", check_value);
	t_run("crc64: incremental equals one pass", incremental);
	t_run("crc64: folding constants", constants);
	t_run("crc64: clmul vs table, random lengths and alignments",
	      clmul_vs_table);
}
