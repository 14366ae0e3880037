// SPDX-License-Identifier: GPL-2.0
/*
 * "az_blob_blob suite": the Blob service through the driver, against a
 * real Blob endpoint (Azurite behind the host VSP), every read compared
 * byte for byte with the pattern it was written with. Each test prints
 * "ok NAME", "FAIL NAME: WHY" or "skip NAME: WHY". With --tcp the same
 * suite runs over the guest's own TCP stack; the tests of the host's own
 * format (HsRes001 fields, host statuses) are then skipped.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../az_blob_host/blob_service.h"
#include "../az_blob_sim.h"
#include "blob.h"

#define MIB		(1UL << 20)
#define THREADS		8
#define THREAD_OPS	6

struct suite {
	const char *dev, *tcp, *key;
	char cont[64];
	struct blob_conn c;
	int failed, passed, skipped;
};

static int t_fail(char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int t_fail(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, 512, fmt, ap);
	va_end(ap);
	return -1;
}

static int t_skip(char *why, const char *s)
{
	snprintf(why, 512, "%s", s);
	return 1;
}

static void report(struct suite *s, int ret, const char *name, const char *why)
{
	if (!ret) {
		printf("ok %s\n", name);
		s->passed++;
	} else if (ret > 0) {
		printf("skip %s: %s\n", name, why);
		s->skipped++;
	} else {
		printf("FAIL %s: %s\n", name, why);
		s->failed++;
	}
}

static int check_pattern(const void *p, size_t len, uint32_t seed,
			 uint64_t off, char *why)
{
	int64_t bad = pattern_check(p, len, seed, off);

	if (bad < 0)
		return 0;
	return t_fail(why, "byte %" PRIu64 " is %#x, not %#x",
		      off + (uint64_t)bad, ((const unsigned char *)p)[bad],
		      az_sim_pattern(seed, off + (uint64_t)bad));
}

/* ------------------------------------------------------------------ */

static int t_create(struct suite *s, char *why)
{
	struct blob_ans a = { 0 };
	char str[320];
	int ret = 0;

	container_create(&s->c, s->cont, &a);
	if (a.error[0] || a.status || a.http != 201)
		ret = t_fail(why, "%s", ans_str(&a, str, sizeof(str)));
	ans_free(&a);
	return ret;
}

static int t_create_again(struct suite *s, char *why)
{
	struct blob_ans a = { 0 };
	const char *code;
	char str[320];
	int ret = 0;

	container_create(&s->c, s->cont, &a);
	code = ans_header(&a, "x-ms-error-code");
	if (a.error[0] || a.status != AZ_HOST_OK || a.http != 409 || !code ||
	    strcmp(code, "ContainerAlreadyExists"))
		ret = t_fail(why, "%s", ans_str(&a, str, sizeof(str)));
	ans_free(&a);
	return ret;
}

static const size_t rt_sizes[] = { 0, 1, 4 * MIB - 1, 32 * MIB + 1 };

static uint32_t rt_seed(size_t size)
{
	return (uint32_t)(size * 31 + 7);
}

static void rt_name(char *out, size_t len, size_t size)
{
	snprintf(out, len, "rt/%zu", size);
}

