// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: the driver transport's framing (HsReq001 out, HsRes001 in,
 * untrusted), the transport against a scripted host (errno, host statuses,
 * retries, buffers that did not fit), and the REST transport's retries
 * against a scripted HTTP server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/types.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../include/uapi/misc/hv_azure_blob.h"
#include "hsframe.h"
#include "unit.h"

static void put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* An HsRes001 answer: header, then @json (may be NULL: header only). */
static size_t make_res(unsigned char *b, unsigned int http, const char *json,
		       uint32_t body_bytes, uint32_t needed)
{
	size_t n = HS_HDR_LEN + (json ? strlen(json) : 0);

	memset(b, 0, HS_HDR_LEN);
	memcpy(b, HS_RES_MAGIC, 8);
	put32(b + 8, 1);
	put32(b + 12, http);
	put32(b + 24, body_bytes);
	put32(b + 28, needed ? needed : (uint32_t)n);
	if (json)
		memcpy(b + HS_HDR_LEN, json, strlen(json));
	put64(b + 16, azblob_crc64(0, b, n));
	return n;
}

static void build(void)
{
	struct azb_req r;
	struct azb_buf b = { 0 };
	unsigned char *p;
	uint64_t crc;
	const char *json;

	azb_req_init(&r, AZB_PUT);
	r.path = strdup("/acct/c/a%20b");
	r.query = strdup("comp=block&blockid=QQ%3D%3D");
	azb_hdrs_add(&r.hdrs, "Host", "ignored");
	azb_hdrs_add(&r.hdrs, "x-ms-meta-k", "caf\xe9 \"q\"\\");
	azb_hdrs_add(&r.hdrs, "Content-Length", "99");
	azb_hdrs_add(&r.hdrs, "x-ms-version", "2025-01-05");
	CHECK(!hs_build_request(&r, &b, NULL));
	p = (unsigned char *)b.p;
	CHECK(!memcmp(p, "HsReq001", 8));
	CHECK(p[8] == 1 && p[12] == AZB_PUT && !p[24]);
	crc = 0;
	for (int i = 7; i >= 0; i--)
		crc = crc << 8 | p[16 + i];
	memset(p + 16, 0, 8);
	CHECK_U64(azblob_crc64(0, p, b.len), crc);
	json = b.p + HS_HDR_LEN;
	CHECK_STR(json, "{\"path\":\"/acct/c/a%20b\",\"query\":\"comp=block&blockid=QQ%3D%3D\","
		  "\"headers\":[[\"x-ms-meta-k\",\"caf\\u00e9 \\\"q\\\"\\\\\"],"
		  "[\"x-ms-version\",\"2025-01-05\"]]}");
	azb_buf_free(&b);
	azb_req_free(&r);
}

static int parse(const unsigned char *b, size_t n, struct hs_answer *a,
		 struct azb_hdrs *h, struct azb_buf *body)
{
	const char *why = NULL;
	int rc;

	azb_hdrs_truncate(h, 0);
	body->len = 0;
	rc = hs_parse_response(b, n, a, h, body, &why);
	CHECK(rc == 0 || why);
	return rc;
}

