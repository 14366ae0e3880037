// SPDX-License-Identifier: GPL-2.0
/*
 * The two transports of az_blob_blob: the driver (one ioctl per request,
 * HsReq001 in, HsRes001 out, the body in the data buffer) and, as the
 * baseline, a plain TCP connection from the guest to the same endpoint
 * carrying the very same signed request as HTTP/1.1. Both move bodies
 * straight between the caller's buffer and the transport.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <azblob.h>
#include <misc/hv_azure_blob.h>
#include <openssl/evp.h>

#include "../../az_blob_host/blob_service.h"
#include "../../az_blob_host/json.h"
#include "blob.h"

#define HEAD_CAP	(64U << 10)	/* response head, as the host's limit */
#define INLINE_CAP	(1U << 20)	/* TCP: body kept without a buffer */

static void set_err(struct blob_ans *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_err(struct blob_ans *a, const char *fmt, ...)
{
	va_list ap;

	if (a->error[0])
		return;
	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void add_header(struct blob_ans *a, const char *n, size_t nl,
		       const char *v, size_t vl)
{
	if (a->nh == ANS_MAX_HDRS)
		return;
	a->hn[a->nh] = strndup(n, nl);
	a->hv[a->nh] = strndup(v, vl);
	if (!a->hn[a->nh] || !a->hv[a->nh])
		abort();
	a->nh++;
}

void ans_free(struct blob_ans *a)
{
	for (int i = 0; i < a->nh; i++) {
		free(a->hn[i]);
		free(a->hv[i]);
	}
	free(a->inline_body);
	memset(a, 0, sizeof(*a));
}

const char *ans_header(const struct blob_ans *a, const char *name)
{
	for (int i = 0; i < a->nh; i++)
		if (!strcasecmp(a->hn[i], name))
			return a->hv[i];
	return NULL;
}

const char *ans_str(const struct blob_ans *a, char *buf, size_t len)
{
	const char *code = ans_header(a, "x-ms-error-code");

	if (a->error[0])
		snprintf(buf, len, "%s (status %#x, http %u)", a->error,
			 a->status, a->http);
	else
		snprintf(buf, len, "status %#x, http %u %s%s%s", a->status,
			 a->http, a->reason, code ? ", " : "", code ? code : "");
	return buf;
}

/* ------------------------------------------------------------------ */
/* The driver                                                          */
/* ------------------------------------------------------------------ */

/* Adapted from blob_client.c's parse_answer(), filling a blob_ans. */
static void parse_hsres(const unsigned char *b, size_t len, struct blob_ans *a)
{
	static const struct az_json_limits lim = {
		.max_depth = 4, .max_values = 100000, .max_string = 4U << 20,
	};
	struct az_json_doc doc = { 0 };
	const struct az_json *root, *m, *h;
	unsigned char *copy;
	uint64_t crc;

	if (len < AZ_BLOB_HDR_LEN) {
		set_err(a, "response shorter than its header (%zu)", len);
		return;
	}
	if (memcmp(b, AZ_BLOB_RES_MAGIC, AZ_BLOB_MAGIC_LEN) ||
	    le32(b + AZ_BLOB_RES_FORMAT_OFF) != AZ_BLOB_FORMAT_JSON) {
		set_err(a, "bad response magic or format");
		return;
	}
	copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, b, len);
	crc = le64(copy + AZ_BLOB_RES_CRC_OFF);
	memset(copy + AZ_BLOB_RES_CRC_OFF, 0, 8);
	if (azblob_crc64(0, copy, len) != crc) {
		free(copy);
		set_err(a, "bad response CRC");
		return;
	}
	free(copy);
	a->http = le32(b + AZ_BLOB_RES_STATUS_OFF);
	a->body_bytes = le32(b + AZ_BLOB_RES_BODY_OFF);
	a->needed = le32(b + AZ_BLOB_RES_NEEDED_OFF);
	if (len == AZ_BLOB_HDR_LEN)
		return;		/* header only (insufficient buffer) */
	if (az_json_parse((const char *)b + AZ_BLOB_HDR_LEN,
			  len - AZ_BLOB_HDR_LEN, &lim, &doc)) {
		set_err(a, "response JSON does not parse: %s", doc.error);
		goto out;
	}
	root = doc.root;
	if (root->type != AZ_JSON_OBJECT) {
		set_err(a, "response JSON not an object");
		goto out;
	}
	m = az_json_get(root, "reason");
	if (!m || m->type != AZ_JSON_STRING) {
		set_err(a, "no reason");
		goto out;
	}
	snprintf(a->reason, sizeof(a->reason), "%s", m->str);
	m = az_json_get(root, "headers");
	if (!m || m->type != AZ_JSON_ARRAY) {
		set_err(a, "no headers");
		goto out;
	}
	for (h = m->child; h; h = h->next) {
		if (h->type != AZ_JSON_ARRAY || h->len != 2 ||
		    h->child->type != AZ_JSON_STRING ||
		    h->child->next->type != AZ_JSON_STRING) {
			set_err(a, "a header is not two strings");
			goto out;
		}
		add_header(a, h->child->str, h->child->len, h->child->next->str,
			   h->child->next->len);
	}
	m = az_json_get(root, "truncated");
	if (!m || (m->type != AZ_JSON_TRUE && m->type != AZ_JSON_FALSE)) {
		set_err(a, "no truncated");
		goto out;
	}
	a->truncated = m->type == AZ_JSON_TRUE;
	m = az_json_get(root, "content_length");
	if (!m || (m->type != AZ_JSON_NULL &&
		   az_json_u64(m, &a->content_length))) {
		set_err(a, "bad content_length");
		goto out;
	}
	a->has_length = m->type != AZ_JSON_NULL;
	m = az_json_get(root, "body_base64");
	if (m) {
		int n;

		if (m->type != AZ_JSON_STRING) {
			set_err(a, "bad body_base64");
			goto out;
		}
		a->inline_body = malloc(m->len / 4 * 3 + 4);
		if (!a->inline_body)
			abort();
		n = EVP_DecodeBlock(a->inline_body,
				    (const unsigned char *)m->str, (int)m->len);
		if (n < 0) {
			set_err(a, "bad body_base64");
			goto out;
		}
		/* EVP_DecodeBlock counts the padding as bytes. */
		for (size_t i = m->len; i > 0 && m->str[i - 1] == '='; i--)
			n--;
		a->inline_len = (size_t)n;
	}
	a->parsed = true;
out:
	az_json_free(&doc);
}

int blob_call_raw(struct blob_conn *c, const void *req, size_t req_len,
		  const void *body, size_t body_len, void *dst, size_t dst_len,
		  struct blob_ans *a)
{
	struct az_blob_request_sync s;

	ans_free(a);
	if (req_len > REQ_CAP || c->resp_len > RESP_CAP) {
		set_err(a, "request of %zu bytes", req_len);
		return -1;
	}
	memcpy(c->req, req, req_len);
	memset(&s, 0, sizeof(s));
	snprintf((char *)s.guid, sizeof(s.guid), "azblob%09lu",
		 c->requests++ % 1000000000UL);
	s.timeout = c->timeout_ms;
	s.request_len = (uint32_t)req_len;
	s.request_buffer = (uintptr_t)c->req;
	s.response_len = c->resp_len;
	s.response_buffer = (uintptr_t)c->resp;
	if (body_len) {
		s.data_buffer = (uintptr_t)body;
		s.data_len = (uint32_t)body_len;
		s.data_valid = (uint32_t)body_len;
		s.flags = AZ_BLOB_DATA_HOST_READS;
	} else if (dst_len) {
		s.data_buffer = (uintptr_t)dst;
		s.data_len = (uint32_t)dst_len;
	}
	if (ioctl(c->fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, &s) < 0) {
		set_err(a, "ioctl: %s", strerror(errno));
		return -1;
	}
	a->status = s.response.status;
	a->response_len = s.response.response_len;
	if (a->response_len > c->resp_len) {
		set_err(a, "response_len %u beyond the buffer", a->response_len);
		return 0;
	}
	if (a->response_len)
		parse_hsres(c->resp, a->response_len, a);
	return 0;
}

/* ------------------------------------------------------------------ */
/* TCP                                                                 */
/* ------------------------------------------------------------------ */

struct rd {
	struct blob_conn *c;
	size_t pos, end;
};

static int tcp_connect(struct blob_conn *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = c->timeout_ms / 1000 };
	int one = 1;

	if (inet_pton(AF_INET, c->host, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	sa.sin_port = htons((uint16_t)c->port);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(c->fd);
		c->fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

static void tcp_close(struct blob_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

/* Everything of @iov (which it consumes), or -1. */
static int send_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)n };
		ssize_t k = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		while (n > 0 && (size_t)k >= iov->iov_len) {
			k -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + k;
			iov->iov_len -= (size_t)k;
		}
	}
	return 0;
}

