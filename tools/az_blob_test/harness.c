// SPDX-License-Identifier: GPL-2.0
/*
 * The harness the az_blob_test suites share (harness.h): the run's state,
 * reporting, small helpers, resources released after each test, callers
 * that go away and the runner. Arenas, requests and background requests
 * are in harness_req.c; the driver's and the simulator's state and the
 * misc devices in harness_dev.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

struct run_state run = {
	.dev = "/dev/azure_blob",
	.sim = -1,
	.threads = 4,
	.iters = 200,
};

/* ------------------------------------------------------------------ */
/* Reporting                                                           */
/* ------------------------------------------------------------------ */

int fail(const char *fmt, ...)
{
	va_list ap;

	if (!run.reason[0]) {
		va_start(ap, fmt);
		vsnprintf(run.reason, sizeof(run.reason), fmt, ap);
		va_end(ap);
	}
	return TEST_FAIL;
}

void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!run.verbose)
		return;
	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

const char *errname(int e)
{
	static __thread char buf[32];
	static const struct { int e; const char *n; } t[] = {
		{ 0, "success" }, { EPERM, "EPERM" }, { ENOENT, "ENOENT" },
		{ EINTR, "EINTR" }, { EIO, "EIO" }, { ENXIO, "ENXIO" },
		{ E2BIG, "E2BIG" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
		{ EACCES, "EACCES" }, { EFAULT, "EFAULT" }, { EBUSY, "EBUSY" },
		{ ENODEV, "ENODEV" }, { EINVAL, "EINVAL" }, { ENOTTY, "ENOTTY" },
		{ ENOSPC, "ENOSPC" }, { ERANGE, "ERANGE" },
		{ ETIMEDOUT, "ETIMEDOUT" }, { EOPNOTSUPP, "EOPNOTSUPP" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].e == e)
			return t[i].n;
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Copy @src into @dst of @n bytes, truncating; always NUL-terminated. */
void copy_str(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	if (len >= n)
		len = n - 1;
	memcpy(dst, src, len);
	dst[len] = 0;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "az_blob_test: out of memory\n");
		exit(2);
	}
	return p;
}

/* Read a small file into @buf, NUL-terminated. Returns 0 or an errno. */
int read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	while (len + 1 < size) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = errno;
			close(fd);
			return (int)n;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	close(fd);
	return 0;
}

/* Write @s (no newline) to @path in one write. Returns 0 or an errno. */
int write_text(const char *path, const char *s)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = write(fd, s, strlen(s));
	if (n < 0)
		err = errno;
	else if ((size_t)n != strlen(s))
		err = EIO;
	if (close(fd) && !err)
		err = errno;
	return err;
}

/* ------------------------------------------------------------------ */
/* Resources a test leaves behind are released by the runner           */
/* ------------------------------------------------------------------ */

struct res {
	int kind;
	int fd;
	void *p;
	size_t len;
};

static struct res g_res[256];
static int g_nres;
static pthread_mutex_t g_res_lock = PTHREAD_MUTEX_INITIALIZER;

void track(int kind, int fd, void *p, size_t len)
{
	pthread_mutex_lock(&g_res_lock);
	if (g_nres < (int)(sizeof(g_res) / sizeof(g_res[0]))) {
		g_res[g_nres].kind = kind;
		g_res[g_nres].fd = fd;
		g_res[g_nres].p = p;
		g_res[g_nres].len = len;
		g_nres++;
	}
	pthread_mutex_unlock(&g_res_lock);
}

void res_release_all(void)
{
	pthread_mutex_lock(&g_res_lock);
	while (g_nres > 0) {
		struct res *r = &g_res[--g_nres];

		if (r->kind == RES_FD)
			close(r->fd);
		else if (r->kind == RES_MAP)
			munmap(r->p, r->len);
		else
			arena_free(r->p);
	}
	pthread_mutex_unlock(&g_res_lock);
}

/* A tracked anonymous mapping; MAP_NORESERVE so that untouched is free. */
void *map_pages(size_t pages, int prot)
{
	void *p = mmap(NULL, pages * PG, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		fail("mmap %zu pages: %s", pages, strerror(errno));
		return NULL;
	}
	track(RES_MAP, -1, p, pages * PG);
	return p;
}

int dev_open_path(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fail("open %s: %s", path, strerror(errno));
	track(RES_FD, fd, NULL, 0);
	return fd;
}

int dev_open(void)
{
	return dev_open_path(run.dev);
}

/* ------------------------------------------------------------------ */
/* Callers that go away                                                */
/* ------------------------------------------------------------------ */

