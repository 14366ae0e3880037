// SPDX-License-Identifier: GPL-2.0
/*
 * The host VSP's HTTP/1.1 client (see http.h for the contract and why it
 * is not libcurl).
 *
 * Every socket is non-blocking; every wait is a poll() bounded by the
 * request's deadline and cut into slices of at most POLL_SLICE_MS so that
 * the cancel flag, which has no file descriptor, is seen soon. Request
 * bodies go out with sendmsg() over the guest's pieces (the head in front
 * of the first piece, one call); response bodies come in with readv() into
 * the guest's pieces. The only guest bytes that pass through host memory
 * are those that arrive in the same read as the response head or a chunk
 * line (at most HEAD_READ or LINE_READ bytes each).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

/* Longest wait between looks at the cancel flag. */
#define POLL_SLICE_MS	50
/* Pieces handed to one sendmsg()/readv(), and bytes asked for at most. */
#define IOV_BATCH	256
#define IO_CHUNK	(8U << 20)
/* First size of the response head buffer (grows to AZ_HTTP_MAX_HEAD). */
#define HEAD_READ	(8U << 10)
/* Bytes read at once while looking for the end of a chunk line. */
#define LINE_READ	256
/* Longest chunk-size line (with extensions) and trailer field. */
#define LINE_MAX_LEN	(8U << 10)
#define DRAIN_READ	(16U << 10)

/* Internal result: a pooled connection that failed before the first byte. */
#define STALE_BEFORE_SEND	1U

struct conn {
	int fd;
	uint64_t idle_since;
	struct conn *next;
};

struct az_http_pool {
	pthread_mutex_t lock;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char host[300];
	struct conn *idle;
	unsigned int nidle;
	_Atomic uint64_t connects, reuses, stale, retries, requests;
};

