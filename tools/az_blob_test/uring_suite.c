// SPDX-License-Identifier: GPL-2.0
/*
 * Requests through io_uring (IORING_OP_URING_CMD, AZ_BLOB_URING_CMD_REQUEST):
 * round trips that must match the ioctl's answer, every validation case with
 * the ioctl's errno plus the ring's own rules, 64 commands in flight, the
 * io-wq path and registered buffers; and the helpers the other io_uring
 * files share (uring_test.h). uring_life.c has the commands whose ring, task
 * or device goes away while the host holds them, uring_fuzz.c the SQE
 * fuzzer. The same tests run in the 32-bit binary (the 32-bit submitter).
 *
 * A kernel with a cancel hook for uring_cmd (6.7 on: 6.12, 7.2) ends a
 * command the host holds with -ECANCELED when its task exits or execs; 6.1
 * cannot, the command lives until the host answers. Which one runs is read
 * from uname(): the behaviour is io_uring's, not the driver's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"
#include "uring.h"
#include "uring_test.h"

/* ------------------------------------------------------------------ */
/* The kernel and the driver                                           */
/* ------------------------------------------------------------------ */

/* The running kernel is @maj.@min or later. */
int k_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 1;
	return a > maj || (a == maj && b >= min);
}

/* 6.7 and later cancel a uring_cmd at ring exit / exec (ASYNC.md). */
int k_cancels(void)
{
	return k_at_least(6, 7);
}

/* Does the loaded driver have an io_uring path (a symbol named *uring*)? */
static int drv_has_uring(void)
{
	static int cached = -1;
	char line[512];
	FILE *f;

	if (cached >= 0)
		return cached;
	cached = 0;
	f = fopen("/proc/kallsyms", "re");
	if (!f)
		return cached;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[hv_azure_blob]") && strstr(line, "uring")) {
			cached = 1;
			break;
		}
	fclose(f);
	return cached;
}

/*
 * A counter of the driver's stats that the harness does not know
 * (fixed_pages, cancelled, overdue, resets), or -1.
 */
