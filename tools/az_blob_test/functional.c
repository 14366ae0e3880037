// SPDX-License-Identifier: GPL-2.0
/*
 * Round trips: echo, info (the packet's layout), fill, sum, uploads from
 * read-only memory, the host's status and timeout; every byte, guard and
 * counter checked.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* ------------------------------------------------------------------ */
/* Tests: round trips                                                  */
/* ------------------------------------------------------------------ */

int t_echo_small(void)
{
	struct arena *a = arena_new(4);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	return echo_at(fd, run.name, a, PG + 64, 64, 2 * PG + 128, 256, 0);
}

/*
 * A completed request is released before the ioctl returns: its pages are
 * no longer pinned and nothing is outstanding the moment the call is back.
 */
int t_released_on_return(void)
{
	int fd = dev_open(), i, ret;
	struct arena *a;
	long pinned, out;

	if (fd < 0)
		return TEST_FAIL;
	for (i = 0; i < 200; i++) {
		/* A fresh arena each time: an arena records a few puts only. */
		a = arena_alloc(4);
		if (!a)
			return fail("out of memory");
		ret = echo_at(fd, run.name, a, PG + 64, 64, 2 * PG + 128, 256, 0);
		arena_free(a);
		if (ret)
			return TEST_FAIL;
		pinned = drv_stat("pinned_pages");
		out = drv_stat("outstanding");
		if (pinned || out)
			return fail("call %d: right after it returned, pinned_pages %ld, outstanding %ld; expected 0, 0",
				    i, pinned, out);
	}
	return 0;
}

int t_echo_unaligned(void)
{
	struct arena *a = arena_new(8);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* Request spans 3 pages from offset 4059, response 3 from 4001. */
	return echo_at(fd, run.name, a, 2 * PG - 37, PG + 100,
		       4 * PG + 4001, 5000, 0);
}

int t_echo_shared_page(void)
{
	struct arena *a = arena_new(3);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	return echo_at(fd, run.name, a, PG + 100, 600, PG + 1000, 2000, 0);
}

