// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Block lists: committing an upload's blocks, and discarding the blocks of
 * an upload that failed.
 *
 * Azure keeps staged but uncommitted blocks with the blob until the next
 * Put Block List or Put Blob to it, or for a week; a failed upload must
 * not leave them (they count against the blob and can make the next
 * writer's block ids clash in length). Discarding takes a commit:
 *
 * - the blob does not exist: commit an empty block list with
 *   If-None-Match: * (so that a blob someone else created meanwhile is
 *   left alone), which discards every uncommitted block, then delete the
 *   empty blob with If-Match: its ETag;
 * - the blob exists and is made of committed blocks: commit the same list
 *   again, with its properties and metadata, If-Match: its ETag. The
 *   content stays; the uncommitted blocks go. (Its ETag and time change.)
 * - otherwise (it was written in one Put Blob and has no blocks to commit
 *   again, or it changed meanwhile, or the service cannot be reached) the
 *   blocks stay until the next write or the service's clean-up; our ids
 *   carry a random nonce, so no later upload commits them by mistake.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transfer.h"

void azb_block_id(const char *nonce, uint32_t index,
		  char out[AZB_BLOCK_ID_B64])
{
	char raw[32];

	snprintf(raw, sizeof(raw), "%.15s-%08u", nonce, index);
	azb_base64_encode(raw, 24, out);
}

void azb_md5_base64(const void *p, size_t n, char out[32])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	EVP_Digest(p, n, md, &mdlen, EVP_md5(), NULL);
	azb_base64_encode(md, mdlen, out);
}

void azb_add_checksum(struct azb_req *r, enum azblob_checksum ck,
		      const void *p, size_t n)
{
	char b64[32];

	if (ck == AZBLOB_CHECKSUM_CRC64) {
		azb_crc64_base64(azblob_crc64(0, p, n), b64);
		azb_hdrs_add(&r->hdrs, "x-ms-content-crc64", b64);
	} else if (ck == AZBLOB_CHECKSUM_MD5) {
		azb_md5_base64(p, n, b64);
		azb_hdrs_add(&r->hdrs, "Content-MD5", b64);
	}
}

static int put_list(struct azblob_ctx *ctx, const char *container,
		    const char *blob, struct azb_buf *xml,
		    const struct azblob_props *props, const char *if_match,
		    bool if_none, struct azb_resp *resp, azblob_error *err)
{
	struct azb_buf q = { 0 };
	struct azb_req r;
	int rc;

	azb_query_add(&q, "comp", "blocklist");
	rc = azb_blob_req(ctx, &r, AZB_PUT, container, blob, &q, err);
	if (rc)
		return rc;
	if (xml->oom) {
		azb_req_free(&r);
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	}
	r.body = xml->p;
	r.body_len = xml->len;
	if (props) {
		static const struct {
			const char *hdr;
			size_t off;
		} map[] = {
			{ "x-ms-blob-content-type",
			  offsetof(struct azblob_props, content_type) },
			{ "x-ms-blob-content-md5",
			  offsetof(struct azblob_props, content_md5) },
			{ "x-ms-blob-content-encoding",
			  offsetof(struct azblob_props, content_encoding) },
			{ "x-ms-blob-content-language",
			  offsetof(struct azblob_props, content_language) },
			{ "x-ms-blob-content-disposition",
			  offsetof(struct azblob_props, content_disposition) },
			{ "x-ms-blob-cache-control",
			  offsetof(struct azblob_props, cache_control) },
		};

		for (size_t i = 0; i < AZB_ARRAY_SIZE(map); i++) {
			const char *v = *(char *const *)((const char *)props +
							 map[i].off);

			if (v)
				azb_hdrs_add(&r.hdrs, map[i].hdr, v);
		}
		azb_add_meta_headers(&r, props->meta, props->nmeta);
	}
	if (if_match)
		azb_hdrs_add(&r.hdrs, "If-Match", if_match);
	if (if_none) {
		azb_hdrs_add(&r.hdrs, "If-None-Match", "*");
		r.flags &= ~AZB_REQ_IDEMPOTENT;
	}
	azb_add_checksum(&r, ctx->checksum, r.body, r.body_len);
	rc = azb_exec(ctx, &r, resp, err);
	azb_req_free(&r);
	return rc;
}

