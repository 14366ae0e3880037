// SPDX-License-Identifier: GPL-2.0
/*
 * TEST-ONLY: blob_test's cases against a real Blob service
 * (Azurite), cross-checked with the Azure SDK (node/sdk.js); and --bench.
 * Run by blob_test.c.
 */
#include "blob_test.h"

/* ------------------------------------------------------------------ */
/* Against a real Blob service (Azurite), cross-checked with the SDK. */

/* Run sdk.js; its stdout (first line) in @out. The exit status. */
int sdk(char *out, size_t max, const char *fmt, ...)
{
	char args[1024], cmd[2048];
	va_list ap;
	FILE *p;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "node %s/sdk.js %s %s", node_dir, endpoint,
		 args);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	if (out) {
		n = fread(out, 1, max - 1, p);
		out[n] = '\0';
	} else {
		char sink[4096];

		while (fread(sink, 1, sizeof(sink), p) > 0)
			;
	}
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void blob_path(char *out, size_t n, const char *blob)
{
	snprintf(out, n, "/%s/%s%s%s", BC_ACCOUNT, container, blob ? "/" : "",
		 blob ? blob : "");
}

/*
 * One signed request through the service. @resp_len bytes of response
 * buffer (TB_TINY up to 64 KiB, pages beyond).
 */
static void blob_req(struct bc_req *rq, struct tbuf *data, size_t data_valid,
		     size_t resp_len, struct bc_res *r)
{
	struct tbuf resp;
	size_t len;
	unsigned char *b;

	bc_sign(rq, BC_ACCOUNT, BC_KEY, data_valid);
	b = bc_frame(rq, &len);
	tb_new(&resp, resp_len, resp_len <= 65536 ? TB_TINY : TB_PAGES, 14);
	bc_exec(&svc, b, len, data, data_valid, &resp, TIMEOUT_MS, NULL, r);
	tb_free(&resp);
	free(b);
}

static int put_blob(const char *name, struct tbuf *data, size_t len,
		    unsigned int *http)
{
	struct bc_req rq;
	struct bc_res r;
	char path[512];

	blob_path(path, sizeof(path), name);
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	bc_hdr_add(&rq, "Content-Type", "application/octet-stream");
	blob_req(&rq, data, len, 8192, &r);
	if (r.res.status || !r.parsed) {
		failf(__LINE__, "put %s: status %#x %s", name, r.res.status,
		      r.error ? r.error : "");
		bc_res_free(&r);
		return -1;
	}
	*http = r.http;
	bc_res_free(&r);
	return 0;
}

int t_container(void)
{
	struct bc_req rq;
	struct bc_res r;
	char path[256];

	blob_path(path, sizeof(path), NULL);
	bc_req_init(&rq, AZ_BLOB_PUT, path, "restype=container");
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed && r.http == 201, "http %u %s", r.http,
	       r.error ? r.error : "");
	CHECK(bc_res_header(&r, "ETag") && bc_res_header(&r, "x-ms-request-id"));
	bc_res_free(&r);
	/* Again: 409, a successful round trip with an HTTP error. */
	bc_req_init(&rq, AZ_BLOB_PUT, path, "restype=container");
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 409);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-error-code"),
		      "ContainerAlreadyExists"));
	/* No data buffer: the error body came inline. */
	CHECK(r.inline_body && memmem(r.inline_body, r.inline_len,
				      "ContainerAlreadyExists", 22));
	bc_res_free(&r);
	return 0;
}

static const size_t put_sizes[] = { 0, 1, 4 * MIB - 1, 33 * MIB };