long ustat(const char *key)
{
	char path[PATH_MAX], buf[4096], *p;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), DRV_DBG_DIR "/%s/stats", run.name);
	if (read_text(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return strtol(p + klen + 1, NULL, 0);
	return -1;
}

/* Nothing in flight, pinned or referenced in a registered buffer. */
int all_idle(int ms)
{
	int64_t end = now_ms() + ms;

	if (wait_idle(run.name, 0, 0, ms))
		return TEST_FAIL;
	while (ustat("fixed_pages") > 0) {
		if (now_ms() > end)
			return fail("fixed_pages %ld with nothing in flight",
				    ustat("fixed_pages"));
		sleep_ms(20);
	}
	return 0;
}

void prep_cmd(const struct uring *u, struct io_uring_sqe *sqe, int fd,
		     const struct az_blob_request_sync *r, uint64_t ud)
{
	size_t room = u->sqe_size - U_CMD_OFF;

	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = AZ_BLOB_URING_CMD_REQUEST;
	sqe->user_data = ud;
	memcpy((uint8_t *)sqe + U_CMD_OFF, r, min_sz(sizeof(*r), room));
}

int ring_new(struct uring *u, unsigned int entries, unsigned int flags)
{
	int err = ur_setup(u, entries, flags);

	if (err)
		return fail("io_uring_setup(%u, flags 0x%x): %s", entries,
			    flags, errname(err));
	return 0;
}

/* Submit everything handed out; fail unless the kernel took @n SQEs. */
int submit_n(struct uring *u, int n)
{
	int ret = ur_submit(u, 0);

	if (ret != n)
		return fail("io_uring_enter: expected %d SQEs consumed, got %d%s%s",
			    n, ret, ret < 0 ? " " : "",
			    ret < 0 ? errname(-ret) : "");
	return 0;
}

int wait_cqe(struct uring *u, int ms, struct ur_cqe *c,
		    const char *what)
{
	int err = ur_wait(u, ms, c);

	if (err == ETIME)
		return fail("%s: no CQE within %d ms", what, ms);
	if (err)
		return fail("%s: waiting for a CQE: %s", what, errname(err));
	return 0;
}

/*
 * One command: submit @r with @cflags/@bi/@iosqe on @u, wait up to @ms.
 */
int cmd1(struct uring *u, int fd, const struct az_blob_request_sync *r,
		uint32_t cflags, uint16_t bi, uint8_t iosqe, int ms,
		struct ur_cqe *c, const char *what)
{
	struct io_uring_sqe *sqe = ur_get_sqe(u);

	if (!sqe)
		return fail("%s: SQ full", what);
	prep_cmd(u, sqe, fd, r, 0x5151);
	sqe->uring_cmd_flags = cflags;
	sqe->buf_index = bi;
	sqe->flags = iosqe;
	if (submit_n(u, 1) || wait_cqe(u, ms, c, what))
		return TEST_FAIL;
	if (c->user_data != 0x5151)
		return fail("%s: CQE user_data 0x%" PRIx64 ", expected 0x5151",
			    what, c->user_data);
	return 0;
}

/*
 * Whether the tests can run: a ring of the right shape, and a valid echo
 * not refused with EOPNOTSUPP. A driver without the path (no *uring*
 * symbol) skips; a driver with one must answer.
 */
static int g_probe;		/* 0 unknown, 1 ok, TEST_SKIP/TEST_FAIL */
static char g_probe_why[256];

int uring_ready(void)
{
	struct az_blob_request_sync r;
	struct arena *a;
	struct az_sim_req h;
	struct uring u;
	struct ur_cqe c;
	int fd, err, has = drv_has_uring();

	if (g_probe == 1)
		return 0;
	if (g_probe) {
		fail("%s", g_probe_why);
		return g_probe;
	}
	err = ur_setup(&u, 4, U_RING_FLAGS);
	if (err) {
		snprintf(g_probe_why, sizeof(g_probe_why),
			 "io_uring_setup(SQE128|CQE32): %s (io_uring disabled?)",
			 errname(err));
		g_probe = has ? TEST_FAIL : TEST_SKIP;
		fail("%s", g_probe_why);
		return g_probe;
	}
	a = arena_new(4);
	fd = dev_open();
	if (!a || fd < 0) {
		ur_close(&u);
		return TEST_FAIL;
	}
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	rq_init(&r, put_req(a, PG, 64, &h), 64, at(a, 2 * PG), 64, NULL, 0, 0);
	err = cmd1(&u, fd, &r, 0, 0, 0, STUCK_MS, &c, "probe");
	ur_close(&u);
	if (err)
		return TEST_FAIL;
	if (c.res == -EOPNOTSUPP) {
		snprintf(g_probe_why, sizeof(g_probe_why),
			 "%s: a valid echo through IORING_OP_URING_CMD gives EOPNOTSUPP",
			 has ? "the driver has io_uring symbols but" :
			       "the driver has no io_uring path");
		g_probe = has ? TEST_FAIL : TEST_SKIP;
		fail("%s", g_probe_why);
		return g_probe;
	}
	g_probe = 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Requests with known answers                                         */
/* ------------------------------------------------------------------ */

int ureq_init(struct ureq *q, uint32_t op, size_t req_len,
		     size_t resp_len, size_t data_len, size_t data_valid,
		     uint32_t fault, uint32_t delay, uint32_t status,
		     uint32_t seed, int tracked)
{
	size_t rp = span_pages(100, req_len), sp = span_pages(200, resp_len);
	size_t dp = data_len / PG + 2, pages = 2 + rp + sp + dp, doff;
	struct az_sim_req h;

	memset(q, 0, sizeof(*q));
	q->a = tracked ? arena_new(pages) : arena_alloc(pages);
	if (!q->a)
		return TEST_FAIL;
	q->op = op;
	q->seed = seed;
	q->status = status;
	q->req_len = req_len;
	q->resp_len = resp_len;
	q->data_len = data_len;
	q->data_valid = data_valid;
	sim_hdr(&h, op, fault, delay, status, seed, 0);
	q->req = put_req(q->a, PG + 100, req_len, &h);
	q->resp = at(q->a, (1 + rp) * PG + 200);
	doff = (1 + rp + sp) * PG + (data_len & 1);
	q->data = data_len ? at(q->a, doff) : NULL;
	if (data_valid) {
		uint8_t *tmp = xmalloc(data_valid);

		fill_payload(tmp, data_valid, seed ^ 0x77);
		arena_put(q->a, q->data, tmp, data_valid);
		free(tmp);
	}
	rq_init(&q->r, q->req, req_len, q->resp, resp_len, q->data, data_len,
		data_valid);
	return 0;
}

void ureq_free(struct ureq *q)
{
	arena_free(q->a);
	q->a = NULL;
}

/* The response length the host answers @q with. */
static uint32_t ureq_rlen(const struct ureq *q)
{
	switch (q->op) {
	case AZ_SIM_OP_ECHO:
		return (uint32_t)min_sz(q->req_len, q->resp_len);
	case AZ_SIM_OP_FILL:
	case AZ_SIM_OP_SUM:
		return 8;
	default:
		return 0;
	}
}

/* The answer of @q (status, length, bytes) and its arena's guards. */
static int ureq_check(struct ureq *q, uint32_t status, uint32_t rlen,
		      const char *what)
{
	uint32_t want = ureq_rlen(q);
	struct span ok[2];
	uint64_t got, exp;
	size_t i;

	if (status != q->status)
		return fail("%s: status expected 0x%08x, got 0x%08x", what,
			    q->status, status);
	if (rlen != want)
		return fail("%s: response_len expected %u, got %u", what, want,
			    rlen);
	ok[0].p = q->resp;
	ok[0].len = rlen;
	ok[1].p = q->data;
	ok[1].len = 0;
	switch (q->op) {
	case AZ_SIM_OP_ECHO:
		if (cmp_bytes(what, q->resp, q->req, rlen))
			return TEST_FAIL;
		break;
	case AZ_SIM_OP_FILL:
		got = get_u64(q->resp);
		if (got != q->data_len)
			return fail("%s: FILL count expected %zu, got %" PRIu64,
				    what, q->data_len, got);
		for (i = 0; i < q->data_len; i++)
			if (q->data[i] != az_sim_pattern(q->seed, i))
				return fail("%s: data byte %zu: expected 0x%02x, got 0x%02x",
					    what, i, az_sim_pattern(q->seed, i),
					    q->data[i]);
		ok[1].len = q->data_len;
		break;
	case AZ_SIM_OP_SUM:
		got = get_u64(q->resp);
		exp = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, q->data, q->data_valid);
		if (got != exp)
			return fail("%s: SUM expected 0x%016" PRIx64 ", got 0x%016" PRIx64,
				    what, exp, got);
		break;
	}
	if (arena_check(q->a, ok, 2)) {
		snprintf(run.reason + strlen(run.reason),
			 sizeof(run.reason) - strlen(run.reason), " (%s)", what);
		return TEST_FAIL;
	}
	return 0;
}

int cqe_ok(const struct ur_cqe *c, struct ureq *q, const char *what)
{
	if (c->res)
		return fail("%s: CQE res expected 0, got %d (%s)", what, c->res,
			    errname(-c->res));
	return ureq_check(q, AZ_BLOB_CQE_STATUS(c->big0),
			  AZ_BLOB_CQE_RESPONSE_LEN(c->big0), what);
}

/* Put the canary back over what the host wrote, for a second round. */
static void ureq_reset(struct ureq *q)
{
	size_t base, i;

	base = (size_t)(q->resp - q->a->base);
	for (i = 0; i < q->resp_len; i++)
		q->a->base[base + i] = canary(base + i);
	if (q->data && q->op == AZ_SIM_OP_FILL) {
		base = (size_t)(q->data - q->a->base);
		for (i = 0; i < q->data_len; i++)
			q->a->base[base + i] = canary(base + i);
	}
}

/*
 * The same request through the ioctl and through io_uring: the same
 * status, length and bytes, one submitted and one completed each.
 */
int both_ways(struct uring *u, int fd, struct ureq *q, const char *what)
{
	struct az_blob_request_sync r = q->r;
	struct dstats b;
	struct ur_cqe c;
	char w[96];
	int err;

	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	snprintf(w, sizeof(w), "%s (ioctl)", what);
	err = blob_ioctl(fd, &r);
	if (err)
		return fail("%s: %s", w, errname(err));
	if (ureq_check(q, r.response.status, r.response.response_len, w))
		return TEST_FAIL;
	ureq_reset(q);
	snprintf(w, sizeof(w), "%s (io_uring)", what);
	if (cmd1(u, fd, &q->r, 0, 0, 0, 60000, &c, w) || cqe_ok(&c, q, w))
		return TEST_FAIL;
	if (AZ_BLOB_CQE_STATUS(c.big0) != r.response.status ||
	    AZ_BLOB_CQE_RESPONSE_LEN(c.big0) != r.response.response_len)
		return fail("%s: io_uring status 0x%08x len %u, ioctl 0x%08x len %u",
			    what, AZ_BLOB_CQE_STATUS(c.big0),
			    AZ_BLOB_CQE_RESPONSE_LEN(c.big0),
			    r.response.status, r.response.response_len);
	if (c.big1)
		return fail("%s: big_cqe[1] expected 0, got 0x%" PRIx64, what,
			    c.big1);
	return check_deltas(run.name, &b, 2, 2, 0, 0, 0);
}

/* The driver's outstanding count is @n (within @ms). */
int outstanding_is(long n, int ms)
{
	int64_t end = now_ms() + ms;
	long v;

	for (;;) {
		v = drv_stat("outstanding");
		if (v == n)
			return 0;
		if (now_ms() > end)
			return fail("outstanding: expected %ld, got %ld", n, v);
		sleep_ms(20);
	}
}

/* ------------------------------------------------------------------ */
/* Functional                                                          */
/* ------------------------------------------------------------------ */

/*
 * Echo without data, then FILL of 1 byte, 4 KiB, 1 MiB and the largest
 * data buffer (8190 pages: 32 MiB does not fit next to a request and a
 * response, see uring_validation), SUM of 1 MiB: the CQE as the ioctl.
 */
int t_uring_round_trips(void)
{
	static const struct {
		uint32_t op;
		size_t req, resp, data, valid;
	} c[] = {
		{ AZ_SIM_OP_ECHO, 64, 64, 0, 0 },
		{ AZ_SIM_OP_ECHO, 5000, 3000, 0, 0 },
		{ AZ_SIM_OP_FILL, 40, 64, 1, 0 },
		{ AZ_SIM_OP_FILL, 40, 64, 4096, 0 },
		{ AZ_SIM_OP_FILL, 40, 64, 1 << 20, 0 },
		{ AZ_SIM_OP_SUM, 40, 64, 1 << 20, (1 << 20) - 3 },
		{ AZ_SIM_OP_FILL, 40, 64, (AZ_BLOB_MAX_PAGES - 2) * PG, 0 },
	};
	struct uring u;
	struct ureq q;
	char what[80];
	size_t i;
	int fd, ret;

	READY();
	fd = dev_open();
	if (fd < 0 || ring_new(&u, 8, U_RING_FLAGS))
		return TEST_FAIL;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		snprintf(what, sizeof(what), "op %u, request %zu, data %zu",
			 c[i].op, c[i].req, c[i].data);
		if (ureq_init(&q, c[i].op, c[i].req, c[i].resp, c[i].data,
			      c[i].valid, 0, 0, 0, (uint32_t)i * 7 + 1, 0)) {
			ur_close(&u);
			return TEST_FAIL;
		}
		ret = both_ways(&u, fd, &q, what);
		ureq_free(&q);
		if (ret) {
			ur_close(&u);
			return ret;
		}
	}
	ur_close(&u);
	return 0;
}