static void response(void)
{
	unsigned char b[4096];
	struct hs_answer a;
	struct azb_hdrs h = { 0 };
	struct azb_buf body = { 0 };
	size_t n;
	static const char *const bad_json[] = {
		"{\"reason\":\"x\"}",
		"{\"headers\":[],\"content_length\":1,\"truncated\":false} x",
		"{\"headers\":[[\"a\"]],\"content_length\":1,\"truncated\":false}",
		"{\"headers\":[[\"a\",\"\\u0100\"]],\"content_length\":1,\"truncated\":false}",
		"{\"headers\":[],\"content_length\":01,\"truncated\":false}",
		"{\"headers\":[],\"content_length\":1.5,\"truncated\":false}",
		"{\"headers\":[],\"content_length\":-1,\"truncated\":false}",
		"{\"headers\":[],\"content_length\":1,\"truncated\":0}",
		"{\"headers\":[],\"content_length\":1,\"truncated\":false,\"body_base64\":\"abc\"}",
		"{\"headers\":[],\"content_length\":1,\"truncated\":false,\"x\":[[[[1]]]]}",
		"{\"headers\":[[\"a\",\"b\u00e9\"]],\"content_length\":1,\"truncated\":false}",
		"{\"headers\":[[\"a\",\"b\\u0000\"]],\"content_length\":1,\"truncated\":false}",
	};

	n = make_res(b, 206, "{\"reason\":\"Partial Content\",\"headers\":"
		     "[[\"Content-Range\",\"bytes 0-3/10\"],[\"x-ms-meta-a\",\"\\u00e9\"]],"
		     "\"content_length\":4,\"truncated\":false,\"future\":{\"a\":[1,true,null]}}",
		     4, 0);
	CHECK(!parse(b, n, &a, &h, &body));
	CHECK(a.http_status == 206 && a.body_bytes == 4 && a.have_length &&
	      a.content_length == 4 && !a.truncated && !a.header_only);
	CHECK_STR(azb_hdrs_get(&h, "content-range"), "bytes 0-3/10");
	CHECK_STR(azb_hdrs_get(&h, "x-ms-meta-a"), "\xe9");
	n = make_res(b, 404, "{\"reason\":\"\",\"headers\":[],\"content_length\":null,"
		     "\"truncated\":false,\"body_base64\":\"PEVycm9yLz4=\"}", 0, 0);
	CHECK(!parse(b, n, &a, &h, &body));
	CHECK(!a.have_length && body.len == 8 && !memcmp(body.p, "<Error/>", 8));
	n = make_res(b, 200, NULL, 0, 70000);
	CHECK(!parse(b, n, &a, &h, &body) && a.header_only && a.needed == 70000);
	/* Broken frames. */
	n = make_res(b, 200, "{\"headers\":[],\"content_length\":0,\"truncated\":false}",
		     0, 0);
	b[40] ^= 1;
	CHECK(parse(b, n, &a, &h, &body));	/* CRC */
	b[40] ^= 1;
	CHECK(!parse(b, n, &a, &h, &body));
	CHECK(parse(b, 31, &a, &h, &body));
	memcpy(b, "HsReq001", 8);
	CHECK(parse(b, n, &a, &h, &body));
	n = make_res(b, 99, "{\"headers\":[],\"content_length\":0,\"truncated\":false}",
		     0, 0);
	CHECK(parse(b, n, &a, &h, &body));	/* status */
	for (size_t i = 0; i < AZB_ARRAY_SIZE(bad_json); i++) {
		n = make_res(b, 200, bad_json[i], 0, 0);
		CHECK(parse(b, n, &a, &h, &body));
	}
	/* Too many header fields. */
	{
		struct azb_buf j = { 0 };
		unsigned char *big;

		azb_buf_adds(&j, "{\"headers\":[");
		for (int i = 0; i < 300; i++)
			azb_buf_addf(&j, "%s[\"h%d\",\"v\"]", i ? "," : "", i);
		azb_buf_adds(&j, "],\"content_length\":0,\"truncated\":false}");
		big = malloc(j.len + 64);
		n = make_res(big, 200, j.p, 0, 0);
		CHECK(parse(big, n, &a, &h, &body));
		free(big);
		azb_buf_free(&j);
	}
	azb_hdrs_free(&h);
	azb_buf_free(&body);
}

/* A scripted host behind the driver transport. */
enum act_kind { ACT_ERRNO, ACT_HOST, ACT_HTTP, ACT_SHORT };

struct act {
	enum act_kind kind;
	int value;		/* errno, host status, HTTP status */
	const char *json;	/* the answer's JSON */
	uint32_t body_bytes;
	const char *body;	/* written to the data buffer */
	uint32_t needed;	/* ACT_SHORT */
	bool bad_crc;
};

static const struct act *script;
static int nscript, ncalls;
static struct az_blob_request_sync last;

