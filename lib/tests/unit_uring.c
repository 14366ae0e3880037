// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: the io_uring ring of the driver transport (uring.c) on the
 * host's kernel, without the driver: NOPs; timeouts completing out of
 * order from 16 threads on 8 slots (the completion is task work queued to
 * a submitter asleep on a condition variable while another thread reaps);
 * a bad SQE failing its own command only; and the driver transport's
 * choice: a regular file (no ->uring_cmd) refused by the probe with
 * EOPNOTSUPP, /dev/null (a ->uring_cmd that says 0 to anything on 6.12+)
 * refused too,
 * so auto falls back to the ioctl, on fails, off never tries; without the
 * probe the first command's EOPNOTSUPP switches to the ioctl for good.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "unit.h"
#include "uring.h"

/* The host may forbid io_uring (kernel.io_uring_disabled, seccomp). */
static struct azb_uring *ring_or_skip(unsigned int entries)
{
	struct azb_uring *r = NULL;
	int rc = azb_uring_open(&r, entries);

	if (rc == -ENOSYS || rc == -EPERM) {
		printf("# io_uring unavailable here (%s): ring cases skipped\n",
		       strerror(-rc));
		return NULL;
	}
	CHECK(rc == 0 && r);
	return r;
}

static void nops(void)
{
	struct azb_uring *r = ring_or_skip(4);
	struct azb_uring_stats st;

	if (!r)
		return;
	CHECK(azb_uring_op_supported(r, IORING_OP_NOP));
	CHECK(azb_uring_op_supported(r, IORING_OP_URING_CMD));
	CHECK(!azb_uring_op_supported(r, 255));
	for (int i = 0; i < 100; i++) {
		union azb_sqe128 u;
		uint64_t res2 = 1;
		int32_t res = 1;

		memset(&u, 0, sizeof(u));
		u.sqe.opcode = IORING_OP_NOP;
		CHECK(azb_uring_run(r, &u, &res, &res2) == 0);
		CHECK(res == 0 && res2 == 0);
	}
	azb_uring_get_stats(r, &st);
	CHECK(st.completed == 100 && st.peak == 1 && st.entries == 4);
	{
		struct azb_uring *bad = NULL;

		CHECK(azb_uring_open(&bad, 3) == -EINVAL && !bad);
		CHECK(azb_uring_open(&bad, 0) == -EINVAL && !bad);
	}
	azb_uring_close(r);
}

#define NTHREADS	16
#define PER_THREAD	25

struct tw {
	struct azb_uring *r;
	unsigned int id;
	int bad;
};

static void *timeouts_thread(void *arg)
{
	struct tw *w = arg;
	sigset_t all;

	/* As the pool's workers: every signal blocked. Task work still
	 * interrupts the condition variable's sleep. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);

	for (unsigned int i = 0; i < PER_THREAD; i++) {
		struct __kernel_timespec ts = {
			.tv_nsec = 200000 * (long)((w->id * 7 + i) % 10),
		};
		union azb_sqe128 u;
		int32_t res = 0;

		memset(&u, 0, sizeof(u));
		if ((w->id + i) % 5 == 0) {
			u.sqe.opcode = IORING_OP_NOP;
		} else {
			u.sqe.opcode = IORING_OP_TIMEOUT;
			u.sqe.addr = (uintptr_t)&ts;
			u.sqe.len = 1;
		}
		if (azb_uring_run(w->r, &u, &res, NULL) ||
		    res != (u.sqe.opcode == IORING_OP_NOP ? 0 : -ETIME))
			w->bad++;
	}
	return NULL;
}

static void threads(void)
{
	struct azb_uring *r = ring_or_skip(8);
	struct tw w[NTHREADS];
	pthread_t th[NTHREADS];
	struct azb_uring_stats st;
	int bad = 0;

	if (!r)
		return;
	for (unsigned int i = 0; i < NTHREADS; i++) {
		w[i] = (struct tw){ .r = r, .id = i };
		CHECK(!pthread_create(&th[i], NULL, timeouts_thread, &w[i]));
	}
	for (unsigned int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].bad;
	}
	CHECK(bad == 0);
	azb_uring_get_stats(r, &st);
	CHECK_U64(st.completed, NTHREADS * PER_THREAD);
	/* Slots were shared: never more than 8, and more than one at once. */
	CHECK(st.peak > 1 && st.peak <= 8);
	printf("# %u commands from %u threads, at most %u in flight\n",
	       NTHREADS * PER_THREAD, NTHREADS, st.peak);
	azb_uring_close(r);
}

static int run_timeout(struct azb_uring *r, long ms)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000,
					.tv_nsec = (ms % 1000) * 1000000 };
	union azb_sqe128 u;
	int32_t res = 0;

	memset(&u, 0, sizeof(u));
	u.sqe.opcode = IORING_OP_TIMEOUT;
	u.sqe.addr = (uintptr_t)&ts;
	u.sqe.len = 1;
	return azb_uring_run(r, &u, &res, NULL) ? -1 : res;
}