static int t_round_trip(struct suite *s, size_t size, char *why)
{
	unsigned char *src = page_alloc(size), *dst = page_alloc(size + 1);
	uint32_t seed = rt_seed(size);
	unsigned long r0 = s->c.requests, puts, gets;
	size_t expect_reqs = size > blob_chunk ?
		(size + blob_chunk - 1) / blob_chunk : 0;
	char name[64];
	size_t got = 0;
	uint64_t hsize;
	int ret = -1;

	rt_name(name, sizeof(name), size);
	pattern_fill(src, size, seed, 0);
	if (blob_put(&s->c, s->cont, name, src, size, why, 512))
		goto out;
	puts = s->c.requests - r0;
	if (expect_reqs && puts != expect_reqs + 1) {
		t_fail(why, "upload took %lu requests, wanted %zu blocks + list",
		       puts, expect_reqs);
		goto out;
	}
	if (blob_head(&s->c, s->cont, name, &hsize, why, 512))
		goto out;
	if (hsize != size) {
		t_fail(why, "HEAD says %" PRIu64 " bytes", hsize);
		goto out;
	}
	memset(dst, 0x5A, size + 1);
	r0 = s->c.requests;
	/* One byte more room than the blob: nothing may land there. */
	if (blob_get(&s->c, s->cont, name, dst, size + 1, &got, why, 512))
		goto out;
	gets = s->c.requests - r0;
	if (got != size) {
		t_fail(why, "downloaded %zu bytes", got);
		goto out;
	}
	if (check_pattern(dst, size, seed, 0, why))
		goto out;
	if (dst[size] != 0x5A) {
		t_fail(why, "the byte after the blob was written");
		goto out;
	}
	if (expect_reqs && gets != expect_reqs) {
		t_fail(why, "download took %lu requests, wanted %zu", gets,
		       expect_reqs);
		goto out;
	}
	printf("# round trip %zu bytes: %lu requests up, %lu down\n", size,
	       puts, gets);
	ret = 0;
out:
	page_free(src, size);
	page_free(dst, size + 1);
	return ret;
}

static int t_ranges(struct suite *s, char *why)
{
	static const struct {
		size_t blob;
		uint64_t off;
		size_t len;
		size_t align;	/* offset of the data buffer in its page */
	} r[] = {
		{ 4 * MIB - 1, 1, 1, 0 },
		{ 4 * MIB - 1, 4095, 4097, 1 },
		{ 4 * MIB - 1, 12345, 1000001, 4095 },
		{ 4 * MIB - 1, 4 * MIB - 2, 1, 3 },
		{ 4 * MIB - 1, 3, 4 * MIB - 4, 2049 },
		{ 32 * MIB + 1, CHUNK_MAX - 7, 13, 7 },
		{ 32 * MIB + 1, 32 * MIB, 1, 0 },
		{ 32 * MIB + 1, 17 * MIB + 333, 5 * MIB + 1, 100 },
	};
	unsigned char *buf = page_alloc(8 * MIB);
	char name[64], w[512];
	int ret = 0;

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]) && !ret; i++) {
		unsigned char *d = buf + r[i].align;

		rt_name(name, sizeof(name), r[i].blob);
		memset(buf, 0x5A, 8 * MIB);
		if (blob_get_range(&s->c, s->cont, name, r[i].off, r[i].len, d,
				   w, sizeof(w)))
			ret = t_fail(why, "%s [%" PRIu64 ", +%zu): %s", name,
				     r[i].off, r[i].len, w);
		else if (check_pattern(d, r[i].len, rt_seed(r[i].blob),
				       r[i].off, w))
			ret = t_fail(why, "%s [%" PRIu64 ", +%zu): %s", name,
				     r[i].off, r[i].len, w);
		else if (d[r[i].len] != 0x5A || (r[i].align && d[-1] != 0x5A))
			ret = t_fail(why, "%s [%" PRIu64 ", +%zu): written outside",
				     name, r[i].off, r[i].len);
	}
	page_free(buf, 8 * MIB);
	return ret;
}

static int t_range_beyond(struct suite *s, char *why)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	unsigned char buf[64];
	char path[256], str[320];
	int ret = 0;

	blob_path(path, sizeof(path), s->cont, "rt/1");
	bc_req_init(&r, AZ_BLOB_GET, path, NULL);
	bc_hdr_add(&r, "x-ms-range", "bytes=5-20");
	blob_call(&s->c, &r, NULL, 0, buf, sizeof(buf), &a);
	if (a.error[0] || a.status || a.http != 416)
		ret = t_fail(why, "%s", ans_str(&a, str, sizeof(str)));
	ans_free(&a);
	return ret;
}

