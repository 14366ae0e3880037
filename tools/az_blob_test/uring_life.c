// SPDX-License-Identifier: GPL-2.0
/*
 * io_uring commands whose ring, task or device goes away while the host
 * holds them: the ring closed, the submitter killed or exec'ing, a host
 * that answers only at its timeout or never (the driver's own deadline and
 * channel reset), the device removed, and a registered buffer's command
 * cancelled with its ring. The host keeps its pages until it answers
 * whatever io_uring has posted (the driver's pins or page references).
 *
 * A kernel with a cancel hook for uring_cmd (6.7 on: 6.12, 7.2) ends a
 * command the host holds with -ECANCELED when its task exits or execs; 6.1
 * cannot, the command lives until the host answers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"
#include "uring.h"
#include "uring_test.h"

/* ------------------------------------------------------------------ */
/* Commands whose ring or task goes away                               */
/* ------------------------------------------------------------------ */

static int cancelled_is(long c0, long n, int ms);

/* Queue n ECHO commands the host will hold (not yet submitted). */
static int prep_held(struct uring *u, int fd, struct ureq *q, int n,
		     uint64_t tag0)
{
	int i;

	for (i = 0; i < n; i++) {
		if (ureq_init(&q[i], AZ_SIM_OP_ECHO, 64, 64, 0, 0,
			      AZ_SIM_FAULT_NEVER, 0, 0, i, 1)) {
			while (i--)
				ureq_free(&q[i]);
			return TEST_FAIL;
		}
		prep_cmd(u, ur_get_sqe(u), fd, &q[i].r, tag0 + i);
	}
	return 0;
}

/*
 * The ring closed (fd closed, mappings gone) while the host holds 8
 * commands: the host keeps its pages (outstanding 8, pinned_pages 16)
 * until it answers; then nothing is left.
 */
int t_uring_ring_closed(void)
{
	enum { N = 8 };
	struct ureq q[N];
	struct uring u;
	int fd, ret = 0;
	long c0;

	READY();
	fd = dev_open();
	if (fd < 0 || ring_new(&u, 16, U_RING_FLAGS))
		return TEST_FAIL;
	if (prep_held(&u, fd, q, N, 0)) {
		ur_close(&u);
		return TEST_FAIL;
	}
	c0 = ustat("cancelled");
	if (submit_n(&u, N) || wait_sim(SS_HELD, N, 10000) ||
	    outstanding_is(N, 2000)) {
		ur_close(&u);
		return TEST_FAIL;
	}
	ur_close(&u);
	/* 6.12+: the ring's exit cancels them; 6.1 waits for the host. */
	if (cancelled_is(c0, k_cancels() ? N : 0, 5000)) {
		sim_ctl("release");
		all_idle(10000);
		return TEST_FAIL;
	}
	sleep_ms(500);
	ret = wait_idle(run.name, N, 2 * N, 2000);
	if (ret) {
		char m[sizeof(run.reason)];

		snprintf(m, sizeof(m), "%s", run.reason);
		run.reason[0] = 0;
		fail("ring closed, the host holding %d: %s", N, m);
	}
	sim_ctl("release");
	if (all_idle(10000))
		return TEST_FAIL;
	return ret;
}

/* What a child does on the ring it shares with its parent. */
enum { CH_KILL, CH_EXEC, CH_EXIT };

/*
 * Fork a child that submits @n commands (@fault, @delay, @timeout) on
 * @u, tells @pfd[1] and then waits to be killed, execs or exits. The
 * child's CLOEXEC end @xfd tells the parent when the exec happened (EOF).
 */
static pid_t child_cmds(struct uring *u, int fd, int n, uint32_t fault,
			uint32_t delay, uint32_t timeout, int how, int pfd[2],
			int xfd[2])
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid)
		return pid;
	close(pfd[0]);
	close(xfd[0]);
	{
		struct uring own;
		struct ureq q;
		int i, dn;

		if (!u) {		/* a ring of the child's own */
			if (ur_setup(&own, 16, U_RING_FLAGS))
				_exit(104);
			u = &own;
		}

		for (i = 0; i < n; i++) {
			if (ureq_init(&q, AZ_SIM_OP_ECHO, 64, 64, 0, 0, fault,
				      delay, 0, i, 0))
				_exit(100);
			q.r.timeout = timeout;
			prep_cmd(u, ur_get_sqe(u), fd, &q.r, 1000 + i);
		}
		if (ur_submit(u, 0) != n)
			_exit(101);
		if (write(pfd[1], "x", 1) != 1)
			_exit(102);
		if (how == CH_KILL)
			for (;;)
				pause();
		if (how == CH_EXIT)
			_exit(0);
		dn = open("/dev/null", O_WRONLY);
		if (dn >= 0) {
			dup2(dn, 1);
			dup2(dn, 2);
		}
		execl("/proc/self/exe", "az_blob_test", "-h", (char *)NULL);
		_exit(103);
	}
}

