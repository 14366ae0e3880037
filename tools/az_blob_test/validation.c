// SPDX-License-Identifier: GPL-2.0
/*
 * Validation: every rule of the ioctl, each with its exact errno, and
 * nothing submitted or left pinned by a rejected call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "harness.h"
#include "suites.h"

/* ------------------------------------------------------------------ */
/* Tests: validation                                                   */
/* ------------------------------------------------------------------ */

/*
 * The start of 4 unmapped pages between two PROT_NONE pages that stay
 * mapped until the test ends. A later mmap of 4 pages or less may land in
 * the hole, so take it after the test's other mappings.
 */
static void *hole_addr(void)
{
	uint8_t *p = map_pages(6, PROT_NONE);

	if (!p)
		return NULL;
	if (munmap(p + PG, 4 * PG)) {
		fail("munmap: %s", strerror(errno));
		return NULL;
	}
	return p + PG;
}

/* The ioctl must fail with @want without submitting or pinning anything. */
static int expect_reject_cmd(int fd, unsigned long cmd, void *arg, int want,
			     const char *what)
{
	struct dstats b, s;
	int err;

	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	err = ioctl(fd, cmd, arg) ? errno : 0;
	if (err != want)
		return fail("%s: expected %s, got %s", what, errname(want),
			    errname(err));
	if (dstats_get(run.name, &s))
		return TEST_FAIL;
	if (s.v[DS_SUBMITTED] != b.v[DS_SUBMITTED])
		return fail("%s: submitted changed from %ld to %ld", what,
			    b.v[DS_SUBMITTED], s.v[DS_SUBMITTED]);
	if (s.v[DS_COMPLETED] != b.v[DS_COMPLETED])
		return fail("%s: completed changed from %ld to %ld", what,
			    b.v[DS_COMPLETED], s.v[DS_COMPLETED]);
	if (s.v[DS_OUTSTANDING] || s.v[DS_PINNED])
		return fail("%s: after the error outstanding %ld, pinned_pages %ld; expected 0, 0",
			    what, s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
	return 0;
}

static int expect_reject(int fd, struct az_blob_request_sync *r, int want,
			 const char *what)
{
	return expect_reject_cmd(fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, r,
				 want, what);
}

/*
 * Every bit but AZ_BLOB_DATA_HOST_READS is refused; that one alone is
 * accepted (with a writable data buffer too).
 */
int t_flags_nonzero(void)
{
	static const uint32_t flags[] = {
		2, 3, 0x80000000U, 0x80000001U, 0xfffffffeU, 0xffffffffU,
	};
	struct az_blob_request_sync r;
	struct vbase v;
	char what[64];
	size_t i;
	int err;

	if (vbase_init(&v))
		return TEST_FAIL;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		r = v.r;
		r.flags = flags[i];
		snprintf(what, sizeof(what), "flags 0x%x", flags[i]);
		if (expect_reject(v.fd, &r, EINVAL, what))
			return TEST_FAIL;
	}
	r = v.r;
	r.flags = AZ_BLOB_DATA_HOST_READS;
	r.data_valid = 100;
	if (ioctl_bounded(v.fd, &r, STUCK_MS, "flags AZ_BLOB_DATA_HOST_READS",
			  &err))
		return TEST_FAIL;
	if (expect_ok(err, &r, 0, 64)) {
		snprintf(run.reason + strlen(run.reason),
			 sizeof(run.reason) - strlen(run.reason),
			 " (flags AZ_BLOB_DATA_HOST_READS)");
		return TEST_FAIL;
	}
	return 0;
}

int t_request_len_zero(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.request_len = 0;
	return expect_reject(v.fd, &v.r, EINVAL, "request_len 0");
}

int t_response_len_zero(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.response_len = 0;
	return expect_reject(v.fd, &v.r, EINVAL, "response_len 0");
}

int t_data_valid_gt_len(void)
{
	struct az_blob_request_sync r;
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	r = v.r;
	r.data_len = 100;
	r.data_valid = 101;
	if (expect_reject(v.fd, &r, EINVAL, "data_valid 101 > data_len 100"))
		return TEST_FAIL;
	r = v.r;
	r.data_len = 0;
	r.data_valid = 1;
	return expect_reject(v.fd, &r, EINVAL, "data_valid 1 > data_len 0");
}

int t_null_request(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.request_buffer = 0;
	return expect_reject(v.fd, &v.r, EINVAL, "request_buffer NULL");
}

int t_null_response(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.response_buffer = 0;
	return expect_reject(v.fd, &v.r, EINVAL, "response_buffer NULL");
}

int t_null_data(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.data_buffer = 0;
	v.r.data_len = 100;
	return expect_reject(v.fd, &v.r, EINVAL, "data_buffer NULL, data_len 100");
}