static int t_not_found(struct suite *s, char *why)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	unsigned char *buf = page_alloc(64 << 10);
	const char *code;
	char path[256], str[320];
	int ret = 0;

	blob_path(path, sizeof(path), s->cont, "no/such/blob");
	bc_req_init(&r, AZ_BLOB_GET, path, NULL);
	blob_call(&s->c, &r, NULL, 0, buf, 64 << 10, &a);
	code = ans_header(&a, "x-ms-error-code");
	if (a.error[0] || a.status != AZ_HOST_OK || a.http != 404 || !code ||
	    strcmp(code, "BlobNotFound")) {
		ret = t_fail(why, "GET: %s", ans_str(&a, str, sizeof(str)));
		goto out;
	}
	/* The error's XML body went to the data buffer. */
	if (!a.body_bytes || a.truncated ||
	    !memmem(buf, a.body_bytes, "BlobNotFound", 12)) {
		ret = t_fail(why, "GET: body of %u bytes without BlobNotFound",
			     a.body_bytes);
		goto out;
	}
	/* No data buffer: the body comes inline. */
	bc_req_init(&r, AZ_BLOB_GET, path, NULL);
	blob_call(&s->c, &r, NULL, 0, NULL, 0, &a);
	if (a.error[0] || a.status || a.http != 404 || a.body_bytes ||
	    !a.inline_body ||
	    !memmem(a.inline_body, a.inline_len, "BlobNotFound", 12)) {
		ret = t_fail(why, "GET inline: %s, %zu inline bytes",
			     ans_str(&a, str, sizeof(str)), a.inline_len);
		goto out;
	}
	bc_req_init(&r, AZ_BLOB_HEAD, path, NULL);
	blob_call(&s->c, &r, NULL, 0, NULL, 0, &a);
	if (a.error[0] || a.status || a.http != 404 || a.inline_len ||
	    a.body_bytes)
		ret = t_fail(why, "HEAD: %s", ans_str(&a, str, sizeof(str)));
out:
	ans_free(&a);
	page_free(buf, 64 << 10);
	return ret;
}

static int t_bad_key(struct suite *s, char *why)
{
	/* A well-formed key that is not the account's. */
	static const char wrong[] =
		"AAAAvdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
	struct blob_conn c;
	struct blob_ans a = { 0 };
	struct bc_req r;
	unsigned char buf[4096];
	const char *code;
	char path[256], str[320];
	int ret = 0;

	if (conn_init(&c, s->dev, s->tcp, wrong))
		return t_fail(why, "cannot open a second connection");
	blob_path(path, sizeof(path), s->cont, "rt/1");
	bc_req_init(&r, AZ_BLOB_GET, path, NULL);
	blob_call(&c, &r, NULL, 0, buf, sizeof(buf), &a);
	code = ans_header(&a, "x-ms-error-code");
	/* Azurite: AuthorizationFailure; Azure: AuthenticationFailed. */
	if (a.error[0] || a.status != AZ_HOST_OK || a.http != 403 || !code ||
	    (strcmp(code, "AuthorizationFailure") &&
	     strcmp(code, "AuthenticationFailed")))
		ret = t_fail(why, "%s", ans_str(&a, str, sizeof(str)));
	ans_free(&a);
	conn_fini(&c);
	return ret;
}

static int t_head(struct suite *s, char *why)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	const char *v;
	char path[256], str[320];
	int ret = -1;

	blob_path(path, sizeof(path), s->cont, "rt/4194303");
	bc_req_init(&r, AZ_BLOB_HEAD, path, NULL);
	blob_call(&s->c, &r, NULL, 0, NULL, 0, &a);
	if (a.error[0] || a.status || a.http != 200) {
		t_fail(why, "%s", ans_str(&a, str, sizeof(str)));
		goto out;
	}
	if (!a.has_length || a.content_length != 4 * MIB - 1 || a.body_bytes ||
	    a.inline_len || a.truncated) {
		t_fail(why, "content_length %" PRIu64 "%s, body_bytes %u, inline %zu",
		       a.content_length, a.has_length ? "" : " (null)",
		       a.body_bytes, a.inline_len);
		goto out;
	}
	v = ans_header(&a, "Content-Length");
	if (!v || strtoull(v, NULL, 10) != 4 * MIB - 1) {
		t_fail(why, "Content-Length %s", v ? v : "missing");
		goto out;
	}
	v = ans_header(&a, "x-ms-blob-type");
	if (!v || strcmp(v, "BlockBlob")) {
		t_fail(why, "x-ms-blob-type %s", v ? v : "missing");
		goto out;
	}
	if (!ans_header(&a, "ETag") || !ans_header(&a, "Last-Modified") ||
	    !ans_header(&a, "x-ms-request-id")) {
		t_fail(why, "no ETag, Last-Modified or x-ms-request-id");
		goto out;
	}
	printf("# HEAD rt/4194303: %d fields, ETag %s\n", a.nh,
	       ans_header(&a, "ETag"));
	ret = 0;
