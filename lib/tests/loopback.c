// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: see loopback.h. The buffers reach the service as iovecs of
 * at most one page each, as the host core maps guest pages.
 */
#include <errno.h>
#include <linux/types.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "../../include/uapi/misc/hv_azure_blob.h"
#include "blob_service.h"
#include "loopback.h"

#define PG 4096UL

static struct az_host_service svc;
static bool svc_up;
static atomic_ulong n_requests, n_host_reads;

static size_t pages(uint64_t addr, uint32_t len)
{
	if (!len)
		return 0;
	return (size_t)(((addr + len + PG - 1) / PG) - addr / PG);
}

static struct iovec *split(uint64_t addr, uint32_t len, unsigned int *cnt)
{
	size_t n = pages(addr, len);
	struct iovec *v = calloc(n ? n : 1, sizeof(*v));
	uint64_t a = addr;
	unsigned int k = 0;

	while (len) {
		uint32_t piece = (uint32_t)(PG - a % PG);

		if (piece > len)
			piece = len;
		v[k].iov_base = (void *)(uintptr_t)a;
		v[k].iov_len = piece;
		k++;
		a += piece;
		len -= piece;
	}
	*cnt = k;
	return v;
}

static int submit(void *arg, int fd, struct az_blob_request_sync *r)
{
	static const atomic_int never;
	struct az_host_req hr = { 0 };
	struct az_host_result res = { 0 };
	struct iovec *iv[3];
	unsigned int cnt[3];
	struct timespec ts;

	(void)arg;
	(void)fd;
	/* The driver's checks, before anything reaches the host. */
	if (r->flags & ~AZ_BLOB_FLAGS_ALL || !r->request_len ||
	    !r->response_len || r->data_valid > r->data_len ||
	    !r->request_buffer || !r->response_buffer ||
	    (r->data_len && !r->data_buffer)) {
		errno = EINVAL;
		return -1;
	}
	if (r->request_len > AZ_BLOB_MAX_LEN ||
	    r->response_len > AZ_BLOB_MAX_LEN ||
	    r->data_len > AZ_BLOB_MAX_LEN ||
	    pages(r->request_buffer, r->request_len) +
	    pages(r->response_buffer, r->response_len) +
	    pages(r->data_buffer, r->data_len) > AZ_BLOB_MAX_PAGES) {
		errno = E2BIG;
		return -1;
	}
	atomic_fetch_add(&n_requests, 1);
	if (r->flags & AZ_BLOB_DATA_HOST_READS)
		atomic_fetch_add(&n_host_reads, 1);
	iv[0] = split(r->request_buffer, r->request_len, &cnt[0]);
	iv[1] = split(r->response_buffer, r->response_len, &cnt[1]);
	iv[2] = split(r->data_buffer, r->data_len, &cnt[2]);
	hr.timeout_ms = r->timeout;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (r->timeout)
		hr.deadline_ns = (uint64_t)ts.tv_sec * 1000000000ULL +
				 (uint64_t)ts.tv_nsec +
				 (uint64_t)r->timeout * 1000000ULL;
	hr.cancel = &never;
	memcpy(hr.transaction_id, r->guid, 16);
	hr.data_valid = r->data_valid;
	hr.request = (struct az_host_buf){ iv[0], cnt[0], r->request_len };
	hr.response = (struct az_host_buf){ iv[1], cnt[1], r->response_len };
	hr.data = (struct az_host_buf){ iv[2], cnt[2], r->data_len };
	svc.execute(svc.ctx, &hr, &res);
	for (int i = 0; i < 3; i++)
		free(iv[i]);
	r->response.status = res.status;
	r->response.response_len = res.response_len;
	return 0;
}

int loopback_attach(struct azblob_ctx *ctx, const char *endpoint)
{
	if (!svc_up) {
		if (az_blob_service_init(&svc, endpoint, 0))
			return -1;
		svc_up = true;
	}
	azb_ctx_set_driver_submit(ctx, submit, NULL);
	return 0;
}

void loopback_detach(void)
{
	if (svc_up)
		az_blob_service_fini(&svc);
	svc_up = false;
}

void loopback_counts(unsigned long *requests, unsigned long *host_reads)
{
	*requests = atomic_load(&n_requests);
	*host_reads = atomic_load(&n_host_reads);
}