uint64_t az_http_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct az_http_pool *az_http_pool_new(const char *url, char *err,
				      size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct az_http_pool *pool;
	const char *p = url, *h, *hend, *port = "80";
	char host[256], portbuf[8];
	size_t hl;
	int rc;

	if (strncasecmp(p, "http://", 7)) {
		snprintf(err, errlen, "%s: only http:// endpoints", url);
		return NULL;
	}
	p += 7;
	h = p;
	if (*p == '[') {
		hend = strchr(p, ']');
		if (!hend) {
			snprintf(err, errlen, "%s: unterminated [", url);
			return NULL;
		}
		h = p + 1;
		p = hend + 1;
	} else {
		p += strcspn(p, ":/");
		hend = p;
	}
	hl = (size_t)(hend - h);
	if (hl == 0 || hl >= sizeof(host)) {
		snprintf(err, errlen, "%s: bad host", url);
		return NULL;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	if (*p == ':') {
		size_t n = strspn(p + 1, "0123456789");

		if (n == 0 || n > 5 || atoi(p + 1) > 65535 || atoi(p + 1) == 0) {
			snprintf(err, errlen, "%s: bad port", url);
			return NULL;
		}
		memcpy(portbuf, p + 1, n);
		portbuf[n] = '\0';
		port = portbuf;
		p += 1 + n;
	}
	if (*p == '/')
		p++;
	if (*p) {
		snprintf(err, errlen, "%s: an endpoint has no path", url);
		return NULL;
	}
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
		return NULL;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool) {
		freeaddrinfo(ai);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	memcpy(&pool->addr, ai->ai_addr, ai->ai_addrlen);
	pool->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	/* The Host field: the authority as the endpoint names it. */
	snprintf(pool->host, sizeof(pool->host), "%.*s",
		 (int)(p - (url + 7) - (p[-1] == '/' ? 1 : 0)), url + 7);
	pthread_mutex_init(&pool->lock, NULL);
	return pool;
}

void az_http_pool_free(struct az_http_pool *pool)
{
	struct conn *c, *next;

	if (!pool)
		return;
	for (c = pool->idle; c; c = next) {
		next = c->next;
		close(c->fd);
		free(c);
	}
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

void az_http_pool_stats(struct az_http_pool *pool, struct az_http_stats *st)
{
	st->connects = pool->connects;
	st->reuses = pool->reuses;
	st->stale = pool->stale;
	st->retries = pool->retries;
	st->requests = pool->requests;
}

void az_http_pool_break_idle(struct az_http_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	for (struct conn *c = pool->idle; c; c = c->next)
		shutdown(c->fd, SHUT_WR);
	pthread_mutex_unlock(&pool->lock);
}

static void conn_close(struct conn *c)
{
	if (c) {
		close(c->fd);
		free(c);
	}
}

/* A pooled connection that still looks usable, or NULL. */
static struct conn *pool_get(struct az_http_pool *pool)
{
	for (;;) {
		struct conn *c;
		struct pollfd pfd;
		uint64_t now;

		pthread_mutex_lock(&pool->lock);
		c = pool->idle;
		if (c) {
			pool->idle = c->next;
			pool->nidle--;
		}
		pthread_mutex_unlock(&pool->lock);
		if (!c)
			return NULL;
		now = az_http_now_ns();
		pfd.fd = c->fd;
		pfd.events = POLLIN | POLLRDHUP;
		pfd.revents = 0;
		/* Readable while idle: the server closed it (or misbehaves). */
		if (now - c->idle_since > AZ_HTTP_IDLE_MAX_MS * 1000000ULL ||
		    poll(&pfd, 1, 0) != 0) {
			pool->stale++;
			conn_close(c);
			continue;
		}
		return c;
	}
}

static void pool_put(struct az_http_pool *pool, struct conn *c)
{
	c->idle_since = az_http_now_ns();
	pthread_mutex_lock(&pool->lock);
	if (pool->nidle < AZ_HTTP_POOL_MAX) {
		c->next = pool->idle;
		pool->idle = c;
		pool->nidle++;
		c = NULL;
	}
	pthread_mutex_unlock(&pool->lock);
	conn_close(c);
}

static bool cancelled(const struct az_http_request *req)
{
	return req->cancel && atomic_load(req->cancel);
}

/*
 * Wait until @fd has one of @events. @stall_end is the no-progress limit
 * when the request has no deadline (reset by the caller after progress).
 */
static uint32_t wait_fd(int fd, short events, const struct az_http_request *req,
			uint64_t stall_end, short *revents)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		uint64_t now, end;
		int ms, n;

		if (cancelled(req))
			return AZ_HOST_CANCELLED;
		now = az_http_now_ns();
		end = req->deadline_ns ? req->deadline_ns : stall_end;
		if (now >= end)
			return AZ_HOST_TIMEOUT;
		ms = (int)((end - now + 999999) / 1000000);
		if (ms > POLL_SLICE_MS)
			ms = POLL_SLICE_MS;
		n = poll(&pfd, 1, ms);
		if (n < 0 && errno != EINTR)
			return AZ_HOST_CONNECTION_ABORTED;
		if (n > 0) {
			*revents = pfd.revents;
			return AZ_HOST_OK;
		}
	}
}

static uint64_t stall_from_now(void)
{
	return az_http_now_ns() + AZ_HTTP_STALL_MS * 1000000ULL;
}

static uint32_t conn_open(struct az_http_pool *pool,
			  const struct az_http_request *req, struct conn **out)
{
	struct conn *c;
	int fd, one = 1, soerr = 0;
	socklen_t sl = sizeof(soerr);
	short rev;
	uint32_t st;

	fd = socket(pool->addr.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOMEM || errno == ENOBUFS ?
			AZ_HOST_OUT_OF_MEMORY : AZ_HOST_CONNECTION_REFUSED;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&pool->addr, pool->addrlen) < 0) {
		if (errno != EINPROGRESS) {
			close(fd);
			return AZ_HOST_CONNECTION_REFUSED;
		}
		st = wait_fd(fd, POLLOUT, req, stall_from_now(), &rev);
		if (st) {
			close(fd);
			return st;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 ||
		    soerr) {
			close(fd);
			return AZ_HOST_CONNECTION_REFUSED;
		}
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return AZ_HOST_OUT_OF_MEMORY;
	}
	c->fd = fd;
	pool->connects++;
	*out = c;
	return AZ_HOST_OK;
}

