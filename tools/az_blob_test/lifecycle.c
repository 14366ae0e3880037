// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle: kill, close, munmap, fork, unbind, rescind, unload and
 * suspend with requests in flight; after each case the driver must be idle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* ------------------------------------------------------------------ */
/* lifecycle                                                           */
/* ------------------------------------------------------------------ */

static unsigned int g_lc_iters;

/* Wait up to @ms until the driver has at least @n requests outstanding. */
static int wait_outstanding(long n, int ms)
{
	int64_t end = now_ms() + ms;
	long v;

	for (;;) {
		v = drv_stat("outstanding");
		if (v >= n)
			return 0;
		if (now_ms() > end)
			return fail("outstanding did not reach %ld within %d ms (got %ld)",
				    n, ms, v);
		sleep_ms(2);
	}
}

/* Join @b within 10 s or fail (the thread is then leaked). */
static int bg_join_ok(struct bg *b, const char *what)
{
	if (bg_join(b, now_ms() + 10000))
		return fail("%s: request still blocked 10 s later", what);
	return 0;
}

static int lc_kill_under_load(void)
{
	enum { K = 3 };
	unsigned int it, nnever = 0, ndelay = 0, early = 0;
	int64_t worst = 0;

	for (it = 0; it < g_lc_iters; it++) {
		const int never = run.sim > 0 && !(it & 1);
		uint32_t delay = never ? 0 : 200 + rnd32(&run.seed) % 301;
		pid_t pid[K];
		int status, i, n = 0, ret = 0;
		struct dstats s;
		int64_t t0, ms;

		fflush(stdout);
		for (i = 0; i < K; i++) {
			pid[i] = fork();
			if (pid[i] < 0)
				return fail("fork: %s", strerror(errno));
			if (!pid[i])
				child_submit(run.dev, never ? AZ_SIM_FAULT_NEVER : 0,
					     delay);
			n++;
		}
		ret = wait_outstanding(never ? K : 1, 5000);
		t0 = now_ms();
		for (i = 0; i < n; i++)
			kill(pid[i], SIGKILL);
		for (i = 0; i < n; i++) {
			if (reap(pid[i], &status, 2000)) {
				if (never)
					sim_ctl("release");
				reap(pid[i], &status, 10000);
				return fail("iteration %u: child not reaped 2 s after SIGKILL",
					    it);
			}
			if (WIFEXITED(status) && !never && !WEXITSTATUS(status)) {
				early++;	/* answered before the kill */
				continue;
			}
			if (!ret && (!WIFSIGNALED(status) ||
				     WTERMSIG(status) != SIGKILL))
				ret = fail("iteration %u: child status 0x%x, expected killed by SIGKILL",
					   it, status);
		}
		ms = now_ms() - t0;
		worst = ms > worst ? ms : worst;
		if (!ret)
			ret = dstats_get(run.name, &s);
		if (!ret && never &&
		    (s.v[DS_OUTSTANDING] != K || s.v[DS_PINNED] != 6 * K))
			ret = fail("iteration %u, after the kill: expected outstanding %d, pinned_pages %d (the host owns them); got %ld, %ld",
				   it, K, 6 * K, s.v[DS_OUTSTANDING],
				   s.v[DS_PINNED]);
		if (!ret && s.v[DS_PINNED] < 6 * s.v[DS_OUTSTANDING])
			ret = fail("iteration %u, after the kill: outstanding %ld but only %ld pages pinned",
				   it, s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
		if (!ret && never)
			ret = wait_sim(SS_HELD, K, 2000);
		if (never && sim_ctl("release") && !ret)
			ret = fail("release failed");
		if (!ret)
			ret = wait_idle(run.name, 0, 0, 5000);
		if (ret)
			return ret;
		if (never)
			nnever++;
		else
			ndelay++;
	}
	printf("# kill_under_load: %u rounds of %d children (%u held by the host, %u with a %s), %u answered before the kill, slowest reap %" PRId64 " ms\n",
	       g_lc_iters, K, nnever, ndelay, "200-500 ms delay", early, worst);
	return 0;
}

static int lc_close_fd_during_request(void)
{
	int64_t worst = 0;
	unsigned int it;

	for (it = 0; it < g_lc_iters; it++) {
		struct arena *a = arena_new(4);
		struct az_blob_request_sync r;
		struct az_sim_req h;
		struct span ok;
		struct bg *b;
		uint8_t *req, *resp;
		int fd, ret;

		if (!a)
			return TEST_FAIL;
		fd = open(run.dev, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			return fail("open %s: %s", run.dev, strerror(errno));
		sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 300, 0, 0, 0);
		req = put_req(a, PG + 8 + it, 64, &h);
		resp = at(a, 2 * PG + 8);
		rq_init(&r, req, 64, resp, 128, NULL, 0, 0);
		b = bg_run(fd, &r);
		if (!b) {
			close(fd);
			return TEST_FAIL;
		}
		ret = wait_outstanding(1, 5000);
		close(fd);
		if (bg_join_ok(b, "ioctl whose fd was closed"))
			return TEST_FAIL;
		if (!ret && (expect_ok(b->err, &b->r, 0, 64) ||
			     cmp_bytes("response", resp, req, 64)))
			ret = fail("iteration %u: %s", it, run.reason);
		ok.p = resp;
		ok.len = 64;
		if (!ret)
			ret = arena_check(a, &ok, 1);
		worst = b->ms > worst ? b->ms : worst;
		bg_free(b);
		if (!ret)
			ret = wait_idle(run.name, 0, 0, 5000);
		res_release_all();
		if (ret)
			return ret;
	}
	printf("# close_fd_during_request: %u requests completed after their fd was closed, slowest %" PRId64 " ms\n",
	       g_lc_iters, worst);
	return 0;
}

static int lc_munmap_during_request(void)
{
	const size_t dpages = 16, dl = dpages * PG - 200;
	unsigned int it;

	for (it = 0; it < g_lc_iters; it++) {
		struct arena *a = arena_new(4);
		struct az_blob_request_sync r;
		struct az_sim_req h;
		struct bg *b;
		uint8_t *req, *resp, *d;
		int fd = dev_open(), ret;

		if (!a || fd < 0)
			return TEST_FAIL;
		d = mmap(NULL, dpages * PG, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (d == MAP_FAILED)
			return fail("mmap: %s", strerror(errno));
		memset(d, 0x11, dpages * PG);
		sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 300, 0,
			rnd32(&run.seed), 0);
		req = put_req(a, PG + 8, sizeof(h), &h);
		resp = at(a, 2 * PG + 8);
		rq_init(&r, req, sizeof(h), resp, 8, d + 100, dl, 0);
		b = bg_run(fd, &r);
		if (!b) {
			munmap(d, dpages * PG);
			return TEST_FAIL;
		}
		ret = wait_outstanding(1, 5000);
		if (munmap(d, dpages * PG) && !ret)
			ret = fail("munmap: %s", strerror(errno));
		if (bg_join_ok(b, "FILL into an unmapped buffer"))
			return TEST_FAIL;
		if (!ret && expect_ok(b->err, &b->r, 0, 8))
			ret = fail("iteration %u: %s", it, run.reason);
		if (!ret && get_u64(resp) != dl)
			ret = fail("iteration %u: host says it wrote %" PRIu64 " bytes, expected %zu",
				   it, get_u64(resp), dl);
		bg_free(b);
		if (!ret)
			ret = wait_idle(run.name, 0, 0, 5000);
		res_release_all();
		if (ret)
			return ret;
	}
	printf("# munmap_during_request: %u FILLs of %zu bytes into buffers unmapped in flight\n",
	       g_lc_iters, dl);
	return 0;
}

static int lc_fork_during_request(void)
{
	const size_t dpages = 8, dl = dpages * PG - 100;
	unsigned int it;

	for (it = 0; it < g_lc_iters; it++) {
		struct arena *a = arena_new(4);
		struct az_blob_request_sync r;
		struct az_sim_req h;
		struct span ok[1];
		uint32_t seed = rnd32(&run.seed);
		struct bg *b;
		uint8_t *req, *resp, *d;
		int fd = dev_open(), ret, status;
		size_t i;
		pid_t pid;

		d = map_pages(dpages, PROT_READ | PROT_WRITE);
		if (!a || fd < 0 || !d)
			return TEST_FAIL;
		memset(d, 0x22, dpages * PG);
		sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 300, 0, seed, 0);
		req = put_req(a, PG + 8, sizeof(h), &h);
		resp = at(a, 2 * PG + 8);
		rq_init(&r, req, sizeof(h), resp, 8, d, dl, 0);
		b = bg_run(fd, &r);
		if (!b)
			return TEST_FAIL;
		ret = wait_outstanding(1, 5000);
		fflush(stdout);
		pid = fork();
		if (!pid)
			_exit(0);
		if (pid < 0 && !ret)
			ret = fail("fork: %s", strerror(errno));
		/*
		 * Write into every page the host is about to write: if fork
		 * left them copy-on-write, this write gives the parent new
		 * pages and the host's bytes land in the old ones.
		 */
		memset(d + dl, 0x5c, 100);
		{
			uint8_t x = 0x77;

			arena_put(a, at(a, 2 * PG + 2000), &x, 1);
			arena_put(a, at(a, PG + 2000), &x, 1);
		}
		if (pid > 0 && reap(pid, &status, 5000) && !ret)
			ret = fail("child not reaped");
		if (bg_join_ok(b, "request across fork"))
			return TEST_FAIL;
		if (!ret && expect_ok(b->err, &b->r, 0, 8))
			ret = fail("iteration %u: %s", it, run.reason);
		if (!ret && get_u64(resp) != dl)
			ret = fail("iteration %u: response %" PRIu64 ", expected %zu (response page lost to COW?)",
				   it, get_u64(resp), dl);
		for (i = 0; !ret && i < dl; i++)
			if (d[i] != az_sim_pattern(seed, i))
				ret = fail("iteration %u: data byte %zu (page %zu): expected 0x%02x, got 0x%02x: the parent lost the pinned page to COW",
					   it, i, (size_t)(i / PG), az_sim_pattern(seed, i),
					   d[i]);
		for (i = dl; !ret && i < dpages * PG; i++)
			if (d[i] != 0x5c)
				ret = fail("iteration %u: the parent's own byte %zu changed",
					   it, i);
		ok[0].p = resp;
		ok[0].len = 8;
		if (!ret)
			ret = arena_check(a, ok, 1);
		bg_free(b);
		if (!ret)
			ret = wait_idle(run.name, 0, 0, 5000);
		res_release_all();
		if (ret)
			return ret;
	}
	printf("# fork_during_request: %u FILLs of %zu bytes across a fork, parent wrote the same pages meanwhile\n",
	       g_lc_iters, dl);
	return 0;
}