int t_echo_truncated(void)
{
	struct arena *a = arena_new(5);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* 3000-byte request into a 1000-byte response across a page edge. */
	return echo_at(fd, run.name, a, PG + 10, 3000, 2 * PG + 3500, 1000, 0);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 |
	       (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Check an az_sim_info response against the request @r that produced it. */
static int check_info(const struct az_blob_request_sync *r,
		      const uint8_t *resp)
{
	uint32_t dp = span_pages(r->data_buffer, r->data_len);
	uint32_t rp = span_pages(r->request_buffer, r->request_len);
	uint32_t sp = span_pages(r->response_buffer, r->response_len);
	uint32_t nr = dp + rp + sp;
	const uint8_t *pkt = resp;
	const uint8_t *tail = resp + offsetof(struct az_sim_info, range_offset);
	const struct {
		const char *name;
		const uint8_t *p;
		uint32_t want;
		int check;
	} f[] = {
		{ "version", pkt + 0, 0, 1 },
		{ "timeout_ms", pkt + 4, r->timeout, 1 },
		{ "data_buffer_offset", pkt + 8,
		  (uint32_t)(r->data_buffer % PG), r->data_len != 0 },
		{ "data_buffer_length", pkt + 12, r->data_len, 1 },
		{ "data_buffer_valid", pkt + 16, r->data_valid, 1 },
		{ "operation_type", pkt + 20, 0x100, 1 },
		{ "request_buffer_offset", pkt + 24,
		  (uint32_t)(r->request_buffer % PG + dp * PG), 1 },
		{ "request_buffer_length", pkt + 28, r->request_len, 1 },
		{ "response_buffer_offset", pkt + 32,
		  (uint32_t)(r->response_buffer % PG + (dp + rp) * PG), 1 },
		{ "response_buffer_length", pkt + 36, r->response_len, 1 },
		{ "range_offset", tail + 0, 0, 1 },
		{ "range_len", tail + 4, nr * (uint32_t)PG, 1 },
		{ "nr_pfns", tail + 8, nr, 1 },
		{ "pkt_type", tail + 12, 9, 1 },
		{ "pkt_flags", tail + 16, 1, 1 },
		{ "rangecount", tail + 20, 1, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].check && le32(f[i].p) != f[i].want)
			return fail("info %s: expected %u, got %u", f[i].name,
				    f[i].want, le32(f[i].p));
	if (cmp_bytes("info transaction_id", pkt + 40, r->guid, 16))
		return TEST_FAIL;
	return 0;
}

/* INFO round trip; the packet's layout checked field by field. */
static int info_round(int fd, struct arena *a, size_t doff, size_t dlen,
		      size_t dvalid, size_t roff, size_t rlen, size_t soff,
		      size_t slen, int fake_data)
{
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp = at(a, soff), *data = NULL;
	int err, i;

	sim_hdr(&h, AZ_SIM_OP_INFO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	req = put_req(a, roff, rlen, &h);
	if (dlen || fake_data)
		data = at(a, doff);
	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	rq_init(&r, req, rlen, resp, slen, data, dlen, dvalid);
	r.timeout = 74565;
	for (i = 0; i < 16; i++)
		r.guid[i] = (uint8_t)(0xc3 ^ (i * 29));
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, sizeof(struct az_sim_info)))
		return TEST_FAIL;
	if (check_info(&r, resp))
		return TEST_FAIL;
	ok.p = resp;
	ok.len = sizeof(struct az_sim_info);
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;
	return check_deltas(run.name, &b, 1, 1, 0, 0, 0);
}

int t_info_layout(void)
{
	struct arena *a = arena_new(16);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* data: 4 pages from offset 333; request: 2 pages; response: 2. */
	return info_round(fd, a, PG + 333, 3 * PG + 777, 5000,
			  6 * PG + 4000, 200, 9 * PG + 17, PG, 0);
}

int t_info_nodata(void)
{
	struct arena *a = arena_new(8);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	if (info_round(fd, a, 0, 0, 0, PG + 4090, 64, 3 * PG + 5, 200, 0))
		return TEST_FAIL;
	/* A data address with data_len 0 is ignored, not counted. */
	return info_round(fd, a, 5 * PG + 1, 0, 0, PG + 4090, 64,
			  3 * PG + 5, 200, 1);
}

/* FILL @dlen bytes at @doff, then verify the pattern, guards, counters. */
static int fill_round(int fd, struct arena *a, size_t doff, size_t dlen,
		      size_t roff, size_t soff, size_t slen)
{
	uint32_t seed = (uint32_t)rnd64(&run.seed);
	struct az_blob_request_sync r;
	struct span ok[2];
	struct az_sim_req h;
	struct dstats b;
	uint8_t *req, *resp = at(a, soff), *data = at(a, doff);
	uint64_t cnt;
	size_t i;
	int err;

	sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 0, 0, seed, 0);
	req = put_req(a, roff, 32, &h);
	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 32, resp, slen, data, dlen, 0);
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, 8))
		return TEST_FAIL;
	cnt = get_u64(resp);
	if (cnt != dlen)
		return fail("fill count: expected %zu, got %" PRIu64, dlen, cnt);
	for (i = 0; i < dlen; i++)
		if (data[i] != az_sim_pattern(seed, i))
			return fail("data byte %zu: expected 0x%02x, got 0x%02x",
				    i, az_sim_pattern(seed, i), data[i]);
	ok[0].p = data;
	ok[0].len = dlen;
	ok[1].p = resp;
	ok[1].len = 8;
	if (arena_check(a, ok, 2))
		return TEST_FAIL;
	return check_deltas(run.name, &b, 1, 1, 0, 0, 0);
}

int t_fill_data(void)
{
	size_t dlen = 1 << 20;
	struct arena *a = arena_new(262);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* 1 MiB from offset 5; response straddles a page edge. */
	return fill_round(fd, a, PG + 5, dlen, 258 * PG + 7,
			  259 * PG + 4090, 16);
}

int t_fill_max(void)
{
	size_t dpages = AZ_BLOB_MAX_PAGES - 2;
	struct arena *a = arena_new(dpages + 4);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	/* data 8190 pages + request 1 + response 1 = 8192: the limit. */
	return fill_round(fd, a, PG, dpages * PG, (dpages + 1) * PG + 100,
			  (dpages + 2) * PG + 200, 64);
}

/* SUM of @dvalid bytes of a @dlen data buffer; expected from arena bytes. */
static int sum_round(int fd, struct arena *a, size_t doff, size_t dlen,
		     size_t dvalid, size_t roff, size_t soff)
{
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp = at(a, soff), *data = at(a, doff);
	uint64_t want, got;
	int err;

	sim_hdr(&h, AZ_SIM_OP_SUM, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	req = put_req(a, roff, 48, &h);
	want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, data, dvalid);
	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 48, resp, 64, data, dlen, dvalid);
	err = blob_ioctl(fd, &r);
	if (expect_ok(err, &r, 0, 8))
		return TEST_FAIL;
	got = get_u64(resp);
	if (got != want)
		return fail("FNV-1a of %zu bytes: expected 0x%016" PRIx64 ", got 0x%016" PRIx64,
			    dvalid, want, got);
	ok.p = resp;
	ok.len = 8;
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;
	return check_deltas(run.name, &b, 1, 1, 0, 0, 0);
}