static void *slow_reaper(void *arg)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, NULL);
	return (void *)(intptr_t)run_timeout(arg, 1500);
}

/*
 * Thread B waits 1.5 s and reaps; thread A's 20 ms command completes
 * while A sleeps on the condition variable, not in the kernel: its CQE
 * must reach A through B's reaping in time, not at B's own completion.
 */
static void other_reaper(void)
{
	struct azb_uring *r = ring_or_skip(4);
	pthread_t b;
	void *bres;
	uint64_t t0;
	int res;

	if (!r)
		return;
	CHECK(!pthread_create(&b, NULL, slow_reaper, r));
	azb_sleep_ms(100);
	t0 = azb_now_ms();
	res = run_timeout(r, 20);
	CHECK(res == -ETIME);
	printf("# 20 ms command beside a 1.5 s reaper: %" PRIu64 " ms\n",
	       azb_now_ms() - t0);
	CHECK(azb_now_ms() - t0 < 700);
	pthread_join(b, &bres);
	CHECK((intptr_t)bres == -ETIME);
	azb_uring_close(r);
}

static char tmp_path[64];

/* A regular file: no ->uring_cmd, and ioctl() says ENOTTY. */
static int tmp_fd(void)
{
	int fd;

	if (!tmp_path[0]) {
		snprintf(tmp_path, sizeof(tmp_path), "/tmp/azb-unit-XXXXXX");
		fd = mkstemp(tmp_path);
		if (fd < 0)
			return -1;
		close(fd);
	}
	return open(tmp_path, O_RDWR | O_CLOEXEC);
}

static void bad_sqe(void)
{
	struct azb_uring *r = ring_or_skip(2);
	union azb_sqe128 u;
	int32_t res = 0;

	if (!r)
		return;
	memset(&u, 0, sizeof(u));
	u.sqe.opcode = 250;		/* unknown: its CQE says -EINVAL */
	CHECK(azb_uring_run(r, &u, &res, NULL) == 0 && res == -EINVAL);
	/* A uring_cmd on a file without ->uring_cmd (a regular file). */
	u.sqe.opcode = IORING_OP_URING_CMD;
	u.sqe.fd = tmp_fd();
	CHECK(u.sqe.fd >= 0);
	CHECK(azb_uring_run(r, &u, &res, NULL) == 0 && res == -EOPNOTSUPP);
	CHECK(azb_driver_probe_ring(r, u.sqe.fd) == EOPNOTSUPP);
	close(u.sqe.fd);
	/* /dev/null has a ->uring_cmd that says 0 to anything from 6.12 on
	 * (older kernels: EOPNOTSUPP): the probe wants E2BIG, so no. */
	u.sqe.fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	CHECK(u.sqe.fd >= 0);
	res = azb_driver_probe_ring(r, u.sqe.fd);
	CHECK(res == EPROTO || res == EOPNOTSUPP);
	close(u.sqe.fd);
	/* A descriptor that is not open. */
	u.sqe.fd = 9999;
	CHECK(azb_uring_run(r, &u, &res, NULL) == 0 && res == -EBADF);
	memset(&u, 0, sizeof(u));
	u.sqe.opcode = IORING_OP_NOP;
	CHECK(azb_uring_run(r, &u, &res, NULL) == 0 && res == 0);
	azb_uring_close(r);
}

/* A context for a regular file as the device: no ->uring_cmd, and every
 * ioctl fails ENOTTY. */
static azblob_ctx *null_ctx(enum azblob_driver_async mode, bool noprobe)
{
	azblob_ctx *c = NULL;

	CHECK(!azblob_ctx_new_from_connection_string(&c,
				"UseDevelopmentStorage=true", NULL));
	if (!c)
		return NULL;
	CHECK(!azblob_ctx_set_transport(c, AZBLOB_TRANSPORT_DRIVER, NULL));
	close(tmp_fd());
	CHECK(!azblob_ctx_set_device(c, tmp_path, NULL));
	CHECK(!azblob_ctx_set_driver_async(c, mode, NULL));
	CHECK(!azblob_ctx_set_retry(c, 1, 0, 0, NULL));
	azb_ctx_set_driver_ring_noprobe(c, noprobe);
	return c;
}