/* Threads submitting echoes while the device comes and goes. */
enum { LM_UNBIND, LM_RESCIND, LM_SUSPEND };

struct lw {
	pthread_t th;
	int mode;
	uint64_t rng;
	unsigned long calls, ok, enodev, eagain, open_fail, bad;
	char err[256];
};

static pthread_mutex_t g_lc_lock = PTHREAD_MUTEX_INITIALIZER;
static char g_lc_path[PATH_MAX];
static int g_lc_stop;
static char g_lc_vm[NAME_LEN * 2];	/* the VMBus device last unbound */

static void lw_bad(struct lw *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void lw_bad(struct lw *w, const char *fmt, ...)
{
	va_list ap;

	if (w->bad++)
		return;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
}

static void *lw_main(void *arg)
{
	struct lw *w = arg;
	char path[PATH_MAX];
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t *m;
	int fd = -1, e;

	m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		lw_bad(w, "mmap: %s", strerror(errno));
		return NULL;
	}
	while (!__atomic_load_n(&g_lc_stop, __ATOMIC_RELAXED)) {
		if (fd < 0) {
			pthread_mutex_lock(&g_lc_lock);
			memcpy(path, g_lc_path, sizeof(path));
			pthread_mutex_unlock(&g_lc_lock);
			fd = open(path, O_RDWR | O_CLOEXEC);
			if (fd < 0) {
				if (errno != ENOENT && errno != ENODEV &&
				    errno != ENXIO)
					lw_bad(w, "open %s: %s", path,
					       errname(errno));
				w->open_fail++;
				sleep_ms(5);
				continue;
			}
		}
		sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE,
			w->mode == LM_SUSPEND ? 0 : rnd32(&w->rng) % 20, 0, 0,
			0);
		memcpy(m, &h, sizeof(h));
		fill_payload(m + sizeof(h), 64 - sizeof(h), rnd32(&w->rng));
		memset(m + PG, 0, 64);
		rq_init(&r, m, 64, m + PG, 64, NULL, 0, 0);
		e = blob_ioctl(fd, &r);
		w->calls++;
		if (!e) {
			w->ok++;
			if (r.response.status || r.response.response_len != 64 ||
			    memcmp(m, m + PG, 64))
				lw_bad(w, "echo: status 0x%08x, response_len %u%s",
				       r.response.status,
				       r.response.response_len,
				       memcmp(m, m + PG, 64) ? ", wrong bytes" : "");
		} else if (e == ENODEV && w->mode != LM_SUSPEND) {
			w->enodev++;
			close(fd);
			fd = -1;
		} else if (e == EAGAIN && w->mode == LM_SUSPEND) {
			w->eagain++;
		} else {
			lw_bad(w, "ioctl: %s", errname(e));
			if (e == ENODEV) {
				close(fd);
				fd = -1;
			}
		}
	}
	if (fd >= 0)
		close(fd);
	munmap(m, 2 * PG);
	return NULL;
}

