// SPDX-License-Identifier: GPL-2.0
/*
 * TEST-ONLY: blob_test's cases of the HTTP client against a
 * scripted server (blob_fakesrv.c): framings, keep-alive, retries,
 * deadlines, cancel. Run by blob_test.c.
 */
#include "blob_test.h"

/* ------------------------------------------------------------------ */
/* The HTTP client against a scripted server. */

struct fake_script {
	const char *const *answers;	/* one per request, NULL ends */
	bool close_after_each;
};

/* Serve requests on one connection with the scripted answers in turn. */
static void h_script(struct fake_srv *s, int fd, int n)
{
	const struct fake_script *sc = s->arg;
	char head[8192];
	int i = atomic_load(&s->requests);

	(void)n;
	while (sc->answers[i]) {
		if (fake_read_request(s, fd, head, sizeof(head)))
			return;
		if (fake_write(fd, sc->answers[i], 0))
			return;
		i++;
		if (sc->close_after_each)
			return;
	}
}

static int svc_for(struct az_host_service *s, const char *url)
{
	return az_blob_service_init(s, url, 0);
}

/* A GET of /a/b through @s into @data (data_len @dlen, TB_TINY). */
static void simple_get(struct az_host_service *s, struct tbuf *data,
		       struct bc_res *r, uint32_t timeout_ms,
		       const atomic_int *cancel)
{
	static const char json[] = "{\"path\":\"/a/b\",\"headers\":[[\"x-test\",\"1\"]]}";
	struct tbuf resp;
	size_t len;
	unsigned char *b = bc_frame_json(AZ_BLOB_GET, json, strlen(json), &len);

	tb_new(&resp, 8192, TB_TINY, 3);
	bc_exec(s, b, len, data, 0, &resp, timeout_ms, cancel, r);
	tb_free(&resp);
	free(b);
}

static char *chunked_body(const unsigned char *body, size_t len,
			  size_t chunk, const char *head)
{
	size_t cap = strlen(head) + len * 2 + 4096 + len / chunk * 40;
	char *out = malloc(cap);
	size_t o = (size_t)sprintf(out, "%s", head);

	for (size_t off = 0, i = 0; off < len; off += chunk, i++) {
		size_t k = len - off < chunk ? len - off : chunk;

		o += (size_t)sprintf(out + o, i % 2 ? "%zX;ext=\"v\"\r\n" :
						      "%zx\r\n", k);
		memcpy(out + o, body + off, k);
		o += k;
		memcpy(out + o, "\r\n", 2);
		o += 2;
	}
	o += (size_t)sprintf(out + o, "0\r\nX-Trailer: t\r\n\r\n");
	out[o] = '\0';
	return out;
}

int t_http_chunked(void)
{
	unsigned char body[5000], got[5000];
	char *a1, *a2;
	const char *answers[3];
	struct fake_script sc = { .answers = answers };
	struct fake_srv fs;
	struct az_host_service s;
	struct tbuf data;
	struct bc_res r;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (unsigned char)(1 + i % 251);	/* no NUL: strlen */
	a1 = chunked_body(body, sizeof(body), 777,
			  "HTTP/1.1 200 OK\r\nX-A: 1\r\nTransfer-Encoding: chunked\r\n\r\n");
	a2 = chunked_body(body, 100, 33,
			  "HTTP/1.1 201 Created\r\ntransfer-encoding: CHUNKED\r\n\r\n");
	answers[0] = a1;
	answers[1] = a2;
	answers[2] = NULL;
	CHECK(fake_start(&fs, h_script, &sc) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 10000, TB_TINY, 4);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed, "%s", r.error);
	CHECK(r.http == 200 && r.body_bytes == 5000 && !r.truncated);
	CHECK(r.has_length && r.content_length == 5000);
	CHECK(bc_res_header(&r, "X-A") && !bc_res_header(&r, "Transfer-Encoding"));
	tb_get(&data, got, sizeof(got));
	CHECK(!memcmp(got, body, sizeof(body)));
	bc_res_free(&r);
	/* Same connection again. */
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 201 && r.body_bytes == 100);
	tb_get(&data, got, 100);
	CHECK(!memcmp(got, body, 100));
	bc_res_free(&r);
	CHECK(atomic_load(&fs.accepts) == 1);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	free(a1);
	free(a2);
	return 0;
}

