// SPDX-License-Identifier: GPL-2.0
/*
 * SHA-256 (FIPS 180-4), HMAC-SHA-256 (RFC 2104) and base64 (RFC 4648)
 * behind the OpenSSL names that blob_client.c calls (ossl/openssl/),
 * so that the static guest program needs no libcrypto.a. Checked against
 * the standards' vectors by selftest.c ("az_blob_blob selftest", run by
 * "make check" and by the suite).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct az_evp_md {
	int unused;
};

struct az_evp_md_ctx {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t fill;
};

static const uint32_t k256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, int n)
{
	return x >> n | x << (32 - n);
}

static void sha256_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^
			      w[i - 15] >> 3;
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^
			      w[i - 2] >> 10;

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3];
	e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
			      ((e & f) ^ (~e & g)) + k256[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
			      ((a & b) ^ (a & c) ^ (b & c));

		hh = g; g = f; f = e; e = d + t1;
		d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d;
	h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha256_init(EVP_MD_CTX *c)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	memcpy(c->h, iv, sizeof(iv));
	c->bytes = 0;
	c->fill = 0;
}

static void sha256_update(EVP_MD_CTX *c, const void *data, size_t n)
{
	const unsigned char *p = data;

	c->bytes += n;
	if (c->fill) {
		size_t k = 64 - c->fill < n ? 64 - c->fill : n;

		memcpy(c->block + c->fill, p, k);
		c->fill += k;
		p += k;
		n -= k;
		if (c->fill < 64)
			return;
		sha256_block(c->h, c->block);
		c->fill = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		sha256_block(c->h, p);
	memcpy(c->block, p, n);
	c->fill = n;
}

static void sha256_final(EVP_MD_CTX *c, unsigned char md[32])
{
	uint64_t bits = c->bytes * 8;
	unsigned char pad[72] = { 0x80 };
	size_t padlen = (c->fill < 56 ? 56 : 120) - c->fill;
	int i;

	for (i = 0; i < 8; i++)
		pad[padlen + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha256_update(c, pad, padlen + 8);
	for (i = 0; i < 8; i++) {
		md[4 * i] = (unsigned char)(c->h[i] >> 24);
		md[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		md[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		md[4 * i + 3] = (unsigned char)c->h[i];
	}
}

const EVP_MD *EVP_sha256(void)
{
	static const struct az_evp_md sha256_md;

	return &sha256_md;
}

EVP_MD_CTX *EVP_MD_CTX_new(void)
{
	return calloc(1, sizeof(EVP_MD_CTX));
}

void EVP_MD_CTX_free(EVP_MD_CTX *ctx)
{
	free(ctx);
}

int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *md, ENGINE *e)
{
	(void)md;
	(void)e;
	sha256_init(ctx);
	return 1;
}

int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *p, size_t n)
{
	sha256_update(ctx, p, n);
	return 1;
}

int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *n)
{
	sha256_final(ctx, md);
	if (n)
		*n = 32;
	return 1;
}

unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md)
{
	EVP_MD_CTX c;

	sha256_init(&c);
	sha256_update(&c, d, n);
	sha256_final(&c, md);
	return md;
}

unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len,
		    const unsigned char *d, size_t n, unsigned char *out,
		    unsigned int *out_len)
{
	unsigned char k[64] = { 0 }, pad[64], inner[32];
	EVP_MD_CTX c;
	int i;

	(void)md;
	if (key_len > 64)
		SHA256(key, (size_t)key_len, k);
	else if (key_len > 0)
		memcpy(k, key, (size_t)key_len);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_init(&c);
	sha256_update(&c, pad, 64);
	sha256_update(&c, d, n);
	sha256_final(&c, inner);
	for (i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_init(&c);
	sha256_update(&c, pad, 64);
	sha256_update(&c, inner, 32);
	sha256_final(&c, out);
	if (out_len)
		*out_len = 32;
	return out;
}

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n)
{
	int o = 0;

	for (int i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)f[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)f[i + 1] << 8;
		if (i + 2 < n)
			v |= f[i + 2];
		t[o++] = (unsigned char)b64_chars[v >> 18 & 63];
		t[o++] = (unsigned char)b64_chars[v >> 12 & 63];
		t[o++] = i + 1 < n ? (unsigned char)b64_chars[v >> 6 & 63] : '=';
		t[o++] = i + 2 < n ? (unsigned char)b64_chars[v & 63] : '=';
	}
	t[o] = '\0';
	return o;
}

static int b64_value(unsigned char c)
{
	const char *p = c ? strchr(b64_chars, c) : NULL;

	return p ? (int)(p - b64_chars) : -1;
}

int EVP_DecodeBlock(unsigned char *t, const unsigned char *f, int n)
{
	int o = 0;

	/* OpenSSL trims surrounding whitespace; our inputs have none. */
	if (n % 4)
		return -1;
	for (int i = 0; i < n; i += 4) {
		uint32_t v = 0;

		for (int j = 0; j < 4; j++) {
			int x = f[i + j] == '=' && i + 4 == n && j >= 2 ? 0 :
				b64_value(f[i + j]);

			if (x < 0)
				return -1;
			v = v << 6 | (uint32_t)x;
		}
		t[o++] = (unsigned char)(v >> 16);
		t[o++] = (unsigned char)(v >> 8);
		t[o++] = (unsigned char)v;
	}
	return o;
}
