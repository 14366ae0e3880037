/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What upload.c, blocks.c and download.c share.
 */
#ifndef AZB_TRANSFER_H
#define AZB_TRANSFER_H

#include "azb.h"

/* Block ids: 24 bytes ("<15 hex nonce>-<8 digits>"), 32 in base64. */
#define AZB_BLOCK_ID_B64	33

void azb_block_id(const char *nonce, uint32_t index, char out[AZB_BLOCK_ID_B64]);

/* Checksum headers of a body: x-ms-content-crc64 or Content-MD5. */
void azb_add_checksum(struct azb_req *r, enum azblob_checksum ck,
		      const void *p, size_t n);
/* base64 MD5 of @p into @out (25 bytes). */
void azb_md5_base64(const void *p, size_t n, char out[32]);

/* Put Block List of blocks 0..@n-1 of @nonce, with @opts' properties. */
int azb_commit_blocks(struct azblob_ctx *ctx, const char *container,
		      const char *blob, const char *nonce, uint32_t n,
		      const azblob_opts *opts, const char *blob_md5,
		      azblob_error *err);

/*
 * Discard the uncommitted blocks a failed upload left (see
 * azblob_upload_stream() in azblob.h). Returns 0 when none are left.
 */
int azb_discard_uncommitted(struct azblob_ctx *ctx, const char *container,
			    const char *blob);

/* Internal: the number of uncommitted blocks of a blob (tests). */
int azb_count_uncommitted(struct azblob_ctx *ctx, const char *container,
			  const char *blob, size_t *n, azblob_error *err);

#endif /* AZB_TRANSFER_H */