/*
 * A body longer than the data buffer: the first data_len bytes, truncated,
 * the length; drained (connection kept) when the rest is small, closed
 * (length unknown if chunked) when not.
 */
int t_http_truncated(void)
{
	size_t big_len = 3 * MIB;
	unsigned char *body = malloc(big_len), got[10000];
	char *small_chunked, *big_chunked, big_cl_head[128], *big_cl;
	const char *answers[5];
	struct fake_script sc = { .answers = answers };
	struct fake_srv fs;
	struct az_host_service s;
	struct az_http_stats st;
	struct tbuf data;
	struct bc_res r;

	for (size_t i = 0; i < big_len; i++)
		body[i] = (unsigned char)(1 + i % 251);
	small_chunked = chunked_body(body, 50000, 4096,
				     "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	big_chunked = chunked_body(body, big_len, 65536,
				   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
	snprintf(big_cl_head, sizeof(big_cl_head),
		 "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", big_len);
	big_cl = malloc(strlen(big_cl_head) + big_len + 1);
	strcpy(big_cl, big_cl_head);
	memcpy(big_cl + strlen(big_cl_head), body, big_len);
	big_cl[strlen(big_cl_head) + big_len] = '\0';
	answers[0] = small_chunked;
	answers[1] = big_chunked;
	answers[2] = big_cl;
	answers[3] = small_chunked;
	answers[4] = NULL;
	CHECK(fake_start(&fs, h_script, &sc) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 10000, TB_TINY, 5);

	simple_get(&s, &data, &r, 5000, NULL);	/* drained */
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed && r.truncated && r.body_bytes == 10000,
	       "parsed %d (%s) truncated %d body %u", r.parsed, r.error,
	       r.truncated, r.body_bytes);
	CHECK(r.has_length && r.content_length == 50000);
	tb_get(&data, got, 10000);
	CHECK(!memcmp(got, body, 10000));
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECK(st.connects == 1);

	simple_get(&s, &data, &r, 5000, NULL);	/* given up: unknown */
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.truncated && r.body_bytes == 10000);
	CHECK(!r.has_length);
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECK(st.reuses == 1);

	simple_get(&s, &data, &r, 5000, NULL);	/* given up: known */
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECKF(r.parsed && r.truncated && r.body_bytes == 10000,
	       "parsed %d (%s) http %u truncated %d body %u", r.parsed,
	       r.error, r.http, r.truncated, r.body_bytes);
	CHECK(r.has_length && r.content_length == big_len);
	tb_get(&data, got, 10000);
	CHECK(!memcmp(got, body, 10000));
	bc_res_free(&r);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECKF(st.connects == 3, "connects %llu",
	       (unsigned long long)st.connects);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	free(small_chunked);
	free(big_chunked);
	free(big_cl);
	free(body);
	return 0;
}