int t_put_get_sizes(void)
{
	for (size_t i = 0; i < sizeof(put_sizes) / sizeof(*put_sizes); i++) {
		size_t len = put_sizes[i];
		struct tbuf up, down;
		unsigned char *src = malloc(len + 1);
		char name[64], sha[65], sha2[65], out[256], want[128];
		unsigned int http = 0;
		struct bc_req rq;
		struct bc_res r;
		char path[256];

		snprintf(name, sizeof(name), "sizes/blob-%zu", len);
		bc_random(src, len, len + 1);
		CHECK(tb_new(&up, len, TB_PAGES, 20) == 0);
		tb_fill(&up, src, len);
		if (put_blob(name, &up, len, &http))
			return -1;
		CHECKF(http == 201, "put %zu: http %u", len, http);
		bc_sha256_hex(src, len, sha);
		/* The SDK sees what went through the service. */
		CHECK(sdk(out, sizeof(out), "sha256 %s %s", container, name) == 0);
		snprintf(want, sizeof(want), "%zu %s\n", len, sha);
		CHECKF(!strcmp(out, want), "sdk: %s want %s", out, want);

		/* Whole, into a buffer of random pieces, larger than needed. */
		CHECK(tb_new(&down, len + 1000, TB_RANDOM, (uint32_t)len) == 0);
		tb_set(&down, 0x5a);
		blob_path(path, sizeof(path), name);
		bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
		blob_req(&rq, &down, 0, 8192, &r);
		CHECK_ST(r.res.status, AZ_HOST_OK);
		CHECK(r.parsed && r.http == 200 && !r.truncated);
		CHECK(r.body_bytes == len && r.has_length &&
		      r.content_length == len);
		bc_sha256_tbuf_hex(&down, len, sha2);
		CHECK(!strcmp(sha, sha2));
		bc_res_free(&r);
		/* The bytes after the body are untouched. */
		{
			unsigned char *all = malloc(len + 1000);

			tb_get(&down, all, len + 1000);
			for (size_t k = len; k < len + 1000; k++)
				CHECK(all[k] == 0x5a);
			free(all);
		}
		/* Ranged: bytes [len/3, len/3 + len/2], exactly sized. */
		if (len > 1) {
			size_t a = len / 3, n = len / 2 + 1;
			char range[64];
			unsigned char *got = malloc(n);
			struct tbuf rb;

			snprintf(range, sizeof(range), "bytes=%zu-%zu", a,
				 a + n - 1);
			CHECK(tb_new(&rb, n, n > 100000 ? TB_PAGES : TB_TINY,
				     21) == 0);
			bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
			bc_hdr_add(&rq, "x-ms-range", range);
			blob_req(&rq, &rb, 0, 8192, &r);
			CHECK_ST(r.res.status, AZ_HOST_OK);
			CHECKF(r.parsed && r.http == 206, "http %u", r.http);
			CHECK(r.body_bytes == n && !r.truncated &&
			      r.content_length == n);
			tb_get(&rb, got, n);
			CHECK(!memcmp(got, src + a, n));
			bc_res_free(&r);
			tb_free(&rb);
			free(got);
		}
		tb_free(&up);
		tb_free(&down);
		free(src);
	}
	return 0;
}

int t_head(void)
{
	struct tbuf data;
	struct bc_req rq;
	struct bc_res r;
	char path[256];
	unsigned char probe[64];

	blob_path(path, sizeof(path), "sizes/blob-4194303");
	tb_new(&data, 64, TB_TINY, 22);
	tb_set(&data, 0xab);
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 200 && r.body_bytes == 0 && !r.truncated);
	CHECK(r.has_length && r.content_length == 4 * MIB - 1);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-blob-type"), "BlockBlob"));
	bc_res_free(&r);
	tb_get(&data, probe, 64);
	for (int i = 0; i < 64; i++)
		CHECK(probe[i] == 0xab);
	/* HEAD of nothing: 404, no body either. */
	blob_path(path, sizeof(path), "no/such/blob");
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404 &&
	      r.body_bytes == 0);
	bc_res_free(&r);
	tb_free(&data);
	return 0;
}