/*
 * Start the child and wait until the host holds its @n commands (or they
 * were taken: @fault NONE with a delay).
 */
static int child_start(struct uring *u, int fd, int n, uint32_t fault,
		       uint32_t delay, uint32_t timeout, int how, pid_t *pid,
		       int xfd[2])
{
	int pfd[2], st;
	char ch;

	if (pipe(pfd))
		return fail("pipe: %s", strerror(errno));
	if (pipe2(xfd, O_CLOEXEC)) {
		close(pfd[0]);
		close(pfd[1]);
		return fail("pipe2: %s", strerror(errno));
	}
	*pid = child_cmds(u, fd, n, fault, delay, timeout, how, pfd, xfd);
	close(pfd[1]);
	close(xfd[1]);
	if (*pid < 0) {
		close(pfd[0]);
		close(xfd[0]);
		return fail("fork: %s", strerror(errno));
	}
	if (read(pfd[0], &ch, 1) != 1) {
		close(pfd[0]);
		reap(*pid, &st, 5000);
		return fail("the child did not submit (status 0x%x)", st);
	}
	close(pfd[0]);
	if (outstanding_is(n, 10000))
		return TEST_FAIL;
	if (fault == AZ_SIM_FAULT_NEVER && wait_sim(SS_HELD, n, 5000))
		return TEST_FAIL;
	return 0;
}

/* @n CQEs with res @res within @ms; user_data 1000 + i each once. */
static int expect_cqes(struct uring *u, int n, int res, int ms,
		       const char *what)
{
	uint32_t seen = 0;
	struct ur_cqe c;
	int i;

	for (i = 0; i < n; i++) {
		if (wait_cqe(u, ms, &c, what))
			return TEST_FAIL;
		if (c.user_data < 1000 || c.user_data >= 1000 + (uint64_t)n ||
		    (seen >> (c.user_data - 1000)) & 1)
			return fail("%s: unexpected user_data %" PRIu64, what,
				    c.user_data);
		seen |= 1U << (c.user_data - 1000);
		if (c.res != res)
			return fail("%s: CQE res expected %d (%s), got %d (%s)",
				    what, res, res ? errname(-res) : "0", c.res,
				    c.res <= 0 ? errname(-c.res) : "?");
		if (!res && (AZ_BLOB_CQE_STATUS(c.big0) != 0 ||
			     AZ_BLOB_CQE_RESPONSE_LEN(c.big0) != 64))
			return fail("%s: status 0x%08x, response_len %u; expected 0, 64",
				    what, AZ_BLOB_CQE_STATUS(c.big0),
				    AZ_BLOB_CQE_RESPONSE_LEN(c.big0));
	}
	if (ur_cq_ready(u))
		return fail("%s: %u CQEs more than the %d commands", what,
			    ur_cq_ready(u), n);
	return 0;
}

/* The driver's cancelled counter moved by @n since @c0 (within @ms). */
static int cancelled_is(long c0, long n, int ms)
{
	int64_t end = now_ms() + ms;

	while (ustat("cancelled") - c0 != n) {
		if (now_ms() > end)
			return fail("cancelled %+ld, expected %+ld",
				    ustat("cancelled") - c0, n);
		sleep_ms(20);
	}
	return 0;
}

/*
 * The submitter killed (SIGKILL) or exec'ing while the host holds 4 of its
 * commands, on a ring its parent shares (so that the CQEs can be seen).
 *
 * Killed: a task's exit cancels only what io_uring tracks, not uring_cmds,
 * while the ring lives on (io_uring_cancel_generic(false)); on every
 * kernel the commands stay, no CQE until the host answers, then res 0
 * delivered although the submitter is gone.
 * Exec: 6.12+ cancel every command of the task (-ECANCELED at once, the
 * pages stay the host's until it answers); 6.1 cannot, exec waits for the
 * host's answer, the CQEs carry it.
 */
