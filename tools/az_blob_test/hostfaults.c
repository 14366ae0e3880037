// SPDX-License-Identifier: GPL-2.0
/*
 * A misbehaving host (simulator faults): completions for unknown ids,
 * duplicates, short, long, oversized or mistyped completions, in-band
 * packets, stale completions for reused ids, a host that answers after the
 * timeout, and a host that never answers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "harness.h"
#include "suites.h"

/* ------------------------------------------------------------------ */
/* Tests: a misbehaving host (simulator faults)                        */
/* ------------------------------------------------------------------ */

/*
 * An echo of 64 bytes into a 128-byte response while the host commits
 * @fault with @arg. @want_err 0: success with response_len @rlen. The
 * driver keeps no timer: a completion it lost would keep the call
 * waiting, so the call has a deadline (and is then ended).
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
	char what[64];
	int fd = dev_open(), err;

	if (!a || fd < 0)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, fault, 0, 0, 0, arg);
	req = put_req(a, PG + 16, 64, &h);
	resp = at(a, 2 * PG + 32);
	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 64, resp, 128, NULL, 0, 0);
	snprintf(what, sizeof(what), "fault %u arg %u", fault, arg);
	if (ioctl_bounded(fd, &r, STUCK_MS, what, &err))
		return TEST_FAIL;
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

/* An echo of @len bytes at @roff into @slen bytes at @soff, in @r. */
static uint8_t *echo_req(struct arena *a, struct az_blob_request_sync *r,
			 size_t roff, size_t len, size_t soff, size_t slen,
			 uint32_t fault, uint32_t delay, uint32_t status,
			 uint32_t arg)
{
	struct az_sim_req h;
	uint8_t *req;

	sim_hdr(&h, AZ_SIM_OP_ECHO, fault, delay, status, 0, arg);
	req = put_req(a, roff, len, &h);
	rq_init(r, req, len, at(a, soff), slen, NULL, 0, 0);
	return req;
}

/* The answer to an echo of @len bytes built by echo_req(). */
static int echo_ok(const char *what, int err,
		   const struct az_blob_request_sync *r, uint32_t status,
		   size_t len)
{
	if (expect_ok(err, r, status, (uint32_t)len) ||
	    cmp_bytes("response", (const uint8_t *)(uintptr_t)r->response_buffer,
		      (const uint8_t *)(uintptr_t)r->request_buffer, len)) {
		snprintf(run.reason + strlen(run.reason),
			 sizeof(run.reason) - strlen(run.reason), " (%s)",
			 what);
		return TEST_FAIL;
	}
	return 0;
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

/*
 * A completion longer than 12 bytes is accepted, its extra bytes ignored:
 * the channel reads packets of up to its whole ring, so nothing the host
 * can send is cut (cut +0).
 */
int t_long_completion(void)
{
	static const uint32_t args[] = { 0, 13, 65536 };
	struct sstats s0, s1;
	size_t i;

	if (sstats_get(&s0))
		return TEST_FAIL;
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++)
		if (fault_round(AZ_SIM_FAULT_LONG, args[i], 0, 64, 0, 0))
			return TEST_FAIL;
	if (sstats_get(&s1))
		return TEST_FAIL;
	if (s1.v[SS_CUT] != s0.v[SS_CUT])
		return fail("the channel cut %+ld completions (max_pkt_size too small)",
			    s1.v[SS_CUT] - s0.v[SS_CUT]);
	return 0;
}

int t_resplen_over(void)
{
	return fault_round(AZ_SIM_FAULT_RESPLEN, 129, EIO, 0, 0, 1);
}

int t_resplen_equal(void)
{
	return fault_round(AZ_SIM_FAULT_RESPLEN, 128, 0, 128, 0, 0);
}

/* Wait up to @ms for driver counter @key to reach @val; 0 if it did. */
static int wait_dstat(const char *key, long val, int ms)
{
	int64_t end = now_ms() + ms;

	while (drv_stat(key) != val) {
		if (now_ms() > end)
			return -1;
		sleep_ms(10);
	}
	return 0;
}

/*
 * A packet that is not a completion is dropped without looking at its id:
 * the request stays the host's (not_completion +1, nothing completed, no
 * unknown id). Only a rescind ends it now: ENODEV.
 */