int t_list(void)
{
	struct tbuf data;
	struct bc_req rq;
	struct bc_res r;
	char path[256], *xml, out[4096];

	blob_path(path, sizeof(path), NULL);
	tb_new(&data, 256 * 1024, TB_PAGES, 23);
	bc_req_init(&rq, AZ_BLOB_GET, path,
		    "restype=container&comp=list&prefix=sizes%2F&maxresults=100");
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed && r.http == 200 && !r.truncated, "http %u", r.http);
	xml = calloc(1, r.body_bytes + 1);
	tb_get(&data, xml, r.body_bytes);
	for (size_t i = 0; i < sizeof(put_sizes) / sizeof(*put_sizes); i++) {
		char want[128];

		snprintf(want, sizeof(want), "<Name>sizes/blob-%zu</Name>",
			 put_sizes[i]);
		CHECKF(strstr(xml, want), "no %s", want);
	}
	free(xml);
	bc_res_free(&r);
	/* The SDK lists the same, with the sizes. */
	CHECK(sdk(out, sizeof(out), "list %s sizes/", container) == 0);
	CHECKF(strstr(out, "34603008 sizes/blob-34603008\n") &&
	       strstr(out, "0 sizes/blob-0\n") &&
	       strstr(out, "1 sizes/blob-1\n"), "sdk list: %s", out);
	tb_free(&data);
	return 0;
}

int t_delete_404(void)
{
	struct tbuf data, up;
	struct bc_req rq;
	struct bc_res r;
	char path[256], *xml;
	unsigned int http;

	tb_new(&up, 10, TB_ONE, 24);
	tb_fill(&up, "0123456789", 10);
	CHECK(put_blob("del/me", &up, 10, &http) == 0 && http == 201);
	tb_free(&up);
	blob_path(path, sizeof(path), "del/me");
	bc_req_init(&rq, AZ_BLOB_DELETE, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 202);
	bc_res_free(&r);
	CHECK(sdk(NULL, 0, "sha256 %s del/me 2>/dev/null", container) == 1);
	/* GET: 404, and the error body goes to the data buffer. */
	tb_new(&data, 4096, TB_TINY, 25);
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-error-code"), "BlobNotFound"));
	CHECK(r.body_bytes > 0 && r.body_bytes < 4096 && !r.inline_body);
	xml = calloc(1, r.body_bytes + 1);
	tb_get(&data, xml, r.body_bytes);
	CHECK(strstr(xml, "<Code>BlobNotFound</Code>"));
	free(xml);
	bc_res_free(&r);
	/* DELETE again: 404. */
	bc_req_init(&rq, AZ_BLOB_DELETE, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404);
	bc_res_free(&r);
	tb_free(&data);
	return 0;
}

int t_403(void)
{
	struct bc_req rq;
	struct bc_res r;
	struct tbuf resp;
	char path[256];
	size_t len;
	unsigned char *b;

	blob_path(path, sizeof(path), "sizes/blob-1");
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	/* Another key: the signature is wrong. */
	bc_sign(&rq, BC_ACCOUNT, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", 0);
	b = bc_frame(&rq, &len);
	tb_new(&resp, 8192, TB_TINY, 26);
	bc_exec(&svc, b, len, NULL, 0, &resp, TIMEOUT_MS, NULL, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 403);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-error-code"),
		      "AuthorizationFailure"));
	bc_res_free(&r);
	tb_free(&resp);
	free(b);
	return 0;
}

/*
 * Metadata names that strcmp and Azure order differently: the signature
 * only holds with Azure's order.
 */
