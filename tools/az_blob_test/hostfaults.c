// SPDX-License-Identifier: GPL-2.0
/*
 * A misbehaving host (simulator faults): completions for unknown ids,
 * duplicates, short, long, oversized or mistyped completions, and a host
 * that never answers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>

#include "harness.h"
#include "suites.h"

/* Grace the driver adds to a request's timeout before ETIMEDOUT. */
#define DRV_GRACE_MS		5000

/* ------------------------------------------------------------------ */
/* Tests: a misbehaving host (simulator faults)                        */
/* ------------------------------------------------------------------ */

/*
 * An echo of 64 bytes into a 128-byte response while the host commits
 * @fault with @arg. @want_err 0: success with response_len @rlen.
 */
static int fault_round(uint32_t fault, uint32_t arg, int want_err,
		       uint32_t rlen, long d_unknown, long d_bad)
{
	struct arena *a = arena_new(4);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp;
	int fd = dev_open(), err;

	if (!a || fd < 0)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, fault, 0, 0, 0, arg);
	req = put_req(a, PG + 16, 64, &h);
	resp = at(a, 2 * PG + 32);
	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 64, resp, 128, NULL, 0, 0);
	r.timeout = 2000;	/* a dropped completion ends in ETIMEDOUT */
	err = blob_ioctl(fd, &r);
	if (want_err) {
		if (err != want_err)
			return fail("fault %u arg %u: expected %s, got %s",
				    fault, arg, errname(want_err),
				    errname(err));
		ok.p = resp;
		ok.len = 128;
	} else {
		if (expect_ok(err, &r, 0, rlen) ||
		    cmp_bytes("response", resp, req, min_sz(rlen, 64)))
			return TEST_FAIL;
		ok.p = resp;
		ok.len = rlen;
	}
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;
	return check_deltas(run.name, &b, 1, want_err ? ANY : 1, 0, d_unknown,
			    d_bad);
}

int t_unknown_id(void)
{
	if (fault_round(AZ_SIM_FAULT_UNKNOWN_ID, 0, 0, 64, 1, 0))
		return TEST_FAIL;
	return fault_round(AZ_SIM_FAULT_UNKNOWN_ID, 0xffffffffU, 0, 64, 1, 0);
}

int t_id_zero(void)
{
	return fault_round(AZ_SIM_FAULT_ID_ZERO, 0, 0, 64, 1, 0);
}

int t_duplicate(void)
{
	return fault_round(AZ_SIM_FAULT_DUPLICATE, 0, 0, 64, 1, 0);
}

int t_short_completion(void)
{
	if (fault_round(AZ_SIM_FAULT_SHORT, 0, EIO, 0, 0, 1))
		return TEST_FAIL;
	/*
	 * Packets are whole multiples of 8 bytes: 4 payload bytes arrive as 8,
	 * still short; 9 to 12 arrive as 16 (zero padded), a whole completion.
	 */
	if (fault_round(AZ_SIM_FAULT_SHORT, 4, EIO, 0, 0, 1))
		return TEST_FAIL;
	/* 12 payload bytes is a whole completion. */
	return fault_round(AZ_SIM_FAULT_SHORT, 12, 0, 64, 0, 0);
}

int t_long_completion(void)
{
	if (fault_round(AZ_SIM_FAULT_LONG, 0, 0, 64, 0, 0))
		return TEST_FAIL;
	return fault_round(AZ_SIM_FAULT_LONG, 13, 0, 64, 0, 0);
}

int t_resplen_over(void)
{
	return fault_round(AZ_SIM_FAULT_RESPLEN, 129, EIO, 0, 0, 1);
}

int t_resplen_equal(void)
{
	return fault_round(AZ_SIM_FAULT_RESPLEN, 128, 0, 128, 0, 0);
}

int t_bad_type(void)
{
	return fault_round(AZ_SIM_FAULT_BAD_TYPE, 0, EIO, 0, 0, 1);
}

int t_never_timeout(void)
{
	struct arena *a = arena_new(4);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b, s;
	uint8_t *req;
	int64_t t0, ms;
	int fd = dev_open(), err;

	if (!a || fd < 0)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NEVER, 0, 0, 0, 0);
	req = put_req(a, PG + 8, 64, &h);
	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 64, at(a, 2 * PG + 8), 64, NULL, 0, 0);
	r.timeout = 100;
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	ms = now_ms() - t0;
	if (err != ETIMEDOUT)
		return fail("expected ETIMEDOUT, got %s after %" PRId64 " ms",
			    errname(err), ms);
	if (ms < 100 + DRV_GRACE_MS - 50 || ms > 100 + DRV_GRACE_MS + 3000)
		return fail("ETIMEDOUT after %" PRId64 " ms, expected about %d ms",
			    ms, 100 + DRV_GRACE_MS);
	if (dstats_get(run.name, &s))
		return TEST_FAIL;
	if (s.v[DS_OUTSTANDING] != 1 || s.v[DS_PINNED] != 2)
		return fail("after ETIMEDOUT: expected outstanding 1, pinned_pages 2 (the host owns them); got %ld, %ld",
			    s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
	if (check_deltas(run.name, &b, 1, 0, 1, 0, 0))
		return TEST_FAIL;
	if (sim_ctl_ok("release") || wait_idle(run.name, 0, 0, 2000))
		return TEST_FAIL;
	return check_deltas(run.name, &b, 1, ANY, 1, 0, 0);
}