/*
 * Pieces of @buf from @off covering as many bytes as @max entries allow,
 * up to @len; *@chunk adapts to the buffer's piece sizes. Returns the
 * number of entries and sets *@bytes, or -1 (a bug: out of range).
 */
static int slice_some(const struct az_host_buf *buf, size_t off, size_t len,
		      struct iovec *iov, int max, size_t *chunk, size_t *bytes)
{
	for (;;) {
		size_t want = len < *chunk ? len : *chunk;
		int n = az_host_buf_slice(buf, off, want, iov, max);

		if (n >= 0) {
			*bytes = want;
			return n;
		}
		if (*chunk <= 1)
			return -1;
		*chunk /= 2;
	}
}

/*
 * Send the head and body. Returns AZ_HOST_OK, STALE_BEFORE_SEND (nothing
 * sent on a connection that failed), or an AZ_HOST_* error. *@early is set
 * when the service started answering before the body was all sent.
 */
static uint32_t send_request(struct conn *c, const struct az_http_request *req,
			     const char *head, size_t head_len, bool *early)
{
	struct iovec iov[IOV_BATCH + 1];
	size_t head_off = 0, body_off = 0, chunk = IO_CHUNK;
	size_t body_len = req->has_body ? req->body_len : 0;
	uint64_t stall_end = stall_from_now();
	bool sent_any = false;

	*early = false;
	while (head_off < head_len || body_off < body_len) {
		struct msghdr msg = { .msg_iov = iov };
		size_t bytes = 0;
		ssize_t n;
		int k = 0;

		if (cancelled(req))
			return AZ_HOST_CANCELLED;
		if (head_off < head_len) {
			iov[0].iov_base = (char *)head + head_off;
			iov[0].iov_len = head_len - head_off;
			k = 1;
		}
		if (body_off < body_len) {
			int m = slice_some(req->body, body_off,
					   body_len - body_off, iov + k,
					   IOV_BATCH, &chunk, &bytes);

			if (m < 0)
				return AZ_HOST_INVALID_ARG;
			k += m;
		}
		msg.msg_iovlen = (size_t)k;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			short rev = 0;
			uint32_t st;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return sent_any ? AZ_HOST_CONNECTION_ABORTED :
						  STALE_BEFORE_SEND;
			st = wait_fd(c->fd, POLLOUT | POLLIN, req, stall_end,
				     &rev);
			if (st)
				return st;
			if (rev & (POLLIN | POLLHUP | POLLERR)) {
				/* An early answer (or a close): read it. */
				*early = true;
				return sent_any ? AZ_HOST_OK : STALE_BEFORE_SEND;
			}
			continue;
		}
		if (n > 0) {
			sent_any = true;
			stall_end = stall_from_now();
		}
		if (head_off < head_len) {
			size_t h = head_len - head_off;

			if ((size_t)n < h) {
				head_off += (size_t)n;
				continue;
			}
			head_off = head_len;
			n -= (ssize_t)h;
		}
		body_off += (size_t)n;
	}
	return AZ_HOST_OK;
}

/* The response reader: bytes already read sit in @pend. */
struct reader {
	struct conn *c;
	const struct az_http_request *req;
	const char *pend;
	size_t pend_len;
	uint64_t stall_end;
	char line[LINE_READ];
};

