// SPDX-License-Identifier: GPL-2.0
/*
 * failinject: failslab and fail_page_alloc on the submit path; every
 * call must succeed exactly or fail with ENOMEM, and leave nothing behind.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* ------------------------------------------------------------------ */
/* failinject                                                          */
/* ------------------------------------------------------------------ */

#define FI_ROOT		"/sys/kernel/debug"
#define FI_MAX		(1U << 20)
#define FI_AREA		(FI_MAX + 2 * PG)

static const char *const fi_fac[2] = { "failslab", "fail_page_alloc" };

/* Attributes set for the run, in this order; probability last. */
static const struct {
	const char *key, *val;
	int page_only;
} fi_attr[] = {
	{ "task-filter", "Y", 0 },
	{ "ignore-gfp-wait", "N", 0 },
	{ "ignore-gfp-highmem", "N", 1 },
	{ "min-order", "0", 1 },
	{ "verbose", "0", 0 },
	{ "space", "0", 0 },
	{ "interval", "1", 0 },
	{ "times", "100000", 0 },
	{ "probability", "20", 0 },
};

#define FI_NATTR	(sizeof(fi_attr) / sizeof(fi_attr[0]))

static char fi_saved[2][FI_NATTR][64];

static int fi_write(int f, const char *key, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), FI_ROOT "/%s/%s", fi_fac[f], key);
	return write_text(path, val);
}