static int fake_submit(void *arg, int fd, struct az_blob_request_sync *r)
{
	const struct act *a;
	unsigned char *rb = (unsigned char *)(uintptr_t)r->response_buffer;
	size_t n = 0;

	(void)arg;
	(void)fd;
	last = *r;
	if (ncalls >= nscript) {
		errno = ENOTTY;
		return -1;
	}
	a = &script[ncalls++];
	switch (a->kind) {
	case ACT_ERRNO:
		errno = a->value;
		return -1;
	case ACT_HOST:
		r->response.status = (uint32_t)a->value;
		r->response.response_len = 0;
		return 0;
	case ACT_SHORT:
		n = make_res(rb, (unsigned int)a->value, NULL, 0, a->needed);
		r->response.status = HS_INSUFFICIENT_BUFFER;
		r->response.response_len = (uint32_t)n;
		return 0;
	case ACT_HTTP:
		if (strlen(a->json) + HS_HDR_LEN > r->response_len) {
			errno = EFAULT;
			return -1;
		}
		n = make_res(rb, (unsigned int)a->value, a->json,
			     a->body_bytes, 0);
		if (a->body)
			memcpy((void *)(uintptr_t)r->data_buffer, a->body,
			       a->body_bytes);
		if (a->bad_crc)
			rb[20] ^= 0x40;
		r->response.status = 0;
		r->response.response_len = (uint32_t)n;
		return 0;
	}
	return -1;
}

static azblob_ctx *fake_ctx(const struct act *acts, int n)
{
	azblob_ctx *c;

	script = acts;
	nscript = n;
	ncalls = 0;
	if (azblob_ctx_new_from_connection_string(&c,
			"UseDevelopmentStorage=true", NULL))
		return NULL;
	azblob_ctx_set_transport(c, AZBLOB_TRANSPORT_DRIVER, NULL);
	azblob_ctx_set_retry(c, 3, 1, 2, NULL);
	azb_ctx_set_driver_submit(c, fake_submit, NULL);
	return c;
}

#define OKHEAD "{\"reason\":\"OK\",\"headers\":[[\"Content-Length\",\"5\"]," \
	"[\"ETag\",\"\\\"e\\\"\"],[\"x-ms-meta-k\",\"v\"]],\"content_length\":5," \
	"\"truncated\":false}"