int t_len_too_big(void)
{
	const uint32_t big = AZ_BLOB_MAX_LEN + 1;
	struct az_blob_request_sync r;
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	r = v.r;
	r.request_len = big;
	if (expect_reject(v.fd, &r, E2BIG, "request_len 32 MiB + 1"))
		return TEST_FAIL;
	r = v.r;
	r.response_len = big;
	if (expect_reject(v.fd, &r, E2BIG, "response_len 32 MiB + 1"))
		return TEST_FAIL;
	r = v.r;
	r.data_len = big;
	return expect_reject(v.fd, &r, E2BIG, "data_len 32 MiB + 1");
}

int t_pages_too_many(void)
{
	const size_t n = AZ_BLOB_MAX_PAGES;
	struct az_blob_request_sync r;
	struct vbase v;
	uint8_t *m;

	if (vbase_init(&v))
		return TEST_FAIL;
	/* Never touched: a driver that pins before counting faults it in. */
	m = map_pages(n + 2, PROT_READ | PROT_WRITE);
	if (!m)
		return TEST_FAIL;

	/* 8191 + 1 + 1 pages. */
	rq_init(&r, m + (n - 1) * PG, 64, m + n * PG, 64, m, (n - 1) * PG, 0);
	if (expect_reject(v.fd, &r, E2BIG, "8191 + 1 + 1 pages"))
		return TEST_FAIL;

	/* 8190 + 2 + 1 pages, the response sharing the request's first page:
	 * 8192 distinct pages, 8193 counted.
	 */
	rq_init(&r, m + (n - 1) * PG - 1, 2, m + (n - 1) * PG - 2, 1,
		m, (n - 2) * PG, 0);
	if (expect_reject(v.fd, &r, E2BIG, "8190 + 2 + 1 pages, one shared"))
		return TEST_FAIL;

	/* 8190 pages of data from offset 1 span 8191 pages. */
	rq_init(&r, m + (n - 1) * PG + 100, 64, m + n * PG + 100, 64,
		m + 1, (n - 2) * PG, 0);
	return expect_reject(v.fd, &r, E2BIG, "data 8190 pages at offset 1 (8191) + 1 + 1");
}

int t_unmapped_buffer(void)
{
	struct az_blob_request_sync r;
	struct vbase v;
	uint8_t *hole;

	if (vbase_init(&v))
		return TEST_FAIL;
	hole = hole_addr();
	if (!hole)
		return TEST_FAIL;
	r = v.r;
	r.request_buffer = ptr2u64(hole + 8);
	if (expect_reject(v.fd, &r, EFAULT, "unmapped request"))
		return TEST_FAIL;
	r = v.r;
	r.response_buffer = ptr2u64(hole + 8);
	if (expect_reject(v.fd, &r, EFAULT, "unmapped response"))
		return TEST_FAIL;
	r = v.r;
	r.data_buffer = ptr2u64(hole);
	return expect_reject(v.fd, &r, EFAULT, "unmapped data");
}

/*
 * Each buffer in turn starts on a good page and runs into a bad one (an
 * unmapped page, then a PROT_NONE page); the other buffers are good, so
 * whatever the driver pinned before the fault must be released.
 */
int t_partly_mapped(void)
{
	static const char *const which[] = { "request", "response", "data" };
	struct az_blob_request_sync r;
	struct vbase v;
	uint8_t *m;
	char what[64];
	int kind, b;

	if (vbase_init(&v))
		return TEST_FAIL;
	for (kind = 0; kind < 2; kind++) {
		m = map_pages(3, PROT_READ | PROT_WRITE);
		if (!m)
			return TEST_FAIL;
		memset(m, 0, 3 * PG);
		memcpy(m + PG - 64, v.req, 64);	/* a valid request */
		if (kind == 0 ? munmap(m + PG, PG) :
				mprotect(m + PG, PG, PROT_NONE))
			return fail("munmap/mprotect: %s", strerror(errno));
		for (b = 0; b < 3; b++) {
			r = v.r;
			if (b == 0)
				r.request_buffer = ptr2u64(m + PG - 64);
			else if (b == 1)
				r.response_buffer = ptr2u64(m + PG - 32);
			else
				r.data_buffer = ptr2u64(m + PG - 4096);
			if (b == 0)
				r.request_len = 128;
			snprintf(what, sizeof(what), "%s running into a %s page",
				 which[b], kind ? "PROT_NONE" : "unmapped");
			if (expect_reject(v.fd, &r, EFAULT, what))
				return TEST_FAIL;
		}
	}
	return 0;
}

/* Return @v's buffer @p's page to read-only. */
static int make_ro(const void *p)
{
	void *pg = (void *)((uintptr_t)p & ~(uintptr_t)(PG - 1));

	if (mprotect(pg, PG, PROT_READ))
		return fail("mprotect: %s", strerror(errno));
	return 0;
}