int t_sharedkey_order(void)
{
	struct tbuf up, resp;
	struct bc_req rq;
	struct bc_res r;
	char path[256];

	CHECK(bc_azure_cmp("x-ms-meta-foo_bar", "x-ms-meta-foo2_bar") < 0);
	CHECK(strcmp("x-ms-meta-foo_bar", "x-ms-meta-foo2_bar") > 0);
	CHECK(bc_azure_cmp("x-ms-date", "x-ms-version") < 0);
	tb_new(&up, 3, TB_ONE, 27);
	tb_fill(&up, "abc", 3);
	blob_path(path, sizeof(path), "meta/one");
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	bc_hdr_add(&rq, "x-ms-meta-foo_bar", "1");
	bc_hdr_add(&rq, "x-ms-meta-foo2_bar", "2");
	blob_req(&rq, &up, 3, 8192, &r);
	CHECKF(r.res.status == 0 && r.parsed && r.http == 201, "http %u",
	       r.http);
	bc_res_free(&r);
	/* The metadata comes back through HEAD. */
	tb_new(&resp, 8192, TB_TINY, 28);
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 200);
	CHECK(!strcmp(bc_res_header(&r, "x-ms-meta-foo_bar"), "1"));
	CHECK(!strcmp(bc_res_header(&r, "x-ms-meta-foo2_bar"), "2"));
	bc_res_free(&r);
	tb_free(&resp);
	tb_free(&up);
	return 0;
}

/* The body of a PUT's answer: inline; the data buffer is never written. */
int t_inline_body(void)
{
	struct tbuf up;
	struct bc_req rq;
	struct bc_res r;
	char path[256];
	unsigned char got[1000];
	uint32_t needed;

	tb_new(&up, 1000, TB_TINY, 29);
	memset(got, 'u', sizeof(got));
	tb_fill(&up, got, sizeof(got));
	snprintf(path, sizeof(path), "/%s/nosuchcontainer%d/x", BC_ACCOUNT,
		 getpid());
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	blob_req(&rq, &up, 1000, 16384, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404);
	CHECK(r.body_bytes == 0 && !r.truncated && r.inline_body);
	CHECK(r.has_length && r.inline_len == r.content_length);
	CHECK(memmem(r.inline_body, r.inline_len, "<Code>ContainerNotFound</Code>", 30));
	CHECK(r.needed == r.res.response_len);
	needed = r.needed;
	bc_res_free(&r);
	tb_get(&up, got, sizeof(got));
	for (int i = 0; i < 1000; i++)
		CHECK(got[i] == 'u');
	/* 50 bytes short: the fields stay, the body is cut, truncated. */
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	blob_req(&rq, &up, 1000, needed - 50, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 404);
	CHECK(r.truncated && r.inline_body && r.inline_len < r.content_length);
	CHECK(r.inline_len >= r.content_length - 40);
	CHECK(r.res.response_len <= needed - 50);
	bc_res_free(&r);
	tb_free(&up);
	return 0;
}

int t_truncated_get(void)
{
	struct tbuf data;
	struct bc_req rq;
	struct bc_res r;
	struct az_http_stats s0, s1;
	char path[256];
	unsigned char *src = malloc(4 * MIB), *got = malloc(4 * MIB);
	size_t len = 4 * MIB - 1;

	bc_random(src, len, len + 1);
	blob_path(path, sizeof(path), "sizes/blob-4194303");
	/* 1 MiB of 4 MiB - 1: the rest is too much to drain. */
	tb_new(&data, MIB, TB_PAGES, 30);
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 200 && r.truncated);
	CHECK(r.body_bytes == MIB && r.content_length == len);
	tb_get(&data, got, MIB);
	CHECK(!memcmp(got, src, MIB));
	bc_res_free(&r);
	tb_free(&data);
	/* The connection was closed: the next request connects. */
	az_blob_service_stats(&svc, &s0);
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.http == 200);
	bc_res_free(&r);
	az_blob_service_stats(&svc, &s1);
	CHECK(s1.connects - s0.connects == 1);
	/* 1000 bytes short: drained, the connection kept. */
	tb_new(&data, len - 1000, TB_PAGES, 31);
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.truncated &&
	      r.body_bytes == len - 1000 && r.content_length == len);
	tb_get(&data, got, len - 1000);
	CHECK(!memcmp(got, src, len - 1000));
	bc_res_free(&r);
	tb_free(&data);
	bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
	blob_req(&rq, NULL, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.http == 200);
	bc_res_free(&r);
	az_blob_service_stats(&svc, &s0);
	CHECK(s0.connects == s1.connects);
	free(src);
	free(got);
	return 0;
}