int t_bad_type(void)
{
	struct dstats b;
	struct bg *bgr;
	int fd = dev_open(), ret = 0;

	if (fd < 0 || dstats_get(run.name, &b))
		return TEST_FAIL;
	bgr = bg_start(fd, AZ_SIM_FAULT_BAD_TYPE, 0, DEF_TIMEOUT_MS);
	if (!bgr)
		return TEST_FAIL;
	if (wait_idle(run.name, 1, 2, 5000)) {
		ret = TEST_FAIL;
		goto end;
	}
	if (b.v[DS_NOT_COMPLETION] >= 0)
		wait_dstat("not_completion", b.v[DS_NOT_COMPLETION] + 1, 5000);
	sleep_ms(500);
	if (bg_done(bgr)) {
		ret = fail("a request answered only by an in-band packet returned %s after %" PRId64 " ms; expected it to stay the host's",
			   errname(bgr->err), bgr->ms);
		goto end;
	}
	if (wait_idle(run.name, 1, 2, 0) ||
	    check_deltas(run.name, &b, 1, 0, 0, 0, 0) ||
	    check_deltas2(run.name, &b, 0, 1, ANY) ||
	    wait_sim(SS_HELD, 0, 1000))
		ret = TEST_FAIL;
end:
	/* The host will never complete it: a rescind ends it. */
	if (device_rescind_reoffer() && !ret)
		ret = TEST_FAIL;
	if (bg_wait(bgr, STUCK_MS, "the request after the rescind")) {
		if (bg_done(bgr))
			bg_free(bgr);
		return TEST_FAIL;
	}
	if (!ret && bgr->err != ENODEV)
		ret = fail("after the rescind: expected ENODEV, got %s",
			   errname(bgr->err));
	bg_free(bgr);
	if (!ret)
		ret = echo_simple(run.dev, run.name);
	return ret;
}

/*
 * A host that holds a request past its timeout keeps the caller waiting
 * (the driver has no timer), with the pages pinned; when the host answers
 * (release), the call succeeds with the host's answer.
 */
int t_never_timeout(void)
{
	struct dstats b, s;
	struct bg *bgr;
	int fd = dev_open(), ret = 0;
	int64_t t0;

	if (fd < 0 || dstats_get(run.name, &b))
		return TEST_FAIL;
	t0 = now_ms();
	bgr = bg_start(fd, AZ_SIM_FAULT_NEVER, 0, 100);
	if (!bgr)
		return TEST_FAIL;
	if (wait_idle(run.name, 1, 2, 5000) || wait_sim(SS_HELD, 1, 2000)) {
		ret = TEST_FAIL;
		goto out;
	}
	while (now_ms() - t0 < 1500 && !bg_done(bgr))
		sleep_ms(20);
	if (bg_done(bgr)) {
		ret = fail("timeout 100 ms, the host holding the request: the call returned %s after %" PRId64 " ms; expected it to wait for the host",
			   errname(bgr->err), bgr->ms);
		goto out;
	}
	if (dstats_get(run.name, &s)) {
		ret = TEST_FAIL;
		goto out;
	}
	if (s.v[DS_OUTSTANDING] != 1 || s.v[DS_PINNED] != 2) {
		ret = fail("past the timeout: expected outstanding 1, pinned_pages 2 (the host owns them); got %ld, %ld",
			   s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
		goto out;
	}
	if (check_deltas(run.name, &b, 1, 0, 0, 0, 0))
		ret = TEST_FAIL;
out:
	if (sim_ctl_ok("release") && !ret)
		ret = TEST_FAIL;
	if (bg_wait(bgr, STUCK_MS, "the held request after release")) {
		if (bg_done(bgr))
			bg_free(bgr);
		return TEST_FAIL;
	}
	if (!ret && (expect_ok(bgr->err, &bgr->r, 0, 64) ||
		     cmp_bytes("response", bgr->resp, bgr->req, 64)))
		ret = TEST_FAIL;
	bg_free(bgr);
	if (!ret)
		ret = wait_idle(run.name, 0, 0, 2000);
	if (!ret)
		ret = check_deltas(run.name, &b, 1, 1, 0, 0, 0);
	return ret;
}

/*
 * LONG_NEXT: the host keeps request A's 40- (then 64-) byte completion
 * back and writes it just before B's, back to back. Both requests get
 * their own answer; nothing is cut or misread (unknown_id +0).
 */
int t_long_completion_next(void)
{
	static const uint32_t args[] = { 40, 64 };
	struct az_blob_request_sync ra, rb;
	struct sstats s0, s1;
	struct dstats b;
	struct arena *a;
	struct bg *bga;
	size_t i;
	int fd = dev_open(), err, ret;

	if (fd < 0 || sstats_get(&s0))
		return TEST_FAIL;
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		a = arena_new(6);
		if (!a || dstats_get(run.name, &b))
			return TEST_FAIL;
		echo_req(a, &ra, PG + 8, 64, 2 * PG + 8, 128,
			 AZ_SIM_FAULT_LONG_NEXT, 0, 0x0a0a0000U + args[i],
			 args[i]);
		echo_req(a, &rb, 3 * PG + 100, 48, 4 * PG + 100, 128,
			 AZ_SIM_FAULT_NONE, 0, 0x0b0b0000U + args[i], 0);
		bga = bg_run(fd, &ra);
		if (!bga)
			return TEST_FAIL;
		/* A's answer is kept back ("held") until B's. */
		ret = wait_sim(SS_HELD, 1, 5000);
		if (!ret && bg_done(bga))
			ret = fail("request A returned (%s) before the host sent its completion",
				   errname(bga->err));
		if (!ret && ioctl_bounded(fd, &rb, STUCK_MS,
					  "request B, behind A's long completion",
					  &err))
			ret = TEST_FAIL;
		if (!ret)
			ret = echo_ok("request B", err, &rb,
				      0x0b0b0000U + args[i], 48);
		if (ret)
			sim_ctl("release");	/* sends A's if still kept */
		if (bg_wait(bga, STUCK_MS, "request A")) {
			if (bg_done(bga))
				bg_free(bga);
			return TEST_FAIL;
		}
		if (!ret)
			ret = echo_ok("request A", bga->err, &bga->r,
				      0x0a0a0000U + args[i], 64);
		bg_free(bga);
		if (ret)
			return ret;
		if (check_deltas(run.name, &b, 2, 2, 0, 0, 0))
			return TEST_FAIL;
	}
	if (sstats_get(&s1))
		return TEST_FAIL;
	if (s1.v[SS_CUT] != s0.v[SS_CUT])
		return fail("the channel cut %+ld completions",
			    s1.v[SS_CUT] - s0.v[SS_CUT]);
	return 0;
}

