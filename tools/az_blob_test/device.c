// SPDX-License-Identifier: GPL-2.0
/*
 * The channel and the device's life: the channel's parameters, suspend
 * and resume (draining, failing what the host keeps, a failed resume), a
 * second device, unbind and bind, rescind with requests held and rescind
 * racing a send.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* ------------------------------------------------------------------ */
/* Tests: the channel and the device's life                            */
/* ------------------------------------------------------------------ */

/*
 * Rings of VMBUS_RING_SIZE(128 KiB) each (the header page comes out of the
 * 128 KiB when that is at least 8 pages), packets up to the whole receive
 * data area, and no requestor of the core's: the driver has its own.
 */
int t_channel_params(void)
{
	const long pg = sysconf(_SC_PAGESIZE), payload = 128 * 1024;
	const long ring = ((payload >= 8 * pg ? 0 : pg) + payload + pg - 1) /
			  pg * pg;
	struct chan c;

	if (sim_chan_of(cur_sim_idx(), &c))
		return TEST_FAIL;
	if (c.open != 1)
		return fail("open: expected 1, got %d", c.open);
	if (c.send_ring != ring)
		return fail("send_ring: expected %ld, got %ld", ring, c.send_ring);
	if (c.recv_ring != ring)
		return fail("recv_ring: expected %ld, got %ld", ring, c.recv_ring);
	if (c.userdatalen != 0)
		return fail("userdatalen: expected 0, got %ld", c.userdatalen);
	if (c.rqstor_size != 0)
		return fail("rqstor_size: expected 0 (the driver's own requestor), got %ld",
			    c.rqstor_size);
	if (c.max_pkt_size != ring - pg)
		return fail("max_pkt_size: expected %ld (the receive ring's data area), got %ld",
			    ring - pg, c.max_pkt_size);
	if (c.rescind)
		return fail("rescind: expected 0, got %d", c.rescind);
	return 0;
}

int t_suspend_resume(void)
{
	int err = sim_ctl("suspend %d", cur_sim_idx());

	if (err)
		return fail("suspend %d: expected success, got %s",
			    cur_sim_idx(), errname(err));
	if (echo_simple(run.dev, run.name))
		return TEST_FAIL;
	return t_channel_params();
}

/*
 * Suspend while the host holds a request it answers within the drain
 * time (3 s of 10): suspend waits for it, the request succeeds.
 */
int t_suspend_busy(void)
{
	int fd = dev_open(), err, ret = 0;
	struct bg *b;
	int64_t t0, ms;

	if (fd < 0)
		return TEST_FAIL;
	b = bg_start(fd, AZ_SIM_FAULT_NONE, 3000, 0);
	if (!b)
		return TEST_FAIL;
	if (wait_idle(run.name, 1, 2, 5000)) {
		ret = TEST_FAIL;
		goto out;
	}
	t0 = now_ms();
	err = sim_ctl("suspend %d", cur_sim_idx());
	ms = now_ms() - t0;
	vlog("suspend with a request held for 3 s: %s after %" PRId64 " ms",
	     errname(err), ms);
	if (err)
		ret = fail("suspend with a request the host answers in 3 s: expected success, got %s",
			   errname(err));
	else if (!bg_done(b) && bg_join(b, now_ms() + 1000))
		ret = fail("suspend returned after %" PRId64 " ms, the request was still waiting",
			   ms);
	else if (ms > 9000)
		ret = fail("suspend took %" PRId64 " ms for a request answered after 3 s",
			   ms);
out:
	if (bg_wait(b, STUCK_MS, "the request across suspend")) {
		if (bg_done(b))
			bg_free(b);
		return TEST_FAIL;
	}
	if (!ret && (expect_ok(b->err, &b->r, 0, 64) ||
		     cmp_bytes("response", b->resp, b->req, 64)))
		ret = TEST_FAIL;
	bg_free(b);
	if (!ret)
		ret = echo_simple(run.dev, run.name);
	return ret;
}