int t_http_framings(void)
{
	static const char *const answers[] = {
		/* interim responses before the final one */
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
		/* 204 and 304 carry no body whatever they say */
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n",
		/* an empty reason phrase, and none at all */
		"HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
		/* Latin-1 and a tab in a value; repeated fields kept in order */
		"HTTP/1.1 200 OK\r\nX-V: a\tb\xe9\r\nX-R: 1\r\nX-R: 2\r\nContent-Length: 0\r\n\r\n",
		/* a body delimited by the close: the connection ends */
		"HTTP/1.1 200 OK\r\n\r\nhello",
		NULL,
	};
	struct fake_script sc = { .answers = answers };
	struct fake_srv fs;
	struct az_host_service s;
	struct az_http_stats st;
	struct tbuf data;
	struct bc_res r;
	char got[16];
	const struct az_json *h;

	CHECK(fake_start(&fs, h_script, &sc) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 6);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 200 && r.body_bytes == 3);
	tb_get(&data, got, 3);
	CHECK(!memcmp(got, "abc", 3));
	bc_res_free(&r);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && r.http == 204 &&
	      r.body_bytes == 0 && !r.has_length);
	bc_res_free(&r);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && r.http == 304 &&
	      r.body_bytes == 0 && r.has_length && r.content_length == 99);
	bc_res_free(&r);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && !strcmp(r.reason, ""));
	bc_res_free(&r);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && !strcmp(r.reason, ""));
	bc_res_free(&r);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed);
	CHECK(!strcmp(bc_res_header(&r, "x-v"), "a\tb\xc3\xa9"));
	h = r.headers->child;
	CHECK(!strcmp(h->child->str, "X-V"));
	h = h->next;
	CHECK(!strcmp(h->child->next->str, "1"));
	h = h->next;
	CHECK(!strcmp(h->child->str, "X-R") &&
	      !strcmp(h->child->next->str, "2"));
	bc_res_free(&r);

	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.parsed && r.body_bytes == 5 &&
	      r.has_length && r.content_length == 5);
	tb_get(&data, got, 5);
	CHECK(!memcmp(got, "hello", 5));
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECKF(st.connects == 1 && st.reuses == 6, "connects %llu reuses %llu",
	       (unsigned long long)st.connects, (unsigned long long)st.reuses);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