static void driver_statuses(void)
{
	azblob_error *e = azblob_error_new();
	azblob_props *p = NULL;
	azblob_ctx *c;

	{
		static const struct act a[] = {
			{ ACT_ERRNO, EBUSY, NULL, 0, NULL, 0, false },
			{ ACT_HOST, (int)HS_CONNECTION_REFUSED, NULL, 0, NULL, 0, false },
			{ ACT_HTTP, 200, OKHEAD, 0, NULL, 0, false },
		};
		c = fake_ctx(a, 3);
		CHECK(!azblob_get_properties(c, "cc1", "b", &p, e));
		CHECK(ncalls == 3 && p && azblob_props_size(p) == 5);
		CHECK(p && !strcmp(azblob_props_metadata_get(p, "k"), "v"));
		CHECK(last.data_len == 0 && last.flags == 0 && last.timeout);
		CHECK(azblob_ctx_transport(c) == AZBLOB_TRANSPORT_DRIVER);
		azblob_props_free(p);
		azblob_ctx_free(c);
	}
	{
		static const struct act a[] = {
			{ ACT_ERRNO, ENODEV, NULL, 0, NULL, 0, false },
		};
		c = fake_ctx(a, 1);
		CHECK(azblob_delete(c, "cc1", "b", e) == AZBLOB_E_DRIVER);
		CHECK(azblob_error_errno(e) == ENODEV && ncalls == 1);
		CHECK(azblob_error_http_status(e) == 0);
		CHECK(strstr(azblob_error_message(e), "driver"));
		azblob_ctx_free(c);
	}
	{
		static const struct act a[] = {
			{ ACT_HOST, (int)HS_CONNECTION_REFUSED, NULL, 0, NULL, 0, false },
			{ ACT_HOST, (int)HS_CONNECTION_REFUSED, NULL, 0, NULL, 0, false },
			{ ACT_HOST, (int)HS_CONNECTION_REFUSED, NULL, 0, NULL, 0, false },
		};
		c = fake_ctx(a, 3);
		CHECK(azblob_delete(c, "cc1", "b", e) == AZBLOB_E_NETWORK);
		CHECK(azblob_error_host_status(e) == HS_CONNECTION_REFUSED);
		CHECK(ncalls == 3);
		azblob_ctx_free(c);
	}
	{
		static const struct act a[] = {
			{ ACT_HOST, (int)HS_INVALID_DATA, NULL, 0, NULL, 0, false },
		};
		c = fake_ctx(a, 1);
		CHECK(azblob_delete(c, "cc1", "b", e) == AZBLOB_E_HOST);
		CHECK(azblob_error_host_status(e) == HS_INVALID_DATA && ncalls == 1);
		azblob_ctx_free(c);
	}
	{
		static const struct act a[] = {
			{ ACT_HTTP, 503, "{\"reason\":\"\",\"headers\":[[\"Retry-After\",\"0\"]],"
			  "\"content_length\":0,\"truncated\":false}", 0, NULL, 0, false },
			{ ACT_HTTP, 404, "{\"reason\":\"\",\"headers\":[[\"x-ms-error-code\","
			  "\"BlobNotFound\"],[\"x-ms-request-id\",\"r1\"]],\"content_length\":"
			  "10,\"truncated\":false,\"body_base64\":\"PEVycm9yLz4=\"}",
			  0, NULL, 0, false },
		};
		c = fake_ctx(a, 2);
		CHECK(azblob_delete(c, "cc1", "d/b", e) == AZBLOB_E_NOT_FOUND);
		CHECK_STR(azblob_error_message(e), "blob not found: cc1/d/b");
		CHECK(azblob_error_http_status(e) == 404 && ncalls == 2);
		CHECK_STR(azblob_error_service_code(e), "BlobNotFound");
		CHECK_STR(azblob_error_request_id(e), "r1");
		azblob_ctx_free(c);
	}
	{
		static const struct act a[] = {
			{ ACT_HTTP, 200, OKHEAD, 0, NULL, 0, true },
		};
		c = fake_ctx(a, 1);
		CHECK(azblob_get_properties(c, "cc1", "b", &p, e) ==
		      AZBLOB_E_PROTOCOL);
		CHECK(strstr(azblob_error_message(e), "CRC"));
		azblob_ctx_free(c);
	}
	azblob_error_free(e);
}