/* The host's status and its timeout status reach big_cqe[0] as the ioctl. */
int t_uring_status(void)
{
	struct uring u;
	struct ureq q;
	int fd, ret;
	int64_t t0;

	READY();
	fd = dev_open();
	if (fd < 0 || ring_new(&u, 8, U_RING_FLAGS))
		return TEST_FAIL;
	ret = ureq_init(&q, AZ_SIM_OP_ECHO, 64, 64, 0, 0, 0, 0, SIM_HOST_ERROR,
			3, 1);
	if (!ret)
		ret = both_ways(&u, fd, &q, "status 0xC0000001");
	if (!ret)
		ret = ureq_init(&q, AZ_SIM_OP_ECHO, 64, 64, 0, 0, 0, 60000, 0,
				4, 1);
	if (!ret) {
		/* The host cancels at the timeout: its status, nothing written. */
		q.r.timeout = 300;
		q.status = AZ_BLOB_HOST_TIMEOUT;
		q.op = 0;		/* no response bytes */
		t0 = now_ms();
		ret = both_ways(&u, fd, &q, "host timeout 300 ms");
		if (!ret && now_ms() - t0 < 500)
			ret = fail("two host timeouts of 300 ms took %" PRId64 " ms",
				   now_ms() - t0);
	}
	ur_close(&u);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Validation                                                          */
/* ------------------------------------------------------------------ */

/* @r through io_uring: res -@want, nothing submitted, nothing held. */
static int u_reject(struct uring *u, int fd,
		    const struct az_blob_request_sync *r, uint32_t cflags,
		    uint16_t bi, int want, const char *what)
{
	struct dstats b, s;
	struct ur_cqe c;

	if (dstats_get(run.name, &b) ||
	    cmd1(u, fd, r, cflags, bi, 0, STUCK_MS, &c, what))
		return TEST_FAIL;
	if (c.res != -want)
		return fail("%s: CQE res expected -%s, got %d (%s)", what,
			    errname(want), c.res,
			    c.res > 0 ? "positive" : errname(-c.res));
	if (dstats_get(run.name, &s))
		return TEST_FAIL;
	if (s.v[DS_SUBMITTED] != b.v[DS_SUBMITTED])
		return fail("%s: submitted changed from %ld to %ld", what,
			    b.v[DS_SUBMITTED], s.v[DS_SUBMITTED]);
	if (s.v[DS_OUTSTANDING] || s.v[DS_PINNED])
		return fail("%s: afterwards outstanding %ld, pinned_pages %ld",
			    what, s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
	return 0;
}

/* The ioctl's errno for @r, then the same through io_uring. */
static int both_reject(struct uring *u, int fd, struct az_blob_request_sync *r,
		       int want, const char *what)
{
	struct az_blob_request_sync c = *r;
	int err = blob_ioctl(fd, &c);

	if (err != want)
		return fail("%s: ioctl expected %s, got %s", what,
			    errname(want), errname(err));
	return u_reject(u, fd, r, 0, 0, want, what);
}

static void *hole(size_t pages)
{
	uint8_t *p = map_pages(pages + 2, PROT_NONE);

	if (!p)
		return NULL;
	if (munmap(p + PG, pages * PG)) {
		fail("munmap: %s", strerror(errno));
		return NULL;
	}
	return p + PG;
}

/* Every case of validation.c: the same errno from the CQE as the ioctl. */
int t_uring_validation(void)
{
	const uint32_t big = AZ_BLOB_MAX_LEN + 1, n = AZ_BLOB_MAX_PAGES;
	struct az_blob_request_sync r;
	struct vbase v;
	struct uring u;
	uint8_t *m, *h, *ro;
	int ret = TEST_FAIL;

	READY();
	if (vbase_init(&v) || ring_new(&u, 8, U_RING_FLAGS))
		return TEST_FAIL;
	m = map_pages(n + 2, PROT_READ | PROT_WRITE);	/* never touched */
	h = hole(4);
	ro = map_pages(1, PROT_READ | PROT_WRITE);
	if (!m || !h || !ro || mprotect(ro, PG, PROT_READ))
		goto out;
#define CASE(field_stmt, want, what) do {				\
		r = v.r;						\
		field_stmt;						\
		if (both_reject(&u, v.fd, &r, want, what))		\
			goto out;					\
	} while (0)
	CASE(r.flags = 2, EINVAL, "flags 2");
	CASE(r.flags = 0xffffffffU, EINVAL, "flags 0xffffffff");
	CASE(r.request_len = 0, EINVAL, "request_len 0");
	CASE(r.response_len = 0, EINVAL, "response_len 0");
	CASE((r.data_len = 100, r.data_valid = 101), EINVAL, "data_valid 101 > data_len 100");
	CASE((r.data_len = 0, r.data_valid = 1), EINVAL, "data_valid 1 > data_len 0");
	CASE(r.request_buffer = 0, EINVAL, "request_buffer NULL");
	CASE(r.response_buffer = 0, EINVAL, "response_buffer NULL");
	CASE((r.data_buffer = 0, r.data_len = 100), EINVAL, "data_buffer NULL");
	CASE(r.request_len = big, E2BIG, "request_len 32 MiB + 1");
	CASE(r.response_len = big, E2BIG, "response_len 32 MiB + 1");
	CASE(r.data_len = big, E2BIG, "data_len 32 MiB + 1");
	CASE(rq_init(&r, m + (n - 1) * PG, 64, m + n * PG, 64, m, (n - 1) * PG, 0),
	     E2BIG, "8191 + 1 + 1 pages");
	CASE(rq_init(&r, m + (n - 1) * PG + 100, 64, m + n * PG + 100, 64, m + 1,
		     (n - 2) * PG, 0), E2BIG, "data 8190 pages at offset 1");
	CASE(r.request_buffer = ptr2u64(h + 8), EFAULT, "unmapped request");
	CASE(r.response_buffer = ptr2u64(h + 8), EFAULT, "unmapped response");
	CASE(r.data_buffer = ptr2u64(h), EFAULT, "unmapped data");
	CASE(r.response_buffer = ptr2u64(ro), EFAULT, "read-only response");
	CASE((r.data_buffer = ptr2u64(ro), r.data_len = 64, r.data_valid = 10),
	     EFAULT, "read-only data");
	CASE(r.response_buffer = 0xffff888000000000ULL, EFAULT, "kernel response");
	CASE(r.request_buffer = 0xffffffff81000000ULL, EFAULT, "kernel request");
#undef CASE
	ret = 0;
out:
	ur_close(&u);
	return ret;
}

/*
 * Where the ioctl accepts it but io_uring must refuse (timeout 0, above
 * the maximum) the ioctl's answer is checked too (it succeeds), and the
 * maximum and 1 ms are accepted.
 */
int t_uring_timeout_range(void)
{
	static const uint32_t bad[] = { 0, AZ_BLOB_URING_MAX_TIMEOUT + 1,
					 0x80000000U, 0xffffffffU };
	static const uint32_t good[] = { 1, AZ_BLOB_URING_MAX_TIMEOUT };
	struct az_blob_request_sync r;
	struct uring u;
	struct ur_cqe c;
	struct ureq q;
	char what[64];
	size_t i;
	int fd, err;

	READY();
	fd = dev_open();
	if (fd < 0 || ring_new(&u, 8, U_RING_FLAGS) ||
	    ureq_init(&q, AZ_SIM_OP_ECHO, 64, 64, 0, 0, 0, 0, 0, 5, 1))
		return TEST_FAIL;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = q.r;
		r.timeout = bad[i];
		snprintf(what, sizeof(what), "timeout %u", bad[i]);
		if (u_reject(&u, fd, &r, 0, 0, EINVAL, what))
			goto out_fail;
	}
	r = q.r;
	r.timeout = 0;
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, 64)) {
		fail("the ioctl with timeout 0 (no limit) must still work");
		goto out_fail;
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		r = q.r;
		r.timeout = good[i];
		snprintf(what, sizeof(what), "timeout %u", good[i]);
		ureq_reset(&q);
		if (cmd1(&u, fd, &r, 0, 0, 0, STUCK_MS, &c, what) ||
		    cqe_ok(&c, &q, what))
			goto out_fail;
	}
	ur_close(&u);
	return 0;
