// SPDX-License-Identifier: GPL-2.0
/*
 * The test service ("ABST", ../az_blob_test/az_blob_sim.h) of the host
 * VSP: what the in-guest simulator's blob_vsp.c answers, so that the guest
 * test suites see the same results through the relay.
 *
 * ECHO, INFO, FILL and SUM as there; @delay_ms and @status as there; a
 * packet timeout not above @delay_ms is answered AZ_HOST_TIMEOUT at the
 * deadline with the buffers untouched. Faults: %AZ_SIM_FAULT_NEVER is
 * never answered (it waits for the channel's close, or the core's
 * deadline when the packet has a timeout); the others concern the VMBus
 * completion packet, which the relay builds, so they are answered
 * %AZ_SIM_STATUS_BAD_REQUEST.
 */
#include <endian.h>
#include <string.h>

#include "../az_blob_test/az_blob_sim.h"
#include "core.h"
#include "test_service.h"
#include "util.h"

/* Check for a cancel at least this often while walking buffers. */
#define AZ_TS_CHUNK	(64U * 1024U)
/* blob_vsp.c's ECHO bounce size: same chunks, same result on overlap. */
#define AZ_TS_BOUNCE	256U

_Static_assert(sizeof(struct az_sim_req) == 32, "az_sim_req");
_Static_assert(sizeof(struct az_sim_info) == 80, "az_sim_info");

static const char az_ts_magic[4] = { 'A', 'B', 'S', 'T' };

/*
 * Visit bytes [0, @len) of @buf in pieces, none crossing a 4 KiB page of
 * guest RAM, checking for a cancel every %AZ_TS_CHUNK bytes. Returns -1
 * if cancelled.
 */
typedef void (*az_ts_fn)(uint8_t *p, size_t n, uint64_t done, void *ctx);

static int az_ts_walk(const struct az_host_req *req,
		      const struct az_host_buf *buf, size_t len, az_ts_fn fn,
		      void *ctx)
{
	uint64_t done = 0, since = 0;
	unsigned int i;

	for (i = 0; i < buf->iovcnt && done < len; i++) {
		uint8_t *p = buf->iov[i].iov_base;
		size_t left = buf->iov[i].iov_len;

		while (left && done < len) {
			size_t n = AZ_HV_PAGE_SIZE -
				   ((uintptr_t)p & (AZ_HV_PAGE_SIZE - 1));

			if (n > left)
				n = left;
			if (n > len - done)
				n = (size_t)(len - done);
			if (since >= AZ_TS_CHUNK) {
				if (atomic_load(req->cancel))
					return -1;
				since = 0;
			}
			fn(p, n, done, ctx);
			p += n;
			left -= n;
			done += n;
			since += n;
		}
	}
	return 0;
}

struct az_ts_walk_ctx {
	const struct az_host_req *req;
	uint32_t seed;
	uint64_t hash;
};

static void az_ts_fill(uint8_t *p, size_t n, uint64_t done, void *ctx)
{
	const struct az_ts_walk_ctx *w = ctx;
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = az_sim_pattern(w->seed, done + i);
}

static void az_ts_sum(uint8_t *p, size_t n, uint64_t done, void *ctx)
{
	struct az_ts_walk_ctx *w = ctx;

	(void)done;
	w->hash = az_sim_fnv1a(w->hash, p, n);
}

/* ECHO: each response piece from the request at the same offset, 256 B at a time. */
static void az_ts_echo(uint8_t *p, size_t n, uint64_t done, void *ctx)
{
	const struct az_ts_walk_ctx *w = ctx;
	uint8_t bounce[AZ_TS_BOUNCE];
	size_t k, c;

	for (k = 0; k < n; k += c) {
		c = n - k < sizeof(bounce) ? n - k : sizeof(bounce);
		if (az_host_buf_read(&w->req->request, done + k, bounce, c))
			memset(bounce, 0, c);	/* cannot happen: lengths checked */
		memcpy(p + k, bounce, c);
	}
}

static uint32_t az_ts_put_u64(const struct az_host_req *req, uint64_t v)
{
	uint64_t le = htole64(v);
	uint32_t n = req->response.len < sizeof(le) ?
		     (uint32_t)req->response.len : (uint32_t)sizeof(le);

	az_host_buf_write(&req->response, 0, &le, n);
	return n;
}

