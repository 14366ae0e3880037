// SPDX-License-Identifier: GPL-2.0
/*
 * Known answers for the crypto the SharedKey signature needs (SHA-256,
 * HMAC-SHA-256, base64), whichever implementation is linked: sha256.c's
 * (the default) or libcrypto's (CRYPTO=openssl).
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "blob.h"

static void hex(const unsigned char *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

int blob_crypto_selftest(char *why, size_t why_len)
{
	static const struct {
		const char *key, *msg, *want;
	} hm[] = {
		/* RFC 4231, test cases 2 and 6 (a key longer than a block) */
		{ "Jefe", "what do ya want for nothing?",
		  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
		{ NULL, "Test Using Larger Than Block-Size Key - Hash Key First",
		  "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	};
	static const struct {
		size_t reps;
		const char *msg, *want;
	} sh[] = {
		/* FIPS 180-2 appendix B */
		{ 1, "abc",
		  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ 1, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ 1000000, "a",
		  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
		{ 1, "",
		  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	};
	unsigned char md[32], key[131], enc[64], dec[64];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	char got[65];
	unsigned int n;
	int len;

	for (size_t i = 0; i < sizeof(sh) / sizeof(sh[0]); i++) {
		EVP_DigestInit_ex(c, EVP_sha256(), NULL);
		/* One byte at a time for the million: every buffering path. */
		for (size_t r = 0; r < sh[i].reps; r++)
			EVP_DigestUpdate(c, sh[i].msg, strlen(sh[i].msg));
		EVP_DigestFinal_ex(c, md, &n);
		hex(md, 32, got);
		if (strcmp(got, sh[i].want)) {
			snprintf(why, why_len, "SHA-256 vector %zu: %s", i, got);
			EVP_MD_CTX_free(c);
			return -1;
		}
	}
	EVP_MD_CTX_free(c);
	SHA256((const unsigned char *)"abc", 3, md);
	hex(md, 32, got);
	if (strcmp(got, sh[0].want)) {
		snprintf(why, why_len, "SHA256() of abc: %s", got);
		return -1;
	}
	memset(key, 0xaa, sizeof(key));
	for (size_t i = 0; i < sizeof(hm) / sizeof(hm[0]); i++) {
		const void *k = hm[i].key ? (const void *)hm[i].key : key;
		int kl = hm[i].key ? (int)strlen(hm[i].key) : (int)sizeof(key);

		HMAC(EVP_sha256(), k, kl, (const unsigned char *)hm[i].msg,
		     strlen(hm[i].msg), md, &n);
		hex(md, 32, got);
		if (n != 32 || strcmp(got, hm[i].want)) {
			snprintf(why, why_len, "HMAC-SHA-256 vector %zu: %s", i,
				 got);
			return -1;
		}
	}
	/* RFC 4648 section 10, and the decode of padding as OpenSSL does. */
	EVP_EncodeBlock(enc, (const unsigned char *)"foobar", 6);
	if (strcmp((char *)enc, "Zm9vYmFy")) {
		snprintf(why, why_len, "base64 of foobar: %s", enc);
		return -1;
	}
	EVP_EncodeBlock(enc, (const unsigned char *)"fooba", 5);
	if (strcmp((char *)enc, "Zm9vYmE=")) {
		snprintf(why, why_len, "base64 of fooba: %s", enc);
		return -1;
	}
	len = EVP_DecodeBlock(dec, (const unsigned char *)"Zm9vYg==", 8);
	if (len != 6 || memcmp(dec, "foob\0\0", 6)) {
		snprintf(why, why_len, "base64 decode of Zm9vYg==: %d", len);
		return -1;
	}
	return 0;
}