out_fail:
	ur_close(&u);
	return TEST_FAIL;
}

/*
 * The ring's shape: without SQE128 or CQE32 -EOPNOTSUPP. Every unknown
 * uring_cmd_flags bit -EINVAL (io_uring's prep refuses bits it does not
 * know, the driver those it does not).
 */
int t_uring_ring_shape(void)
{
	static const struct {
		unsigned int flags;
		const char *what;
	} shapes[] = {
		{ 0, "64-byte SQE, 16-byte CQE" },
		{ IORING_SETUP_SQE128, "SQE128 without CQE32" },
		{ IORING_SETUP_CQE32, "CQE32 without SQE128" },
	};
	struct az_blob_request_sync r;
	struct uring u;
	struct ureq q;
	char what[80];
	int fd, bit, err;
	size_t i;

	READY();
	fd = dev_open();
	if (fd < 0 || ureq_init(&q, AZ_SIM_OP_ECHO, 64, 64, 0, 0, 0, 0, 0, 6, 1))
		return TEST_FAIL;
	for (i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		if (ring_new(&u, 4, shapes[i].flags))
			return TEST_FAIL;
		err = u_reject(&u, fd, &q.r, 0, 0, EOPNOTSUPP, shapes[i].what);
		ur_close(&u);
		if (err)
			return TEST_FAIL;
	}

	if (ring_new(&u, 4, U_RING_FLAGS))
		return TEST_FAIL;
	for (bit = 1; bit < 32; bit++) {
		r = q.r;
		snprintf(what, sizeof(what), "uring_cmd_flags bit %d", bit);
		if (u_reject(&u, fd, &r, 1U << bit, 0, EINVAL, what)) {
			ur_close(&u);
			return TEST_FAIL;
		}
	}
	ur_close(&u);
	return 0;
}

/*
 * An IOPOLL ring: -EOPNOTSUPP, as the header says. On 6.1 and 6.12
 * io_uring itself refuses a file without ->uring_cmd_iopoll with that
 * errno before the driver runs. From 7.x io_uring issues the command as a
 * normal one on an IOPOLL ring and does not tell the driver (no
 * IO_URING_F_IOPOLL without ->uring_cmd_iopoll): the driver must look at
 * the ring itself to keep the promise.
 */