out:
	ans_free(&a);
	return ret;
}

static int t_list(struct suite *s, unsigned int page, char *why)
{
	struct blob_item items[16];
	char w[512];
	int n, pages;

	n = blob_list(&s->c, s->cont, "rt/", page, items, 16, &pages, w,
		      sizeof(w));
	if (n < 0)
		return t_fail(why, "%s", w);
	if (n != (int)(sizeof(rt_sizes) / sizeof(rt_sizes[0])))
		return t_fail(why, "%d blobs under rt/", n);
	for (size_t i = 0; i < sizeof(rt_sizes) / sizeof(rt_sizes[0]); i++) {
		char name[64];
		int j;

		rt_name(name, sizeof(name), rt_sizes[i]);
		for (j = 0; j < n && strcmp(items[j].name, name); j++)
			;
		if (j == n)
			return t_fail(why, "%s not listed", name);
		if (items[j].size != rt_sizes[i])
			return t_fail(why, "%s listed with %" PRIu64 " bytes",
				      name, items[j].size);
	}
	if (page && pages < n)
		return t_fail(why, "%d pages of %u for %d blobs", pages, page, n);
	printf("# list rt/: %d blobs in %d request%s\n", n, pages,
	       pages == 1 ? "" : "s");
	return 0;
}

/* A 100 KiB blob for the truncation tests. */
#define TR_SIZE		102400U
#define TR_SEED		4242U

static int t_truncated(struct suite *s, char *why)
{
	const size_t room = 10000;
	unsigned char *src = page_alloc(TR_SIZE), *buf = page_alloc(2 * PAGE * 4);
	struct blob_ans a = { 0 };
	struct bc_req r;
	char path[256], str[320];
	uint64_t size;
	int ret = -1;

	pattern_fill(src, TR_SIZE, TR_SEED, 0);
	if (blob_put(&s->c, s->cont, "trunc/100k", src, TR_SIZE, why, 512))
		goto out;
	memset(buf, 0x5A, 2 * PAGE * 4);
	blob_path(path, sizeof(path), s->cont, "trunc/100k");
	bc_req_init(&r, AZ_BLOB_GET, path, NULL);
	blob_call(&s->c, &r, NULL, 0, buf, room, &a);
	/*
	 * The document: the first data_len bytes in the data buffer,
	 * body_bytes = data_len, truncated, content_length = what the
	 * service announced, completion OK.
	 */
	if (a.error[0] || a.status != AZ_HOST_OK || a.http != 200) {
		t_fail(why, "%s", ans_str(&a, str, sizeof(str)));
		goto out;
	}
	if (!a.truncated || a.body_bytes != room || !a.has_length ||
	    a.content_length != TR_SIZE) {
		t_fail(why, "truncated %d, body_bytes %u, content_length %" PRIu64,
		       a.truncated, a.body_bytes, a.content_length);
		goto out;
	}
	if (check_pattern(buf, room, TR_SEED, 0, why))
		goto out;
	for (size_t i = room; i < 2 * PAGE * 4; i++)
		if (buf[i] != 0x5A) {
			t_fail(why, "byte %zu past data_len written", i);
			goto out;
		}
	/* The rest (under 1 MiB) was read and dropped: the next request works. */
	if (blob_head(&s->c, s->cont, "trunc/100k", &size, why, 512))
		goto out;
	ret = 0;
out:
	ans_free(&a);
	page_free(src, TR_SIZE);
	page_free(buf, 2 * PAGE * 4);
	return ret;
}