/*
 * Suspend while the host holds a request past the 10 s drain time:
 * suspend succeeds after the drain, the request fails with EAGAIN
 * (failed +1), and after resume the device serves again.
 */
int t_suspend_drains_then_fails(void)
{
	int fd = dev_open(), err, ret = 0;
	struct dstats d0;
	struct bg *b;
	int64_t t0, ms;

	if (fd < 0 || dstats_get(run.name, &d0))
		return TEST_FAIL;
	b = bg_start(fd, AZ_SIM_FAULT_NEVER, 0, 0);
	if (!b)
		return TEST_FAIL;
	if (wait_idle(run.name, 1, 2, 5000) || wait_sim(SS_HELD, 1, 2000)) {
		ret = TEST_FAIL;
		goto out;
	}
	t0 = now_ms();
	err = sim_ctl("suspend %d", cur_sim_idx());
	ms = now_ms() - t0;
	vlog("suspend with a request held for ever: %s after %" PRId64 " ms",
	     errname(err), ms);
	if (err) {
		ret = fail("suspend with a request the host keeps: expected success after the 10 s drain, got %s after %" PRId64 " ms",
			   errname(err), ms);
		goto out;
	}
	if (ms < 9500 || ms > 20000) {
		ret = fail("suspend returned after %" PRId64 " ms, expected the 10 s drain",
			   ms);
		goto out;
	}
	if (bg_wait(b, 5000, "the held request after suspend")) {
		if (bg_done(b))
			bg_free(b);
		return TEST_FAIL;
	}
	if (b->err != EAGAIN)
		ret = fail("the request the host held across suspend: expected EAGAIN, got %s",
			   errname(b->err));
	if (!ret && wait_sim(SS_HELD, 0, 2000))
		ret = TEST_FAIL;
	if (!ret && (check_deltas(run.name, &d0, 1, 0, 0, 0, 0) ||
		     check_deltas2(run.name, &d0, 1, 0, ANY)))
		ret = TEST_FAIL;
out:
	if (ret)
		sim_ctl("release");
	if (bg_wait(b, STUCK_MS, "the held request")) {
		if (bg_done(b))
			bg_free(b);
		return TEST_FAIL;
	}
	bg_free(b);
	if (!ret)
		ret = echo_simple(run.dev, run.name);
	if (!ret)
		ret = t_channel_params();
	return ret;
}

/*
 * A resume whose vmbus_open() fails leaves the device gone: ioctls fail
 * with ENODEV (not EAGAIN for ever), on an fd opened before and on a new
 * one. Once with "fail_open" (EIO), restored by unbind and bind; once
 * with the FAIL_OPEN fault of a request (EAGAIN: the host refused the
 * open), restored by a rescind and a new offer.
 */