static int gone_case(int how)
{
	enum { N = 4 };
	struct uring u;
	int fd, xfd[2] = { -1, -1 }, ret, st, cancels = how == CH_EXEC && k_cancels();
	pid_t pid = -1;
	long c0;
	char ch;

	READY();
	fd = dev_open();
	if (fd < 0 || ring_new(&u, 16, U_RING_FLAGS))
		return TEST_FAIL;
	c0 = ustat("cancelled");
	ret = child_start(&u, fd, N, AZ_SIM_FAULT_NEVER, 0, 30000, how, &pid,
			  xfd);
	if (ret)
		goto out;
	if (how == CH_KILL) {
		kill(pid, SIGKILL);
		if (reap(pid, &st, 10000)) {
			ret = fail("the child has not gone 10 s after SIGKILL");
			goto out;
		}
	} else {
		/* 6.1 waits in exec for the task's commands; 6.12+ cancel. */
		struct timeval tv = { cancels ? 10 : 1, 500000 };
		fd_set set;
		int sel;

		FD_ZERO(&set);
		FD_SET(xfd[0], &set);
		sel = select(xfd[0] + 1, &set, NULL, NULL, &tv);
		if (cancels && sel != 1) {
			ret = fail("exec has not happened 10 s after it was called");
			goto out;
		}
		if (!cancels && sel != 0) {
			ret = fail("6.1: exec went through while the host held the task's commands (io_uring waits for them)");
			goto out;
		}
	}
	if (cancels) {
		ret = expect_cqes(&u, N, -ECANCELED, 5000, "exec");
		if (!ret)
			ret = outstanding_is(N, 0);
		if (!ret && drv_stat("pinned_pages") != 2 * N)
			ret = fail("after -ECANCELED: pinned_pages %ld, expected %d (the host owns them)",
				   drv_stat("pinned_pages"), 2 * N);
		if (!ret)
			ret = cancelled_is(c0, N, 0);
		sim_ctl("release");
	} else {
		sleep_ms(1000);
		if (ur_cq_ready(&u)) {
			ret = fail("%s: a CQE before the host answered",
				   how == CH_KILL ? "killed" : "6.1 exec");
			goto out;
		}
		if (outstanding_is(N, 0))
			goto out_fail;
		sim_ctl("release");
		ret = expect_cqes(&u, N, 0, 10000, "after release");
		if (!ret)
			ret = cancelled_is(c0, 0, 0);
	}
	if (!ret && how == CH_EXEC) {
		struct timeval tv = { 10, 0 };
		fd_set set;

		FD_ZERO(&set);
		FD_SET(xfd[0], &set);
		if (select(xfd[0] + 1, &set, NULL, NULL, &tv) != 1 ||
		    read(xfd[0], &ch, 1) != 0)
			ret = fail("exec has not happened 10 s after the commands ended");
	}
	goto out;
out_fail:
	ret = TEST_FAIL;
out:
	sim_ctl("release");
	if (pid > 0) {
		kill(pid, SIGKILL);
		reap(pid, &st, 10000);
	}
	if (xfd[0] >= 0)
		close(xfd[0]);
	ur_close(&u);
	if (all_idle(10000))
		return TEST_FAIL;
	return ret;
}

int t_uring_killed_shared(void)
{
	return gone_case(CH_KILL);
}

int t_uring_exec(void)
{
	return gone_case(CH_EXEC);
}

/*
 * A submitter with a ring of its own goes away (@how: killed, exits)
 * while the host holds @n commands (@fault, @delay, @timeout). 6.12+:
 * the ring's exit cancels them at once (cancelled +@n within 2 s), the
 * pages stay the host's (outstanding @n) until it answers; 6.1: nothing
 * is cancelled, the ring's exit waits for the host. @release: answer
 * with "release", else wait for the host's own timeout.
 */
