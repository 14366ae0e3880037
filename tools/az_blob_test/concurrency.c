// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency and callers that go away: threads mixing random requests
 * on shared and private fds, and a caller killed while the host holds its
 * request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* ------------------------------------------------------------------ */
/* Tests: concurrency and callers that go away                         */
/* ------------------------------------------------------------------ */

#define MIX_MAX		(256U << 10)
#define MIX_AREA	(MIX_MAX + 3 * PG)	/* guard page + offset + tail */
#define MIX_GUARD	64
#define MIX_FILL	0xe7

struct worker {
	pthread_t th;
	int fd;
	unsigned int iters;
	uint64_t rng;
	uint8_t *mem;		/* 3 areas: request, response, data */
	unsigned int n[3];
	unsigned int done;
	char err[256];
};

static void guard_set(uint8_t *base, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < MIX_GUARD; i++) {
		p[-1 - (long)i] = canary((size_t)(p - 1 - i - base));
		p[len + i] = canary((size_t)(p + len + i - base));
	}
}

static int guard_bad(uint8_t *base, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < MIX_GUARD; i++)
		if (p[-1 - (long)i] != canary((size_t)(p - 1 - i - base)) ||
		    p[len + i] != canary((size_t)(p + len + i - base)))
			return 1;
	return 0;
}

static int mix_one(struct worker *w, char *err, size_t errlen)
{
	uint8_t *rq = w->mem + PG + rnd32(&w->rng) % PG;
	uint8_t *rs = w->mem + MIX_AREA + PG + rnd32(&w->rng) % PG;
	uint8_t *dt = w->mem + 2 * MIX_AREA + PG + rnd32(&w->rng) % PG;
	unsigned int op = rnd32(&w->rng) % 3;
	size_t rl = 32, sl = 8 + rnd32(&w->rng) % 57, dl = 0, dv = 0, i, n = 8;
	uint32_t seed = rnd32(&w->rng);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint64_t want = 0;
	int e;

	if (op == 0) {
		rl = 32 + rnd32(&w->rng) % (MIX_MAX - 31);
		sl = 1 + rnd32(&w->rng) % MIX_MAX;
		n = min_sz(rl, sl);
		sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
		fill_payload(rq, rl, seed);
	} else if (op == 1) {
		dl = 1 + rnd32(&w->rng) % MIX_MAX;
		want = dl;
		sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 0, 0, seed, 0);
	} else {
		dl = 1 + rnd32(&w->rng) % MIX_MAX;
		dv = rnd32(&w->rng) % (dl + 1);
		for (i = 0; i < dl; i++)
			dt[i] = (uint8_t)(i * 7 + seed + (i >> 9));
		want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, dt, dv);
		sim_hdr(&h, AZ_SIM_OP_SUM, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	}
	memcpy(rq, &h, sizeof(h));
	memset(rs, MIX_FILL, sl);
	guard_set(w->mem, rq, rl);
	guard_set(w->mem, rs, sl);
	if (dl)
		guard_set(w->mem, dt, dl);
	rq_init(&r, rq, rl, rs, sl, dl ? dt : NULL, dl, dv);

	e = blob_ioctl(w->fd, &r);
	if (e || r.response.status || r.response.response_len != n) {
		snprintf(err, errlen, "op %u (req %zu, resp %zu, data %zu/%zu): %s, status 0x%08x, response_len %u (expected %zu)",
			 h.op, rl, sl, dv, dl, errname(e), r.response.status,
			 r.response.response_len, n);
		return -1;
	}
	if (op == 0 && memcmp(rs, rq, n)) {
		snprintf(err, errlen, "echo of %zu bytes: wrong response bytes", n);
		return -1;
	}
	if (op && get_u64(rs) != want) {
		snprintf(err, errlen, "op %u on %zu/%zu bytes: expected 0x%" PRIx64 ", got 0x%" PRIx64,
			 h.op, dv, dl, want, get_u64(rs));
		return -1;
	}
	for (i = n; i < sl; i++) {
		if (rs[i] != MIX_FILL) {
			snprintf(err, errlen, "response byte %zu beyond response_len %zu changed",
				 i, n);
			return -1;
		}
	}
	if (op == 1) {
		for (i = 0; i < dl; i++) {
			if (dt[i] != az_sim_pattern(seed, i)) {
				snprintf(err, errlen, "fill of %zu bytes: byte %zu wrong",
					 dl, i);
				return -1;
			}
		}
	}
	if (guard_bad(w->mem, rq, rl) || guard_bad(w->mem, rs, sl) ||
	    (dl && guard_bad(w->mem, dt, dl))) {
		snprintf(err, errlen, "op %u: guard bytes changed", h.op);
		return -1;
	}
	w->n[op]++;
	return 0;
}