static void lc_set_path(void)
{
	pthread_mutex_lock(&g_lc_lock);
	snprintf(g_lc_path, sizeof(g_lc_path), "%s", run.dev);
	pthread_mutex_unlock(&g_lc_lock);
}

/* Writes "release" to the simulator after a pause (the host answers). */
static void *lc_releaser(void *arg)
{
	sleep_ms(*(unsigned int *)arg);
	sim_ctl("release");
	return NULL;
}

/*
 * A request the host holds (NEVER) before an unbind or a suspend, which
 * the host answers 300 ms into it: remove and suspend give the host time
 * to complete what it holds, so it must succeed. NULL without the
 * simulator.
 */
static struct bg *lc_held_start(void)
{
	struct bg *b;
	int fd;

	if (run.sim <= 0)
		return NULL;
	fd = open(run.dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fail("open %s: %s", run.dev, strerror(errno));
		return NULL;
	}
	b = bg_start(fd, AZ_SIM_FAULT_NEVER, 0, 0);
	if (!b) {
		close(fd);
		return NULL;
	}
	if (wait_sim(SS_HELD, 1, 5000)) {
		sim_ctl("release");
		bg_join(b, now_ms() + 10000);
		close(fd);
		bg_free(b);
		return NULL;
	}
	return b;
}

