/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The request and response buffers of the host's Blob service
 * (Documentation/userspace-api/hv_azure_blob_requests.rst): HsReq001 with
 * a JSON description of the request, HsRes001 with the answer's status
 * line and header fields. Kept behind this small layer: a real host's
 * format may differ.
 */
#ifndef AZB_HSFRAME_H
#define AZB_HSFRAME_H

#include "azb.h"

#define HS_HDR_LEN		32
#define HS_REQ_MAGIC		"HsReq001"
#define HS_RES_MAGIC		"HsRes001"
#define HS_FORMAT_JSON		1
#define HS_OFF_FORMAT		8
#define HS_OFF_METHOD		12	/* request */
#define HS_OFF_STATUS		12	/* response: HTTP status */
#define HS_OFF_CRC		16
#define HS_OFF_BODY_BYTES	24	/* response */
#define HS_OFF_NEEDED		28	/* response */

/* Limits of the format (its "Limits" section). */
#define HS_MAX_JSON		(64U << 10)
#define HS_MAX_PATH		4096U
#define HS_MAX_QUERY		8192U
#define HS_MAX_FIELDS		128U
#define HS_MAX_NAME		256U
#define HS_MAX_VALUE		8192U
#define HS_MAX_RESP_FIELDS	256U

/* Host statuses (HRESULTs). */
#define HS_OK			0x00000000U
#define HS_TIMEOUT		0x80070102U
#define HS_INVALID_ARG		0x80070057U
#define HS_INVALID_DATA		0x8007000DU
#define HS_INSUFFICIENT_BUFFER	0x8007007AU
#define HS_CONNECTION_REFUSED	0x800704C9U
#define HS_CONNECTION_ABORTED	0x800704D4U
#define HS_CANCELLED		0x800704C7U
#define HS_OUT_OF_MEMORY	0x8007000EU

/*
 * Build the request buffer for @req into @out (header, then JSON). Returns
 * 0, or -1 with @err filled (a limit of the format exceeded, OOM).
 */
int hs_build_request(const struct azb_req *req, struct azb_buf *out,
		     azblob_error *err);

/* What the header and JSON of a response said. */
struct hs_answer {
	unsigned int http_status;
	uint32_t body_bytes;
	uint32_t needed;
	bool header_only;	/* AZ_HOST_INSUFFICIENT_BUFFER: no JSON */
	bool have_length;
	uint64_t content_length;
	bool truncated;
};

/*
 * Check and parse @len bytes of response buffer @buf (untrusted). Header
 * fields go to @hdrs, an inline body to @inline_body. Returns 0, or -1
 * with a reason in @why.
 */
int hs_parse_response(const unsigned char *buf, size_t len,
		      struct hs_answer *a, struct azb_hdrs *hdrs,
		      struct azb_buf *inline_body, const char **why);

#endif /* AZB_HSFRAME_H */