int t_readonly_response(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	if (make_ro(v.resp))
		return TEST_FAIL;
	return expect_reject(v.fd, &v.r, EFAULT, "read-only response");
}

int t_readonly_data(void)
{
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	v.r.data_valid = 100;
	if (make_ro(v.data) || make_ro(v.data + PG))
		return TEST_FAIL;
	return expect_reject(v.fd, &v.r, EFAULT, "read-only data");
}

static const struct az_sim_req ro_hdr = {
	.magic = AZ_SIM_MAGIC,
	.op = AZ_SIM_OP_ECHO,
};

int t_readonly_request_ok(void)
{
	struct az_blob_request_sync r;
	struct arena *a = arena_new(4);
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp;
	int fd = dev_open(), err;

	if (!a || fd < 0)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	req = put_req(a, PG + 300, 500, &h);
	resp = at(a, 2 * PG + 8);
	if (make_ro(req))
		return TEST_FAIL;
	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 500, resp, 1000, NULL, 0, 0);
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, 500) || cmp_bytes("response", resp, req, 500))
		return TEST_FAIL;
	ok.p = resp;
	ok.len = 500;
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;

	/* A request in the program's read-only data (a file mapping). */
	rq_init(&r, &ro_hdr, sizeof(ro_hdr), resp, 1000, NULL, 0, 0);
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, sizeof(ro_hdr)) ||
	    cmp_bytes("response", resp, (const uint8_t *)&ro_hdr,
		      sizeof(ro_hdr)))
		return TEST_FAIL;
	return check_deltas(run.name, &b, 2, 2, 0, 0, 0);
}

int t_bad_struct_ptr(void)
{
	const size_t sz = sizeof(struct az_blob_request_sync);
	struct vbase v;
	uint8_t *m, *hole;

	if (vbase_init(&v))
		return TEST_FAIL;
	m = map_pages(2, PROT_READ | PROT_WRITE);
	hole = m ? hole_addr() : NULL;
	if (!hole)
		return TEST_FAIL;
	if (expect_reject_cmd(v.fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, NULL,
			      EFAULT, "NULL argument"))
		return TEST_FAIL;
	if (expect_reject_cmd(v.fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, hole,
			      EFAULT, "unmapped argument"))
		return TEST_FAIL;
	/* A valid request whose last 8 bytes fall on an unmapped page. */
	memcpy(m + PG - (sz - 8), &v.r, sz - 8);
	if (munmap(m + PG, PG))
		return fail("munmap: %s", strerror(errno));
	return expect_reject_cmd(v.fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST,
				 m + PG - (sz - 8), EFAULT,
				 "argument running into an unmapped page");
}

int t_bad_ioctl(void)
{
	struct {
		unsigned long cmd;
		const char *what;
	} c[] = {
		{ _IOWR('R', 0xf1, struct az_blob_request_sync), "_IOWR('R', 0xf1)" },
		{ _IOWR('R', 0xf0, char[64]), "_IOWR('R', 0xf0) of 64 bytes" },
		{ _IOWR('R', 0xf0, char[80]), "_IOWR('R', 0xf0) of 80 bytes" },
		{ _IOW('R', 0xf0, struct az_blob_request_sync), "_IOW('R', 0xf0)" },
		{ _IOR('R', 0xf0, struct az_blob_request_sync), "_IOR('R', 0xf0)" },
		{ _IO('R', 0xf0), "_IO('R', 0xf0)" },
		{ _IOWR('S', 0xf0, struct az_blob_request_sync), "_IOWR('S', 0xf0)" },
	};
	struct {
		struct az_blob_request_sync r;
		uint8_t pad[64];
	} arg;
	struct vbase v;
	size_t i;

	if (vbase_init(&v))
		return TEST_FAIL;
	memset(&arg, 0, sizeof(arg));
	arg.r = v.r;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		if (expect_reject_cmd(v.fd, c[i].cmd, &arg, ENOTTY, c[i].what))
			return TEST_FAIL;
	return 0;
}

int t_kernel_address(void)
{
	const uint64_t kaddr = 0xffff888000000000ULL;
	struct az_blob_request_sync r;
	struct vbase v;

	if (vbase_init(&v))
		return TEST_FAIL;
	r = v.r;
	r.request_buffer = kaddr;
	if (expect_reject(v.fd, &r, EFAULT, "kernel request address"))
		return TEST_FAIL;
	r = v.r;
	r.response_buffer = kaddr;
	if (expect_reject(v.fd, &r, EFAULT, "kernel response address"))
		return TEST_FAIL;
	r = v.r;
	r.data_buffer = kaddr;
	return expect_reject(v.fd, &r, EFAULT, "kernel data address");
}