/* recv() or readv() that waits; 0 at EOF. */
static uint32_t rd_readv(struct reader *rd, struct iovec *iov, int n,
			 size_t *got)
{
	for (;;) {
		ssize_t r;
		short rev;
		uint32_t st;

		if (cancelled(rd->req))
			return AZ_HOST_CANCELLED;
		r = readv(rd->c->fd, iov, n);
		if (r >= 0) {
			*got = (size_t)r;
			rd->stall_end = stall_from_now();
			return AZ_HOST_OK;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return AZ_HOST_CONNECTION_ABORTED;
		st = wait_fd(rd->c->fd, POLLIN, rd->req, rd->stall_end, &rev);
		if (st)
			return st;
	}
}

static uint32_t rd_read(struct reader *rd, void *dst, size_t len, size_t *got)
{
	struct iovec iov = { .iov_base = dst, .iov_len = len };

	return rd_readv(rd, &iov, 1, got);
}

/* Read one line ending in CRLF into @out (without it); bounded. */
static uint32_t rd_line(struct reader *rd, char *out, size_t max,
			size_t *len)
{
	size_t n = 0;

	for (;;) {
		while (rd->pend_len) {
			char ch = *rd->pend++;

			rd->pend_len--;
			if (ch == '\n') {
				if (n == 0 || out[n - 1] != '\r')
					return AZ_HOST_CONNECTION_ABORTED;
				*len = n - 1;
				return AZ_HOST_OK;
			}
			if (n == max)
				return AZ_HOST_CONNECTION_ABORTED;
			out[n++] = ch;
		}
		{
			size_t got;
			uint32_t st = rd_read(rd, rd->line, sizeof(rd->line),
					      &got);

			if (st)
				return st;
			if (got == 0)
				return AZ_HOST_CONNECTION_ABORTED;
			rd->pend = rd->line;
			rd->pend_len = got;
		}
	}
}

/* Where a body goes, and how much of it was dropped past the end. */
struct body_pos {
	const struct az_http_sink *sink;
	size_t off;		/* bytes stored */
	uint64_t total;		/* bytes of body seen */
	uint64_t dropped;	/* bytes past the sink's end */
	bool gave_up;		/* dropped more than AZ_HTTP_DRAIN_MAX */
	size_t chunk;
};

/*
 * Move @len body bytes (all until EOF when @to_eof) from the connection
 * to @bp's sink. Sets bp->gave_up (and returns OK) when the rest is not
 * worth reading.
 */
static uint32_t rd_body(struct reader *rd, struct body_pos *bp, uint64_t len,
			bool to_eof)
{
	const struct az_http_sink *s = bp->sink;
	char drain[DRAIN_READ];

	while (to_eof || len) {
		size_t got = 0, room = bp->off < s->max ? s->max - bp->off : 0;
		size_t want = to_eof || len > SIZE_MAX ? SIZE_MAX : (size_t)len;
		uint32_t st;

		if (rd->pend_len) {
			size_t k = want < rd->pend_len ? want : rd->pend_len;
			size_t keep = k < room ? k : room;

			if (keep) {
				if (s->buf) {
					if (az_host_buf_write(s->buf, bp->off,
							      rd->pend, keep))
						return AZ_HOST_INVALID_ARG;
				} else {
					memcpy(s->mem + bp->off, rd->pend,
					       keep);
				}
				bp->off += keep;
			}
			bp->dropped += k - keep;
			rd->pend += k;
			rd->pend_len -= k;
			got = k;
		} else if (room) {
			size_t k = want < room ? want : room;

			if (s->buf) {
				struct iovec iov[IOV_BATCH];
				size_t bytes;
				int n = slice_some(s->buf, bp->off, k, iov,
						   IOV_BATCH, &bp->chunk,
						   &bytes);

				if (n < 0)
					return AZ_HOST_INVALID_ARG;
				st = rd_readv(rd, iov, n, &got);
			} else {
				st = rd_read(rd, s->mem + bp->off, k, &got);
			}
			if (st)
				return st;
			bp->off += got;
		} else {
			size_t k = want < sizeof(drain) ? want : sizeof(drain);
			uint64_t allow = bp->dropped < AZ_HTTP_DRAIN_MAX ?
				AZ_HTTP_DRAIN_MAX - bp->dropped : 0;

			/* Not worth reading: give up at once. */
			if (to_eof ? allow == 0 : len > allow) {
				bp->gave_up = true;
				return AZ_HOST_OK;
			}
			st = rd_read(rd, drain, k, &got);
			if (st)
				return st;
			bp->dropped += got;
		}
		if (got == 0) {
			/* EOF (pend is never empty-and-chosen) */
			if (to_eof)
				return AZ_HOST_OK;
			return AZ_HOST_CONNECTION_ABORTED;
		}
		bp->total += got;
		if (!to_eof)
			len -= got;
	}
	return AZ_HOST_OK;
}

static uint32_t rd_chunked(struct reader *rd, struct body_pos *bp)
{
	char *line = malloc(LINE_MAX_LEN);
	size_t trailer = 0;
	uint32_t st = AZ_HOST_OUT_OF_MEMORY;

	if (!line)
		return st;
	for (;;) {
		uint64_t size = 0;
		size_t len, i;

		st = rd_line(rd, line, LINE_MAX_LEN, &len);
		if (st)
			goto out;
		for (i = 0; i < len; i++) {
			int d;
			char ch = line[i];

			if (ch >= '0' && ch <= '9')
				d = ch - '0';
			else if (ch >= 'a' && ch <= 'f')
				d = ch - 'a' + 10;
			else if (ch >= 'A' && ch <= 'F')
				d = ch - 'A' + 10;
			else
				break;
			if (size >> 59) {
				st = AZ_HOST_CONNECTION_ABORTED;
				goto out;
			}
			size = size << 4 | (uint64_t)d;
		}
		/* At least one digit; then nothing, or extensions. */
		if (i == 0 || (i < len && line[i] != ';' && line[i] != ' ' &&
			       line[i] != '\t')) {
			st = AZ_HOST_CONNECTION_ABORTED;
			goto out;
		}
		if (size == 0)
			break;
		st = rd_body(rd, bp, size, false);
		if (st || bp->gave_up)
			goto out;
		st = rd_line(rd, line, LINE_MAX_LEN, &len);
		if (st)
			goto out;
		if (len) {
			st = AZ_HOST_CONNECTION_ABORTED;
			goto out;
		}
	}
	/* Trailer fields, dropped, up to the empty line. */
	for (;;) {
		size_t len;

		st = rd_line(rd, line, LINE_MAX_LEN, &len);
		if (st)
			goto out;
		if (len == 0)
			break;
		trailer += len + 2;
		if (trailer > AZ_HTTP_MAX_HEAD) {
			st = AZ_HOST_CONNECTION_ABORTED;
			goto out;
		}
	}
out:
	free(line);
	return st;
}

static bool is_tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool name_is(const struct az_http_field *f, const char *name)
{
	return f->name_len == strlen(name) &&
	       !strncasecmp(f->name, name, f->name_len);
}

/* Does the comma-separated list @v contain the token @tok? */
static bool has_token(const char *v, size_t len, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < len) {
		size_t s, e;

		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < len && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && !strncasecmp(v + s, tok, tl))
			return true;
	}
	return false;
}