static int resume_failure_round(int how)
{
	const int want = how ? EAGAIN : EIO;
	const char *const what = how ? "FAIL_OPEN fault" : "fail_open 5";
	struct az_blob_request_sync r;
	struct sstats s0, s1;
	struct az_sim_req h;
	struct vbase v;
	struct chan c;
	int idx = cur_sim_idx(), err, fd2, ret = 0;

	if (vbase_init(&v) || sstats_get(&s0))
		return TEST_FAIL;
	if (how) {
		/* Answered normally; arms the failure of the next open. */
		sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_FAIL_OPEN, 0, 0, 0, 0);
		r = v.r;
		memcpy(v.req, &h, sizeof(h));
		if (ioctl_bounded(v.fd, &r, STUCK_MS, what, &err) ||
		    expect_ok(err, &r, 0, 64))
			return TEST_FAIL;
	} else if (sim_ctl("fail_open %d 5", idx)) {
		return fail("fail_open %d 5 refused", idx);
	}
	if (sim_chan_of(idx, &c))
		return TEST_FAIL;
	err = sim_ctl("suspend %d", idx);
	if (err != want) {
		ret = fail("%s, suspend %d: expected the resume to fail with %s, got %s",
			   what, idx, errname(want), errname(err));
		goto restore;
	}
	if (sstats_get(&s1)) {
		ret = TEST_FAIL;
		goto restore;
	}
	if (s1.v[SS_OPEN_FAILURES] - s0.v[SS_OPEN_FAILURES] != 1) {
		ret = fail("simulator open_failures: expected +1, got %+ld",
			   s1.v[SS_OPEN_FAILURES] - s0.v[SS_OPEN_FAILURES]);
		goto restore;
	}
	/* The fd from before, then a new one: both see a removed device. */
	r = v.r;
	if (ioctl_bounded(v.fd, &r, STUCK_MS, "ioctl after a failed resume",
			  &err)) {
		ret = TEST_FAIL;
		goto restore;
	}
	if (err != ENODEV) {
		ret = fail("%s: ioctl after the failed resume: expected ENODEV, got %s",
			   what, errname(err));
		goto restore;
	}
	fd2 = open(run.dev, O_RDWR | O_CLOEXEC);
	if (fd2 >= 0) {
		track(RES_FD, fd2, NULL, 0);
		r = v.r;
		if (ioctl_bounded(fd2, &r, STUCK_MS,
				  "ioctl on a new fd after a failed resume",
				  &err)) {
			ret = TEST_FAIL;
			goto restore;
		}
		if (err != ENODEV) {
			ret = fail("%s: ioctl on an fd opened after the failed resume: expected ENODEV, got %s",
				   what, errname(err));
			goto restore;
		}
	}
	if (sim_chan_of(idx, &c))
		ret = TEST_FAIL;
	else if (c.open)
		ret = fail("the channel is open after the failed resume");
restore:
	sim_ctl("fail_open %d 0", idx);
	/* Whatever happened, a working device for the tests after this. */
	err = how ? device_rescind_reoffer() : device_rebind();
	if (err && !ret)
		ret = TEST_FAIL;
	if (!ret)
		ret = echo_simple(run.dev, run.name);
	return ret;
}

int t_resume_failure(void)
{
	if (resume_failure_round(0))
		return TEST_FAIL;
	res_release_all();
	return resume_failure_round(1);
}

/*
 * A rescind that lands between the commit of a request's packet and the
 * send's second rescind check ("rescind_on_send", see sim/README.md). The
 * send then returns -ENODEV with the packet in the ring, maybe taken, maybe
 * answered. The request must stay the host's until the host completes it
 * or remove closes the channel: the call returns 0 with the host's answer
 * or ENODEV, never before the host is done with the pages (late_unpinned,
 * unpinned_writes +0), never twice. The device is offered again after.
 */