/* Each answer on its own connection; each must end in ABORTED. */
int t_http_malformed(void)
{
	static char huge[70 * 1024];
	static const char *answers[] = {
		"HTXP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX: a\r\n continued\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nX : a\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
		"HTTP/1.1 200 OK\nContent-Length: 0\n\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"",	/* closes without a byte */
		huge,	/* a head of more than 64 KiB */
		NULL,
	};
	struct fake_script sc = { .answers = answers, .close_after_each = true };
	struct fake_srv fs;
	struct az_host_service s;
	struct tbuf data;
	struct bc_res r;
	size_t o;

	o = (size_t)sprintf(huge, "HTTP/1.1 200 OK\r\n");
	while (o < sizeof(huge) - 100)
		o += (size_t)sprintf(huge + o, "X-Pad: %060d\r\n", 0);
	sprintf(huge + o, "\r\n");
	CHECK(fake_start(&fs, h_script, &sc) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 7);
	for (int i = 0; answers[i]; i++) {
		simple_get(&s, &data, &r, 5000, NULL);
		CHECKF(r.res.status == AZ_HOST_CONNECTION_ABORTED &&
		       r.res.response_len == 0, "answer %d: status %#x", i,
		       r.res.status);
		bc_res_free(&r);
	}
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

/* Answers, then closes the idle connection without saying so. */
static void h_close_idle(struct fake_srv *s, int fd, int n)
{
	char head[4096];

	(void)n;
	if (fake_read_request(s, fd, head, sizeof(head)))
		return;
	fake_write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
}

/* Answers with Connection: close (but leaves the socket open). */
static void h_conn_close(struct fake_srv *s, int fd, int n)
{
	char head[4096];

	(void)n;
	if (fake_read_request(s, fd, head, sizeof(head)))
		return;
	fake_write(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 0);
	usleep(100000);
}

int t_http_keepalive_stale(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct az_http_stats st;
	struct tbuf data;
	struct bc_res r;

	CHECK(fake_start(&fs, h_close_idle, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 8);
	for (int i = 0; i < 3; i++) {
		simple_get(&s, &data, &r, 5000, NULL);
		CHECKF(r.res.status == 0 && r.parsed && r.http == 200,
		       "request %d: status %#x", i, r.res.status);
		bc_res_free(&r);
		usleep(200000);	/* the server's close arrives */
	}
	az_blob_service_stats(&s, &st);
	CHECKF(st.connects == 3 && st.stale == 2 && st.reuses == 0,
	       "connects %llu stale %llu reuses %llu",
	       (unsigned long long)st.connects, (unsigned long long)st.stale,
	       (unsigned long long)st.reuses);
	az_blob_service_fini(&s);
	fake_stop(&fs);

	CHECK(fake_start(&fs, h_conn_close, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	for (int i = 0; i < 2; i++) {
		simple_get(&s, &data, &r, 5000, NULL);
		CHECK(r.res.status == 0 && r.parsed && r.http == 200);
		bc_res_free(&r);
	}
	az_blob_service_stats(&s, &st);
	CHECK(st.connects == 2 && st.reuses == 0);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	tb_free(&data);
	return 0;
}

/* Answers the first request; reads the second and closes, unanswered. */
static void h_drop_second(struct fake_srv *s, int fd, int n)
{
	char head[4096];

	(void)n;
	if (fake_read_request(s, fd, head, sizeof(head)))
		return;
	fake_write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
	fake_read_request(s, fd, head, sizeof(head));
}

/*
 * Answers one request per connection, then looks away for 300 ms before
 * closing (so the client's end alone decides what the next send sees).
 */
static void h_serve_one(struct fake_srv *s, int fd, int n)
{
	char head[4096];

	(void)n;
	if (fake_read_request(s, fd, head, sizeof(head)))
		return;
	fake_write(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 0);
	usleep(300000);
}

/*
 * A pooled connection that fails at the first byte is replaced, once; one
 * that fails after the request went out is not (it may have taken effect).
 */
int t_http_retry(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct az_http_stats st;
	struct tbuf data;
	struct bc_res r;

	tb_new(&data, 100, TB_TINY, 15);
	CHECK(fake_start(&fs, h_serve_one, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.http == 200);
	bc_res_free(&r);
	az_http_pool_break_idle(az_blob_service_pool(&s));
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.http == 200);
	bc_res_free(&r);
	az_blob_service_stats(&s, &st);
	CHECKF(st.retries == 1 && st.reuses == 1 && st.connects == 2,
	       "retries %llu reuses %llu connects %llu",
	       (unsigned long long)st.retries, (unsigned long long)st.reuses,
	       (unsigned long long)st.connects);
	CHECK(atomic_load(&fs.requests) == 2);
	az_blob_service_fini(&s);
	fake_stop(&fs);

	CHECK(fake_start(&fs, h_drop_second, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK(r.res.status == 0 && r.http == 200);
	bc_res_free(&r);
	simple_get(&s, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_CONNECTION_ABORTED);
	bc_res_free(&r);
	usleep(100000);
	az_blob_service_stats(&s, &st);
	CHECK(st.retries == 0 && st.connects == 1);
	CHECK(atomic_load(&fs.requests) == 2 && atomic_load(&fs.accepts) == 1);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	tb_free(&data);
	return 0;
}

/* Reads the request's head only; answers 413 at once, reads no body. */
static void h_early_answer(struct fake_srv *s, int fd, int n)
{
	char c, head[4096];
	size_t k = 0;

	(void)n;
	while (k < sizeof(head) - 1 && recv(fd, &c, 1, 0) == 1) {
		head[k++] = c;
		if (k >= 4 && !memcmp(head + k - 4, "\r\n\r\n", 4))
			break;
	}
	fake_write(fd, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n", 0);
	while (!atomic_load(&s->stop))
		usleep(10000);
}

/* Reads the request's head and then nothing, ever. */
static void h_stop_reading(struct fake_srv *s, int fd, int n)
{
	(void)fd;
	(void)n;
	while (!atomic_load(&s->stop))
		usleep(10000);
}

static int put_through(struct az_host_service *s, size_t len,
		       uint32_t timeout_ms, struct bc_res *r)
{
	static const char json[] = "{\"path\":\"/a/b\"}";
	struct tbuf resp, data;
	size_t flen;
	unsigned char *b = bc_frame_json(AZ_BLOB_PUT, json, strlen(json), &flen);

	tb_new(&resp, 4096, TB_TINY, 9);
	tb_new(&data, len, TB_PAGES, 10);
	tb_set(&data, 'd');
	bc_exec(s, b, flen, &data, len, &resp, timeout_ms, NULL, r);
	tb_free(&resp);
	tb_free(&data);
	free(b);
	return 0;
}

int t_http_early_answer(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct bc_res r;
	uint64_t t0;

	CHECK(fake_start(&fs, h_early_answer, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	t0 = now_ms();
	put_through(&s, 32 * MIB, 10000, &r);
	CHECK_ST(r.res.status, AZ_HOST_OK);
	CHECK(r.parsed && r.http == 413);
	CHECK(now_ms() - t0 < 5000);
	bc_res_free(&r);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

int t_deadline_no_answer(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct tbuf data;
	struct bc_res r;
	uint64_t t0, el;

	/* Listening, never accepting: connect succeeds, nothing answers. */
	CHECK(fake_start(&fs, NULL, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 11);
	t0 = now_ms();
	simple_get(&s, &data, &r, 300, NULL);
	el = now_ms() - t0;
	CHECK_ST(r.res.status, AZ_HOST_TIMEOUT);
	CHECK(r.res.response_len == 0);
	CHECKF(el >= 290 && el < 2000, "%llu ms", (unsigned long long)el);
	bc_res_free(&r);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

int t_deadline_mid_upload(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct bc_res r;
	uint64_t t0, el;

	CHECK(fake_start(&fs, h_stop_reading, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	t0 = now_ms();
	put_through(&s, 32 * MIB, 500, &r);
	el = now_ms() - t0;
	CHECK_ST(r.res.status, AZ_HOST_TIMEOUT);
	CHECKF(el >= 490 && el < 2500, "%llu ms", (unsigned long long)el);
	bc_res_free(&r);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

static atomic_int cancel_flag;

static void *set_cancel(void *arg)
{
	(void)arg;
	usleep(200000);
	atomic_store(&cancel_flag, 1);
	return NULL;
}

int t_cancel(void)
{
	struct fake_srv fs;
	struct az_host_service s;
	struct tbuf data;
	struct bc_res r;
	pthread_t th;
	uint64_t t0, el;

	CHECK(fake_start(&fs, NULL, NULL) == 0);
	CHECK(svc_for(&s, fs.url) == 0);
	tb_new(&data, 100, TB_TINY, 12);
	atomic_store(&cancel_flag, 0);
	pthread_create(&th, NULL, set_cancel, NULL);
	t0 = now_ms();
	simple_get(&s, &data, &r, 0, &cancel_flag);	/* no deadline */
	el = now_ms() - t0;
	pthread_join(th, NULL);
	CHECK_ST(r.res.status, AZ_HOST_CANCELLED);
	CHECKF(el >= 190 && el < 1500, "%llu ms", (unsigned long long)el);
	bc_res_free(&r);
	/* Already cancelled: nothing starts. */
	simple_get(&s, &data, &r, 0, &cancel_flag);
	CHECK_ST(r.res.status, AZ_HOST_CANCELLED);
	bc_res_free(&r);
	tb_free(&data);
	az_blob_service_fini(&s);
	fake_stop(&fs);
	return 0;
}

int t_refused(void)
{
	struct tbuf data;
	struct bc_res r;
	struct az_host_service s;
	char url[64];
	int saved;
	bool bad;

	tb_new(&data, 100, TB_TINY, 13);
	simple_get(&svc_dead, &data, &r, 5000, NULL);
	CHECK_ST(r.res.status, AZ_HOST_CONNECTION_REFUSED);
	CHECK(r.res.response_len == 0);
	bc_res_free(&r);
	tb_free(&data);
	/* Endpoints the service refuses at init (its messages hidden). */
	fflush(stderr);
	saved = dup(2);
	dup2(open("/dev/null", O_WRONLY), 2);
	bad = az_blob_service_init(&s, "https://127.0.0.1:1", 0) != 0 &&
	      az_blob_service_init(&s, "http://127.0.0.1:99999", 0) != 0 &&
	      az_blob_service_init(&s, "http://127.0.0.1:1/path", 0) != 0 &&
	      az_blob_service_init(&s, "http://", 0) != 0 &&
	      az_blob_service_init(&s, "http://[::1", 0) != 0;
	dup2(saved, 2);
	CHECK(bad);
	snprintf(url, sizeof(url), "http://[::1]:%d/", 1);
	CHECK(az_blob_service_init(&s, url, 0) == 0);
	az_blob_service_fini(&s);
	return 0;
}