static int lc_held_end(struct bg *b, pthread_t *rel, const char *what)
{
	int fd = b->fd, ret = 0;

	pthread_join(*rel, NULL);
	if (bg_join(b, now_ms() + 10000)) {
		sim_ctl("release");
		close(fd);
		return fail("%s: the held request still waits 10 s later", what);
	}
	if (b->err)
		ret = fail("%s: a request the host answered during it: expected success, got %s",
			   what, errname(b->err));
	else if (expect_ok(b->err, &b->r, 0, 64) ||
		 cmp_bytes("response", b->resp, b->req, 64))
		ret = TEST_FAIL;
	close(fd);
	bg_free(b);
	return ret;
}

/* The device is back as misc @name: make it the one under test. */
static void lc_new_device(const char *name)
{
	if (strcmp(name, run.name))
		printf("# device is now /dev/%s\n", name);
	set_device(name);
	lc_set_path();
}

/*
 * One unbind/bind, rescind/offer or suspend cycle. Unbind and suspend start
 * with a request the host holds and answers 300 ms into them (counted in
 * *@drained).
 */
static int lc_cycle(int mode, const char *drv, unsigned long *drained)
{
	char vm[NAME_LEN * 2], path[PATH_MAX + 16], name[NAME_LEN];
	char old[MAX_DEVS][NAME_LEN];
	static unsigned int pause_ms = 300;
	int err, nold, created, idx, ret;
	struct bg *held = NULL;
	pthread_t rel;

	if (mode == LM_SUSPEND || mode == LM_UNBIND) {
		held = lc_held_start();
		if (run.sim > 0 && !held)
			return TEST_FAIL;
		if (held && pthread_create(&rel, NULL, lc_releaser, &pause_ms)) {
			sim_ctl("release");
			bg_join(held, now_ms() + 10000);
			close(held->fd);
			bg_free(held);
			return fail("pthread_create failed");
		}
	}
	if (mode == LM_SUSPEND) {
		err = sim_ctl("suspend %d", cur_sim_idx());
		ret = err ? fail("suspend %d: %s (suspend never fails now)",
				 cur_sim_idx(), errname(err)) : 0;
		if (held && lc_held_end(held, &rel, "suspend") && !ret)
			ret = TEST_FAIL;
		if (held && !ret)
			(*drained)++;
		sleep_ms(rnd32(&run.seed) % 50);
		return ret;
	}
	if (mode == LM_RESCIND) {
		idx = cur_sim_idx();
		err = sim_ctl("rescind %d", idx);
		if (err)
			return fail("rescind %d: %s", idx, errname(err));
		if (wait_misc_gone(run.name, 5000))
			return TEST_FAIL;
		sleep_ms(20 + rnd32(&run.seed) % 80);
		if (offer_device(name, &idx, &created))
			return TEST_FAIL;
		run.sim_idx = idx;
		lc_new_device(name);
		sleep_ms(100 + rnd32(&run.seed) % 200);
		return 0;
	}
	err = misc_vmname(run.name, vm, sizeof(vm));
	if (err)
		ret = fail("device link of %s: %s", run.name, strerror(err));
	else
		snprintf(g_lc_vm, sizeof(g_lc_vm), "%s", vm);
	snprintf(path, sizeof(path), "%s/unbind", drv);
	if (!err) {
		err = write_text(path, vm);
		ret = err ? fail("writing %s to %s: %s", vm, path,
				 errname(err)) : 0;
	}
	if (held && lc_held_end(held, &rel, "unbind") && !ret)
		ret = TEST_FAIL;
	if (held && !ret)
		(*drained)++;
	if (ret)
		return ret;
	if (wait_misc_gone(run.name, 5000))
		return TEST_FAIL;
	sleep_ms(20 + rnd32(&run.seed) % 80);
	nold = misc_list(old, MAX_DEVS);
	snprintf(path, sizeof(path), "%s/bind", drv);
	err = write_text(path, vm);
	if (err)
		return fail("writing %s to %s: %s", vm, path, errname(err));
	if (wait_new_misc(old, nold, name, 5000) || ensure_node(name, &created))
		return TEST_FAIL;
	lc_new_device(name);
	sleep_ms(100 + rnd32(&run.seed) % 200);
	return 0;
}