static int own_ring_gone(int how, int n, uint32_t fault, uint32_t delay,
			 uint32_t timeout, int release)
{
	int fd, xfd[2] = { -1, -1 }, ret, st;
	int64_t t0, ms;
	pid_t pid = -1;
	long c0;

	READY();
	fd = dev_open();
	if (fd < 0)
		return TEST_FAIL;
	c0 = ustat("cancelled");
	ret = child_start(NULL, fd, n, fault, delay, timeout, how, &pid, xfd);
	if (ret)
		goto out;
	t0 = now_ms();
	if (how == CH_KILL)
		kill(pid, SIGKILL);
	if (reap(pid, &st, 10000)) {
		ret = fail("the child has not gone 10 s after %s",
			   how == CH_KILL ? "SIGKILL" : "_exit");
		goto out;
	}
	pid = -1;
	if (k_cancels()) {
		ret = cancelled_is(c0, n, 2000);
		if (!ret && (ms = now_ms() - t0) > 1500)
			ret = fail("cancelled %" PRId64 " ms after the submitter went; expected at once",
				   ms);
	} else {
		sleep_ms(release ? 1000 : 500);
		ret = cancelled_is(c0, 0, 0);
	}
	/* The host still owns the pages (a host timeout of 2 s: not yet). */
	if (!ret && drv_stat("outstanding") != n)
		ret = fail("after the submitter went: outstanding %ld, expected %d until the host answers",
			   drv_stat("outstanding"), n);
	if (!ret && drv_stat("pinned_pages") != 2 * n)
		ret = fail("after the submitter went: pinned_pages %ld, expected %d",
			   drv_stat("pinned_pages"), 2 * n);
	if (release)
		sim_ctl("release");
	if (!ret && all_idle(release ? 10000 : (int)timeout + 10000))
		ret = TEST_FAIL;
	if (!ret && !release && now_ms() - t0 < (int64_t)timeout - 500)
		ret = fail("idle %" PRId64 " ms after the submitter went, before the host's %u ms timeout",
			   now_ms() - t0, timeout);
out:
	sim_ctl("release");
	if (pid > 0) {
		kill(pid, SIGKILL);
		reap(pid, &st, 10000);
	}
	if (xfd[0] >= 0)
		close(xfd[0]);
	if (all_idle(10000))
		return TEST_FAIL;
	return ret;
}

/* Killed with 4 held, its own ring: 6.12+ cancel at ring exit. */
int t_uring_killed(void)
{
	return own_ring_gone(CH_KILL, 4, AZ_SIM_FAULT_NEVER, 0, 30000, 1);
}

/*
 * A host that never answers before the timeout but honours it (delay
 * 60 s, timeout 2 s), the submitter exits: 6.1 bounded by the host's
 * timeout (the ring's exit waits for it), 6.12+ -ECANCELED at once at
 * ring exit (cancelled +2), the pages freed at the host's timeout.
 */
int t_uring_exit_host_timeout(void)
{
	return own_ring_gone(CH_EXIT, 2, AZ_SIM_FAULT_NONE, 60000, 2000, 0);
}

/*
 * The device serves after a channel reset. The reset posts the failed
 * CQEs while it closes the channel, before it opens it again, so a
 * request sent at once may end with EAGAIN (documented: "also while ...
 * the channel is reset"): retry EAGAIN, through the ioctl or in a CQE, for
 * up to @ms; then the same request both ways must be answered exactly.
 */
static int serves_after_reset(struct uring *u, int fd, int ms)
{
	int64_t t0 = now_ms();
	struct az_blob_request_sync r;
	struct ur_cqe c;
	struct ureq e;
	int err, tries = 0;

	if (ureq_init(&e, AZ_SIM_OP_ECHO, 64, 64, 0, 0, 0, 0, 0, 3, 1))
		return TEST_FAIL;
	for (;;) {
		r = e.r;
		err = blob_ioctl(fd, &r);
		if (!err) {
			if (cmd1(u, fd, &e.r, 0, 0, 0, STUCK_MS, &c,
				 "after the reset"))
				return TEST_FAIL;
			if (c.res != -EAGAIN)
				break;
			err = EAGAIN;
		}
		if (err != EAGAIN)
			break;		/* both_ways() says what it is */
		if (now_ms() - t0 > ms)
			return fail("after the reset: still EAGAIN %" PRId64 " ms later (%d tries)",
				    now_ms() - t0, tries + 1);
		tries++;
		sleep_ms(50);
	}
	if (tries)
		vlog("EAGAIN %d times, %" PRId64 " ms, after the reset", tries,
		     now_ms() - t0);
	return both_ways(u, fd, &e, "after the reset");
}

/*
 * A host that ignores the timeout (NEVER, timeout 1000 ms) on a live
 * ring: the driver resets the channel AZ_BLOB_URING_GRACE_MS after the
 * timeout; that command ends with -ETIMEDOUT, another one the host still
 * had (its answer due in 60 s) with -EAGAIN; the device serves again
 * (within 5 s: EAGAIN until the channel is open again).
 */
