/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host VSP's Blob service: executes the Azure Blob REST request that a
 * request buffer (HsReq001) describes against a real Blob endpoint and
 * answers in the response buffer (HsRes001), moving bodies straight between
 * the guest's data buffer and the socket.
 *
 * The format is ours (the real host's schema is not public):
 * Documentation/userspace-api/hv_azure_blob_requests.rst defines it; the
 * constants below are its numbers.
 */
#ifndef AZ_BLOB_HOST_BLOB_SERVICE_H
#define AZ_BLOB_HOST_BLOB_SERVICE_H

#include "http.h"
#include "service.h"

/* Both buffers start with a 32-byte header; integers little-endian. */
#define AZ_BLOB_REQ_MAGIC	"HsReq001"
#define AZ_BLOB_RES_MAGIC	"HsRes001"
#define AZ_BLOB_MAGIC_LEN	8
#define AZ_BLOB_HDR_LEN		32
#define AZ_BLOB_FORMAT_JSON	1

/* Request header: offsets. */
#define AZ_BLOB_REQ_MAGIC_OFF	0	/* 8 bytes "HsReq001" */
#define AZ_BLOB_REQ_FORMAT_OFF	8	/* u32, AZ_BLOB_FORMAT_JSON */
#define AZ_BLOB_REQ_METHOD_OFF	12	/* u32, enum az_blob_method */
#define AZ_BLOB_REQ_CRC_OFF	16	/* u64, CRC-64/NVME, see below */
#define AZ_BLOB_REQ_RSVD_OFF	24	/* u64, must be 0 */

/* Response header: offsets. */
#define AZ_BLOB_RES_MAGIC_OFF	0	/* 8 bytes "HsRes001" */
#define AZ_BLOB_RES_FORMAT_OFF	8	/* u32, AZ_BLOB_FORMAT_JSON */
#define AZ_BLOB_RES_STATUS_OFF	12	/* u32, HTTP status code */
#define AZ_BLOB_RES_CRC_OFF	16	/* u64, CRC-64/NVME, see below */
#define AZ_BLOB_RES_BODY_OFF	24	/* u32, bytes written to the data buffer */
#define AZ_BLOB_RES_NEEDED_OFF	28	/* u32, response_len the answer needs */

/*
 * The CRC field holds the CRC-64/NVME of the whole buffer (request: all
 * request_buffer_length bytes; response: the response_len bytes written)
 * computed with the field itself as zeros.
 */

enum az_blob_method {
	AZ_BLOB_GET = 1,
	AZ_BLOB_PUT = 2,
	AZ_BLOB_HEAD = 3,
	AZ_BLOB_DELETE = 4,
	AZ_BLOB_POST = 5,
	AZ_BLOB_PATCH = 6,
};

/* Limits (the document's "Limits"). */
#define AZ_BLOB_MAX_JSON	(64U << 10)	/* request JSON bytes */
#define AZ_BLOB_MAX_PATH	4096U
#define AZ_BLOB_MAX_QUERY	8192U
#define AZ_BLOB_MAX_FIELDS	128U		/* request header fields */
#define AZ_BLOB_MAX_NAME	256U		/* bytes of a field name */
#define AZ_BLOB_MAX_VALUE	8192U		/* bytes of a field value */
#define AZ_BLOB_MAX_INLINE	(1U << 20)	/* inline response body */

/*
 * Fill @svc with the Blob service for @endpoint ("http://host:port"). 0,
 * or -1 with a message on stderr. @verbose: one line per request on stderr.
 */
int az_blob_service_init(struct az_host_service *svc, const char *endpoint,
			 int verbose);
void az_blob_service_fini(struct az_host_service *svc);
/* The connection pool's counters (for tests and the host's statistics). */
void az_blob_service_stats(const struct az_host_service *svc,
			   struct az_http_stats *st);
/* The connection pool, for tests. */
struct az_http_pool *az_blob_service_pool(const struct az_host_service *svc);

#endif /* AZ_BLOB_HOST_BLOB_SERVICE_H */