static int t_truncated_large(struct suite *s, char *why)
{
	const size_t room = 65536;
	unsigned char *buf = page_alloc(room);
	struct blob_ans a = { 0 };
	struct bc_req r;
	char path[256], str[320];
	uint64_t size;
	int ret = -1;

	/* Over 1 MiB left: the host closes its connection instead. */
	blob_path(path, sizeof(path), s->cont, "rt/4194303");
	bc_req_init(&r, AZ_BLOB_GET, path, NULL);
	blob_call(&s->c, &r, NULL, 0, buf, room, &a);
	if (a.error[0] || a.status != AZ_HOST_OK || a.http != 200) {
		t_fail(why, "%s", ans_str(&a, str, sizeof(str)));
		goto out;
	}
	if (!a.truncated || a.body_bytes != room || !a.has_length ||
	    a.content_length != 4 * MIB - 1) {
		t_fail(why, "truncated %d, body_bytes %u, content_length %" PRIu64,
		       a.truncated, a.body_bytes, a.content_length);
		goto out;
	}
	if (check_pattern(buf, room, rt_seed(4 * MIB - 1), 0, why))
		goto out;
	if (blob_head(&s->c, s->cont, "rt/4194303", &size, why, 512))
		goto out;
	ret = 0;
out:
	ans_free(&a);
	page_free(buf, room);
	return ret;
}

static int t_inline_cut(struct suite *s, char *why)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	char path[256], str[320];
	int ret = -1;

	if (s->tcp)
		return t_skip(why, "the host's inline body (driver only)");
	/* No data buffer, a RESP_LEN response buffer: the body is cut. */
	blob_path(path, sizeof(path), s->cont, "trunc/100k");
	bc_req_init(&r, AZ_BLOB_GET, path, NULL);
	blob_call(&s->c, &r, NULL, 0, NULL, 0, &a);
	if (a.error[0] || a.status != AZ_HOST_OK || a.http != 200 || !a.parsed) {
		t_fail(why, "%s", ans_str(&a, str, sizeof(str)));
		goto out;
	}
	if (!a.truncated || !a.inline_body || !a.inline_len ||
	    a.inline_len >= TR_SIZE || a.body_bytes ||
	    a.content_length != TR_SIZE || a.needed <= a.response_len) {
		t_fail(why, "truncated %d, inline %zu, body_bytes %u, content_length %"
		       PRIu64 ", needed %u, response_len %u", a.truncated,
		       a.inline_len, a.body_bytes, a.content_length, a.needed,
		       a.response_len);
		goto out;
	}
	if (check_pattern(a.inline_body, a.inline_len, TR_SEED, 0, why))
		goto out;
	printf("# inline body cut at %zu of %u bytes (response_len %u, needed %u)\n",
	       a.inline_len, TR_SIZE, a.response_len, a.needed);
	ret = 0;
out:
	ans_free(&a);
	return ret;
}