static int rd_fill(struct rd *r)
{
	ssize_t k;

	if (r->pos == r->end)
		r->pos = r->end = 0;
	if (r->end == HEAD_CAP) {
		if (!r->pos) {
			errno = E2BIG;
			return -1;
		}
		memmove(r->c->head, r->c->head + r->pos, r->end - r->pos);
		r->end -= r->pos;
		r->pos = 0;
	}
	do {
		k = recv(r->c->fd, r->c->head + r->end, HEAD_CAP - r->end, 0);
	} while (k < 0 && errno == EINTR);
	if (k == 0)
		errno = ECONNRESET;
	if (k <= 0)
		return -1;
	r->end += (size_t)k;
	return 0;
}

/* One line (without CRLF), NUL-terminated in place; NULL on error. */
static char *rd_line(struct rd *r)
{
	for (;;) {
		char *s = r->c->head + r->pos;
		char *nl = memchr(s, '\n', r->end - r->pos);

		if (nl) {
			r->pos = (size_t)(nl - r->c->head) + 1;
			*nl = '\0';
			if (nl > s && nl[-1] == '\r')
				nl[-1] = '\0';
			return s;
		}
		if (rd_fill(r))
			return NULL;
	}
}

/* @n bytes to @dst (NULL: drop them): buffered ones first, then recv. */
static int rd_bytes(struct rd *r, void *dst, size_t n)
{
	static __thread char sink[65536];
	char *d = dst;

	while (n) {
		size_t k;
		ssize_t got;

		if (r->pos < r->end) {
			k = r->end - r->pos < n ? r->end - r->pos : n;
			if (d) {
				memcpy(d, r->c->head + r->pos, k);
				d += k;
			}
			r->pos += k;
			n -= k;
			continue;
		}
		k = d ? n : (n < sizeof(sink) ? n : sizeof(sink));
		got = recv(r->c->fd, d ? d : sink, k, 0);
		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0)
			errno = ECONNRESET;
		if (got <= 0)
			return -1;
		if (d)
			d += got;
		n -= (size_t)got;
	}
	return 0;
}

