/* SPDX-License-Identifier: GPL-2.0 */
/* SHA256() of the OpenSSL stand-in (see evp.h). */
#ifndef AZ_BLOB_BLOB_OSSL_SHA_H
#define AZ_BLOB_BLOB_OSSL_SHA_H

#include <stddef.h>

#define SHA256_DIGEST_LENGTH	32

unsigned char *SHA256(const unsigned char *d, size_t n, unsigned char *md);

#endif /* AZ_BLOB_BLOB_OSSL_SHA_H */