static int t_small_response(struct suite *s, char *why)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	char path[256], str[320];
	uint32_t needed;
	int ret = -1;

	if (s->tcp)
		return t_skip(why, "the host's response buffer (driver only)");
	blob_path(path, sizeof(path), s->cont, "rt/1");
	bc_req_init(&r, AZ_BLOB_HEAD, path, NULL);
	s->c.resp_len = 48;
	blob_call(&s->c, &r, NULL, 0, NULL, 0, &a);
	if (a.error[0] || a.status != AZ_HOST_INSUFFICIENT_BUFFER ||
	    a.response_len != AZ_BLOB_HDR_LEN || a.http != 200 ||
	    a.needed <= 48) {
		t_fail(why, "48-byte buffer: %s, response_len %u, needed %u",
		       ans_str(&a, str, sizeof(str)), a.response_len, a.needed);
		goto out;
	}
	needed = a.needed;
	/* HEAD is idempotent: again with what the host asked for. */
	bc_req_init(&r, AZ_BLOB_HEAD, path, NULL);
	s->c.resp_len = needed;
	blob_call(&s->c, &r, NULL, 0, NULL, 0, &a);
	if (a.error[0] || a.status != AZ_HOST_OK || a.http != 200 ||
	    !a.parsed || a.response_len > needed || a.content_length != 1) {
		t_fail(why, "%u-byte buffer: %s, response_len %u", needed,
		       ans_str(&a, str, sizeof(str)), a.response_len);
		goto out;
	}
	printf("# a HEAD answer needs %u bytes\n", needed);
	ret = 0;
out:
	s->c.resp_len = RESP_LEN;
	ans_free(&a);
	return ret;
}