/* Body bytes [@done, @done + @n) of the response: into @dst, or inline. */
static int body_part(struct rd *r, struct blob_ans *a, size_t done, size_t n,
		     void *dst, size_t dst_len)
{
	size_t room, k;

	if (dst_len) {
		room = done < dst_len ? dst_len - done : 0;
		k = n < room ? n : room;
		if (k && rd_bytes(r, (char *)dst + done, k))
			return -1;
		a->body_bytes += (uint32_t)k;
	} else {
		room = done < INLINE_CAP ? INLINE_CAP - done : 0;
		k = n < room ? n : room;
		if (k) {
			unsigned char *p = realloc(a->inline_body, done + k);

			if (!p)
				abort();
			a->inline_body = p;
			if (rd_bytes(r, p + done, k))
				return -1;
			a->inline_len = done + k;
		}
	}
	if (k < n) {
		a->truncated = true;
		return rd_bytes(r, NULL, n - k);
	}
	return 0;
}

static const char *const methods[] = { "", "GET", "PUT", "HEAD", "DELETE",
				       "POST", "PATCH" };

static int tcp_exchange(struct blob_conn *c, const struct bc_req *q,
			const void *body, size_t body_len, void *dst,
			size_t dst_len, struct blob_ans *a, bool *sent_any)
{
	struct rd r = { .c = c };
	struct iovec iov[2];
	bool has_body = q->method == AZ_BLOB_PUT || q->method == AZ_BLOB_POST ||
			q->method == AZ_BLOB_PATCH;
	bool chunked = false, close_after = false, no_body;
	uint64_t cl = 0;
	size_t n = 0;
	char *line;

	*sent_any = false;
	n += (size_t)snprintf(c->head + n, HEAD_CAP - n, "%s %s%s%s HTTP/1.1\r\n"
			      "Host: %s:%u\r\n", methods[q->method], q->path,
			      q->query[0] ? "?" : "", q->query, c->host, c->port);
	for (int i = 0; i < q->nh && n < HEAD_CAP; i++)
		n += (size_t)snprintf(c->head + n, HEAD_CAP - n, "%s: %s\r\n",
				      q->h[i].name, q->h[i].value);
	if (has_body && n < HEAD_CAP)
		n += (size_t)snprintf(c->head + n, HEAD_CAP - n,
				      "Content-Length: %zu\r\n", body_len);
	if (n < HEAD_CAP)
		n += (size_t)snprintf(c->head + n, HEAD_CAP - n,
				      "Connection: keep-alive\r\n\r\n");
	if (n >= HEAD_CAP) {
		set_err(a, "request head too long");
		return -1;
	}
	iov[0].iov_base = c->head;
	iov[0].iov_len = n;
	iov[1].iov_base = (void *)body;
	iov[1].iov_len = has_body ? body_len : 0;
	if (send_all(c->fd, iov, iov[1].iov_len ? 2 : 1)) {
		set_err(a, "send: %s", strerror(errno));
		return -1;
	}
	*sent_any = true;

	/* The head: status line, fields (100 Continue skipped). */
	do {
		line = rd_line(&r);
		if (!line)
			goto io;
		if (strncmp(line, "HTTP/1.", 7) || strlen(line) < 12) {
			set_err(a, "bad status line");
			return -1;
		}
		a->http = (unsigned int)atoi(line + 9);
		snprintf(a->reason, sizeof(a->reason), "%s",
			 strlen(line) > 13 ? line + 13 : "");
		close_after = line[7] == '0';
		for (;;) {
			char *colon, *v;

			line = rd_line(&r);
			if (!line)
				goto io;
			if (!*line)
				break;
			colon = strchr(line, ':');
			if (!colon) {
				set_err(a, "bad header line");
				return -1;
			}
			*colon = '\0';
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			if (!strcasecmp(line, "Content-Length")) {
				cl = strtoull(v, NULL, 10);
				a->has_length = true;
			} else if (!strcasecmp(line, "Transfer-Encoding")) {
				chunked = !!strcasestr(v, "chunked");
			} else if (!strcasecmp(line, "Connection")) {
				if (strcasestr(v, "close"))
					close_after = true;
				continue;
			} else if (!strcasecmp(line, "Keep-Alive")) {
				continue;
			}
			add_header(a, line, strlen(line), v, strlen(v));
		}
	} while (a->http >= 100 && a->http < 200);

	no_body = q->method == AZ_BLOB_HEAD || a->http == 204 || a->http == 304;
	a->parsed = true;
	if (no_body) {
		a->content_length = cl;
		goto done;
	}
	if (chunked) {
		size_t done = 0;

		a->has_length = false;
		for (;;) {
			unsigned long long sz;

			line = rd_line(&r);
			if (!line)
				goto io;
			sz = strtoull(line, NULL, 16);
			if (!sz)
				break;
			if (body_part(&r, a, done, sz, dst, dst_len))
				goto io;
			done += sz;
			line = rd_line(&r);
			if (!line)
				goto io;
		}
		do {	/* trailer fields, then the empty line */
			line = rd_line(&r);
			if (!line)
				goto io;
		} while (*line);
		a->has_length = true;
		a->content_length = done;
	} else if (a->has_length) {
		a->content_length = cl;
		if (body_part(&r, a, 0, cl, dst, dst_len))
			goto io;
	} else {
		set_err(a, "response body without a length");
		tcp_close(c);
		return -1;
	}
done:
	if (r.pos != r.end || close_after)
		tcp_close(c);
	return 0;
io:
	set_err(a, "receive: %s", strerror(errno));
	return -1;
}

