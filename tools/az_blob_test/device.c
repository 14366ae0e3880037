// SPDX-License-Identifier: GPL-2.0
/*
 * The channel and the device's life: the channel's parameters, suspend
 * and resume, a second device, unbind and bind, rescind with requests
 * held.
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

int t_channel_params(void)
{
	struct chan ch[MAX_DEVS], *c = NULL;
	int n, i, idx = cur_sim_idx();

	n = sim_channels(ch, MAX_DEVS);
	if (n < 0)
		return fail("reading " SIM_DIR "/channel: %s", strerror(-n));
	for (i = 0; i < n; i++)
		if (ch[i].idx == idx)
			c = &ch[i];
	if (!c)
		return fail("no channel line for simulator device %d", idx);
	if (c->open != 1)
		return fail("open: expected 1, got %d", c->open);
	if (c->send_ring != 131072)
		return fail("send_ring: expected 131072, got %ld", c->send_ring);
	if (c->recv_ring != 131072)
		return fail("recv_ring: expected 131072, got %ld", c->recv_ring);
	if (c->userdatalen != 0)
		return fail("userdatalen: expected 0, got %ld", c->userdatalen);
	if (c->rqstor_size != 1024)
		return fail("rqstor_size: expected 1024, got %ld", c->rqstor_size);
	if (c->max_pkt_size < 16 + 12)
		return fail("max_pkt_size: expected >= 28, got %ld",
			    c->max_pkt_size);
	if (c->rescind)
		return fail("rescind: expected 0, got %d", c->rescind);
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

int t_suspend_busy(void)
{
	int fd = dev_open(), err, ret = 0;
	struct bg *b;
	int64_t t0, ms;

	if (fd < 0)
		return TEST_FAIL;
	b = bg_start(fd, AZ_SIM_FAULT_NEVER, 0, 0);
	if (!b)
		return TEST_FAIL;
	if (wait_idle(run.name, 1, 2, 5000)) {
		ret = TEST_FAIL;
		goto out;
	}
	t0 = now_ms();
	err = sim_ctl("suspend %d", cur_sim_idx());
	ms = now_ms() - t0;
	vlog("suspend with a request held: %s after %" PRId64 " ms",
	     errname(err), ms);
	if (err != EBUSY)
		ret = fail("suspend with a request held: expected EBUSY, got %s",
			   errname(err));
	else if (ms > 30000)
		ret = fail("suspend took %" PRId64 " ms to give up", ms);
out:
	sim_ctl("release");
	if (bg_join(b, now_ms() + 10000))
		return fail("request not completed 10 s after release");
	if (!ret && (expect_ok(b->err, &b->r, 0, 64) ||
		     cmp_bytes("response", b->resp, b->req, 64)))
		ret = TEST_FAIL;
	bg_free(b);
	if (!ret)
		ret = echo_simple(run.dev, run.name);
	return ret;
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

int t_unbind_bind(void)
{
	char vm[NAME_LEN * 2], path[PATH_MAX + 16], drv[PATH_MAX];
	char old[MAX_DEVS][NAME_LEN], name[NAME_LEN];
	int fd, err, ret = 0, nold, created;
	struct az_blob_request_sync r;
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	fd = v.fd;
	err = misc_vmname(run.name, vm, sizeof(vm));
	if (err)
		return fail("device link of %s: %s", run.name, strerror(err));
	snprintf(path, sizeof(path), MISC_DIR "/%s/device/driver", run.name);
	if (!realpath(path, drv))
		return fail("realpath %s: %s", path, strerror(errno));

	snprintf(path, sizeof(path), "%s/unbind", drv);
	err = write_text(path, vm);
	if (err)
		return fail("writing %s to %s: %s", vm, path, errname(err));
	ret = wait_misc_gone(run.name, 3000);
	if (!ret) {
		r = v.r;
		err = blob_ioctl(fd, &r);
		if (err != ENODEV)
			ret = fail("ioctl on an fd of the unbound device: expected ENODEV, got %s",
				   errname(err));
	}
	if (!ret)
		ret = expect_open_fails(run.dev);

	nold = misc_list(old, MAX_DEVS);
	snprintf(path, sizeof(path), "%s/bind", drv);
	err = write_text(path, vm);
	if (err)
		return ret ? ret : fail("writing %s to %s: %s", vm, path,
					errname(err));
	if (wait_new_misc(old, nold, name, 5000) || ensure_node(name, &created))
		return TEST_FAIL;
	if (strcmp(name, run.name)) {
		printf("# device is now /dev/%s\n", name);
		set_device(name);
	}
	if (ret)
		return ret;
	return echo_simple(run.dev, run.name);
}

int t_hang_burst_rescind(void)
{
	enum { NB = 8 };
	char name[NAME_LEN], old_dev[PATH_MAX];
	struct bg *b[NB] = { NULL };
	struct az_blob_request_sync r;
	int fd, i, ret = 0, err, idx = cur_sim_idx(), new_idx, created;
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
		/* Past the driver's own timeout (20 s + grace) at worst. */
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
	err = offer_device(name, &new_idx, &created);
	if (err)
		return ret ? ret : err;
	run.sim_idx = new_idx;
	if (strcmp(name, run.name))
		printf("# device is now /dev/%s (simulator device %d)\n", name,
		       new_idx);
	set_device(name);
	if (ret)
		return ret;
	ret = echo_simple(run.dev, run.name);
	if (!ret && drv_stat("submitted") != 1)
		ret = fail("a new device: expected submitted 1 after one echo, got %ld",
			   drv_stat("submitted"));
	return ret;
}