static long fi_times(int f)
{
	char path[PATH_MAX], buf[64];

	snprintf(path, sizeof(path), FI_ROOT "/%s/times", fi_fac[f]);
	if (read_text(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 0);
}

static int fi_setup(void)
{
	char path[PATH_MAX];
	size_t i;
	int f, err;

	for (f = 0; f < 2; f++) {
		for (i = 0; i < FI_NATTR; i++) {
			fi_saved[f][i][0] = 0;
			if (fi_attr[i].page_only && f == 0)
				continue;
			snprintf(path, sizeof(path), FI_ROOT "/%s/%s",
				 fi_fac[f], fi_attr[i].key);
			if (read_text(path, fi_saved[f][i], sizeof(fi_saved[f][i])))
				fi_saved[f][i][0] = 0;
			fi_saved[f][i][strcspn(fi_saved[f][i], "\n")] = 0;
		}
	}
	for (f = 0; f < 2; f++) {
		for (i = 0; i < FI_NATTR; i++) {
			if (fi_attr[i].page_only && f == 0)
				continue;
			err = fi_write(f, fi_attr[i].key, fi_attr[i].val);
			if (err)
				return fail("writing %s to " FI_ROOT "/%s/%s: %s",
					    fi_attr[i].val, fi_fac[f],
					    fi_attr[i].key, errname(err));
		}
	}
	return 0;
}

static void fi_restore(void)
{
	size_t i;
	int f;

	for (f = 0; f < 2; f++)
		fi_write(f, "probability", "0");
	for (f = 0; f < 2; f++)
		for (i = 0; i < FI_NATTR; i++)
			if (fi_saved[f][i][0])
				fi_write(f, fi_attr[i].key, fi_saved[f][i]);
}

/* The file that makes this thread's allocations fail, opened once. */
static int fi_open_self(void)
{
	char path[64];
	int fd = open("/proc/thread-self/make-it-fail", O_WRONLY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	snprintf(path, sizeof(path), "/proc/self/task/%ld/make-it-fail",
		 (long)syscall(SYS_gettid));
	return open(path, O_WRONLY | O_CLOEXEC);
}

int failinject(unsigned int iters)
{
	unsigned long nok = 0, nnomem = 0, nfault = 0, nother = 0, nbad = 0;
	long before[2], after[2];
	char first_err[256] = "", first_bad[256] = "";
	struct sstats s0;
	int have_s0, fd, mf, rc, f;
	uint8_t *m, *rqa, *rsa, *dta;
	unsigned int it;
	size_t i;
	int64_t t0;

	if (access(FI_ROOT "/failslab", F_OK) ||
	    access(FI_ROOT "/fail_page_alloc", F_OK)) {
		printf("skip failinject: kernel has no fault injection (" FI_ROOT "/failslab, fail_page_alloc)\n");
		run.nskip++;
		return summary();
	}
	have_s0 = run.sim > 0 && !sstats_read(&s0);
	fd = dev_open();
	m = map_pages(3 * FI_AREA / PG, PROT_READ | PROT_WRITE);
	mf = fi_open_self();
	if (fd < 0 || !m || mf < 0) {
		if (mf < 0)
			fail("open /proc/thread-self/make-it-fail: %s",
			     strerror(errno));
		report("failinject_setup", TEST_FAIL);
		return summary();
	}
	track(RES_FD, mf, NULL, 0);
	/* Every page faulted in now: pinning must not need to allocate. */
	rqa = m;
	rsa = m + FI_AREA;
	dta = m + 2 * FI_AREA;
	fill_payload(m, 3 * FI_AREA, 0x3c);
	if (fi_setup()) {
		fi_restore();
		report("failinject_setup", TEST_FAIL);
		return summary();
	}
	for (f = 0; f < 2; f++)
		before[f] = fi_times(f);
	printf("# failinject: %u requests, probability %s%% per allocation in the submitting thread\n",
	       iters, fi_attr[FI_NATTR - 1].val);

	t0 = now_ms();
	for (it = 0; it < iters; it++) {
		static const uint32_t ops[3] = {
			AZ_SIM_OP_ECHO, AZ_SIM_OP_FILL, AZ_SIM_OP_SUM,
		};
		uint32_t op = ops[rnd32(&run.seed) % 3], seed = rnd32(&run.seed);
		size_t cap = rnd32(&run.seed) % 2 ? 16384 : FI_MAX;
		uint8_t *rq = rqa + rnd32(&run.seed) % PG;
		uint8_t *rs = rsa + rnd32(&run.seed) % PG;
		uint8_t *dt = dta + rnd32(&run.seed) % PG;
		size_t rl = sizeof(struct az_sim_req), sl = 8, dl = 0, dv = 0;
		size_t n = 8;
		struct az_blob_request_sync r;
		struct az_sim_req h;
		uint64_t want = 0;
		int e;

		if (op == AZ_SIM_OP_ECHO) {
			rl = 32 + rnd32(&run.seed) % (cap - 31);
			sl = 1 + rnd32(&run.seed) % cap;
			n = min_sz(rl, sl);
		} else {
			dl = 1 + rnd32(&run.seed) % cap;
			if (op == AZ_SIM_OP_SUM) {
				dv = rnd32(&run.seed) % (dl + 1);
				want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, dt, dv);
			} else {
				want = dl;
			}
		}
		sim_hdr(&h, op, AZ_SIM_FAULT_NONE, 0, 0, seed, 0);
		memcpy(rq, &h, sizeof(h));
		memset(rs, 0xe7, sl);
		rq_init(&r, rq, rl, rs, sl, dl ? dt : NULL, dl, dv);

		if (pwrite(mf, "1", 1, 0) != 1) {
			fail("enabling make-it-fail: %s", strerror(errno));
			break;
		}
		e = blob_ioctl(fd, &r);
		if (pwrite(mf, "0", 1, 0) != 1) {
			fail("disabling make-it-fail: %s", strerror(errno));
			break;
		}

		if (e == ENOMEM) {
			nnomem++;
			continue;
		}
		if (e) {
			if (e == EFAULT)
				nfault++;
			else
				nother++;
			if (!first_err[0])
				snprintf(first_err, sizeof(first_err),
					 "request %u (op %u, req %zu, resp %zu, data %zu): %s",
					 it, op, rl, sl, dl, errname(e));
			continue;
		}
		nok++;
		if (r.response.status || r.response.response_len != n) {
			snprintf(first_bad, sizeof(first_bad), "request %u: status 0x%08x, response_len %u, expected 0, %zu",
				 it, r.response.status,
				 r.response.response_len, n);
			nbad++;
		} else if (op == AZ_SIM_OP_ECHO ? memcmp(rs, rq, n) != 0 :
			   get_u64(rs) != want) {
			snprintf(first_bad, sizeof(first_bad), "request %u: op %u: wrong response",
				 it, op);
			nbad++;
		} else if (op == AZ_SIM_OP_FILL) {
			for (i = 0; i < dl; i++)
				if (dt[i] != az_sim_pattern(seed, i))
					break;
			if (i < dl) {
				snprintf(first_bad, sizeof(first_bad), "request %u: fill of %zu bytes: byte %zu wrong",
					 it, dl, i);
				nbad++;
			}
		}
		/* Ours again for the next request. */
		fill_payload(rq, rl, 0x3c);
	}
	for (f = 0; f < 2; f++) {
		fi_write(f, "probability", "0");
		after[f] = fi_times(f);
	}
	fi_restore();
	rc = run.reason[0] ? TEST_FAIL : 0;
	printf("# failinject: %u calls in %.1f s, %lu ok, %lu ENOMEM, %lu EFAULT, %lu other; failslab injected %ld, fail_page_alloc injected %ld\n",
	       it, (double)(now_ms() - t0) / 1000, nok, nnomem, nfault, nother,
	       before[0] - after[0], before[1] - after[1]);

	if (!rc && (nfault || nother))
		rc = fail("%lu calls failed with another errno than ENOMEM, first: %s",
			  nfault + nother, first_err);
	report("failinject_errnos", rc);
	report("failinject_answers_correct",
	       nbad ? fail("%lu wrong answers, first: %s", nbad, first_bad) : 0);
	rc = 0;
	if (before[0] < 0 || after[0] < 0 || before[1] < 0 || after[1] < 0)
		rc = fail("cannot read the facilities' times");
	else if (before[0] == after[0] && before[1] == after[1])
		rc = fail("no allocation failure was injected: the test proved nothing");
	report("failinject_injected", rc);
	if (!nnomem)
		printf("# failinject: no call saw ENOMEM\n");
	res_release_all();
	report("failinject_nothing_pinned", wait_idle(run.name, 0, 0, 5000));
	report("failinject_device_still_serves", echo_simple(run.dev, run.name));
	res_release_all();
	if (have_s0)
		report("failinject_host_saw_no_violation", post_check(&s0));
	return summary();
}