int t_insufficient_buffer(void)
{
	struct tbuf data;
	struct bc_req rq;
	struct bc_res r;
	char path[256];
	unsigned char got[1];

	blob_path(path, sizeof(path), "sizes/blob-1");
	tb_new(&data, 16, TB_TINY, 32);
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 100, &r);
	CHECK_ST(r.res.status, AZ_HOST_INSUFFICIENT_BUFFER);
	CHECK(r.res.response_len == AZ_BLOB_HDR_LEN);
	CHECK(!r.error && r.http == 200 && r.body_bytes == 1);
	CHECK(r.needed > 100);
	/* The body did land; the library can retry with r.needed bytes. */
	tb_get(&data, got, 1);
	{
		unsigned char src[1];

		bc_random(src, 1, 2);
		CHECK(got[0] == src[0]);
	}
	{
		uint32_t needed = r.needed;

		bc_res_free(&r);
		bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
		blob_req(&rq, &data, 0, needed + 64, &r);
		CHECK_ST(r.res.status, AZ_HOST_OK);
		/* The same answer again, give or take a field's digits. */
		CHECK(r.parsed && r.needed == r.res.response_len);
		CHECKF(r.res.response_len + 16 >= needed &&
		       r.res.response_len <= needed + 16, "%u vs %u",
		       r.res.response_len, needed);
	}
	bc_res_free(&r);
	/* The header exactly: 32 bytes. */
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &data, 0, 32, &r);
	CHECK(r.res.status == AZ_HOST_INSUFFICIENT_BUFFER &&
	      r.res.response_len == 32 && r.http == 200);
	bc_res_free(&r);
	tb_free(&data);
	return 0;
}

int t_keepalive_reuse(void)
{
	struct az_http_stats s0, s1;
	struct bc_req rq;
	struct bc_res r;
	char path[256];

	blob_path(path, sizeof(path), "sizes/blob-1");
	az_blob_service_stats(&svc, &s0);
	for (int i = 0; i < 20; i++) {
		bc_req_init(&rq, AZ_BLOB_HEAD, path, NULL);
		blob_req(&rq, NULL, 0, 8192, &r);
		CHECK(r.res.status == 0 && r.http == 200);
		bc_res_free(&r);
	}
	az_blob_service_stats(&svc, &s1);
	CHECKF(s1.connects - s0.connects <= 1 && s1.reuses - s0.reuses >= 19,
	       "connects %llu reuses %llu",
	       (unsigned long long)(s1.connects - s0.connects),
	       (unsigned long long)(s1.reuses - s0.reuses));
	return 0;
}

#define THREADS		8
#define PER_THREAD	12

struct worker {
	int id;
	int failures;
	char msg[256];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < PER_THREAD && !w->failures; i++) {
		size_t len = 1000 + (size_t)(w->id * 7919 + i * 104729) % 300000;
		unsigned char *src = malloc(len), *got = malloc(len);
		struct tbuf up, down;
		struct bc_req rq;
		struct bc_res r;
		char name[64], path[256];

		snprintf(name, sizeof(name), "mt/%d/%d", w->id, i);
		blob_path(path, sizeof(path), name);
		bc_random(src, len, (uint64_t)(w->id * 1000 + i));
		tb_new(&up, len, TB_RANDOM, (uint32_t)(w->id * 100 + i));
		tb_fill(&up, src, len);
		bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
		bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
		blob_req(&rq, &up, len, 8192, &r);
		if (r.res.status || r.http != 201) {
			snprintf(w->msg, sizeof(w->msg), "put %s: %#x http %u",
				 name, r.res.status, r.http);
			w->failures++;
		}
		bc_res_free(&r);
		tb_new(&down, len, TB_RANDOM, (uint32_t)(w->id * 100 + i + 50));
		bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
		blob_req(&rq, &down, 0, 8192, &r);
		tb_get(&down, got, len);
		if (!w->failures && (r.res.status || r.http != 200 ||
				     r.body_bytes != len ||
				     memcmp(got, src, len))) {
			snprintf(w->msg, sizeof(w->msg), "get %s: %#x http %u",
				 name, r.res.status, r.http);
			w->failures++;
		}
		bc_res_free(&r);
		bc_req_init(&rq, AZ_BLOB_DELETE, path, NULL);
		blob_req(&rq, NULL, 0, 8192, &r);
		if (!w->failures && (r.res.status || r.http != 202)) {
			snprintf(w->msg, sizeof(w->msg), "delete %s: %#x http %u",
				 name, r.res.status, r.http);
			w->failures++;
		}
		bc_res_free(&r);
		tb_free(&up);
		tb_free(&down);
		free(src);
		free(got);
	}
	return NULL;
}

