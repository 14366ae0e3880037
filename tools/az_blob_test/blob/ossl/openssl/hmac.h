/* SPDX-License-Identifier: GPL-2.0 */
/* HMAC() of the OpenSSL stand-in (see evp.h); SHA-256 only. */
#ifndef AZ_BLOB_BLOB_OSSL_HMAC_H
#define AZ_BLOB_BLOB_OSSL_HMAC_H

#include <openssl/evp.h>

unsigned char *HMAC(const EVP_MD *md, const void *key, int key_len,
		    const unsigned char *d, size_t n, unsigned char *out,
		    unsigned int *out_len);

#endif /* AZ_BLOB_BLOB_OSSL_HMAC_H */