static int rescind_round(const char *mode, uint32_t fault, uint32_t delay,
			 int cpu, const char *what)
{
	const uint32_t status = 0x00005ca1U;
	struct az_blob_request_sync r;
	struct arena *a = arena_new(4);
	struct sstats s0, s1;
	struct az_sim_req h;
	char name[NAME_LEN];
	struct bg *b;
	uint8_t *req, *resp;
	int fd = dev_open(), idx = cur_sim_idx(), ret = 0, err, got, late_ok;
	long d_late, d_lunp, d_commit, d_def;

	if (!a || fd < 0 || sstats_get(&s0))
		return TEST_FAIL;
	snprintf(name, sizeof(name), "%s", run.name);
	sim_hdr(&h, AZ_SIM_OP_ECHO, fault, delay, status, 0, 0);
	req = put_req(a, PG + 8, 64, &h);
	resp = at(a, 2 * PG + 8);
	rq_init(&r, req, 64, resp, 128, NULL, 0, 0);
	err = sim_ctl("rescind_on_send %d %s", idx, mode);
	if (err)
		return fail("rescind_on_send %d %s: %s", idx, mode, errname(err));
	b = bg_run_cpu(fd, &r, cpu);
	if (!b)
		return TEST_FAIL;
	if (bg_wait(b, STUCK_MS + (int)delay, what)) {
		if (bg_done(b))
			bg_free(b);
		return TEST_FAIL;
	}
	if (b->cpu == -2)
		vlog("%s: could not run on CPU %d", what, cpu);
	got = b->err;
	if (b->err == 0) {
		if (strcmp(mode, "completed"))
			ret = fail("%s: expected ENODEV, got success", what);
		else if (expect_ok(0, &b->r, status, 64) ||
			 cmp_bytes("response", resp, req, 64))
			ret = TEST_FAIL;
	} else if (b->err != ENODEV) {
		ret = fail("%s: expected ENODEV%s, got %s", what,
			   strcmp(mode, "completed") ? "" : " or success",
			   errname(b->err));
	}
	/* A late host writes at the close, before the call may return. */
	late_ok = fault != AZ_SIM_FAULT_LATE || !memcmp(resp, req, 64);
	bg_free(b);
	if (ret)
		goto reoffer;
	if (wait_misc_gone(name, 5000) || sstats_get(&s1)) {
		ret = TEST_FAIL;
		goto reoffer;
	}
	d_late = s1.v[SS_LATE_WRITES] - s0.v[SS_LATE_WRITES];
	d_lunp = s1.v[SS_LATE_UNPINNED] - s0.v[SS_LATE_UNPINNED];
	d_commit = s1.v[SS_RESCIND_AFTER_COMMIT] - s0.v[SS_RESCIND_AFTER_COMMIT];
	d_def = s1.v[SS_RACE_DEFERRED] - s0.v[SS_RACE_DEFERRED];
	vlog("%s: %s, rescind_after_commit %+ld, race_deferred %+ld, race_consumed %+ld, late_writes %+ld",
	     what, errname(got), d_commit, d_def,
	     s1.v[SS_RACE_CONSUMED] - s0.v[SS_RACE_CONSUMED], d_late);
	if (d_commit + d_def != 1)
		ret = fail("%s: simulator rescind_after_commit %+ld, race_deferred %+ld: the hook did not fire once",
			   what, d_commit, d_def);
	else if (d_lunp || s1.v[SS_UNPINNED_WRITES] != s0.v[SS_UNPINNED_WRITES])
		ret = fail("%s: the host came to write pages the driver had already unpinned (late_unpinned %+ld, unpinned_writes %+ld)",
			   what, d_lunp, s1.v[SS_UNPINNED_WRITES] -
			   s0.v[SS_UNPINNED_WRITES]);
	else if (fault == AZ_SIM_FAULT_LATE && d_late <= 0)
		ret = fail("%s: the late host wrote nothing (late_writes %+ld)",
			   what, d_late);
	else if (!late_ok)
		ret = fail("%s: the call returned %s before the host wrote the response",
			   what, errname(got));
	else if (s1.v[SS_MISUSE] != s0.v[SS_MISUSE])
		ret = fail("%s: simulator misuse %+ld (%s)", what,
			   s1.v[SS_MISUSE] - s0.v[SS_MISUSE], s1.last_misuse);
reoffer:
	sim_ctl("rescind_on_send %d off", idx);
	res_release_all();
	/* The hook rescinded the device (or should have): offer one. */
	if (misc_exists(name) && device_rescind_reoffer() && !ret)
		return TEST_FAIL;
	if (!misc_exists(run.name) && adopt_new_device())
		return ret ? ret : TEST_FAIL;
	if (!ret)
		ret = echo_simple(run.dev, run.name);
	return ret;
}

int t_rescind_after_commit(void)
{
	int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

	/* In the ring, never taken: ENODEV when remove closes the channel. */
	if (rescind_round("commit", AZ_SIM_FAULT_NONE, 0, -1,
			  "commit: packet left in the ring"))
		return TEST_FAIL;
	/*
	 * Taken by a host that answers late: it writes the pages when the
	 * channel closes; they must still be pinned then.
	 */
	if (rescind_round("taken", AZ_SIM_FAULT_LATE, 3000, -1,
			  "taken: a late host writes at the close"))
		return TEST_FAIL;
	/*
	 * Answered at once: from another CPU than the channel's (0), the
	 * callback reads the answer while the send still runs; from CPU 0 it
	 * cannot, and the answer is never delivered.
	 */
	if (cpus > 1 &&
	    rescind_round("completed", AZ_SIM_FAULT_NONE, 0, 1,
			  "completed: sent from CPU 1"))
		return TEST_FAIL;
	return rescind_round("completed", AZ_SIM_FAULT_NONE, 0, 0,
			     "completed: sent from CPU 0");
}