int t_threads(void)
{
	pthread_t th[THREADS];
	struct worker w[THREADS];
	struct az_http_stats s0, s1;

	az_blob_service_stats(&svc, &s0);
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		pthread_create(&th[i], NULL, worker_main, &w[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < THREADS; i++)
		CHECKF(!w[i].failures, "thread %d: %s", i, w[i].msg);
	az_blob_service_stats(&svc, &s1);
	/* Connections are shared: about one per thread, not one per request. */
	CHECKF(s1.connects - s0.connects <= 2 * THREADS,
	       "%llu connects for %d requests",
	       (unsigned long long)(s1.connects - s0.connects),
	       THREADS * PER_THREAD * 3);
	return 0;
}

/* Uploaded by the SDK, read through the service; and listed both ways. */
int t_sdk_reverse(void)
{
	size_t len = MIB + 17;
	unsigned char *src = malloc(len);
	char file[] = "/tmp/blob_test_XXXXXX", sha[65], sha2[65];
	struct tbuf down;
	struct bc_req rq;
	struct bc_res r;
	char path[256];
	int fd;

	bc_random(src, len, 99);
	fd = mkstemp(file);
	CHECK(fd >= 0 && write(fd, src, len) == (ssize_t)len);
	close(fd);
	CHECK(sdk(NULL, 0, "put %s %s %s", container, "from-sdk/one.bin",
		  file) == 0);
	unlink(file);
	bc_sha256_hex(src, len, sha);
	tb_new(&down, len, TB_PAGES, 33);
	blob_path(path, sizeof(path), "from-sdk/one.bin");
	bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
	blob_req(&rq, &down, 0, 8192, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 200 &&
	      r.body_bytes == len);
	bc_sha256_tbuf_hex(&down, len, sha2);
	CHECK(!strcmp(sha, sha2));
	bc_res_free(&r);
	tb_free(&down);
	free(src);
	return 0;
}

/* A name that needs percent-encoding, and a query the signer decodes. */
int t_encoded_names(void)
{
	struct tbuf up;
	struct bc_req rq;
	struct bc_res r;
	char path[256], out[256];
	unsigned int http;

	tb_new(&up, 5, TB_ONE, 34);
	tb_fill(&up, "space", 5);
	CHECK(put_blob("enc/a%20b%2Bc%C3%A9", &up, 5, &http) == 0 &&
	      http == 201);
	CHECK(sdk(out, sizeof(out), "list %s enc/", container) == 0);
	CHECKF(!strcmp(out, "5 enc/a b+c\xc3\xa9\n"), "sdk: %s", out);
	blob_path(path, sizeof(path), NULL);
	bc_req_init(&rq, AZ_BLOB_GET, path,
		    "restype=container&comp=list&prefix=enc%2Fa%20b");
	blob_req(&rq, NULL, 0, 65536, &r);
	CHECK(r.res.status == 0 && r.parsed && r.http == 200);
	CHECK(r.inline_body && memmem(r.inline_body, r.inline_len,
				      "<Name>enc/a b+c\xc3\xa9</Name>", 23));
	bc_res_free(&r);
	tb_free(&up);
	return 0;
}

/* x-ms-content-crc64 as a guest library would send it (Azurite --loose). */
int t_content_crc64(void)
{
	size_t len = 100000;
	unsigned char *src = malloc(len), le[8];
	uint64_t c;
	struct tbuf up;
	struct bc_req rq;
	struct bc_res r;
	struct az_jw w;
	char path[256], b64[16];

	bc_random(src, len, 7);
	c = azblob_crc64(0, src, len);
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(c >> (8 * i));
	az_jw_init(&w, 64);
	az_jw_base64(&w, le, 8);
	snprintf(b64, sizeof(b64), "%.*s", (int)w.len - 2, w.buf + 1);
	az_jw_free(&w);
	tb_new(&up, len, TB_PAGES, 35);
	tb_fill(&up, src, len);
	blob_path(path, sizeof(path), "crc/one");
	bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
	bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
	bc_hdr_add(&rq, "x-ms-content-crc64", b64);
	blob_req(&rq, &up, len, 8192, &r);
	CHECKF(r.res.status == 0 && r.parsed && r.http == 201, "http %u",
	       r.http);
	bc_res_free(&r);
	tb_free(&up);
	free(src);
	return 0;
}

int t_cleanup(void)
{
	CHECK(sdk(NULL, 0, "rmcontainer %s", container) == 0);
	return 0;
}

/* ------------------------------------------------------------------ */

int bench(size_t mib)
{
	size_t len = mib * MIB;
	struct tbuf up, down;
	unsigned char *src = malloc(len);
	double best_put = 0, best_get = 0;
	char path[256], sha[65], sha2[65], out[256];
	struct bc_req rq;
	struct bc_res r;

	bc_random(src, len, 1);
	bc_sha256_hex(src, len, sha);
	tb_new(&up, len, TB_PAGES, 40);
	tb_fill(&up, src, len);
	tb_new(&down, len, TB_PAGES, 41);
	blob_path(path, sizeof(path), "bench/big");
	for (int i = 0; i < 3; i++) {
		uint64_t t0 = now_ms();
		double s;

		bc_req_init(&rq, AZ_BLOB_PUT, path, NULL);
		bc_hdr_add(&rq, "x-ms-blob-type", "BlockBlob");
		blob_req(&rq, &up, len, 8192, &r);
		s = (double)(now_ms() - t0) / 1000.0;
		if (r.res.status || r.http != 201) {
			fprintf(stderr, "put: %#x http %u\n", r.res.status,
				r.http);
			return 1;
		}
		bc_res_free(&r);
		if (len / s / 1e6 > best_put)
			best_put = len / s / 1e6;
		printf("put %zu MiB: %.3f s, %.0f MB/s\n", mib, s, len / s / 1e6);
		t0 = now_ms();
		bc_req_init(&rq, AZ_BLOB_GET, path, NULL);
		blob_req(&rq, &down, 0, 8192, &r);
		s = (double)(now_ms() - t0) / 1000.0;
		if (r.res.status || r.http != 200 || r.body_bytes != len) {
			fprintf(stderr, "get: %#x http %u\n", r.res.status,
				r.http);
			return 1;
		}
		bc_res_free(&r);
		if (len / s / 1e6 > best_get)
			best_get = len / s / 1e6;
		printf("get %zu MiB: %.3f s, %.0f MB/s\n", mib, s, len / s / 1e6);
	}
	bc_sha256_tbuf_hex(&down, len, sha2);
	if (strcmp(sha, sha2)) {
		fprintf(stderr, "downloaded bytes differ\n");
		return 1;
	}
	if (sdk(out, sizeof(out), "sha256 %s bench/big", container) ||
	    strncmp(out + strcspn(out, " ") + 1, sha, 64)) {
		fprintf(stderr, "sdk sees another blob: %s\n", out);
		return 1;
	}
	printf("best: put %.0f MB/s, get %.0f MB/s (%zu pieces of <= 4 KiB each way; verified by sha256 and the SDK)\n",
	       best_put, best_get, (size_t)up.hb.iovcnt);
	sdk(NULL, 0, "rmcontainer %s", container);
	tb_free(&up);
	tb_free(&down);
	free(src);
	return 0;
}