int azb_commit_blocks(struct azblob_ctx *ctx, const char *container,
		      const char *blob, const char *nonce, uint32_t n,
		      const azblob_opts *opts, const char *blob_md5,
		      azblob_error *err)
{
	struct azblob_props props = { 0 };
	struct azb_buf xml = { 0 };
	struct azb_resp resp = { 0 };
	char id[AZB_BLOCK_ID_B64];
	int rc;

	if (azb_buf_reserve(&xml, 64 + (size_t)n * (AZB_BLOCK_ID_B64 + 17)))
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	azb_buf_adds(&xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	for (uint32_t i = 0; i < n; i++) {
		azb_block_id(nonce, i, id);
		azb_buf_adds(&xml, "<Latest>");
		azb_buf_adds(&xml, id);
		azb_buf_adds(&xml, "</Latest>");
	}
	azb_buf_adds(&xml, "</BlockList>");
	/* Borrowed, not owned: props is never cleared. */
	props.content_type = opts ? opts->content_type : NULL;
	props.content_md5 = (char *)(uintptr_t)blob_md5;
	props.meta = opts ? opts->meta : NULL;
	props.nmeta = opts ? opts->nmeta : 0;
	rc = put_list(ctx, container, blob, &xml, &props, NULL,
		      opts && opts->no_overwrite, &resp, err);
	azb_resp_free(&resp);
	azb_buf_free(&xml);
	return rc;
}

static int get_block_list(struct azblob_ctx *ctx, const char *container,
			  const char *blob, const char *type,
			  struct azb_block **blocks, size_t *n,
			  size_t *n_uncommitted, azblob_error *err)
{
	struct azb_buf q = { 0 };
	struct azb_req r;
	struct azb_resp resp = { 0 };
	int rc;

	azb_query_add(&q, "comp", "blocklist");
	azb_query_add(&q, "blocklisttype", type);
	rc = azb_blob_req(ctx, &r, AZB_GET, container, blob, &q, err);
	if (rc)
		return rc;
	r.body_max = AZB_MAX_SMALL_BODY;
	rc = azb_exec(ctx, &r, &resp, err);
	azb_req_free(&r);
	if (!rc)
		rc = azb_xml_parse_block_list(resp.body.p ? resp.body.p : "",
					      resp.body.len, blocks, n,
					      n_uncommitted, err);
	azb_resp_free(&resp);
	return rc;
}

static void free_blocks(struct azb_block *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(b[i].id);
	free(b);
}

int azb_count_uncommitted(struct azblob_ctx *ctx, const char *container,
			  const char *blob, size_t *n, azblob_error *err)
{
	struct azb_block *b = NULL;
	size_t nb = 0;
	int rc = get_block_list(ctx, container, blob, "all", &b, &nb, n, err);

	free_blocks(b, nb);
	return rc;
}

int azb_discard_uncommitted(struct azblob_ctx *ctx, const char *container,
			    const char *blob)
{
	struct azb_buf xml = { 0 };
	struct azb_resp resp = { 0 };
	struct azb_block *b = NULL;
	azblob_props *props = NULL;
	azblob_error e = { 0 };
	size_t nb = 0, nu = 0;
	uint64_t sum = 0;
	int rc;

	azb_buf_adds(&xml, "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
	rc = azblob_get_properties(ctx, container, blob, &props, &e);
	if (rc == AZBLOB_E_NOT_FOUND) {
		const char *etag;

		azb_buf_adds(&xml, "</BlockList>");
		rc = put_list(ctx, container, blob, &xml, NULL, NULL, true,
			      &resp, &e);
		etag = azb_hdrs_get(&resp.hdrs, "ETag");
		if (!rc && etag) {
			struct azb_req r;
			struct azb_resp dr = { 0 };

			rc = azb_blob_req(ctx, &r, AZB_DELETE, container, blob,
					  NULL, &e);
			if (!rc) {
				azb_hdrs_add(&r.hdrs, "If-Match", etag);
				rc = azb_exec(ctx, &r, &dr, &e);
				azb_req_free(&r);
			}
			azb_resp_free(&dr);
		}
		goto out;
	}
	if (rc)
		goto out;
	rc = get_block_list(ctx, container, blob, "committed", &b, &nb, &nu,
			    &e);
	if (rc)
		goto out;
	for (size_t i = 0; i < nb; i++)
		sum += b[i].size;
	if (sum != props->size) {
		rc = AZBLOB_E_UNSUPPORTED;	/* written by Put Blob */
		goto out;
	}
	for (size_t i = 0; i < nb; i++) {
		azb_buf_adds(&xml, "<Committed>");
		azb_buf_adds(&xml, b[i].id);
		azb_buf_adds(&xml, "</Committed>");
	}
	azb_buf_adds(&xml, "</BlockList>");
	rc = put_list(ctx, container, blob, &xml, props, props->etag, false,
		      &resp, &e);
out:
	free_blocks(b, nb);
	azblob_props_free(props);
	azb_resp_free(&resp);
	azb_buf_free(&xml);
	azb_err_reset(&e);
	return rc;
}