int t_uring_driver_deadline(void)
{
	struct ureq a, b;
	struct uring u;
	struct ur_cqe c;
	int fd, i, ret = 0;
	int64_t t0, ms;
	int res[2] = { 1, 1 };
	long ov0, rs0;

	READY();
	fd = dev_open();
	if (fd < 0 || ring_new(&u, 8, U_RING_FLAGS) ||
	    ureq_init(&a, AZ_SIM_OP_ECHO, 64, 64, 0, 0, AZ_SIM_FAULT_NEVER, 0, 0, 1, 1) ||
	    ureq_init(&b, AZ_SIM_OP_ECHO, 64, 64, 0, 0, 0, 120000, 0, 2, 1))
		return TEST_FAIL;
	a.r.timeout = 1000;
	b.r.timeout = 60000;
	ov0 = ustat("overdue");
	rs0 = ustat("resets");
	prep_cmd(&u, ur_get_sqe(&u), fd, &a.r, 0);
	prep_cmd(&u, ur_get_sqe(&u), fd, &b.r, 1);
	t0 = now_ms();
	if (submit_n(&u, 2) || outstanding_is(2, 5000)) {
		ur_close(&u);
		return TEST_FAIL;
	}
	for (i = 0; i < 2 && !ret; i++) {
		if (wait_cqe(&u, 40000, &c, "driver deadline")) {
			ret = TEST_FAIL;
			break;
		}
		if (c.user_data < 2)
			res[c.user_data] = c.res;
	}
	ms = now_ms() - t0;
	if (!ret && res[0] != -ETIMEDOUT)
		ret = fail("the command the host ignored: expected -ETIMEDOUT, got %d (%s)",
			   res[0], errname(-res[0]));
	if (!ret && res[1] != -EAGAIN)
		ret = fail("the other command at the reset: expected -EAGAIN, got %d (%s)",
			   res[1], errname(-res[1]));
	if (!ret && (ms < 1000 + AZ_BLOB_URING_GRACE_MS - 500 ||
		     ms > 1000 + AZ_BLOB_URING_GRACE_MS + 10000))
		ret = fail("the reset came after %" PRId64 " ms; expected about %u",
			   ms, 1000 + AZ_BLOB_URING_GRACE_MS);
	if (!ret)
		ret = all_idle(5000);
	if (!ret && (ustat("overdue") != ov0 + 1 || ustat("resets") != rs0 + 1))
		ret = fail("overdue %+ld, resets %+ld; expected +1, +1",
			   ustat("overdue") - ov0, ustat("resets") - rs0);
	if (!ret)
		ret = serves_after_reset(&u, fd, 5000);
	ur_close(&u);
	return ret;
}

/*
 * The device removed (rescind) with 8 commands held: 8 CQEs -ENODEV at
 * once, a new command on the open fd -ENODEV; a new device is offered
 * and becomes the one under test.
 */
int t_uring_removal(void)
{
	enum { N = 8 };
	struct ureq q[N];
	struct uring u;
	struct ur_cqe c;
	int fd, i, ret = 0, idx = cur_sim_idx();

	READY();
	fd = dev_open();
	if (fd < 0 || ring_new(&u, 16, U_RING_FLAGS))
		return TEST_FAIL;
	if (prep_held(&u, fd, q, N, 1000)) {
		ur_close(&u);
		return TEST_FAIL;
	}
	if (submit_n(&u, N) || wait_sim(SS_HELD, N, 10000)) {
		sim_ctl("release");
		ur_close(&u);
		return TEST_FAIL;
	}
	i = sim_ctl("rescind %d", idx);
	if (i) {
		sim_ctl("release");
		ur_close(&u);
		return fail("rescind %d: %s", idx, errname(i));
	}
	ret = expect_cqes(&u, N, -ENODEV, 10000, "after rescind");
	if (!ret && (cmd1(&u, fd, &q[0].r, 0, 0, 0, STUCK_MS, &c, "after removal") ||
		     (c.res != -ENODEV &&
		      fail("a new command on the fd of a removed device: expected -ENODEV, got %d (%s)",
			   c.res, errname(-c.res)))))
		ret = TEST_FAIL;
	ur_close(&u);
	if (!ret)
		ret = wait_sim(SS_HELD, 0, 2000);
	if (adopt_new_device())
		return ret ? ret : TEST_FAIL;
	return ret ? ret : echo_simple(run.dev, run.name);
}