int t_uring_iopoll_ring(void)
{
	struct io_uring_sqe *sqe;
	struct uring u;
	struct ur_cqe c;
	struct ureq q;
	int fd;
	int64_t end;

	READY();
	fd = dev_open();
	if (fd < 0 || ureq_init(&q, AZ_SIM_OP_ECHO, 64, 64, 0, 0, 0, 0, 0, 6, 1))
		return TEST_FAIL;
	/* The failure is posted at submission; peek, do not poll. */
	if (ring_new(&u, 4, U_RING_FLAGS | IORING_SETUP_IOPOLL))
		return TEST_FAIL;
	sqe = ur_get_sqe(&u);
	prep_cmd(&u, sqe, fd, &q.r, 7);
	if (submit_n(&u, 1)) {
		ur_close(&u);
		return TEST_FAIL;
	}
	for (end = now_ms() + 2000; !ur_peek(&u, &c); sleep_ms(10)) {
		if (now_ms() > end) {
			ur_close(&u);
			return fail("IOPOLL ring: no CQE 2 s after submission");
		}
	}
	ur_close(&u);
	if (c.res != -EOPNOTSUPP)
		return fail("IOPOLL ring: CQE res expected -EOPNOTSUPP, got %d (%s)",
			    c.res, errname(-c.res));
	return 0;
}

/* AZ_BLOB_URING_CMD_REQUEST is never an ioctl; nothing reaches the host. */
int t_uring_not_ioctl(void)
{
	struct az_blob_request_sync r;
	struct dstats b, s;
	struct ureq q;
	int fd, err;

	fd = dev_open();
	if (fd < 0 || ureq_init(&q, AZ_SIM_OP_ECHO, 64, 64, 0, 0, 0, 0, 0, 7, 1) ||
	    dstats_get(run.name, &b))
		return TEST_FAIL;
	r = q.r;
	err = ioctl(fd, AZ_BLOB_URING_CMD_REQUEST, &r) ? errno : 0;
	if (err != ENOTTY)
		return fail("ioctl(AZ_BLOB_URING_CMD_REQUEST): expected ENOTTY, got %s",
			    errname(err));
	if (dstats_get(run.name, &s))
		return TEST_FAIL;
	if (s.v[DS_SUBMITTED] != b.v[DS_SUBMITTED])
		return fail("submitted moved by %ld", s.v[DS_SUBMITTED] - b.v[DS_SUBMITTED]);
	return 0;
}

/*
 * The payload is copied once: the SQE (in ring memory) overwritten right
 * after io_uring_enter returned, with a valid request that names other
 * buffers, while the host still delays its answer; the answer goes where
 * the submitted request said, the decoy buffers stay untouched. Inline
 * issue, then IOSQE_ASYNC (issued from io-wq).
 */