struct head_info {
	bool http10;
	bool close;
	bool chunked;
};

/*
 * Parse the head in resp->head[0, len) (ending in CRLF CRLF) in place.
 */
static uint32_t parse_head(struct az_http_response *resp, size_t len,
			   struct head_info *hi)
{
	char *p = resp->head, *end = resp->head + len - 2, *eol;
	unsigned int te = 0;

	memset(hi, 0, sizeof(*hi));
	resp->nfields = 0;
	resp->has_length = false;
	eol = memchr(p, '\r', (size_t)(end - p));
	if (!eol || eol[1] != '\n' || eol - p < 12)
		return AZ_HOST_CONNECTION_ABORTED;
	if (!memcmp(p, "HTTP/1.0 ", 9))
		hi->http10 = true;
	else if (memcmp(p, "HTTP/1.1 ", 9))
		return AZ_HOST_CONNECTION_ABORTED;
	if (p[9] < '1' || p[9] > '9' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9' ||
	    (eol - p > 12 && p[12] != ' '))
		return AZ_HOST_CONNECTION_ABORTED;
	resp->status = (unsigned int)((p[9] - '0') * 100 + (p[10] - '0') * 10 +
				      (p[11] - '0'));
	resp->reason = eol - p > 12 ? p + 13 : p + 12;
	resp->reason_len = (size_t)(eol - resp->reason);
	for (const char *q = resp->reason; q < eol; q++)
		if ((unsigned char)*q < 0x20 && *q != '\t')
			return AZ_HOST_CONNECTION_ABORTED;
	p = eol + 2;
	while (p < end) {
		struct az_http_field *f;
		char *colon, *v, *ve;

		eol = memchr(p, '\r', (size_t)(end - p) + 1);
		if (!eol || eol[1] != '\n')
			return AZ_HOST_CONNECTION_ABORTED;
		colon = p;
		while (colon < eol && is_tchar((unsigned char)*colon))
			colon++;
		/* No name, a space before the colon, or obs-fold: refused. */
		if (colon == p || colon == eol || *colon != ':')
			return AZ_HOST_CONNECTION_ABORTED;
		if (resp->nfields == AZ_HTTP_MAX_FIELDS)
			return AZ_HOST_CONNECTION_ABORTED;
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		ve = eol;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *q = v; q < ve; q++)
			if (*q == '\0' || *q == '\n')
				return AZ_HOST_CONNECTION_ABORTED;
		f = &resp->fields[resp->nfields++];
		f->name = p;
		f->name_len = (size_t)(colon - p);
		f->value = v;
		f->value_len = (size_t)(ve - v);
		if (name_is(f, "Content-Length")) {
			uint64_t cl = 0;

			if (f->value_len == 0 || f->value_len > 18)
				return AZ_HOST_CONNECTION_ABORTED;
			for (size_t i = 0; i < f->value_len; i++) {
				if (v[i] < '0' || v[i] > '9')
					return AZ_HOST_CONNECTION_ABORTED;
				cl = cl * 10 + (uint64_t)(v[i] - '0');
			}
			if (resp->has_length && resp->content_length != cl)
				return AZ_HOST_CONNECTION_ABORTED;
			resp->has_length = true;
			resp->content_length = cl;
		} else if (name_is(f, "Transfer-Encoding")) {
			if (te++ || f->value_len != 7 ||
			    strncasecmp(v, "chunked", 7))
				return AZ_HOST_CONNECTION_ABORTED;
			hi->chunked = true;
		} else if (name_is(f, "Connection")) {
			if (has_token(v, f->value_len, "close"))
				hi->close = true;
		}
		p = eol + 2;
	}
	/* Both framings: the chunked one counts, and the connection ends. */
	if (hi->chunked && resp->has_length)
		hi->close = true;
	return AZ_HOST_OK;
}