/*
 * INBAND: before the right completion, an in-band packet carrying the
 * request's live id (and a bogus status). It must be dropped without
 * touching the id (not_completion +1); the request completes with the
 * right status.
 */
int t_inband_live_id(void)
{
	static const uint32_t args[] = { 0, 64 };
	struct az_blob_request_sync r;
	struct dstats b;
	struct arena *a;
	size_t i;
	int fd = dev_open(), err;

	if (fd < 0)
		return TEST_FAIL;
	for (i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
		a = arena_new(4);
		if (!a || dstats_get(run.name, &b))
			return TEST_FAIL;
		echo_req(a, &r, PG + 40, 64, 2 * PG + 40, 128,
			 AZ_SIM_FAULT_INBAND, 0, 0x00c0ffeeU, args[i]);
		if (ioctl_bounded(fd, &r, STUCK_MS, "INBAND", &err) ||
		    echo_ok(args[i] ? "in-band packet of 64 bytes" :
			    "in-band packet of 12 bytes", err, &r,
			    0x00c0ffeeU, 64))
			return TEST_FAIL;
		if (check_deltas(run.name, &b, 1, 1, 0, 0, 0) ||
		    check_deltas2(run.name, &b, 0, 1, ANY))
			return TEST_FAIL;
	}
	return 0;
}

/*
 * REUSED_ID: the host keeps a copy of A's completion and sends it just
 * before its answer to the next request, B. Under the core's requestor B
 * would hold A's freed id and complete with A's answer; with ids of the
 * driver's own the copy is unknown (unknown_id +1) and B gets B's answer.
 */