static void driver_buffers(void)
{
	azblob_error *e = azblob_error_new();
	azblob_ctx *c;
	char out[16];
	size_t n = 0;

	{
		/* The fields did not fit: again with what the host needs. */
		static const struct act a[] = {
			{ ACT_SHORT, 200, NULL, 0, NULL, 20000, false },
			{ ACT_HTTP, 200, OKHEAD, 0, NULL, 0, false },
		};
		azblob_props *p = NULL;

		c = fake_ctx(a, 2);
		CHECK(!azblob_get_properties(c, "cc1", "b", &p, e));
		CHECK(ncalls == 2 && last.response_len == 20000);
		azblob_props_free(p);
		azblob_ctx_free(c);
	}
	{
		/* An upload: the body as a read-only data buffer. */
		static const struct act a[] = {
			{ ACT_HTTP, 201, "{\"headers\":[],\"content_length\":0,"
			  "\"truncated\":false}", 0, NULL, 0, false },
			{ ACT_HTTP, 201, "{\"headers\":[],\"content_length\":0,"
			  "\"truncated\":false}", 3, NULL, 0, false },
		};
		c = fake_ctx(a, 2);
		CHECK(!azblob_upload_buffer(c, "cc1", "b", "hello", 5, NULL, e));
		CHECK(last.flags == AZ_BLOB_DATA_HOST_READS &&
		      last.data_valid == 5 && last.data_len == 5);
		/* A host that writes the data buffer of an upload. */
		CHECK(azblob_upload_buffer(c, "cc1", "b", "hello", 5, NULL, e) ==
		      AZBLOB_E_PROTOCOL);
		azblob_ctx_free(c);
	}
	{
		/* A ranged read: straight into the caller's buffer. */
		static const struct act a[] = {
			{ ACT_HTTP, 206, "{\"headers\":[[\"Content-Range\",\"bytes 0-4/5\"],"
			  "[\"ETag\",\"e\"]],\"content_length\":5,\"truncated\":false}",
			  5, "hello", 0, false },
			{ ACT_HTTP, 206, "{\"headers\":[[\"Content-Range\",\"bytes 0-4/5\"]],"
			  "\"content_length\":9,\"truncated\":false}",
			  5, "hello", 0, false },
		};
		c = fake_ctx(a, 2);
		CHECK(!azblob_download_buffer(c, "cc1", "b", out, sizeof(out),
					      &n, NULL, e));
		CHECK(n == 5 && !memcmp(out, "hello", 5));
		CHECK(last.data_buffer == (uintptr_t)out && !last.flags);
		CHECK(azblob_download_buffer(c, "cc1", "b", out, sizeof(out),
					     &n, NULL, e) == AZBLOB_E_PROTOCOL);
		azblob_ctx_free(c);
	}
	{
		/* A listing longer than the data buffer: again, bigger. */
		static const char xml[] = "<EnumerationResults><Blobs><Blob><Name>x"
			"</Name></Blob></Blobs></EnumerationResults>";
		static struct act a[2] = {
			{ ACT_HTTP, 200, "{\"headers\":[],\"content_length\":5000000,"
			  "\"truncated\":true}", 0, NULL, 0, false },
			{ ACT_HTTP, 200, "{\"headers\":[],\"content_length\":75,"
			  "\"truncated\":false}", 75, xml, 0, false },
		};
		azblob_lister *l;
		const azblob_props *it = NULL;

		a[1].body_bytes = sizeof(xml) - 1;
		c = fake_ctx(a, 2);
		CHECK(!azblob_list_blobs(c, "cc1", NULL, NULL, &l, e));
		CHECK(!azblob_lister_next(l, &it, e) || !fprintf(stderr, "# %s\n", azblob_error_message(e)));
		CHECK(it &&
		      !strcmp(azblob_props_name(it), "x"));
		CHECK(ncalls == 2 && last.data_len == 5000000);
		azblob_lister_free(l);
		azblob_ctx_free(c);
	}
	azblob_error_free(e);
}