int t_uring_sqe_copied_once(void)
{
	struct io_uring_sqe *sqe;
	struct ureq q, decoy;
	struct uring u;
	struct ur_cqe c;
	int fd, pass, ret = 0;

	READY();
	fd = dev_open();
	if (fd < 0 || ring_new(&u, 4, U_RING_FLAGS))
		return TEST_FAIL;
	for (pass = 0; pass < 2 && !ret; pass++) {
		const char *what = pass ? "IOSQE_ASYNC" : "inline";

		if (ureq_init(&q, AZ_SIM_OP_ECHO, 300, 300, 0, 0, 0, 400, 0, 8, 1) ||
		    ureq_init(&decoy, AZ_SIM_OP_ECHO, 100, 100, 0, 0, 0, 0, 0, 9, 1)) {
			ret = TEST_FAIL;
			break;
		}
		sqe = ur_get_sqe(&u);
		prep_cmd(&u, sqe, fd, &q.r, 1);
		sqe->flags = pass ? IOSQE_ASYNC : 0;
		if (submit_n(&u, 1)) {
			ret = TEST_FAIL;
			break;
		}
		decoy.op = 0;	/* never answered: nothing written */
		/* The caller reuses the SQE at once. */
		memcpy((uint8_t *)sqe + U_CMD_OFF, &decoy.r, sizeof(decoy.r));
		memset((uint8_t *)sqe + U_CMD_OFF, 0xff, 16);	/* guid */
		if (wait_cqe(&u, STUCK_MS, &c, what) || cqe_ok(&c, &q, what) ||
		    ureq_check(&decoy, 0, 0, "decoy")) {
			if (!run.reason[0])
				fail("%s", what);
			ret = TEST_FAIL;
		}
	}
	ur_close(&u);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Many in flight                                                      */
/* ------------------------------------------------------------------ */

/*
 * @n commands from one thread, mixed ops and sizes, answered out of
 * order (delays up to 50 ms); every answer and guard checked. @iosqe on
 * every other one.
 */
static int many(unsigned int n, uint8_t iosqe, const char *what)
{
	struct ureq *q = xmalloc(n * sizeof(*q));
	unsigned int i, got = 0;
	uint64_t seen[8] = { 0 };
	struct dstats b;
	struct uring u;
	struct ur_cqe c;
	char w[96];
	int fd, ret = 0;
	uint64_t g = run.seed | 1;

	memset(q, 0, n * sizeof(*q));
	fd = dev_open();
	if (fd < 0 || ring_new(&u, n, U_RING_FLAGS) || dstats_get(run.name, &b)) {
		free(q);
		return TEST_FAIL;
	}
	for (i = 0; i < n && !ret; i++) {
		uint32_t op = AZ_SIM_OP_ECHO + i % 3 * 2;	/* ECHO, FILL, NULL->SUM */
		size_t dl = 0, dv = 0;
		struct io_uring_sqe *sqe;

		if (op == AZ_SIM_OP_NULL)
			op = AZ_SIM_OP_SUM;
		if (op != AZ_SIM_OP_ECHO)
			dl = 1 + rnd32(&g) % (64 * 1024);
		if (op == AZ_SIM_OP_SUM)
			dv = dl - rnd32(&g) % dl;
		ret = ureq_init(&q[i], op, op == AZ_SIM_OP_ECHO ?
				32 + rnd32(&g) % 6000 : 40,
				64 + rnd32(&g) % 6000, dl, dv, 0,
				rnd32(&g) % 50, 0, i, 0);
		if (ret)
			break;
		sqe = ur_get_sqe(&u);
		prep_cmd(&u, sqe, fd, &q[i].r, i);
		sqe->flags = (i & 1) ? iosqe : 0;
	}
	if (!ret)
		ret = submit_n(&u, (int)n);
	while (!ret && got < n) {
		if (wait_cqe(&u, 30000, &c, what)) {
			ret = TEST_FAIL;
			break;
		}
		if (c.user_data >= n || (seen[c.user_data / 64] >> (c.user_data % 64)) & 1) {
			ret = fail("%s: CQE with user_data %" PRIu64 " unexpected",
				   what, c.user_data);
			break;
		}
		seen[c.user_data / 64] |= 1ULL << (c.user_data % 64);
		snprintf(w, sizeof(w), "%s, command %" PRIu64, what, c.user_data);
		ret = cqe_ok(&c, &q[c.user_data], w);
		got++;
	}
	if (!ret)
		ret = check_deltas(run.name, &b, n, n, 0, 0, 0);
	ur_close(&u);
	for (i = 0; i < n; i++)
		ureq_free(&q[i]);
	free(q);
	return ret;
}

int t_uring_inflight_64(void)
{
	READY();
	return many(64, 0, "64 in flight");
}

/* The io-wq path: IOSQE_ASYNC on every other command. */
int t_uring_async(void)
{
	READY();
	return many(64, IOSQE_ASYNC, "IOSQE_ASYNC");
}

/*
 * More commands than a user may have in flight while the host holds them
 * all ("hang 1"): the host holds 256 (the per-user bound of the ioctl),
 * and the other 44 ... on 6.1 and 7.2 wait for admission in io-wq (the
 * driver answers -EAGAIN to a non-blocking issue) and complete after
 * "hang 0" and "release" like the rest; on 6.12, issued inline with the
 * ring's lock held (the driver never sees IO_URING_F_NONBLOCK there: 6.12
 * would issue again from the SQ ring, which the caller may have refilled),
 * they end at once with -EAGAIN in the CQE. With @async (IOSQE_ASYNC) every
 * command is issued from io-wq and may wait: all 300 complete, on every
 * kernel. io_uring_enter never blocks.
 */
static int queue_full(int async)
{
	enum { N = 300, BOUND = 256 };
	int eagain = !async && k_at_least(6, 4) && !k_at_least(6, 13);
	struct ureq *q = xmalloc(N * sizeof(*q));
	struct uring u;
	struct ur_cqe c;
	struct sstats ss;
	unsigned int i, got = 0, n_eagain = 0;
	int fd, ret = 0, hang = 0, done[N];
	char w[96];
	const char *what = async ? "IOSQE_ASYNC" : "inline";

	memset(q, 0, N * sizeof(*q));
	memset(done, 0, sizeof(done));
	fd = dev_open();
	if (fd < 0 || ring_new(&u, 512, U_RING_FLAGS)) {
		free(q);
		return TEST_FAIL;
	}
	ret = sim_ctl_ok("hang 1");
	hang = !ret;
	for (i = 0; i < N && !ret; i++) {
		struct io_uring_sqe *sqe;

		ret = ureq_init(&q[i], AZ_SIM_OP_ECHO, 64, 64, 0, 0, 0, 0, 0, i, 0);
		if (ret)
			break;
		sqe = ur_get_sqe(&u);
		prep_cmd(&u, sqe, fd, &q[i].r, i);
		sqe->flags = async ? IOSQE_ASYNC : 0;
	}
	if (!ret)
		ret = submit_n(&u, N);
	if (!ret)
		ret = wait_sim(SS_HELD, BOUND, 10000);
	if (!ret) {
		sleep_ms(1000);
		while (ur_peek(&u, &c)) {
			if (c.user_data >= N || done[c.user_data]++) {
				ret = fail("%s: CQE with user_data %" PRIu64,
					   what, c.user_data);
				break;
			}
			if (!eagain || c.res != -EAGAIN || c.user_data < BOUND) {
				ret = fail("%s: while the host holds %d: a CQE for command %" PRIu64 ", res %d (%s)",
					   what, BOUND, c.user_data, c.res,
					   errname(-c.res));
				break;
			}
			n_eagain++;
			got++;
		}
	}
	if (!ret) {
		if (sstats_get(&ss))
			ret = TEST_FAIL;
		else if (ss.v[SS_HELD] != BOUND)
			ret = fail("%s: the host holds %ld commands of one user; expected %d",
				   what, ss.v[SS_HELD], BOUND);
		else if (drv_stat("outstanding") != BOUND)
			ret = fail("%s: outstanding %ld with %d held; expected %d",
				   what, drv_stat("outstanding"), BOUND, BOUND);
		else if (eagain && n_eagain != N - BOUND)
			ret = fail("6.12, inline: %u commands beyond the bound ended with -EAGAIN at once; expected %d",
				   n_eagain, N - BOUND);
	}
	if (hang)
		sim_ctl("hang 0");
	sim_ctl("release");
	while (!ret && got < N) {
		if (wait_cqe(&u, 30000, &c, "after release")) {
			ret = TEST_FAIL;
			break;
		}
		if (c.user_data >= N || done[c.user_data]++) {
			ret = fail("%s: CQE with user_data %" PRIu64, what,
				   c.user_data);
			break;
		}
		snprintf(w, sizeof(w), "%s, command %" PRIu64, what,
			 c.user_data);
		ret = cqe_ok(&c, &q[c.user_data], w);
		got++;
	}
	if (ret) {
		/* Nothing may stay held for the next test. */
		sim_ctl("release");
		ur_close(&u);
		all_idle(10000);
	} else {
		ur_close(&u);
	}
	for (i = 0; i < N; i++)
		ureq_free(&q[i]);
	free(q);
	return ret;
}

int t_uring_queue_full(void)
{
	READY();
	return queue_full(0) || queue_full(1) ? TEST_FAIL : 0;
}

/* ------------------------------------------------------------------ */
/* Registered buffers                                                  */
/* ------------------------------------------------------------------ */

/*
 * FIXED requests in one registered buffer of 300 pages: echo, FILL of
 * 1 MiB, SUM; the answers exact; the request's pages are not pinned
 * again (pinned_pages stays 0 while the host holds one).
 */
int t_uring_fixed(void)
{
	enum { PAGES = 300 };
	struct az_blob_request_sync r;
	struct arena *a;
	struct az_sim_req h;
	struct iovec iov;
	struct uring u;
	struct ur_cqe c;
	struct io_uring_sqe *sqe;
	uint8_t *req, *resp, *data;
	uint64_t got;
	size_t i;
	int fd, err, ret = 0;
	long pinned, fixed;

	READY();
	fd = dev_open();
	a = arena_new(PAGES);
	if (fd < 0 || !a || ring_new(&u, 8, U_RING_FLAGS))
		return TEST_FAIL;
	iov.iov_base = a->base;
	iov.iov_len = PAGES * PG;
	err = ur_register_buffers(&u, &iov, 1);
	if (err) {
		ur_close(&u);
		return fail("IORING_REGISTER_BUFFERS of %d pages: %s", PAGES,
			    errname(err));
	}
	/* Echo of 3000 bytes across pages. */
	sim_hdr(&h, AZ_SIM_OP_ECHO, 0, 0, 0, 0, 0);
	req = put_req(a, PG - 1000, 3000, &h);
	resp = at(a, 4 * PG + 5);
	rq_init(&r, req, 3000, resp, 4000, NULL, 0, 0);
	if (cmd1(&u, fd, &r, IORING_URING_CMD_FIXED, 0, 0, STUCK_MS, &c, "fixed echo"))
		goto fail_out;
	if (c.res || AZ_BLOB_CQE_STATUS(c.big0) || AZ_BLOB_CQE_RESPONSE_LEN(c.big0) != 3000) {
		ret = fail("fixed echo: res %d status 0x%08x len %u; expected 0, 0, 3000",
			   c.res, AZ_BLOB_CQE_STATUS(c.big0),
			   AZ_BLOB_CQE_RESPONSE_LEN(c.big0));
		goto out;
	}
	if (cmp_bytes("fixed echo", resp, req, 3000))
		goto fail_out;
	/* FILL of 1 MiB at an odd offset. */
	sim_hdr(&h, AZ_SIM_OP_FILL, 0, 0, 0, 77, 0);
	req = put_req(a, 10 * PG + 8, 40, &h);
	resp = at(a, 11 * PG);
	data = at(a, 12 * PG + 1);
	rq_init(&r, req, 40, resp, 64, data, 1 << 20, 0);
	if (cmd1(&u, fd, &r, IORING_URING_CMD_FIXED, 0, 0, STUCK_MS, &c, "fixed fill"))
		goto fail_out;
	if (c.res || AZ_BLOB_CQE_RESPONSE_LEN(c.big0) != 8 || get_u64(resp) != 1 << 20) {
		ret = fail("fixed fill: res %d len %u count %" PRIu64,
			   c.res, AZ_BLOB_CQE_RESPONSE_LEN(c.big0), get_u64(resp));
		goto out;
	}
	for (i = 0; i < 1 << 20; i++)
		if (data[i] != az_sim_pattern(77, i)) {
			ret = fail("fixed fill: data byte %zu wrong", i);
			goto out;
		}
	/* SUM of what FILL wrote. */
	sim_hdr(&h, AZ_SIM_OP_SUM, 0, 0, 0, 0, 0);
	req = put_req(a, 290 * PG, 40, &h);
	rq_init(&r, req, 40, resp, 64, data, 1 << 20, (1 << 20) - 5);
	if (cmd1(&u, fd, &r, IORING_URING_CMD_FIXED, 0, 0, STUCK_MS, &c, "fixed sum"))
		goto fail_out;
	got = get_u64(resp);
	if (c.res || got != az_sim_fnv1a(AZ_SIM_FNV1A_INIT, data, (1 << 20) - 5)) {
		ret = fail("fixed sum: res %d, sum 0x%016" PRIx64 " wrong", c.res, got);
		goto out;
	}
	/* Held: outstanding 1; no page pinned per request. */
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NEVER, 0, 0, 0, 0);
	req = put_req(a, 295 * PG, 64, &h);
	rq_init(&r, req, 64, at(a, 296 * PG), 64, at(a, 200 * PG), 16 * PG, 0);
	sqe = ur_get_sqe(&u);
	prep_cmd(&u, sqe, fd, &r, 9);
	sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
	if (submit_n(&u, 1) || wait_sim(SS_HELD, 1, 5000) || outstanding_is(1, 2000))
		goto fail_out;
	pinned = drv_stat("pinned_pages");
	fixed = ustat("fixed_pages");
	sim_ctl("release");
	if (wait_cqe(&u, STUCK_MS, &c, "fixed held") || c.res) {
		if (!run.reason[0])
			fail("fixed held: res %d", c.res);
		goto fail_out;
	}
	if (pinned != 0)
		ret = fail("a FIXED request the host holds: pinned_pages %ld; expected 0 (no GUP per request)",
			   pinned);
	else if (fixed != 18)
		ret = fail("a FIXED request of 1 + 1 + 16 pages held: fixed_pages %ld, expected 18",
			   fixed);
out:
	ur_close(&u);
	return ret;
fail_out:
	sim_ctl("release");
	ur_close(&u);
	return TEST_FAIL;
}