int t_sum_data(void)
{
	size_t dlen = 300000, i;
	struct arena *a = arena_new(80);
	int fd = dev_open();
	uint8_t *tmp;

	if (!a || fd < 0)
		return TEST_FAIL;
	tmp = xmalloc(dlen);
	for (i = 0; i < dlen; i++)
		tmp[i] = (uint8_t)rnd64(&run.seed);
	arena_put(a, at(a, PG + 77), tmp, dlen);
	free(tmp);
	/* Only 123457 of the 300000 bytes are valid input. */
	return sum_round(fd, a, PG + 77, dlen, 123457, 76 * PG + 1000,
			 78 * PG + 3);
}

int t_data_overlaps_request(void)
{
	struct arena *a = arena_new(5);
	int fd = dev_open();
	uint8_t tmp[2 * PG];
	size_t i;

	if (!a || fd < 0)
		return TEST_FAIL;
	for (i = 0; i < sizeof(tmp); i++)
		tmp[i] = (uint8_t)rnd64(&run.seed);
	arena_put(a, at(a, PG), tmp, sizeof(tmp));
	/* The request lies inside the data buffer; SUM reads both. */
	return sum_round(fd, a, PG, 2 * PG, 2 * PG, PG + 10, 3 * PG + 50);
}

int t_status_passthrough(void)
{
	struct arena *a = arena_new(4);
	int fd = dev_open();

	if (!a || fd < 0)
		return TEST_FAIL;
	return echo_at(fd, run.name, a, PG + 8, 100, 2 * PG + 8, 100,
		       SIM_HOST_ERROR);
}

/*
 * One echo whose host takes @delay ms, with timeout @timeout: the host's
 * answer (status, length, bytes) after about @want_ms.
 */
static int timeout_round(int fd, uint32_t delay, uint32_t timeout,
			 int host_timeout, int64_t want_ms)
{
	struct arena *a = arena_new(4);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp;
	int64_t t0, ms;
	int err;

	if (!a)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, delay, 0, 0, 0);
	req = put_req(a, PG + 8, 64, &h);
	resp = at(a, 2 * PG + 8);
	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 64, resp, 64, NULL, 0, 0);
	r.timeout = timeout;
	t0 = now_ms();
	if (ioctl_bounded(fd, &r, (int)want_ms + STUCK_MS, "host timeout", &err))
		return TEST_FAIL;
	ms = now_ms() - t0;
	if (expect_ok(err, &r, host_timeout ? AZ_BLOB_HOST_TIMEOUT : 0,
		      host_timeout ? 0 : 64)) {
		snprintf(run.reason + strlen(run.reason),
			 sizeof(run.reason) - strlen(run.reason),
			 " (host delay %u ms, timeout %u ms)", delay, timeout);
		return TEST_FAIL;
	}
	if (ms < want_ms - 50 || ms > want_ms + 2500)
		return fail("host delay %u ms, timeout %u ms: answered after %" PRId64 " ms, expected about %" PRId64 " ms",
			    delay, timeout, ms, want_ms);
	if (!host_timeout && cmp_bytes("response", resp, req, 64))
		return TEST_FAIL;
	ok.p = resp;
	ok.len = host_timeout ? 0 : 64;
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;
	return check_deltas(run.name, &b, 1, 1, 0, 0, 0);
}

/*
 * The host enforces the caller's timeout: it cancels a request it would
 * answer at or after the timeout with AZ_BLOB_HOST_TIMEOUT, which the
 * ioctl returns as the request's status; an answer before the timeout is
 * the normal one. The driver adds no timer of its own.
 */
int t_host_timeout(void)
{
	int fd = dev_open();

	if (fd < 0)
		return TEST_FAIL;
	if (timeout_round(fd, 3000, 200, 1, 200) ||
	    timeout_round(fd, 300, 300, 1, 300))
		return TEST_FAIL;
	return timeout_round(fd, 300, 2000, 0, 300);
}

/*
 * SUM of @dvalid bytes at @data (which may be read-only) with @flags; the
 * host's FNV-1a must match, or the call must fail with @want_err.
 */