/* Read one response head; the bytes after it are left in rd->pend. */
static uint32_t read_head(struct reader *rd, struct az_http_response *resp,
			  size_t *filled, size_t *cap, size_t *head_len)
{
	size_t scan = 0;

	for (;;) {
		char *crlf2 = NULL;
		size_t got;
		uint32_t st;

		for (size_t i = scan; i + 4 <= *filled; i++) {
			if (!memcmp(resp->head + i, "\r\n\r\n", 4)) {
				crlf2 = resp->head + i;
				break;
			}
		}
		if (crlf2) {
			*head_len = (size_t)(crlf2 - resp->head) + 4;
			return AZ_HOST_OK;
		}
		scan = *filled >= 3 ? *filled - 3 : 0;
		if (*filled == *cap) {
			char *nh;

			if (*cap >= AZ_HTTP_MAX_HEAD)
				return AZ_HOST_CONNECTION_ABORTED;
			nh = realloc(resp->head, *cap * 2);
			if (!nh)
				return AZ_HOST_OUT_OF_MEMORY;
			resp->head = nh;
			*cap *= 2;
		}
		st = rd_read(rd, resp->head + *filled, *cap - *filled, &got);
		if (st)
			return st;
		if (got == 0)
			return AZ_HOST_CONNECTION_ABORTED;
		*filled += got;
	}
}

/*
 * Read the response on @c. *@reusable tells whether the connection may
 * serve another request.
 */
static uint32_t read_response(struct conn *c, const struct az_http_request *req,
			      const struct az_http_sink *sink,
			      struct az_http_response *resp, bool *reusable)
{
	struct reader rd = { .c = c, .req = req, .stall_end = stall_from_now() };
	struct body_pos bp = { .sink = sink, .chunk = IO_CHUNK };
	struct head_info hi;
	size_t cap = HEAD_READ, filled = 0, head_len;
	uint32_t st;
	bool no_body, to_eof = false;

