/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the host VSP's core hands a service, and what it gets back.
 *
 * The core (az_blob_host.c and friends) takes a packet off the relay ring,
 * validates it as the real Blob VSP would (PROTOCOL.md: one GPA range,
 * 56-byte request, buffer offsets and lengths inside the range, at most
 * 8192 PFNs, every PFN inside guest RAM), and maps its three buffers to
 * iovecs over the mapped guest RAM. It then picks the service by the first
 * bytes of the request buffer (the test service's "ABST" magic, the Blob
 * service's "HsReq001") and calls its execute() on a worker thread.
 *
 * Guest memory is hostile and live: the guest may change any byte while the
 * host works on it. A service copies what it parses (the request buffer)
 * into its own memory once and parses the copy; it never reads a guest
 * byte twice expecting the same value. Bodies stream straight between the
 * guest pages and the network (scatter-gather), never through a copy.
 */
#ifndef AZ_BLOB_HOST_SERVICE_H
#define AZ_BLOB_HOST_SERVICE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Host statuses (HRESULTs), the completion's error field. */
#define AZ_HOST_OK			0x00000000U
#define AZ_HOST_TIMEOUT			0x80070102U /* WAIT_TIMEOUT */
#define AZ_HOST_INVALID_ARG		0x80070057U /* E_INVALIDARG */
#define AZ_HOST_INVALID_DATA		0x8007000DU /* protocol violation */
#define AZ_HOST_INSUFFICIENT_BUFFER	0x8007007AU /* response buffer */
#define AZ_HOST_CONNECTION_REFUSED	0x800704C9U /* endpoint unreachable */
#define AZ_HOST_CONNECTION_ABORTED	0x800704D4U /* dropped mid-request */
#define AZ_HOST_CANCELLED		0x800704C7U /* channel closed */
#define AZ_HOST_OUT_OF_MEMORY		0x8007000EU /* E_OUTOFMEMORY */

/**
 * struct az_host_buf - One of a request's buffers, in guest memory.
 * @iov: Pieces of mapped guest RAM, in order; never empty pieces.
 * @iovcnt: Number of pieces.
 * @len: Total bytes (the buffer's length from the packet).
 */
struct az_host_buf {
	const struct iovec *iov;
	unsigned int iovcnt;
	size_t len;
};

/**
 * struct az_host_req - A validated request, as a service sees it.
 * @timeout_ms: The packet's timeout_ms; 0 = none.
 * @deadline_ns: CLOCK_MONOTONIC time at which the core wants the answer
 *               (timeout_ms after the host took the packet), or 0 for none.
 *               A service that passes it stops and returns %AZ_HOST_TIMEOUT.
 * @cancel: Becomes non-zero when the guest closed the channel or the host
 *          is shutting down, and when @deadline_ns passes: stop touching
 *          the buffers at once and return %AZ_HOST_CANCELLED. After a close
 *          or a shutdown no completion is sent; after the deadline the core
 *          answers %AZ_HOST_TIMEOUT (unless the service returned
 *          %AZ_HOST_OK: it finished in time). Either way the completion
 *          waits for execute() to return.
 * @transaction_id: The caller's GUID, for logs.
 * @data_valid: Bytes of @data that hold input (data_buffer_valid).
 * @request: The request buffer (read only).
 * @response: The response buffer (write only).
 * @data: The data buffer (the request body, or receives the response body).
 */
struct az_host_req {
	uint32_t timeout_ms;
	uint64_t deadline_ns;
	const atomic_int *cancel;
	uint8_t transaction_id[16];
	uint32_t data_valid;
	struct az_host_buf request;
	struct az_host_buf response;
	struct az_host_buf data;
};

/**
 * struct az_host_result - What a service answers.
 * @status: The completion's error field (AZ_HOST_*; 0 on success).
 * @response_len: Bytes written to the response buffer (<= its length).
 */
struct az_host_result {
	uint32_t status;
	uint32_t response_len;
};

/**
 * struct az_host_service - A service the core dispatches to.
 * @name: For logs ("test", "blob").
 * @magic: The first bytes of a request buffer it serves.
 * @magic_len: Bytes of @magic.
 * @execute: Run @req; called on worker threads, many at once, with @ctx.
 *           Must return by @req->deadline_ns or soon after @req->cancel.
 * @ctx: The service's state, thread-safe.
 */
struct az_host_service {
	const char *name;
	const void *magic;
	size_t magic_len;
	void (*execute)(void *ctx, const struct az_host_req *req,
			struct az_host_result *res);
	void *ctx;
};

/* Copy bytes [@off, @off + @len) of @buf to @dst: 0, or -1 if out of range. */
int az_host_buf_read(const struct az_host_buf *buf, size_t off, void *dst,
		     size_t len);
/* Copy @len bytes from @src into @buf at @off: 0, or -1 if out of range. */
int az_host_buf_write(const struct az_host_buf *buf, size_t off,
		      const void *src, size_t len);
/*
 * Fill @out (room for @max entries) with the pieces of bytes [@off, @off +
 * @len) of @buf, for readv/writev. Returns the number of entries, or -1 if
 * the range is outside @buf or needs more than @max entries.
 */
int az_host_buf_slice(const struct az_host_buf *buf, size_t off, size_t len,
		      struct iovec *out, int max);

#endif /* AZ_BLOB_HOST_SERVICE_H */