/* Range checksums the service returns are checked. */
static void driver_checksums(void)
{
	azblob_error *e = azblob_error_new();
	azblob_opts *o = azblob_opts_new();
	azblob_ctx *c;
	char out[16];
	size_t n = 0;
	/* The CRC-64 of "hello", as the service sends it. */
	static char good[256], bad[256];
	char b64[16];
	static struct act a[4];

	azb_crc64_base64(azblob_crc64(0, "hello", 5), b64);
	snprintf(good, sizeof(good), "{\"headers\":[[\"Content-Range\",\"bytes 0-4/5\"],"
		 "[\"x-ms-content-crc64\",\"%s\"]],\"content_length\":5,\"truncated\":false}",
		 b64);
	snprintf(bad, sizeof(bad), "{\"headers\":[[\"Content-Range\",\"bytes 0-4/5\"],"
		 "[\"x-ms-content-crc64\",\"AAAAAAAAAAA=\"],[\"Content-MD5\",\"XUFAKrxLKna5cZ2REBfFkg==\"]],"
		 "\"content_length\":5,\"truncated\":false}");
	a[0] = (struct act){ ACT_HTTP, 206, good, 5, "hello", 0, false };
	a[1] = (struct act){ ACT_HTTP, 206, bad, 5, "hello", 0, false };
	a[2] = (struct act){ ACT_HTTP, 206, bad, 5, "hello", 0, false };
	a[3] = (struct act){ ACT_HTTP, 206, bad, 5, "hellO", 0, false };
	c = fake_ctx(a, 4);
	CHECK(!azblob_download_buffer(c, "cc1", "b", out, sizeof(out), &n,
				      NULL, e));
	CHECK(azblob_download_buffer(c, "cc1", "b", out, sizeof(out), &n,
				     NULL, e) == AZBLOB_E_INTEGRITY);
	CHECK(strstr(azblob_error_message(e), "checksum mismatch"));
	/* MD5 mode looks at Content-MD5 ("hello": XUFAKrxLKna5cZ2REBfFkg==). */
	azblob_opts_set_checksum(o, AZBLOB_CHECKSUM_MD5);
	CHECK(!azblob_download_buffer(c, "cc1", "b", out, sizeof(out), &n, o,
				      e));
	CHECK(azblob_download_buffer(c, "cc1", "b", out, sizeof(out), &n, o,
				     e) == AZBLOB_E_INTEGRITY);
	azblob_ctx_free(c);
	azblob_opts_free(o);
	azblob_error_free(e);
}

/* A scripted HTTP server for the REST transport. */
struct srv {
	int fd;
	int port;
	const char *const *answers;	/* NULL: close without answering */
	int n;
	int served;
	pthread_t th;
};

static void *srv_main(void *arg)
{
	struct srv *s = arg;

	for (int i = 0; i < s->n; i++) {
		char buf[65536];
		size_t got = 0;
		int c = accept(s->fd, NULL, NULL);

		if (c < 0)
			break;
		/* Read the head (and any small body) of one request. */
		while (got < sizeof(buf) - 1) {
			ssize_t k = read(c, buf + got, sizeof(buf) - 1 - got);

			if (k <= 0)
				break;
			got += (size_t)k;
			buf[got] = '\0';
			if (strstr(buf, "\r\n\r\n"))
				break;
		}
		s->served++;
		if (s->answers[i] && write(c, s->answers[i],
					   strlen(s->answers[i])) < 0)
			break;
		close(c);
	}
	return NULL;
}

static int srv_start(struct srv *s, const char *const *answers, int n)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);

	memset(s, 0, sizeof(*s));
	s->answers = answers;
	s->n = n;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(s->fd, 8) || getsockname(s->fd, (struct sockaddr *)&a, &al))
		return -1;
	s->port = ntohs(a.sin_port);
	return pthread_create(&s->th, NULL, srv_main, s);
}

static void srv_stop(struct srv *s)
{
	shutdown(s->fd, SHUT_RDWR);
	pthread_join(s->th, NULL);
	close(s->fd);
}

static azblob_ctx *srv_ctx(const struct srv *s)
{
	char cs[160];
	azblob_ctx *c;

	snprintf(cs, sizeof(cs), "UseDevelopmentStorage=true;BlobEndpoint="
		 "http://127.0.0.1:%d/devstoreaccount1", s->port);
	if (azblob_ctx_new_from_connection_string(&c, cs, NULL))
		return NULL;
	azblob_ctx_set_transport(c, AZBLOB_TRANSPORT_REST, NULL);
	azblob_ctx_set_retry(c, 4, 1, 5, NULL);
	return c;
}