/*
 * FIXED with a buffer outside the registered one (before, after,
 * straddling its end; each of the three buffers) -EFAULT; buf_index past
 * the registered ones and FIXED on a ring without any -EFAULT (io_uring's
 * own check at prep on 6.1 and 6.12); read-only memory cannot be
 * registered (EFAULT); a read-only request buffer without FIXED works.
 */
int t_uring_fixed_bad(void)
{
	enum { PAGES = 8 };
	struct az_blob_request_sync r, base;
	struct arena *a, *other;
	struct az_sim_req h;
	struct iovec iov;
	struct uring u, u0;
	struct ur_cqe c;
	uint8_t *req, *ro;
	int fd, err;

	READY();
	fd = dev_open();
	a = arena_new(PAGES + 2);
	other = arena_new(4);
	ro = map_pages(2, PROT_READ | PROT_WRITE);
	if (fd < 0 || !a || !other || !ro || ring_new(&u, 8, U_RING_FLAGS))
		return TEST_FAIL;
	iov.iov_base = a->base + PG;
	iov.iov_len = PAGES * PG;
	err = ur_register_buffers(&u, &iov, 1);
	if (err) {
		ur_close(&u);
		return fail("IORING_REGISTER_BUFFERS: %s", errname(err));
	}
	sim_hdr(&h, AZ_SIM_OP_ECHO, 0, 0, 0, 0, 0);
	req = put_req(a, 2 * PG, 64, &h);
	rq_init(&base, req, 64, at(a, 3 * PG), 64, at(a, 4 * PG), 2 * PG, 0);
	if (cmd1(&u, fd, &base, IORING_URING_CMD_FIXED, 0, 0, STUCK_MS, &c, "fixed base") ||
	    (c.res && fail("the base FIXED request: res %d (%s)", c.res, errname(-c.res))))
		goto fail_out;
#define BAD(stmt, what) do {						\
		r = base;						\
		stmt;							\
		if (u_reject(&u, fd, &r, IORING_URING_CMD_FIXED, 0, EFAULT, what)) \
			goto fail_out;					\
	} while (0)
	BAD(r.request_buffer = ptr2u64(a->base + 100), "request before the registered buffer");
	BAD(r.response_buffer = ptr2u64(a->base + (PAGES + 1) * PG), "response after it");
	BAD(r.data_buffer = ptr2u64(a->base + PAGES * PG), "data straddling its end");
	BAD(r.request_buffer = ptr2u64(other->base + 8), "request in another mapping");
	BAD((r.data_buffer = ptr2u64(a->base + PG), r.data_len = PAGES * PG + 1),
	    "data one byte longer than the registered buffer");
