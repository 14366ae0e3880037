/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host VSP's HTTP/1.1 client: one request and its response over a pool
 * of keep-alive connections to one endpoint, with the bodies moving
 * straight between guest memory (struct az_host_buf) and the socket.
 *
 * Why not libcurl: curl hands a body to its read callback and takes one
 * from its write callback through its own buffers (CURLOPT_BUFFERSIZE,
 * CURLOPT_UPLOAD_BUFFERSIZE), one copy each way of every byte; the host
 * exists to move bodies between guest pages and the network without that
 * copy, which writev()/readv() on the guest's scatter-gather list do. It
 * would also hide when a stale keep-alive connection is retried, which
 * here must never happen once a byte of a (possibly non-idempotent)
 * request left. What Blob needs of HTTP/1.1 is small: a request head,
 * Content-Length bodies, Content-Length or chunked responses.
 *
 * Plain http:// only (the test endpoint is a local Azurite). TLS, which a
 * real host would use towards Azure, would put a record layer (and its
 * copy) between the guest pages and the socket, or kTLS.
 */
#ifndef AZ_BLOB_HOST_HTTP_H
#define AZ_BLOB_HOST_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "service.h"

/* Bytes of a response's status line and header fields, at most. */
#define AZ_HTTP_MAX_HEAD	(64U << 10)
/* Response header fields, at most. */
#define AZ_HTTP_MAX_FIELDS	256U
/*
 * A body bigger than its destination is read on and dropped, to keep the
 * connection, up to this many bytes past the end; beyond that the host
 * closes the connection (cheaper than reading gigabytes).
 */
#define AZ_HTTP_DRAIN_MAX	(1U << 20)
/*
 * A pooled connection idle longer than this is closed rather than used:
 * Azurite closes idle connections after 5 s, Azure's front ends after
 * minutes, and a request sent just as the server closes could not be
 * retried (see az_http_do()).
 */
#define AZ_HTTP_IDLE_MAX_MS	3000U
/* Idle connections the pool keeps, at most. */
#define AZ_HTTP_POOL_MAX	64U
/*
 * With no deadline, a request still ends when the connection moves no byte
 * for this long (AZ_HOST_TIMEOUT): nothing waits forever on the service.
 */
#define AZ_HTTP_STALL_MS	300000U

struct az_http_pool;

/**
 * struct az_http_stats - Counters of a pool, since it was made.
 * @connects: Connections opened (successful connect).
 * @reuses: Requests sent on a pooled connection.
 * @stale: Pooled connections found closed or idle too long, dropped unused.
 * @retries: Requests resent on a new connection after the pooled one
 *           failed before any byte of the request was sent.
 * @requests: Requests attempted.
 */
struct az_http_stats {
	uint64_t connects;
	uint64_t reuses;
	uint64_t stale;
	uint64_t retries;
	uint64_t requests;
};

/**
 * struct az_http_request - One request.
 * @method: "GET", "PUT", ...
 * @target: The request-target: path and "?query", as sent.
 * @target_len: Bytes of @target.
 * @fields: Header field lines the caller adds, each "Name: value\r\n",
 *          already checked; the client adds Host, Content-Length (when
 *          @has_body) and Connection itself.
 * @fields_len: Bytes of @fields.
 * @has_body: Send Content-Length: @body_len and the body (even if 0).
 * @body: The buffer whose first @body_len bytes are the body.
 * @body_len: Bytes of the body.
 * @no_response_body: The response has no body whatever it says (HEAD).
 * @deadline_ns: CLOCK_MONOTONIC deadline, 0 for none.
 * @cancel: Stop when it becomes non-zero (may be NULL).
 */
struct az_http_request {
	const char *method;
	const char *target;
	size_t target_len;
	const char *fields;
	size_t fields_len;
	bool has_body;
	const struct az_host_buf *body;
	size_t body_len;
	bool no_response_body;
	uint64_t deadline_ns;
	const atomic_int *cancel;
};

/**
 * struct az_http_sink - Where a response body goes.
 * @buf: Guest memory to fill from offset 0, or NULL.
 * @mem: Host memory to fill instead when @buf is NULL, or NULL.
 * @max: Bytes the destination holds (0: the body is only measured).
 */
struct az_http_sink {
	const struct az_host_buf *buf;
	char *mem;
	size_t max;
};

struct az_http_field {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/**
 * struct az_http_response - A response (its head in host memory).
 * @status: The status code (100-999).
 * @reason: The reason phrase (may be empty), @reason_len bytes.
 * @fields: Header fields in the order received, @nfields of them.
 * @has_length: The service announced a Content-Length.
 * @content_length: Its value.
 * @body_total: Bytes of body the service sent, when @body_total_known
 *              (the body was read to its end).
 * @stored: Bytes stored in the sink, from its start.
 * @truncated: The body was longer than the sink.
 */
struct az_http_response {
	unsigned int status;
	const char *reason;
	size_t reason_len;
	struct az_http_field *fields;
	unsigned int nfields;
	bool has_length;
	uint64_t content_length;
	bool body_total_known;
	uint64_t body_total;
	size_t stored;
	bool truncated;
	/* private */
	char *head;
};

/*
 * A pool for @url ("http://host[:port]", an optional trailing "/"). The
 * name is resolved here, once. NULL with a message in @err on failure.
 */
struct az_http_pool *az_http_pool_new(const char *url, char *err,
				      size_t errlen);
/* Close every idle connection and free. No request may be running. */
void az_http_pool_free(struct az_http_pool *pool);
void az_http_pool_stats(struct az_http_pool *pool, struct az_http_stats *st);
/*
 * Test hook: shut the sending side of every idle connection, so that the
 * next request on one fails at its first byte although nothing is there to
 * read (what a connection the network dropped does); exercises the retry.
 */
void az_http_pool_break_idle(struct az_http_pool *pool);

/*
 * Run @req, storing the response body in @sink. Thread-safe. Returns
 * AZ_HOST_OK with @resp filled (any HTTP status), or:
 *
 * - AZ_HOST_CONNECTION_REFUSED: no connection could be made; nothing sent.
 * - AZ_HOST_CONNECTION_ABORTED: the connection failed or the service sent
 *   something that is not HTTP/1.1 after the request started to go out.
 * - AZ_HOST_TIMEOUT: @req->deadline_ns passed, or no byte moved for
 *   %AZ_HTTP_STALL_MS without a deadline.
 * - AZ_HOST_CANCELLED: @req->cancel became non-zero.
 * - AZ_HOST_OUT_OF_MEMORY.
 *
 * A pooled connection that fails before any byte of the request was sent
 * is replaced by a new one, once; after the first byte, never (the request
 * may have taken effect). Sink bytes may have been written in every case.
 * Call az_http_response_free() afterwards, whatever the result.
 */
uint32_t az_http_do(struct az_http_pool *pool,
		    const struct az_http_request *req,
		    const struct az_http_sink *sink,
		    struct az_http_response *resp);
void az_http_response_free(struct az_http_response *resp);

/* CLOCK_MONOTONIC now, in ns. */
uint64_t az_http_now_ns(void);

#endif /* AZ_BLOB_HOST_HTTP_H */