static int sum_flags(int fd, const uint8_t *data, size_t dlen, size_t dvalid,
		     uint32_t flags, int want_err, const char *what)
{
	struct arena *a = arena_new(4);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	struct dstats b;
	struct span ok;
	uint8_t *req, *resp;
	uint64_t want;
	int err;

	if (!a)
		return TEST_FAIL;
	sim_hdr(&h, AZ_SIM_OP_SUM, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	req = put_req(a, PG + 100, 32, &h);
	resp = at(a, 2 * PG + 300);
	want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, data, dvalid);
	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	rq_init(&r, req, 32, resp, 8, (void *)data, dlen, dvalid);
	r.flags = flags;
	if (ioctl_bounded(fd, &r, STUCK_MS, what, &err))
		return TEST_FAIL;
	if (want_err) {
		if (err != want_err)
			return fail("%s, flags %#x: expected %s, got %s", what,
				    flags, errname(want_err), errname(err));
		if (arena_check(a, NULL, 0))
			return TEST_FAIL;
		return check_deltas(run.name, &b, 0, 0, 0, 0, 0);
	}
	if (expect_ok(err, &r, 0, 8)) {
		snprintf(run.reason + strlen(run.reason),
			 sizeof(run.reason) - strlen(run.reason),
			 " (%s, flags %#x)", what, flags);
		return TEST_FAIL;
	}
	if (get_u64(resp) != want)
		return fail("%s: FNV-1a of %zu bytes: expected 0x%016" PRIx64 ", got 0x%016" PRIx64,
			    what, dvalid, want, get_u64(resp));
	ok.p = resp;
	ok.len = 8;
	if (arena_check(a, &ok, 1))
		return TEST_FAIL;
	return check_deltas(run.name, &b, 1, 1, 0, 0, 0);
}

/*
 * An upload (AZ_BLOB_DATA_HOST_READS) pins the data buffer read-only: it
 * may be a PROT_READ mapping or a read-only mapping of a file, private or
 * shared. Without the flag the same buffers are refused with EFAULT.
 */
int t_upload_readonly_data(void)
{
	const size_t dlen = 3 * PG + 1000, off = 200;
	const uint32_t up = AZ_BLOB_DATA_HOST_READS;
	char path[64];
	uint8_t *anon, *fmap, *smap, *copy;
	int fd = dev_open(), ffd, ret = TEST_FAIL;
	size_t i;

	if (fd < 0)
		return TEST_FAIL;
	anon = map_pages(6, PROT_READ | PROT_WRITE);
	if (!anon)
		return TEST_FAIL;
	copy = xmalloc(dlen);
	for (i = 0; i < dlen; i++)
		copy[i] = (uint8_t)rnd64(&run.seed);
	memcpy(anon + off, copy, dlen);
	if (mprotect(anon, 6 * PG, PROT_READ)) {
		free(copy);
		return fail("mprotect: %s", strerror(errno));
	}
	if (sum_flags(fd, anon + off, dlen, dlen - 7, up, 0,
		      "PROT_READ anonymous data") ||
	    sum_flags(fd, anon + off, dlen, dlen - 7, 0, EFAULT,
		      "PROT_READ anonymous data without AZ_BLOB_DATA_HOST_READS")) {
		free(copy);
		return TEST_FAIL;
	}

	snprintf(path, sizeof(path), "/tmp/az_blob_test.%d", (int)getpid());
	ffd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (ffd < 0) {
		free(copy);
		return fail("open %s: %s", path, strerror(errno));
	}
	unlink(path);
	if (ftruncate(ffd, 6 * PG) || pwrite(ffd, copy, dlen, off) != (ssize_t)dlen) {
		fail("writing %s: %s", path, strerror(errno));
		goto out;
	}
	fmap = mmap(NULL, 6 * PG, PROT_READ, MAP_PRIVATE, ffd, 0);
	smap = mmap(NULL, 6 * PG, PROT_READ, MAP_SHARED, ffd, 0);
	if (fmap == MAP_FAILED || smap == MAP_FAILED) {
		fail("mmap %s: %s", path, strerror(errno));
		goto out;
	}
	track(RES_MAP, -1, fmap, 6 * PG);
	track(RES_MAP, -1, smap, 6 * PG);
	/* Nothing touched the file pages yet: the pin faults them in. */
	if (sum_flags(fd, fmap + off, dlen, dlen, up, 0,
		      "read-only MAP_PRIVATE file data") ||
	    sum_flags(fd, smap + off, dlen, 1000, up, 0,
		      "read-only MAP_SHARED file data") ||
	    sum_flags(fd, fmap + off, dlen, dlen, 0, EFAULT,
		      "read-only MAP_PRIVATE file data without AZ_BLOB_DATA_HOST_READS"))
		goto out;
	if (cmp_bytes("file data after the uploads", fmap + off, copy, dlen) ||
	    cmp_bytes("anonymous data after the uploads", anon + off, copy,
		      dlen))
		goto out;
	ret = 0;
out:
	close(ffd);
	free(copy);
	return ret;
}