/*
 * A FIXED command the host holds when its submitter (and its ring) is
 * killed. 6.12+: io_uring cancels it at ring exit (cancelled +1), the ring
 * and its registration go, and only the driver's page references keep the
 * 4 pages for the host (fixed_pages 4 until the host answers); the host's
 * answer then writes the response page, which is referenced, not pinned:
 * the simulator's referenced_writes +1, unpinned_writes +0 (a page with no
 * reference left). 6.1: the ring's exit waits for the command, the
 * registration keeps its pins: cancelled +0, referenced_writes +0.
 */
int t_uring_fixed_cancelled(void)
{
	enum { PAGES = 4 };
	struct sstats s0, s1;
	struct uring u;
	int fd, ret = 0, pfd[2], st, cancels = k_cancels();
	long c0, ref, unp;
	pid_t pid;
	char ch;

	READY();
	fd = dev_open();
	if (fd < 0 || pipe(pfd) || sstats_get(&s0))
		return TEST_FAIL;
	c0 = ustat("cancelled");
	fflush(stdout);
	pid = fork();
	if (!pid) {
		struct az_blob_request_sync r;
		struct az_sim_req h;
		struct iovec iov;
		uint8_t *m;

		close(pfd[0]);
		m = mmap(NULL, PAGES * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || ur_setup(&u, 4, U_RING_FLAGS))
			_exit(100);
		iov.iov_base = m;
		iov.iov_len = PAGES * PG;
		if (ur_register_buffers(&u, &iov, 1))
			_exit(101);
		memset(m, 0, PAGES * PG);
		sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NEVER, 0, 0, 0, 0);
		memcpy(m, &h, sizeof(h));
		/* The answer: 64 bytes echoed into one response page. */
		rq_init(&r, m, 64, m + PG, 64, m + 2 * PG, 2 * PG, 0);
		r.timeout = 30000;
		prep_cmd(&u, ur_get_sqe(&u), fd, &r, 1);
		((struct io_uring_sqe *)u.sqes)->uring_cmd_flags = IORING_URING_CMD_FIXED;
		if (ur_submit(&u, 0) != 1)
			_exit(102);
		if (write(pfd[1], "x", 1) != 1)
			_exit(103);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (pid < 0 || read(pfd[0], &ch, 1) != 1) {
		close(pfd[0]);
		if (pid > 0)
			reap(pid, &st, 5000);
		return fail("the child did not submit its FIXED command");
	}
	close(pfd[0]);
	if (wait_sim(SS_HELD, 1, 5000))
		ret = TEST_FAIL;
	kill(pid, SIGKILL);
	if (reap(pid, &st, 10000) && !ret)
		ret = fail("the killed child has not gone");
	/*
	 * 6.12+: cancelled at the ring's exit, ring and registration gone,
	 * the host still owns 4 pages; 6.1: the ring's exit waits.
	 */
	if (!ret)
		ret = cancelled_is(c0, cancels ? 1 : 0, 3000);
	sleep_ms(500);
	if (!ret)
		ret = outstanding_is(1, 2000);
	if (!ret && ustat("fixed_pages") != PAGES)
		ret = fail("after the cancel: fixed_pages %ld, expected %d (the host's pages referenced)",
			   ustat("fixed_pages"), PAGES);
	/* Held until the host answers, however long that takes. */
	sleep_ms(500);
	if (!ret && ustat("fixed_pages") != PAGES)
		ret = fail("1 s after the cancel, the host still holding: fixed_pages %ld, expected %d",
			   ustat("fixed_pages"), PAGES);
	sim_ctl("release");
	if (all_idle(10000))
		return TEST_FAIL;
	if (ret)
		return ret;
	if (sstats_get(&s1))
		return TEST_FAIL;
	ref = s1.v[SS_REFERENCED_WRITES] - s0.v[SS_REFERENCED_WRITES];
	unp = s1.v[SS_UNPINNED_WRITES] - s0.v[SS_UNPINNED_WRITES];
	/* The post-check allows what this test expects, nothing else. */
	run.referenced_ok = cancels ? 1 : 0;
	if (ref != run.referenced_ok || unp)
		return fail("the host's answer: simulator referenced_writes %+ld, unpinned_writes %+ld; expected %+ld, +0",
			    ref, unp, run.referenced_ok);
	return 0;
}