static int lc_loaded(int mode, const char *what)
{
	unsigned int nt = run.threads, i;
	unsigned long calls = 0, ok = 0, enodev = 0, eagain = 0, openf = 0;
	unsigned long drained = 0;
	char drv[PATH_MAX], path[PATH_MAX + 16];
	struct lw *w;
	int ret = 0;
	unsigned int it = 0;
	int64_t t0 = now_ms();

	if (mode != LM_UNBIND && run.sim <= 0) {
		fail("needs the simulator's control interface");
		return TEST_SKIP;
	}
	snprintf(path, sizeof(path), MISC_DIR "/%s/device/driver", run.name);
	if (mode == LM_UNBIND && !realpath(path, drv))
		return fail("realpath %s: %s", path, strerror(errno));
	lc_set_path();
	g_lc_vm[0] = 0;
	__atomic_store_n(&g_lc_stop, 0, __ATOMIC_RELAXED);
	w = xmalloc(nt * sizeof(*w));
	memset(w, 0, nt * sizeof(*w));
	for (i = 0; i < nt; i++) {
		w[i].mode = mode;
		w[i].rng = rnd64(&run.seed) | 1;
		if (pthread_create(&w[i].th, NULL, lw_main, &w[i])) {
			nt = i;
			ret = fail("pthread_create failed");
			break;
		}
	}
	sleep_ms(100);
	for (it = 0; !ret && it < g_lc_iters; it++)
		ret = lc_cycle(mode, drv, &drained);
	if (ret && mode == LM_UNBIND && g_lc_vm[0] && !misc_exists(run.name)) {
		/* Leave a bound device behind whatever happened. */
		snprintf(path, sizeof(path), "%s/bind", drv);
		write_text(path, g_lc_vm);
	}
	sleep_ms(100);
	__atomic_store_n(&g_lc_stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nt; i++) {
		pthread_join(w[i].th, NULL);
		calls += w[i].calls;
		ok += w[i].ok;
		enodev += w[i].enodev;
		eagain += w[i].eagain;
		openf += w[i].open_fail;
		if (w[i].bad && !ret)
			ret = fail("thread %u: %lu bad calls, first: %s", i,
				   w[i].bad, w[i].err);
	}
	free(w);
	printf("# %s: %u cycles in %.1f s, %lu calls on %u threads: %lu ok, %lu ENODEV, %lu EAGAIN, %lu failed opens",
	       what, it, (double)(now_ms() - t0) / 1000, calls, nt, ok, enodev,
	       eagain, openf);
	if (mode != LM_RESCIND)
		printf(", %lu requests held at the %s completed", drained,
		       mode == LM_SUSPEND ? "suspend" : "unbind");
	printf("\n");
	if (!ret && !ok)
		ret = fail("no request succeeded");
	if (!ret)
		ret = echo_simple(run.dev, run.name);
	return ret;
}