/* Run the op on the buffers; -1 if cancelled meanwhile. */
static int az_ts_run_op(const struct az_host_req *req,
			const struct az_sim_req *s, uint32_t *written)
{
	struct az_ts_walk_ctx w = { .req = req };
	const struct az_req_info *pi;
	struct az_sim_info info;
	uint32_t n;

	switch (s->op) {
	case AZ_SIM_OP_ECHO:
		n = req->request.len < req->response.len ?
		    (uint32_t)req->request.len : (uint32_t)req->response.len;
		if (az_ts_walk(req, &req->response, n, az_ts_echo, &w))
			return -1;
		*written = n;
		return 0;
	case AZ_SIM_OP_INFO:
		pi = az_core_req_info(req);
		memset(&info, 0, sizeof(info));
		memcpy(info.packet, pi->raw_req, sizeof(info.packet));
		info.range_offset = htole32(pi->range_offset);
		info.range_len = htole32(pi->range_len);
		info.nr_pfns = htole32(pi->nr_pfns);
		info.pkt_type = htole32(pi->pkt_type);
		info.pkt_flags = htole32(pi->pkt_flags);
		info.rangecount = htole32(pi->rangecount);
		n = req->response.len < sizeof(info) ?
		    (uint32_t)req->response.len : (uint32_t)sizeof(info);
		az_host_buf_write(&req->response, 0, &info, n);
		*written = n;
		return 0;
	case AZ_SIM_OP_FILL:
		w.seed = s->seed;
		if (az_ts_walk(req, &req->data, req->data.len, az_ts_fill, &w))
			return -1;
		*written = az_ts_put_u64(req, req->data.len);
		return 0;
	case AZ_SIM_OP_SUM:
		w.hash = AZ_SIM_FNV1A_INIT;
		if (az_ts_walk(req, &req->data, req->data_valid, az_ts_sum, &w))
			return -1;
		*written = az_ts_put_u64(req, w.hash);
		return 0;
	}
	return -1;
}

static void az_ts_execute(void *ctx, const struct az_host_req *req,
			  struct az_host_result *res)
{
	uint64_t start = az_core_req_info(req)->taken_ns;
	struct az_sim_req s;
	uint32_t written = 0;

	(void)ctx;
	res->status = AZ_SIM_STATUS_BAD_REQUEST;
	res->response_len = 0;
	/* The one read of the request header: everything below uses @s. */
	if (az_host_buf_read(&req->request, 0, &s, sizeof(s)))
		return;
	s.magic = le32toh(s.magic);
	s.op = le32toh(s.op);
	s.fault = le32toh(s.fault);
	s.delay_ms = le32toh(s.delay_ms);
	s.status = le32toh(s.status);
	s.seed = le32toh(s.seed);
	s.arg = le32toh(s.arg);
	if (s.magic != AZ_SIM_MAGIC || s.op < AZ_SIM_OP_ECHO ||
	    s.op > AZ_SIM_OP_SUM ||
	    (s.fault != AZ_SIM_FAULT_NONE && s.fault != AZ_SIM_FAULT_NEVER))
		return;

	if (s.fault == AZ_SIM_FAULT_NEVER) {
		az_host_wait_cancel(req, 0);
		res->status = AZ_HOST_CANCELLED;
		return;
	}
	if (req->timeout_ms && req->timeout_ms <= s.delay_ms) {
		/* Answered at the deadline, buffers untouched. */
		if (az_host_wait_cancel(req, req->deadline_ns) &&
		    az_now_ns() < req->deadline_ns) {
			res->status = AZ_HOST_CANCELLED;
			return;
		}
		res->status = AZ_HOST_TIMEOUT;
		return;
	}
	if (s.delay_ms &&
	    az_host_wait_cancel(req, start + (uint64_t)s.delay_ms *
					     AZ_NSEC_PER_MSEC)) {
		res->status = AZ_HOST_CANCELLED;
		return;
	}
	if (az_ts_run_op(req, &s, &written)) {
		res->status = AZ_HOST_CANCELLED;
		return;
	}
	res->status = s.status;
	res->response_len = written;
}

void az_test_service_init(struct az_host_service *svc)
{
	memset(svc, 0, sizeof(*svc));
	svc->name = "test";
	svc->magic = az_ts_magic;
	svc->magic_len = sizeof(az_ts_magic);
	svc->execute = az_ts_execute;
	svc->ctx = NULL;
}