/*
 * After the device's removal an open must fail: ENOENT when devtmpfs or
 * mdev removed the node, ENODEV when a stale node is left (no misc minor).
 */
static int expect_open_fails(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return fail("open %s after removal: expected ENOENT, got success",
			    path);
	}
	if (errno == ENOENT)
		return 0;
	if (errno == ENODEV || errno == ENXIO) {
		vlog("%s is a stale node (no devtmpfs/mdev): %s", path,
		     errname(errno));
		return 0;
	}
	return fail("open %s after removal: expected ENOENT, got %s", path,
		    errname(errno));
}

int t_second_device(void)
{
	char name[NAME_LEN], path[PATH_MAX];
	int idx = -1, created = 0, ret;
	struct sstats s0;

	if (sstats_get(&s0))
		return TEST_FAIL;
	ret = offer_device(name, &idx, &created);
	if (ret)
		goto out;
	snprintf(path, sizeof(path), "/dev/%s", name);
	if (!strcmp(name, run.name)) {
		ret = fail("new device has the name of the old one (%s)", name);
		goto out;
	}
	ret = wait_sim(SS_OPEN_CHANNELS, s0.v[SS_OPEN_CHANNELS] + 1, 2000);
	if (!ret)
		ret = echo_simple(path, name);
	if (!ret)
		ret = echo_simple(run.dev, run.name);
	if (!ret)
		ret = echo_simple(path, name);
out:
	if (idx >= 0) {
		int err = sim_ctl("rescind %d", idx);

		if (err && !ret)
			ret = fail("rescind %d: %s", idx, errname(err));
		if (!ret)
			ret = wait_misc_gone(name, 5000);
		if (created)
			unlink(path);
	}
	if (!ret)
		ret = wait_sim(SS_OPEN_CHANNELS, s0.v[SS_OPEN_CHANNELS], 2000);
	if (!ret)
		ret = echo_simple(run.dev, run.name);
	return ret;
}

/*
 * Unbind and bind through sysfs. With the simulator, a request the host
 * answers in 500 ms is in flight at the unbind: remove gives the host the
 * time to complete it, and it succeeds. After the unbind, an fd of the old
 * device gets ENODEV and the node is gone.
 */
int t_unbind_bind(void)
{
	char vm[NAME_LEN * 2], drv[PATH_MAX];
	int fd, err, ret = 0;
	struct az_blob_request_sync r;
	struct bg *b = NULL;
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	fd = v.fd;
	if (device_driver(vm, sizeof(vm), drv, sizeof(drv)))
		return TEST_FAIL;
	if (run.sim > 0) {
		b = bg_start(fd, AZ_SIM_FAULT_NONE, 500, 0);
		if (!b)
			return TEST_FAIL;
		if (wait_idle(run.name, 1, 2, 5000)) {
			sim_ctl("release");
			bg_wait(b, STUCK_MS, "the request before the unbind");
			if (bg_done(b))
				bg_free(b);
			return TEST_FAIL;
		}
	}
	ret = device_unbind(vm, drv);
	if (b) {
		if (bg_wait(b, STUCK_MS, "the request in flight at the unbind")) {
			if (bg_done(b))
				bg_free(b);
			return TEST_FAIL;
		}
		if (!ret && b->err)
			ret = fail("a request the host answers in 500 ms, in flight at the unbind: expected success (remove drains), got %s",
				   errname(b->err));
		else if (!ret && (expect_ok(b->err, &b->r, 0, 64) ||
				  cmp_bytes("response", b->resp, b->req, 64)))
			ret = TEST_FAIL;
		bg_free(b);
	}
	if (!ret) {
		r = v.r;
		if (ioctl_bounded(fd, &r, STUCK_MS, "ioctl after the unbind",
				  &err))
			ret = TEST_FAIL;
		else if (err != ENODEV)
			ret = fail("ioctl on an fd of the unbound device: expected ENODEV, got %s",
				   errname(err));
	}
	if (!ret)
		ret = expect_open_fails(run.dev);
	err = device_bind(vm, drv);
	if (ret || err)
		return ret ? ret : err;
	return echo_simple(run.dev, run.name);
}

