/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few OpenSSL calls tools/az_blob_host/tests/blob_client.c makes, for
 * the static guest program az_blob_blob: SHA-256, HMAC-SHA-256 and base64,
 * implemented in ../../sha256.c. Debian's libcrypto.a links statically
 * only with glibc's "dlopen/getaddrinfo in statically linked applications"
 * warnings (its DSO and BIO code), so the guest program carries its own.
 * Build with CRYPTO=openssl to link libcrypto.a instead.
 */
#ifndef AZ_BLOB_BLOB_OSSL_EVP_H
#define AZ_BLOB_BLOB_OSSL_EVP_H

#include <stddef.h>

#define EVP_MAX_MD_SIZE	64

typedef struct az_evp_md EVP_MD;
typedef struct az_evp_md_ctx EVP_MD_CTX;
typedef struct az_engine ENGINE;

const EVP_MD *EVP_sha256(void);
EVP_MD_CTX *EVP_MD_CTX_new(void);
void EVP_MD_CTX_free(EVP_MD_CTX *ctx);
int EVP_DigestInit_ex(EVP_MD_CTX *ctx, const EVP_MD *md, ENGINE *e);
int EVP_DigestUpdate(EVP_MD_CTX *ctx, const void *p, size_t n);
int EVP_DigestFinal_ex(EVP_MD_CTX *ctx, unsigned char *md, unsigned int *n);

/* As OpenSSL's: NUL-terminated output, padding decoded as zero bytes. */
int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
int EVP_DecodeBlock(unsigned char *t, const unsigned char *f, int n);

#endif /* AZ_BLOB_BLOB_OSSL_EVP_H */