static int tcp_call(struct blob_conn *c, const struct bc_req *q,
		    const void *body, size_t body_len, void *dst,
		    size_t dst_len, struct blob_ans *a)
{
	bool fresh = false, sent;
	int ret;

	/* As the host: a connection idle for 3 s may be closing. */
	if (c->fd >= 0 && now_s() - c->last_use > 3.0)
		tcp_close(c);
	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->fd < 0) {
			if (tcp_connect(c)) {
				set_err(a, "connect %s:%u: %s", c->host, c->port,
					strerror(errno));
				return -1;
			}
			fresh = true;
		}
		ret = tcp_exchange(c, q, body, body_len, dst, dst_len, a,
				   &sent);
		c->requests++;
		c->last_use = now_s();
		if (!ret)
			return 0;
		tcp_close(c);
		/* A kept-alive connection that was dead before we sent. */
		if (fresh || sent)
			return -1;
		ans_free(a);
	}
	return -1;
}

/* ------------------------------------------------------------------ */

int blob_call(struct blob_conn *c, struct bc_req *r, const void *body,
	      size_t body_len, void *dst, size_t dst_len, struct blob_ans *a)
{
	unsigned char *frame;
	size_t len;
	int ret;

	ans_free(a);
	if (bc_sign(r, BC_ACCOUNT, c->key, body_len)) {
		set_err(a, "cannot sign with this key");
		return -1;
	}
	if (c->tcp)
		return tcp_call(c, r, body, body_len, dst, dst_len, a);
	frame = bc_frame(r, &len);
	ret = blob_call_raw(c, frame, len, body, body_len, dst, dst_len, a);
	free(frame);
	return ret;
}

