/* SPDX-License-Identifier: GPL-2.0 */
/*
 * az_blob_blob: a guest client of the Azure Blob service through
 * /dev/azure_blob (Documentation/userspace-api/hv_azure_blob_requests.rst),
 * or, for a baseline, through the guest's own TCP stack with the very same
 * signed requests. TEST-ONLY.
 *
 * Requests are built and signed by tools/az_blob_host/tests/blob_client.c
 * (compiled in); this file adds the two transports, the Blob operations
 * and the reporting.
 */
#ifndef AZ_BLOB_BLOB_H
#define AZ_BLOB_BLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../az_blob_host/tests/blob_client.h"

#define PAGE		4096UL

/* The request buffer: page aligned, one page for every request we build. */
#define REQ_CAP		(64UL << 10)
/* The response buffer: its usual length, and what it may grow to. */
#define RESP_LEN	8192U
#define RESP_CAP	(2UL << 20)

/*
 * The largest data buffer that fits one request with a one-page request
 * buffer and a RESP_LEN response buffer, all page aligned: 8192 pages
 * together (AZ_BLOB_MAX_PAGES), so 8189 pages = 32 MiB - 12 KiB.
 */
#define CHUNK_MAX	((8192UL - 1 - RESP_LEN / PAGE) * PAGE)

/**
 * struct blob_conn - One client: a transport and its buffers. One per
 * thread.
 * @fd: /dev/azure_blob, or the TCP socket (-1 until connected).
 * @tcp: The TCP transport (--tcp), not the driver.
 * @host: Numeric IPv4 address of the TCP endpoint.
 * @port: Its port.
 * @key: The account key (base64) used to sign.
 * @timeout_ms: The host's timeout for each request (driver).
 * @req: Request buffer (page aligned, REQ_CAP).
 * @resp: Response buffer (page aligned, RESP_CAP).
 * @resp_len: Response buffer length of the next request (RESP_LEN).
 * @head: TCP: the response head.
 * @last_use: TCP: when the connection last carried a request.
 * @requests: Requests made.
 */
struct blob_conn {
	int fd;
	bool tcp;
	char host[64];
	unsigned int port;
	const char *key;
	uint32_t timeout_ms;
	unsigned char *req;
	unsigned char *resp;
	uint32_t resp_len;
	char *head;
	double last_use;
	unsigned long requests;
};

#define ANS_MAX_HDRS	64

/**
 * struct blob_ans - One answer.
 * @status: The completion status (AZ_HOST_*); 0 over TCP.
 * @response_len: Response buffer bytes the host wrote (driver).
 * @http: The HTTP status, 0 if none came.
 * @body_bytes: Body bytes placed at the start of the data buffer.
 * @needed: The response_len the whole answer needs (driver).
 * @parsed: Header and JSON present and valid (driver), head parsed (TCP).
 * @truncated: The body did not fit where it went.
 * @has_length: @content_length is known.
 * @content_length: The body's length as the service announced it.
 * @reason: The reason phrase.
 * @nh: Header fields.
 * @hn: Their names.
 * @hv: Their values.
 * @inline_body: The decoded body_base64 (driver, no data buffer), or NULL.
 * @inline_len: Its bytes.
 * @error: Why there is no answer or it is malformed; empty if fine.
 */
struct blob_ans {
	uint32_t status;
	uint32_t response_len;
	unsigned int http;
	uint32_t body_bytes;
	uint32_t needed;
	bool parsed;
	bool truncated;
	bool has_length;
	uint64_t content_length;
	char reason[64];
	int nh;
	char *hn[ANS_MAX_HDRS];
	char *hv[ANS_MAX_HDRS];
	unsigned char *inline_body;
	size_t inline_len;
	char error[256];
};

/* transport.c */
int conn_init(struct blob_conn *c, const char *dev, const char *tcp,
	      const char *key);
void conn_fini(struct blob_conn *c);
/*
 * Sign @r (Content-Length: @body_len), send it with @body_len bytes of
 * @body as its body, or with @dst (@dst_len bytes) to take the response
 * body; fill @a. 0 when an answer came (then a->status and a->http say
 * what it was), -1 with a->error otherwise.
 */
int blob_call(struct blob_conn *c, struct bc_req *r, const void *body,
	      size_t body_len, void *dst, size_t dst_len, struct blob_ans *a);
/* Send an already framed request buffer through the driver. */
int blob_call_raw(struct blob_conn *c, const void *req, size_t req_len,
		  const void *body, size_t body_len, void *dst, size_t dst_len,
		  struct blob_ans *a);
void ans_free(struct blob_ans *a);
/* A response field's value (first match, any case), or NULL. */
const char *ans_header(const struct blob_ans *a, const char *name);
/* One line about @a for a failure message. */
const char *ans_str(const struct blob_ans *a, char *buf, size_t len);

/* ops.c */
extern size_t blob_chunk;	/* bytes per request for large blobs */
void pct_encode(const char *s, char *out, size_t len);
void blob_path(char *out, size_t len, const char *container,
	       const char *blob);
int container_create(struct blob_conn *c, const char *container,
		     struct blob_ans *a);
int container_delete(struct blob_conn *c, const char *container,
		     struct blob_ans *a);
/* Upload @size bytes: one Put Blob, or Put Block + Put Block List. */
int blob_put(struct blob_conn *c, const char *container, const char *blob,
	     const void *src, size_t size, char *why, size_t why_len);
/*
 * Download a whole blob into @dst (room for @cap bytes) with ranged GETs
 * of at most blob_chunk bytes; *@size is its size. A blob larger than
 * @cap fails.
 */
int blob_get(struct blob_conn *c, const char *container, const char *blob,
	     void *dst, size_t cap, size_t *size, char *why, size_t why_len);
/* Bytes [@off, @off + @len) of a blob into @dst, one ranged GET. */
int blob_get_range(struct blob_conn *c, const char *container,
		   const char *blob, uint64_t off, size_t len, void *dst,
		   char *why, size_t why_len);
/* HEAD: 0 with *@size, 1 if not found, -1 on anything else. */
int blob_head(struct blob_conn *c, const char *container, const char *blob,
	      uint64_t *size, char *why, size_t why_len);
int blob_delete(struct blob_conn *c, const char *container, const char *blob,
		char *why, size_t why_len);

struct blob_item {
	char name[256];
	uint64_t size;
};
/*
 * List Blobs under @prefix, @page names per request (0: service default),
 * following NextMarker. Fills at most @max items; returns the count, or -1.
 * *@pages: requests made.
 */
int blob_list(struct blob_conn *c, const char *container, const char *prefix,
	      unsigned int page, struct blob_item *items, int max, int *pages,
	      char *why, size_t why_len);

/* pattern and misc (main.c) */
void pattern_fill(void *dst, size_t len, uint32_t seed, uint64_t off);
/* Offset of the first byte of @p that is not the pattern, or -1. */
int64_t pattern_check(const void *p, size_t len, uint32_t seed, uint64_t off);
void *page_alloc(size_t len);
void page_free(void *p, size_t len);
double now_s(void);
double mbps(size_t bytes, double secs);

/* suite.c */
int run_suite(const char *dev, const char *tcp, const char *key,
	      const char *container);

/* sha256.c */
int blob_crypto_selftest(char *why, size_t why_len);

#endif /* AZ_BLOB_BLOB_H */