static void *mix_main(void *arg)
{
	struct worker *w = arg;

	while (w->done < w->iters) {
		if (mix_one(w, w->err, sizeof(w->err)))
			break;
		w->done++;
	}
	return NULL;
}

int t_threads_mixed(void)
{
	unsigned int nt = run.threads, i, total = 0, n[3] = { 0, 0, 0 };
	struct worker *w;
	struct dstats b;
	int shared = dev_open(), ret = 0;
	int64_t t0;

	if (shared < 0 || dstats_get(run.name, &b))
		return TEST_FAIL;
	w = xmalloc(nt * sizeof(*w));
	memset(w, 0, nt * sizeof(*w));
	for (i = 0; i < nt; i++) {
		/* Even threads share one fd, odd threads have their own. */
		w[i].fd = (i & 1) ? dev_open() : shared;
		w[i].mem = map_pages(3 * MIX_AREA / PG, PROT_READ | PROT_WRITE);
		if (w[i].fd < 0 || !w[i].mem) {
			nt = i;
			ret = TEST_FAIL;
			break;
		}
		w[i].iters = run.iters;
		w[i].rng = rnd64(&run.seed) | 1;
	}
	t0 = now_ms();
	for (i = 0; i < nt; i++) {
		if (pthread_create(&w[i].th, NULL, mix_main, &w[i])) {
			nt = i;
			ret = fail("pthread_create failed");
			break;
		}
	}
	for (i = 0; i < nt; i++)
		pthread_join(w[i].th, NULL);
	for (i = 0; i < nt; i++) {
		total += w[i].done;
		n[0] += w[i].n[0];
		n[1] += w[i].n[1];
		n[2] += w[i].n[2];
		if (w[i].err[0])
			ret = fail("thread %u, request %u: %s", i, w[i].done,
				   w[i].err);
	}
	printf("# threads_mixed: %u requests (%u echo, %u fill, %u sum) on %u threads in %.1f s\n",
	       total, n[0], n[1], n[2], nt, (double)(now_ms() - t0) / 1000);
	free(w);
	if (ret)
		return ret;
	return check_deltas(run.name, &b, total, total, 0, 0, 0);
}

int t_killed_caller(void)
{
	const int use_never = run.sim > 0;
	struct dstats b, s;
	int status, ret = 0, reaped = 0;
	int64_t end, t0;
	pid_t pid;

	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	if (b.v[DS_OUTSTANDING])
		return fail("outstanding %ld before the test", b.v[DS_OUTSTANDING]);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid)
		child_submit(run.dev, use_never ? AZ_SIM_FAULT_NEVER : 0,
			     use_never ? 0 : 3000);

	for (end = now_ms() + 5000; ; sleep_ms(10)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			ret = fail("child's request returned before the kill (exit status %d)",
				   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			goto out;
		}
		if (drv_stat("outstanding") == 1)
			break;
		if (now_ms() > end) {
			ret = fail("outstanding did not reach 1 (got %ld)",
				   drv_stat("outstanding"));
			goto out;
		}
	}
	t0 = now_ms();
	kill(pid, SIGKILL);
	if (reap(pid, &status, 1000)) {
		ret = fail("child still not reaped 1 s after SIGKILL");
		goto out;
	}
	reaped = 1;
	vlog("child reaped %" PRId64 " ms after SIGKILL", now_ms() - t0);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		ret = fail("child: expected killed by SIGKILL, got status 0x%x",
			   status);
		goto out;
	}
	if (dstats_get(run.name, &s)) {
		ret = TEST_FAIL;
		goto out;
	}
	if (use_never && (s.v[DS_OUTSTANDING] != 1 || s.v[DS_PINNED] != 6)) {
		ret = fail("after the kill: expected outstanding 1, pinned_pages 6 (the host owns them); got %ld, %ld",
			   s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
		goto out;
	}
	if (check_deltas(run.name, &b, 1, ANY, 1, 0, 0)) {
		ret = TEST_FAIL;
		goto out;
	}
	if (use_never && sim_ctl_ok("release")) {
		ret = TEST_FAIL;
		goto out;
	}
	if (wait_idle(run.name, 0, 0, use_never ? 2000 : 5000)) {
		ret = TEST_FAIL;
		goto out;
	}
	ret = check_deltas(run.name, &b, 1, ANY, 1, 0, 0);
out:
	if (!reaped) {
		kill(pid, SIGKILL);
		if (use_never)
			sim_ctl("release");
		if (reap(pid, &status, 10000))
			fprintf(stderr, "az_blob_test: child %d not reaped\n",
				(int)pid);
	}
	return ret;
}