/* Child of killed_caller: submit a request the host holds, never return. */
void child_submit(const char *dev, uint32_t fault, uint32_t delay)
{
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t *m;
	int fd, err;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(120);
	m = mmap(NULL, 6 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		_exit(121);
	memset(m, 0, 6 * PG);
	sim_hdr(&h, AZ_SIM_OP_ECHO, fault, delay, 0, 0, 0);
	memcpy(m, &h, sizeof(h));
	/* request 1 page, response 1 page, data 4 pages: 6 pinned. */
	rq_init(&r, m, 64, m + PG, 64, m + 2 * PG, 4 * PG, 0);
	r.timeout = 0;
	err = blob_ioctl(fd, &r);
	_exit(err ? (err & 0x7f) : 0);
}

/* Reap @pid within @ms; returns 0 and the status, or -1. */
int reap(pid_t pid, int *status, int ms)
{
	int64_t end = now_ms() + ms;

	for (;;) {
		pid_t p = waitpid(pid, status, WNOHANG);

		if (p == pid)
			return 0;
		if (p < 0 || now_ms() > end)
			return -1;
		sleep_ms(5);
	}
}

/* ------------------------------------------------------------------ */
/* The runner                                                          */
/* ------------------------------------------------------------------ */

/*
 * What must hold after every test. The simulator's referenced_writes (a
 * page written that was referenced but not pinned) may move only by what
 * the test expects (run.referenced_ok): else it is a page the driver
 * released too early, as unpinned_writes is.
 */
int post_check(const struct sstats *s0)
{
	static const int zero[] = {
		SS_VIOLATIONS, SS_MISUSE, SS_UNPINNED_WRITES, SS_RING_ERRORS,
		SS_REFERENCED_WRITES,
	};
	struct sstats s;
	size_t i;

	if (!misc_exists(run.name))
		return fail("post: device %s is gone", run.name);
	if (wait_idle(run.name, 0, 0, 2000)) {
		char msg[sizeof(run.reason)];

		snprintf(msg, sizeof(msg), "%s", run.reason);
		run.reason[0] = 0;
		return fail("post: %s", msg);
	}
	if (!s0)
		return 0;
	if (wait_sim(SS_HELD, 0, 2000)) {
		run.reason[0] = 0;
		return fail("post: the simulator still holds requests");
	}
	if (sstats_get(&s))
		return TEST_FAIL;
	for (i = 0; i < sizeof(zero) / sizeof(zero[0]); i++) {
		int k = zero[i];
		long ok = k == SS_REFERENCED_WRITES ? run.referenced_ok : 0;

		if (s.v[k] - s0->v[k] == ok)
			continue;
		return fail("post: simulator %s %+ld%s%s%s", ss_keys[k],
			    s.v[k] - s0->v[k],
			    k == SS_VIOLATIONS || k == SS_MISUSE ? " (last: " : "",
			    k == SS_VIOLATIONS ? s.last_violation :
			    k == SS_MISUSE ? s.last_misuse : "",
			    k == SS_VIOLATIONS || k == SS_MISUSE ? ")" : "");
	}
	if (s.v[SS_DUPS_ARMED])
		return fail("post: the simulator still keeps %ld REUSED_ID copies",
			    s.v[SS_DUPS_ARMED]);
	return 0;
}

/* After a failed test: nothing held, stalled or armed on the host. */
void sim_cleanup(void)
{
	int idx = cur_sim_idx();

	if (run.sim <= 0)
		return;
	sim_ctl("hang 0");
	sim_ctl("stall %d 0", idx);
	sim_ctl("rescind_on_send %d off", idx);
	sim_ctl("fail_open %d 0", idx);
	sim_ctl("release");
}

/* /dev/kmsg from now on, or -1. */
int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/*
 * Fail if the kernel complained since kmsg_open(): a warning, a BUG, a
 * refcount or list corruption report, a sanitizer, simulator misuse.
 */
int kmsg_check(int fd)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "Oops", "refcount_t:", "list_add corruption",
		"list_del corruption", "general protection", "UBSAN", "KASAN",
		"driver misuse", "Call Trace", "kernel BUG",
	};
	char rec[2048], *msg;
	ssize_t n;
	size_t i;

	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records */
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			if (strstr(msg, bad[i]))
				return fail("kernel log: %s", msg);
	}
	return 0;
}

int run_test(const struct test *t)
{
	struct sstats s0;
	int have_s0, rc, post, kmsg;

	run.reason[0] = 0;
	run.referenced_ok = 0;
	have_s0 = run.sim > 0 && !sstats_read(&s0);
	kmsg = kmsg_open();
	vlog("%s: %s", t->name, t->desc);
	rc = t->fn();
	res_release_all();
	if (rc == TEST_SKIP) {
		if (kmsg >= 0)
			close(kmsg);
		return rc;
	}
	if (rc && !run.reason[0])
		fail("(no reason given)");
	if (rc) {
		char msg[sizeof(run.reason)];

		/* Leave nothing held, stalled or armed for the next test. */
		sim_cleanup();
		/* Still wait for the driver to settle, reason unchanged. */
		snprintf(msg, sizeof(msg), "%s", run.reason);
		post_check(have_s0 ? &s0 : NULL);
		/* A kernel complaint is worth knowing next to the reason. */
		run.reason[0] = 0;
		if (kmsg_check(kmsg))
			snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
				 "; %s", run.reason);
		snprintf(run.reason, sizeof(run.reason), "%s", msg);
		if (kmsg >= 0)
			close(kmsg);
		return rc;
	}
	post = post_check(have_s0 ? &s0 : NULL);
	if (!post)
		post = kmsg_check(kmsg);
	if (kmsg >= 0)
		close(kmsg);
	return post ? TEST_FAIL : TEST_OK;
}

int selected(const char *name, int argc, char **argv)
{
	int i;

	if (!argc)
		return 1;
	for (i = 0; i < argc; i++)
		if (!fnmatch(argv[i], name, 0) ||
		    !strncmp(argv[i], name, strlen(argv[i])))
			return 1;
	return 0;
}

/* Print the line of check @name for @rc (run.reason for a reason). */
void report(const char *name, int rc)
{
	if (rc == TEST_OK) {
		printf("ok %s\n", name);
		run.npass++;
	} else if (rc == TEST_SKIP) {
		printf("skip %s: %s\n", name, run.reason);
		run.nskip++;
	} else {
		if (!run.reason[0])
			fail("(no reason given)");
		printf("FAIL %s: %s\n", name, run.reason);
		run.nfail++;
	}
	run.reason[0] = 0;
}

int summary(void)
{
	if (run.nskip)
		printf("%d passed, %d failed, %d skipped\n", run.npass, run.nfail,
		       run.nskip);
	else
		printf("%d passed, %d failed\n", run.npass, run.nfail);
	return run.nfail ? 1 : 0;
}