int t_hang_burst_rescind(void)
{
	enum { NB = 8 };
	char old_dev[PATH_MAX];
	struct bg *b[NB] = { NULL };
	struct az_blob_request_sync r;
	int fd, i, ret = 0, err, idx = cur_sim_idx();
	int st[NB] = { 0 };	/* 1 joined, -1 left running */
	int rescinded = 0, leaked = 0;
	int64_t end;

	fd = dev_open();
	if (fd < 0)
		return TEST_FAIL;
	snprintf(old_dev, sizeof(old_dev), "%s", run.dev);
	if (sim_ctl_ok("hang 1"))
		return TEST_FAIL;
	for (i = 0; i < NB; i++) {
		b[i] = bg_start(fd, AZ_SIM_FAULT_NONE, 0, 20000);
		if (!b[i]) {
			ret = TEST_FAIL;
			goto out;
		}
	}
	if (wait_idle(run.name, NB, 2 * NB, 5000) ||
	    wait_sim(SS_HELD, NB, 2000)) {
		ret = TEST_FAIL;
		goto out;
	}
	err = sim_ctl("rescind %d", idx);
	if (err) {
		ret = fail("rescind %d: %s", idx, errname(err));
		goto out;
	}
	rescinded = 1;
	end = now_ms() + 10000;
	for (i = 0; i < NB; i++) {
		if (bg_join(b[i], end)) {
			st[i] = -1;
			ret = fail("request %d still waiting 10 s after rescind", i);
			goto out;
		}
		st[i] = 1;
	}
	for (i = 0; i < NB; i++)
		if (b[i]->err != ENODEV) {
			ret = fail("request %d after rescind: expected ENODEV, got %s",
				   i, errname(b[i]->err));
			goto out;
		}
	if (wait_sim(SS_HELD, 0, 2000)) {
		ret = TEST_FAIL;
		goto out;
	}
	/*
	 * The driver's counters went with the device; the host holding
	 * nothing and every caller's ENODEV are what can be checked here
	 * (kmemleak on the debug kernel catches a request never freed).
	 */
	rq_init(&r, b[0]->req, 64, b[0]->resp, 64, NULL, 0, 0);
	err = blob_ioctl(fd, &r);
	if (err != ENODEV) {
		ret = fail("new ioctl on the open fd after rescind: expected ENODEV, got %s",
			   errname(err));
		goto out;
	}
	ret = wait_misc_gone(run.name, 5000);
	if (!ret)
		ret = expect_open_fails(old_dev);
out:
	sim_ctl("hang 0");
	if (!rescinded)
		sim_ctl("release");
	/* A thread still running keeps its arena: it is leaked, not freed. */
	for (i = 0; i < NB; i++) {
		if (!b[i] || st[i] < 0) {
			leaked |= !!b[i];
			continue;
		}
		/* Not rescinded: release answered them. */
		if (!st[i] && bg_join(b[i], now_ms() + 30000)) {
			leaked = 1;
			continue;
		}
		bg_free(b[i]);
	}
	if (leaked && !ret)
		ret = fail("requests still blocked after the test");
	if (!rescinded)
		return ret;

	/* Bring a device back and make it the one under test. */
	err = adopt_new_device();
	if (err)
		return ret ? ret : err;
	if (ret)
		return ret;
	ret = echo_simple(run.dev, run.name);
	if (!ret && drv_stat("submitted") != 1)
		ret = fail("a new device: expected submitted 1 after one echo, got %ld",
			   drv_stat("submitted"));
	return ret;
}