int conn_init(struct blob_conn *c, const char *dev, const char *tcp,
	      const char *key)
{
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->key = key;
	c->timeout_ms = 300000;
	c->resp_len = RESP_LEN;
	if (tcp) {
		const char *colon = strrchr(tcp, ':');

		if (!colon || (size_t)(colon - tcp) >= sizeof(c->host)) {
			fprintf(stderr, "az_blob_blob: --tcp HOST:PORT, not %s\n",
				tcp);
			return -1;
		}
		memcpy(c->host, tcp, (size_t)(colon - tcp));
		c->port = (unsigned int)atoi(colon + 1);
		c->tcp = true;
		c->head = malloc(HEAD_CAP);
		if (!c->head)
			return -1;
		return 0;
	}
	c->req = page_alloc(REQ_CAP);
	c->resp = page_alloc(RESP_CAP);
	c->fd = open(dev, O_RDWR | O_CLOEXEC);
	if (c->fd < 0) {
		fprintf(stderr, "az_blob_blob: %s: %s\n", dev, strerror(errno));
		return -1;
	}
	return 0;
}

void conn_fini(struct blob_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->head);
	if (c->req)
		page_free(c->req, REQ_CAP);
	if (c->resp)
		page_free(c->resp, RESP_CAP);
	c->head = NULL;
	c->req = c->resp = NULL;
}