static int lc_unbind_bind_under_load(void)
{
	return lc_loaded(LM_UNBIND, "unbind_bind_under_load");
}

static int lc_rescind_offer_under_load(void)
{
	return lc_loaded(LM_RESCIND, "rescind_offer_under_load");
}

static int lc_suspend_resume_under_load(void)
{
	return lc_loaded(LM_SUSPEND, "suspend_resume_under_load");
}

static int lc_unload_while_open(void)
{
	char ref[32] = "?";
	unsigned int it;

	if (access("/sys/module/hv_azure_blob/refcnt", F_OK)) {
		fail("hv_azure_blob is not a loaded module");
		return TEST_SKIP;
	}
	for (it = 0; it < g_lc_iters; it++) {
		struct arena *a = arena_new(4);
		struct bg *b = NULL;
		int fd = dev_open(), ret = 0, e;

		if (!a || fd < 0)
			return TEST_FAIL;
		if (it & 1) {
			struct az_sim_req h;
			struct az_blob_request_sync r;

			sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 300, 0,
				0, 0);
			rq_init(&r, put_req(a, 3 * PG, 64, &h), 64,
				at(a, 3 * PG + 256), 64, NULL, 0, 0);
			b = bg_run(fd, &r);
			if (!b)
				return TEST_FAIL;
			ret = wait_outstanding(1, 5000);
		}
		read_text("/sys/module/hv_azure_blob/refcnt", ref, sizeof(ref));
		e = syscall(SYS_delete_module, "hv_azure_blob", O_NONBLOCK) ?
		    errno : 0;
		if (!e)
			return fail("iteration %u: delete_module(hv_azure_blob) succeeded with an fd open",
				    it);
		if (!ret && e != EWOULDBLOCK && e != EAGAIN && e != EBUSY)
			ret = fail("iteration %u: delete_module: expected EWOULDBLOCK or EBUSY, got %s",
				   it, errname(e));
		if (!ret)
			ret = echo_at(fd, b ? NULL : run.name, a, PG + 8, 100,
				      2 * PG + 8, 100, 0);
		if (b) {
			if (bg_join_ok(b, "request during delete_module"))
				return TEST_FAIL;
			if (!ret && expect_ok(b->err, &b->r, 0, 64))
				ret = TEST_FAIL;
			bg_free(b);
		}
		res_release_all();
		if (ret)
			return ret;
	}
	ref[strcspn(ref, "\n")] = 0;
	printf("# unload_while_open: %u refused unloads (module refcnt %s with the fd open), every other one with a request in flight\n",
	       g_lc_iters, ref);
	return 0;
}