static void rest_retries(void)
{
	static const char *const busy_then_ok[] = {
		"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 0\r\n"
		"x-ms-error-code: ServerBusy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		NULL,	/* dropped */
		"HTTP/1.1 500 Internal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	};
	static const char *const not_found[] = {
		"HTTP/1.1 404 Not Found\r\nx-ms-error-code: ContainerNotFound\r\n"
		"Content-Length: 0\r\nConnection: close\r\n\r\n",
	};
	static const char *const always_500[] = {
		"HTTP/1.1 500 Internal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.1 500 Internal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
	};
	azblob_error *e = azblob_error_new();
	azblob_opts *o = azblob_opts_new();
	struct srv s;
	azblob_ctx *c;

	CHECK(!srv_start(&s, busy_then_ok, 4));
	c = srv_ctx(&s);
	CHECK(!azblob_container_create(c, "cc1", e));
	CHECK(s.served == 4);
	azblob_ctx_free(c);
	srv_stop(&s);

	CHECK(!srv_start(&s, not_found, 1));
	c = srv_ctx(&s);
	CHECK(azblob_container_delete(c, "cc1", e) == AZBLOB_E_NOT_FOUND);
	CHECK_STR(azblob_error_message(e), "container not found: cc1");
	CHECK(s.served == 1);
	azblob_ctx_free(c);
	srv_stop(&s);

	/* A create that must not overwrite is not repeated after a 500. */
	CHECK(!srv_start(&s, always_500, 2));
	c = srv_ctx(&s);
	azblob_opts_set_overwrite(o, 0);
	CHECK(azblob_upload_buffer(c, "cc1", "b", "x", 1, o, e) ==
	      AZBLOB_E_SERVICE);
	CHECK(azblob_error_http_status(e) == 500);
	CHECK(s.served == 1);
	azblob_ctx_free(c);
	srv_stop(&s);

	/* Nobody listening: a network failure, after the retries. */
	{
		int port = s.port;
		char cs[160];

		snprintf(cs, sizeof(cs), "UseDevelopmentStorage=true;BlobEndpoint="
			 "http://127.0.0.1:%d/devstoreaccount1", port);
		CHECK(!azblob_ctx_new_from_connection_string(&c, cs, e));
		azblob_ctx_set_transport(c, AZBLOB_TRANSPORT_REST, NULL);
		azblob_ctx_set_retry(c, 2, 1, 2, NULL);
		CHECK(azblob_container_create(c, "cc1", e) == AZBLOB_E_NETWORK);
		CHECK(azblob_error_http_status(e) == 0);
		azblob_ctx_free(c);
	}
	azblob_opts_free(o);
	azblob_error_free(e);
}

static void auto_transport(void)
{
	azblob_ctx *c;
	azblob_error *e = azblob_error_new();

	/* No device: auto falls back to REST; driver alone fails. */
	CHECK(!azblob_ctx_new_from_connection_string(&c,
			"UseDevelopmentStorage=true", e));
	CHECK(!azblob_ctx_set_device(c, "/nonexistent/azure_blob", e));
	CHECK(!azblob_ctx_connect(c, e));
	CHECK(azblob_ctx_transport(c) == AZBLOB_TRANSPORT_REST);
	azblob_ctx_free(c);
	CHECK(!azblob_ctx_new_from_connection_string(&c,
			"UseDevelopmentStorage=true", e));
	azblob_ctx_set_device(c, "/nonexistent/azure_blob", e);
	azblob_ctx_set_transport(c, AZBLOB_TRANSPORT_DRIVER, e);
	CHECK(azblob_ctx_connect(c, e) == AZBLOB_E_DRIVER);
	CHECK(azblob_error_errno(e) == ENOENT);
	CHECK(azblob_ctx_transport(c) == AZBLOB_TRANSPORT_AUTO);
	azblob_ctx_free(c);
	azblob_error_free(e);
}

void unit_frame(void)
{
	t_run("frame: HsReq001 header, CRC, JSON, host-owned fields", build);
	t_run("frame: HsRes001 parsed, broken frames refused", response);
	t_run("driver: errno, host statuses, HTTP errors, retries",
	      driver_statuses);
	t_run("driver: data buffers, fields that did not fit, truncation",
	      driver_buffers);
	t_run("driver: range CRC-64 and MD5 checked, mismatches refused",
	      driver_checksums);
	t_run("rest: retries on 503, drop, 500; none on 404 or If-None-Match",
	      rest_retries);
	t_run("transport: auto falls back to REST, driver reports ENOENT",
	      auto_transport);
}