static void fallback(void)
{
	azblob_error *e = azblob_error_new();
	struct azb_driver_stats st;
	struct azb_uring *probe = ring_or_skip(2);
	azblob_ctx *c;

	if (!probe)
		goto env;
	azb_uring_close(probe);

	/* auto: the probe says EOPNOTSUPP, the ioctl it is. */
	c = null_ctx(AZBLOB_DRIVER_ASYNC_AUTO, false);
	CHECK(c && !azblob_ctx_connect(c, e));
	azb_driver_stats(c, &st);
	CHECK(!st.ring && !st.ring_entries);
	CHECK(azblob_container_create(c, "fallback", e) == AZBLOB_E_DRIVER);
	CHECK(azblob_error_errno(e) == ENOTTY);
	azb_driver_stats(c, &st);
	CHECK(st.ioctl_requests == 1 && st.ring_requests == 0);
	azblob_ctx_free(c);

	/* on: the transport does not open, and says why. */
	c = null_ctx(AZBLOB_DRIVER_ASYNC_ON, false);
	CHECK(c && azblob_ctx_connect(c, e) == AZBLOB_E_UNSUPPORTED);
	CHECK(azblob_error_errno(e) == EOPNOTSUPP);
	CHECK(strstr(azblob_error_message(e), "AZ_BLOB_URING_CMD_REQUEST"));
	azblob_ctx_free(c);

	/* off: never a ring. */
	c = null_ctx(AZBLOB_DRIVER_ASYNC_OFF, false);
	CHECK(c && !azblob_ctx_connect(c, e));
	CHECK(azblob_container_create(c, "fallback", e) == AZBLOB_E_DRIVER);
	azb_driver_stats(c, &st);
	CHECK(!st.ring && st.ioctl_requests == 1 && !st.ring_entries);
	azblob_ctx_free(c);

	/* No probe: the first command finds EOPNOTSUPP and goes again
	 * through the ioctl (ENOTTY), which stays. */
	c = null_ctx(AZBLOB_DRIVER_ASYNC_AUTO, true);
	CHECK(c && !azblob_ctx_connect(c, e));
	azb_driver_stats(c, &st);
	CHECK(st.ring && st.ring_entries == 128);
	CHECK(azblob_container_create(c, "fallback", e) == AZBLOB_E_DRIVER);
	CHECK(azblob_error_errno(e) == ENOTTY);
	CHECK(azblob_container_create(c, "fallback", e) == AZBLOB_E_DRIVER);
	azb_driver_stats(c, &st);
	CHECK(!st.ring && st.ioctl_requests == 2 && st.ring_requests == 0);
	azblob_ctx_free(c);

	/* ... but not when forced: the command fails EOPNOTSUPP. */
	c = null_ctx(AZBLOB_DRIVER_ASYNC_ON, true);
	CHECK(c && !azblob_ctx_connect(c, e));
	CHECK(azblob_container_create(c, "fallback", e) == AZBLOB_E_DRIVER);
	CHECK(azblob_error_errno(e) == EOPNOTSUPP);
	azb_driver_stats(c, &st);
	CHECK(st.ring && st.ioctl_requests == 0);
	azblob_ctx_free(c);
env:
	/* The environment variable. */
	setenv("AZBLOB_DRIVER_ASYNC", "1", 1);
	CHECK(!azblob_ctx_new(&c, e));
	CHECK(c && c->driver_async == AZBLOB_DRIVER_ASYNC_ON);
	azblob_ctx_free(c);
	setenv("AZBLOB_DRIVER_ASYNC", "0", 1);
	CHECK(!azblob_ctx_new(&c, e));
	CHECK(c && c->driver_async == AZBLOB_DRIVER_ASYNC_OFF);
	azblob_ctx_free(c);
	setenv("AZBLOB_DRIVER_ASYNC", "auto", 1);
	CHECK(!azblob_ctx_new(&c, e));
	CHECK(c && c->driver_async == AZBLOB_DRIVER_ASYNC_AUTO);
	azblob_ctx_free(c);
	setenv("AZBLOB_DRIVER_ASYNC", "sometimes", 1);
	CHECK(azblob_ctx_new(&c, e) == AZBLOB_E_CONFIG && !c);
	CHECK(strstr(azblob_error_message(e), "AZBLOB_DRIVER_ASYNC"));
	unsetenv("AZBLOB_DRIVER_ASYNC");
	CHECK(!azblob_ctx_new(&c, e));
	CHECK(azblob_ctx_set_driver_async(c, 7, e) == AZBLOB_E_INVAL);
	azblob_ctx_free(c);
	azblob_error_free(e);
	if (tmp_path[0])
		unlink(tmp_path);
	tmp_path[0] = 0;
}

void unit_uring(void)
{
	t_run("uring: NOPs, opcode probe, entries checked", nops);
	t_run("uring: 16 threads on 8 slots, timeouts out of order", threads);
	t_run("uring: a bad SQE fails its command, not the ring", bad_sqe);
	t_run("uring: a waiter's CQE while another thread reaps", other_reaper);
	t_run("driver: io_uring probe, fallback to the ioctl, AZBLOB_DRIVER_ASYNC",
	      fallback);
}