int t_reused_id_duplicate(void)
{
	struct az_blob_request_sync ra, rb;
	struct arena *a = arena_new(6);
	struct sstats s0;
	struct dstats b;
	int fd = dev_open(), err;

	if (!a || fd < 0 || sstats_get(&s0) || dstats_get(run.name, &b))
		return TEST_FAIL;
	echo_req(a, &ra, PG + 8, 48, 2 * PG + 8, 128, AZ_SIM_FAULT_REUSED_ID,
		 0, 0x0a0a0a0aU, 0);
	echo_req(a, &rb, 3 * PG + 8, 64, 4 * PG + 8, 128, AZ_SIM_FAULT_NONE,
		 0, 0x0b0b0b0bU, 0);
	if (ioctl_bounded(fd, &ra, STUCK_MS, "request A", &err) ||
	    echo_ok("request A", err, &ra, 0x0a0a0a0aU, 48))
		return TEST_FAIL;
	if (wait_sim(SS_DUPS_ARMED, 1, 2000))
		return TEST_FAIL;
	if (ioctl_bounded(fd, &rb, STUCK_MS, "request B", &err) ||
	    echo_ok("request B, after a stale copy of A's completion", err,
		    &rb, 0x0b0b0b0bU, 64))
		return TEST_FAIL;
	if (check_deltas(run.name, &b, 2, 2, 0, 1, 0))
		return TEST_FAIL;
	/*
	 * The host counts the copy once its send returned, which may be
	 * after the guest already handled both packets: wait for it.
	 */
	if (wait_sim(SS_DUPS_SENT, s0.v[SS_DUPS_SENT] + 1, 2000))
		return TEST_FAIL;
	return wait_sim(SS_DUPS_ARMED, 0, 1000);
}

/*
 * LATE: the host ignores the 1 s timeout and answers after 7 s, writing
 * the caller's data buffer. The driver keeps no timer: the call returns 0
 * only then, with the host's status, and the host's bytes in the buffer,
 * written while the pages were still pinned (late_unpinned +0).
 */
int t_late_answer_after_timeout(void)
{
	const size_t dlen = 2 * PG + 300;
	const uint32_t seed = 0x5eed1a7e, status = 0x0000abcdU;
	struct az_blob_request_sync r;
	struct arena *a = arena_new(8);
	struct az_sim_req h;
	struct sstats s0, s1;
	struct dstats b;
	struct span ok[2];
	uint8_t *req, *resp, *data;
	int64_t t0, ms;
	size_t i;
	int fd = dev_open(), err;

	if (!a || fd < 0 || sstats_get(&s0) || dstats_get(run.name, &b))
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_LATE, 7000, status, seed, 0);
	req = put_req(a, PG + 8, 32, &h);
	resp = at(a, 2 * PG + 8);
	data = at(a, 3 * PG + 100);
	rq_init(&r, req, 32, resp, 8, data, dlen, 0);
	r.timeout = 1000;
	t0 = now_ms();
	if (ioctl_bounded(fd, &r, 7000 + STUCK_MS, "a late host", &err))
		return TEST_FAIL;
	ms = now_ms() - t0;
	if (err)
		return fail("host timeout 1000 ms, answer after 7000 ms: expected success after 7 s, got %s after %" PRId64 " ms",
			    errname(err), ms);
	if (expect_ok(err, &r, status, 8))
		return TEST_FAIL;
	if (ms < 7000 - 50)
		return fail("returned after %" PRId64 " ms, before the host answered (7000 ms)",
			    ms);
	if (get_u64(resp) != dlen)
		return fail("fill count: expected %zu, got %" PRIu64, dlen,
			    get_u64(resp));
	for (i = 0; i < dlen; i++)
		if (data[i] != az_sim_pattern(seed, i))
			return fail("data byte %zu: expected 0x%02x, got 0x%02x (the host's late write was lost)",
				    i, az_sim_pattern(seed, i), data[i]);
	ok[0].p = data;
	ok[0].len = dlen;
	ok[1].p = resp;
	ok[1].len = 8;
	if (arena_check(a, ok, 2))
		return TEST_FAIL;
	if (check_deltas(run.name, &b, 1, 1, 0, 0, 0) || sstats_get(&s1))
		return TEST_FAIL;
	if (s1.v[SS_LATE_ANSWERS] - s0.v[SS_LATE_ANSWERS] != 1 ||
	    s1.v[SS_LATE_WRITES] == s0.v[SS_LATE_WRITES] ||
	    s1.v[SS_LATE_UNPINNED] != s0.v[SS_LATE_UNPINNED])
		return fail("simulator late_answers %+ld, late_writes %+ld, late_unpinned %+ld; expected +1, > 0, +0",
			    s1.v[SS_LATE_ANSWERS] - s0.v[SS_LATE_ANSWERS],
			    s1.v[SS_LATE_WRITES] - s0.v[SS_LATE_WRITES],
			    s1.v[SS_LATE_UNPINNED] - s0.v[SS_LATE_UNPINNED]);
	return 0;
}