static int t_refused(struct suite *s, char *why)
{
	struct blob_ans a = { 0 };
	struct bc_req r;
	unsigned char *frame;
	char path[256], str[320];
	size_t len;
	int ret = -1;

	if (s->tcp)
		return t_skip(why, "the host's checks (driver only)");
	blob_path(path, sizeof(path), s->cont, "rt/1");
	/* A CRC that does not match: not a request of this format. */
	bc_req_init(&r, AZ_BLOB_HEAD, path, NULL);
	bc_sign(&r, BC_ACCOUNT, s->key, 0);
	frame = bc_frame(&r, &len);
	frame[AZ_BLOB_REQ_CRC_OFF] ^= 1;
	blob_call_raw(&s->c, frame, len, NULL, 0, NULL, 0, &a);
	free(frame);
	if (a.error[0] || a.status != AZ_HOST_INVALID_DATA || a.response_len) {
		t_fail(why, "bad CRC: %s, response_len %u",
		       ans_str(&a, str, sizeof(str)), a.response_len);
		goto out;
	}
	/* A field the host owns. */
	bc_req_init(&r, AZ_BLOB_HEAD, path, NULL);
	bc_hdr_add(&r, "Content-Length", "0");
	blob_call(&s->c, &r, NULL, 0, NULL, 0, &a);
	if (a.error[0] || a.status != AZ_HOST_INVALID_ARG || a.response_len) {
		t_fail(why, "Content-Length field: %s, response_len %u",
		       ans_str(&a, str, sizeof(str)), a.response_len);
		goto out;
	}
	ret = 0;
out:
	ans_free(&a);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Many threads                                                        */
/* ------------------------------------------------------------------ */

struct worker {
	struct suite *s;
	pthread_barrier_t *start;
	int id;
	unsigned long requests;
	size_t bytes;
	char why[1024];
};

static void *worker(void *arg)
{
	struct worker *w = arg;
	struct blob_conn c;
	const size_t shared = 4 * MIB - 1;
	char name[64], why[512];
	int t = w->id;

	if (conn_init(&c, w->s->dev, w->s->tcp, w->s->key)) {
		snprintf(w->why, sizeof(w->why), "thread %d: no connection", t);
		pthread_barrier_wait(w->start);
		return NULL;
	}
	pthread_barrier_wait(w->start);
	for (int k = 0; k < THREAD_OPS && !w->why[0]; k++) {
		if ((t + k) % 3 != 2) {
			/* Put a blob of its own, read it back whole. */
			size_t size = 65536 * (1 + (size_t)(t * 7 + k * 3) % 24) +
				      (size_t)(t * 13 + k);
			uint32_t seed = 1000 + (uint32_t)(t * 16 + k);
			unsigned char *src = page_alloc(size);
			unsigned char *dst = page_alloc(size);
			size_t got = 0;
			uint64_t hs;

			snprintf(name, sizeof(name), "thr/%d-%d", t, k);
			pattern_fill(src, size, seed, 0);
			if (blob_put(&c, w->s->cont, name, src, size, why,
				     sizeof(why)) ||
			    blob_head(&c, w->s->cont, name, &hs, why,
				      sizeof(why)) ||
			    blob_get(&c, w->s->cont, name, dst, size, &got, why,
				     sizeof(why)))
				snprintf(w->why, sizeof(w->why), "%s: %s", name,
					 why);
			else if (hs != size || got != size)
				snprintf(w->why, sizeof(w->why),
					 "%s: %zu bytes, HEAD %" PRIu64
					 ", got %zu", name, size, hs, got);
			else if (check_pattern(dst, size, seed, 0, why))
				snprintf(w->why, sizeof(w->why), "%s: %s", name,
					 why);
			else if (blob_delete(&c, w->s->cont, name, why,
					     sizeof(why)))
				snprintf(w->why, sizeof(w->why), "%s: %s", name,
					 why);
			w->bytes += 2 * size;
			page_free(src, size);
			page_free(dst, size);
		} else {
			/* A range of the shared blob, into an odd address. */
			size_t len = 200000 + (size_t)t;
			uint64_t off = ((uint64_t)t * 977 + (uint64_t)k * 131071) %
				       (shared - len);
			unsigned char *buf = page_alloc(len + PAGE);

			if (blob_get_range(&c, w->s->cont, "rt/4194303", off,
					   len, buf + 1 + t, why, sizeof(why)) ||
			    check_pattern(buf + 1 + t, len, rt_seed(shared),
					  off, why))
				snprintf(w->why, sizeof(w->why),
					 "rt/4194303 [%" PRIu64 ", +%zu): %s",
					 off, len, why);
			w->bytes += len;
			page_free(buf, len + PAGE);
		}
	}
	w->requests = c.requests;
	conn_fini(&c);
	return NULL;
}

static int t_threads(struct suite *s, char *why)
{
	struct worker w[THREADS];
	pthread_t th[THREADS];
	pthread_barrier_t start;
	unsigned long reqs = 0;
	size_t bytes = 0;
	double t0;
	int ret = 0, i;

	pthread_barrier_init(&start, NULL, THREADS + 1);
	memset(w, 0, sizeof(w));
	for (i = 0; i < THREADS; i++) {
		w[i].s = s;
		w[i].id = i;
		w[i].start = &start;
		if (pthread_create(&th[i], NULL, worker, &w[i]))
			abort();
	}
	pthread_barrier_wait(&start);
	t0 = now_s();
	for (i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		reqs += w[i].requests;
		bytes += w[i].bytes;
		if (w[i].why[0] && !ret)
			ret = t_fail(why, "thread %d: %s", i, w[i].why);
	}
	pthread_barrier_destroy(&start);
	if (!ret)
		printf("# %d threads x %d operations: %lu requests, %zu bytes in %.2f s\n",
		       THREADS, THREAD_OPS, reqs, bytes, now_s() - t0);
	return ret;
}

static int t_delete(struct suite *s, char *why)
{
	char w[512], name[64];
	uint64_t size;
	int ret;

	if (blob_delete(&s->c, s->cont, "rt/0", w, sizeof(w)))
		return t_fail(why, "%s", w);
	ret = blob_head(&s->c, s->cont, "rt/0", &size, w, sizeof(w));
	if (ret != 1)
		return t_fail(why, "HEAD after delete: %s",
			      ret ? w : "still there");
	for (size_t i = 1; i < sizeof(rt_sizes) / sizeof(rt_sizes[0]); i++) {
		rt_name(name, sizeof(name), rt_sizes[i]);
		if (blob_delete(&s->c, s->cont, name, w, sizeof(w)))
			return t_fail(why, "%s: %s", name, w);
	}
	if (blob_delete(&s->c, s->cont, "trunc/100k", w, sizeof(w)))
		return t_fail(why, "trunc/100k: %s", w);
	/* Deleting again: 404 BlobNotFound. */
	if (!blob_delete(&s->c, s->cont, "rt/1", w, sizeof(w)) ||
	    !strstr(w, "404"))
		return t_fail(why, "deleting twice: %s", w);
	return 0;
}

static int t_empty_then_gone(struct suite *s, char *why)
{
	struct blob_item items[4];
	struct blob_ans a = { 0 };
	char w[512], str[320];
	int n, pages, ret = 0;

	n = blob_list(&s->c, s->cont, NULL, 0, items, 4, &pages, w, sizeof(w));
	if (n != 0)
		return t_fail(why, "%d blobs left%s%s", n, n < 0 ? ": " : "",
			      n < 0 ? w : "");
	container_delete(&s->c, s->cont, &a);
	if (a.error[0] || a.status || a.http != 202)
		ret = t_fail(why, "Delete Container: %s",
			     ans_str(&a, str, sizeof(str)));
	ans_free(&a);
	return ret;
}

int run_suite(const char *dev, const char *tcp, const char *key,
	      const char *container)
{
	struct suite s = { .dev = dev, .tcp = tcp, .key = key };
	const char *tr = tcp ? "tcp" : "driver";
	char why[512], name[128];
	double t0 = now_s();
	int ret;

	if (container)
		snprintf(s.cont, sizeof(s.cont), "%s", container);
	else
		snprintf(s.cont, sizeof(s.cont), "suite-%lx-%d",
			 (unsigned long)time(NULL), (int)getpid());
	printf("# suite over the %s, container %s, chunk %zu\n", tr, s.cont,
	       blob_chunk);

	why[0] = '\0';
	ret = blob_crypto_selftest(why, sizeof(why));
	report(&s, ret, "SHA-256, HMAC-SHA-256, base64 vectors", why);
	if (conn_init(&s.c, dev, tcp, key)) {
		printf("FAIL open %s: cannot\n", tcp ? tcp : dev);
		return -1;
	}

#define RUN(title, call) do {				\
		why[0] = '\0';				\
		ret = (call);				\
		report(&s, ret, (title), why);		\
	} while (0)

	RUN("create container (201)", t_create(&s, why));
	if (s.failed) {
		conn_fini(&s.c);
		return -1;
	}
	RUN("create it again (409 ContainerAlreadyExists, status 0)",
	    t_create_again(&s, why));
	for (size_t i = 0; i < sizeof(rt_sizes) / sizeof(rt_sizes[0]); i++) {
		snprintf(name, sizeof(name), "round trip %zu bytes", rt_sizes[i]);
		RUN(name, t_round_trip(&s, rt_sizes[i], why));
	}
	RUN("ranged reads at odd offsets into odd addresses", t_ranges(&s, why));
	RUN("range beyond the end (416)", t_range_beyond(&s, why));
	RUN("missing blob (404 BlobNotFound, body in data buffer or inline)",
	    t_not_found(&s, why));
	RUN("wrong key (403, status 0)", t_bad_key(&s, why));
	RUN("HEAD properties", t_head(&s, why));
	RUN("list blobs", t_list(&s, 0, why));
	RUN("list blobs one per page (NextMarker)", t_list(&s, 1, why));
	RUN("body larger than the data buffer (truncated, rest dropped)",
	    t_truncated(&s, why));
	RUN("body over 1 MiB larger than the data buffer (truncated)",
	    t_truncated_large(&s, why));
	RUN("inline body cut to the response buffer", t_inline_cut(&s, why));
	RUN("response buffer too small (0x8007007A, then needed)",
	    t_small_response(&s, why));
	RUN("bad CRC and a host-owned field refused, nothing sent",
	    t_refused(&s, why));
	snprintf(name, sizeof(name), "%d threads at once, mixed puts and gets",
		 THREADS);
	RUN(name, t_threads(&s, why));
	RUN("delete (202, then 404)", t_delete(&s, why));
	RUN("container empty, deleted (202)", t_empty_then_gone(&s, why));
#undef RUN

	conn_fini(&s.c);
	printf("# suite: %d passed, %d failed, %d skipped in %.1f s (%s)\n",
	       s.passed, s.failed, s.skipped, now_s() - t0, tr);
	return s.failed ? -1 : 0;
}