static const struct test lc_tests[] = {
	{ "kill_under_load", lc_kill_under_load, 0, "SIGKILL callers with requests in flight" },
	{ "close_fd_during_request", lc_close_fd_during_request, 0, "close() while the ioctl waits" },
	{ "munmap_during_request", lc_munmap_during_request, 0, "munmap() the data buffer in flight" },
	{ "fork_during_request", lc_fork_during_request, 0, "fork() with pinned private pages" },
	{ "unbind_bind_under_load", lc_unbind_bind_under_load, 0, "sysfs unbind/bind under load" },
	{ "rescind_offer_under_load", lc_rescind_offer_under_load, NEEDS_SIM, "rescind/offer under load" },
	{ "unload_while_open", lc_unload_while_open, 0, "delete_module refused while open" },
	{ "suspend_resume_under_load", lc_suspend_resume_under_load, NEEDS_SIM, "suspend cycles under load" },
};

/* The driver idle, the host holding nothing, no new violation. */
static int settle_check(const struct sstats *s0)
{
	if (wait_idle(run.name, 0, 0, 5000))
		return TEST_FAIL;
	return post_check(s0);
}

/*
 * Run the cases matching @argv (names, prefixes or globs; none: all) @iters
 * times each. Exit status 2 when an argument matches no case.
 */
int lifecycle(unsigned int iters, int argc, char **argv)
{
	size_t i;
	int c;

	g_lc_iters = iters;
	for (c = 0; c < argc; c++) {
		int hit = 0;

		for (i = 0; i < sizeof(lc_tests) / sizeof(lc_tests[0]); i++)
			hit |= selected(lc_tests[i].name, 1, &argv[c]);
		if (!hit) {
			fprintf(stderr, "az_blob_test: no lifecycle case matches '%s'\n",
				argv[c]);
			return 2;
		}
	}
	printf("# lifecycle: %u iterations per case, %u threads, seed %" PRIu64 "\n",
	       g_lc_iters, run.threads, run.seed);
	for (i = 0; i < sizeof(lc_tests) / sizeof(lc_tests[0]); i++) {
		const struct test *t = &lc_tests[i];
		struct sstats s0;
		int have_s0, rc;

		if (!selected(t->name, argc, argv))
			continue;
		run.reason[0] = 0;
		if ((t->flags & NEEDS_SIM) && run.sim <= 0) {
			fail("needs the simulator's control interface (" SIM_DIR ", -s)");
			report(t->name, TEST_SKIP);
			continue;
		}
		have_s0 = run.sim > 0 && !sstats_read(&s0);
		vlog("%s: %s", t->name, t->desc);
		rc = t->fn();
		res_release_all();
		if (rc == TEST_SKIP) {
			report(t->name, rc);
			continue;
		}
		if (rc) {
			char msg[sizeof(run.reason)];

			snprintf(msg, sizeof(msg), "%s", run.reason[0] ? run.reason :
				 "(no reason given)");
			if (run.sim > 0) {
				sim_ctl("hang 0");
				sim_ctl("release");
			}
			settle_check(have_s0 ? &s0 : NULL);
			snprintf(run.reason, sizeof(run.reason), "%s", msg);
		} else {
			rc = settle_check(have_s0 ? &s0 : NULL);
		}
		report(t->name, rc);
	}
	return summary();
}