	*reusable = false;
	resp->head = malloc(cap);
	resp->fields = calloc(AZ_HTTP_MAX_FIELDS, sizeof(*resp->fields));
	if (!resp->head || !resp->fields)
		return AZ_HOST_OUT_OF_MEMORY;
	for (;;) {
		st = read_head(&rd, resp, &filled, &cap, &head_len);
		if (st)
			return st;
		st = parse_head(resp, head_len, &hi);
		if (st)
			return st;
		if (resp->status >= 200)
			break;
		/* 1xx interim (never 101: nothing asked to upgrade): skip. */
		if (resp->status == 101)
			return AZ_HOST_CONNECTION_ABORTED;
		memmove(resp->head, resp->head + head_len, filled - head_len);
		filled -= head_len;
	}
	rd.pend = resp->head + head_len;
	rd.pend_len = filled - head_len;

	no_body = req->no_response_body || resp->status == 204 ||
		  resp->status == 304;
	if (no_body) {
		st = AZ_HOST_OK;
	} else if (hi.chunked) {
		st = rd_chunked(&rd, &bp);
	} else if (resp->has_length) {
		st = rd_body(&rd, &bp, resp->content_length, false);
	} else {
		to_eof = true;
		st = rd_body(&rd, &bp, 0, true);
	}
	if (st)
		return st;
	resp->stored = bp.off;
	resp->truncated = bp.dropped > 0 || bp.gave_up;
	resp->body_total_known = !bp.gave_up;
	resp->body_total = bp.total;
	*reusable = !hi.http10 && !hi.close && !to_eof && !bp.gave_up &&
		    rd.pend_len == 0;
	return AZ_HOST_OK;
}

uint32_t az_http_do(struct az_http_pool *pool,
		    const struct az_http_request *req,
		    const struct az_http_sink *sink,
		    struct az_http_response *resp)
{
	static const char conn_field[] = "Connection: keep-alive\r\n\r\n";
	size_t cap = strlen(req->method) + req->target_len + strlen(pool->host) +
		     req->fields_len + sizeof(conn_field) + 64;
	char *head = malloc(cap);
	struct conn *c = NULL;
	uint32_t st;
	size_t len;
	bool early, reusable = false;

	memset(resp, 0, sizeof(*resp));
	if (!head)
		return AZ_HOST_OUT_OF_MEMORY;
	len = (size_t)snprintf(head, cap, "%s %.*s HTTP/1.1\r\nHost: %s\r\n",
			       req->method, (int)req->target_len, req->target,
			       pool->host);
	memcpy(head + len, req->fields, req->fields_len);
	len += req->fields_len;
	if (req->has_body)
		len += (size_t)snprintf(head + len, cap - len,
					"Content-Length: %zu\r\n",
					req->body_len);
	memcpy(head + len, conn_field, sizeof(conn_field) - 1);
	len += sizeof(conn_field) - 1;

	pool->requests++;
	for (int attempt = 0;; attempt++) {
		bool reused = false;

		if (cancelled(req)) {
			st = AZ_HOST_CANCELLED;
			goto out;
		}
		if (req->deadline_ns && az_http_now_ns() >= req->deadline_ns) {
			st = AZ_HOST_TIMEOUT;
			goto out;
		}
		if (attempt == 0)
			c = pool_get(pool);
		if (c) {
			reused = true;
			pool->reuses++;
		} else {
			st = conn_open(pool, req, &c);
			if (st)
				goto out;
		}
		st = send_request(c, req, head, len, &early);
		if (st == STALE_BEFORE_SEND && reused && attempt == 0) {
			conn_close(c);
			c = NULL;
			pool->retries++;
			continue;
		}
		if (st == STALE_BEFORE_SEND)
			st = AZ_HOST_CONNECTION_ABORTED;
		break;
	}
	if (st)
		goto out;
	st = read_response(c, req, sink, resp, &reusable);
	if (early)
		reusable = false;
out:
	if (c && !st && reusable)
		pool_put(pool, c);
	else
		conn_close(c);
	free(head);
	return st;
}

void az_http_response_free(struct az_http_response *resp)
{
	free(resp->head);
	free(resp->fields);
	resp->head = NULL;
	resp->fields = NULL;
}