#undef BAD
	if (u_reject(&u, fd, &base, IORING_URING_CMD_FIXED, 1, EFAULT, "buf_index 1 of 1") ||
	    u_reject(&u, fd, &base, IORING_URING_CMD_FIXED, 0xffff, EFAULT, "buf_index 65535"))
		goto fail_out;
	if (ring_new(&u0, 4, U_RING_FLAGS))
		goto fail_out;
	err = u_reject(&u0, fd, &base, IORING_URING_CMD_FIXED, 0, EFAULT,
		       "FIXED with no buffer registered");
	if (!err) {
		iov.iov_base = ro;
		iov.iov_len = PG;
		memset(ro, 0, PG);
		if (mprotect(ro, PG, PROT_READ))
			err = fail("mprotect: %s", strerror(errno));
		else if ((err = ur_register_buffers(&u0, &iov, 1)) != EFAULT)
			err = fail("registering read-only memory: expected EFAULT, got %s",
				   errname(err));
		else
			err = 0;
	}
	ur_close(&u0);
	if (err)
		goto fail_out;
	/* A read-only request buffer without FIXED. */
	memcpy(ro + PG, &h, sizeof(h));
	if (mprotect(ro + PG, PG, PROT_READ)) {
		fail("mprotect: %s", strerror(errno));
		goto fail_out;
	}
	rq_init(&r, ro + PG, sizeof(h), at(a, 3 * PG), 64, NULL, 0, 0);
	if (cmd1(&u, fd, &r, 0, 0, 0, STUCK_MS, &c, "read-only request"))
		goto fail_out;
	if (c.res || AZ_BLOB_CQE_RESPONSE_LEN(c.big0) != sizeof(h) ||
	    memcmp(at(a, 3 * PG), &h, sizeof(h))) {
		fail("read-only request without FIXED: res %d (%s), len %u",
		     c.res, errname(-c.res), AZ_BLOB_CQE_RESPONSE_LEN(c.big0));
		goto fail_out;
	}
	ur_close(&u);
	return 0;
fail_out:
	ur_close(&u);
	return TEST_FAIL;
}

/*
 * IORING_UNREGISTER_BUFFERS while the host holds a FIXED request in that
 * buffer: the unregister succeeds (6.13+ at once, the request keeps its
 * buffer node; 6.1 and 6.12 wait for the command, as their io_uring
 * quiesces the buffer table: io_rsrc_ref_quiesce()), the request later
 * completes with the right bytes, and nothing is left afterwards.
 */
int t_uring_unregister_held(void)
{
	enum { PAGES = 8 };
	struct az_blob_request_sync r;
	struct arena *a;
	struct az_sim_req h;
	struct iovec iov;
	struct uring u;
	struct ur_cqe c;
	struct io_uring_sqe *sqe;
	uint8_t *req, *resp;
	int fd, err, ret = 0;
	pid_t pid;
	int st;
	int64_t t0;

	READY();
	fd = dev_open();
	a = arena_new(PAGES);
	if (fd < 0 || !a || ring_new(&u, 8, U_RING_FLAGS))
		return TEST_FAIL;
	iov.iov_base = a->base;
	iov.iov_len = PAGES * PG;
	err = ur_register_buffers(&u, &iov, 1);
	if (err) {
		ur_close(&u);
		return fail("IORING_REGISTER_BUFFERS: %s", errname(err));
	}
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NEVER, 0, 0, 0, 0);
	req = put_req(a, PG + 100, 500, &h);
	resp = at(a, 3 * PG + 8);
	rq_init(&r, req, 500, resp, 500, NULL, 0, 0);
	sqe = ur_get_sqe(&u);
	prep_cmd(&u, sqe, fd, &r, 3);
	sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
	if (submit_n(&u, 1) || wait_sim(SS_HELD, 1, 5000)) {
		ret = TEST_FAIL;
		goto out;
	}
	if (k_at_least(6, 13)) {
		t0 = now_ms();
		err = ur_unregister_buffers(&u);
		if (err)
			ret = fail("IORING_UNREGISTER_BUFFERS with a command held: %s",
				   errname(err));
		else if (now_ms() - t0 > 2000)
			ret = fail("IORING_UNREGISTER_BUFFERS took %" PRId64 " ms",
				   now_ms() - t0);
		if (!ret && ur_cq_ready(&u))
			ret = fail("a CQE right after unregistering");
		if (!ret && ustat("fixed_pages") != 2)
			ret = fail("after unregistering, the host holding 1 + 1 pages: fixed_pages %ld, expected 2",
				   ustat("fixed_pages"));
		sim_ctl("release");
	} else {
		/* 6.1, 6.12: a child releases the host in 1.5 s; we wait. */
		fflush(stdout);
		pid = fork();
		if (!pid) {
			sleep_ms(1500);
			_exit(sim_ctl("release") ? 1 : 0);
		}
		t0 = now_ms();
		err = ur_unregister_buffers(&u);
		reap(pid, &st, 5000);
		if (err)
			ret = fail("before 6.13: IORING_UNREGISTER_BUFFERS: %s", errname(err));
		else if (now_ms() - t0 < 1000)
			ret = fail("before 6.13: IORING_UNREGISTER_BUFFERS returned after %" PRId64 " ms, before the command ended",
				   now_ms() - t0);
	}
	if (!ret && (wait_cqe(&u, STUCK_MS, &c, "held FIXED after unregister") ||
		     (c.res || AZ_BLOB_CQE_RESPONSE_LEN(c.big0) != 500 ?
		      fail("res %d len %u; expected 0, 500", c.res,
			   AZ_BLOB_CQE_RESPONSE_LEN(c.big0)) :
		      cmp_bytes("response", resp, req, 500))))
		ret = TEST_FAIL;
out:
	sim_ctl("release");
	ur_close(&u);
	if (all_idle(10000))
		return TEST_FAIL;
	return ret;
}
