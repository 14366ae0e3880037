// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Downloads: ranged reads (x-ms-range) of one chunk each, in parallel.
 *
 * The first chunk is read by the calling thread; its answer says the
 * blob's size (Content-Range), ETag and stored MD5. The other chunks go to
 * workers, each with If-Match: that ETag, so that a blob replaced during
 * the download fails it instead of mixing two versions. Into a buffer,
 * workers write straight into it. Into a stream (callback or fd), each
 * chunk lands in one of concurrency + 2 chunk buffers and the calling
 * thread hands the chunks over in order, so memory stays bounded.
 *
 * Checks: a range of at most 4 MiB comes with the service's CRC-64 or MD5
 * of it when asked (x-ms-range-get-content-crc64/-md5) and is checked
 * against it; a whole blob with a stored Content-MD5 is checked against
 * that in MD5 mode.
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "transfer.h"

struct down;

struct chunk {
	struct azb_task task;
	struct down *d;
	struct chunk *next;	/* free list */
	unsigned char *buf;	/* stream mode: owned */
	uint64_t off;
	size_t len;
	uint64_t seq;
	bool ready;
	int rc;
	azblob_error err;
};

struct down {
	struct azblob_ctx *ctx;
	const char *container, *blob;
	const azblob_opts *opts;
	enum azblob_checksum ck;
	unsigned char *dst;	/* buffer mode */
	uint64_t start;		/* offset of dst[0] in the blob */
	azblob_write_fn write;	/* stream mode */
	void *arg;
	size_t chunk;
	char *etag;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int inflight;
	bool failed;
	uint64_t done;
};

/* Parse "bytes A-B/TOTAL". */
static int content_range(const char *v, uint64_t *a, uint64_t *b,
			 uint64_t *total)
{
	char tail[32];

	if (!v || sscanf(v, "bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64 "%1s",
			 a, b, total, tail) != 3 || *a > *b || *b >= *total)
		return -1;
	return 0;
}

static int check_range_sum(const struct down *d, const struct azb_resp *r,
			   const void *data, size_t len, uint64_t off,
			   azblob_error *err)
{
	const char *v;
	char mine[32];

	if (d->ck == AZBLOB_CHECKSUM_CRC64 &&
	    (v = azb_hdrs_get(&r->hdrs, "x-ms-content-crc64"))) {
		azb_crc64_base64(azblob_crc64(0, data, len), mine);
		if (strcmp(v, mine))
			goto bad;
	}
	if (d->ck == AZBLOB_CHECKSUM_MD5 &&
	    (v = azb_hdrs_get(&r->hdrs, "Content-MD5"))) {
		azb_md5_base64(data, len, mine);
		if (strcmp(v, mine))
			goto bad;
	}
	return AZBLOB_OK;
bad:
	return azb_fail(err, AZBLOB_E_INTEGRITY, EIO,
			"%s/%s: checksum mismatch in bytes %" PRIu64 "-%" PRIu64
			" (service %s, received %s)", d->container, d->blob,
			off, off + len - 1, v, mine);
}

/*
 * GET bytes [@off, @off + @len) into @buf. With @first, 416 for offset
 * 0 is an answer too (an empty blob).
 */
static int get_range(struct down *d, uint64_t off, size_t len,
		     unsigned char *buf, bool first, struct azb_resp *resp,
		     azblob_error *err)
{
	static const int first_ok[] = { 416, 0 };
	char range[64];
	struct azb_req r;
	int rc;

	rc = azb_blob_req(d->ctx, &r, AZB_GET, d->container, d->blob, NULL,
			  err);
	if (rc)
		return rc;
	r.dst = buf;
	r.dst_cap = len;
	snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, off,
		 off + len - 1);
	azb_hdrs_add(&r.hdrs, "x-ms-range", range);
	if (d->etag)
		azb_hdrs_add(&r.hdrs, "If-Match", d->etag);
	if (len <= AZB_MAX_CHECKED_RANGE && d->ck == AZBLOB_CHECKSUM_CRC64)
		azb_hdrs_add(&r.hdrs, "x-ms-range-get-content-crc64", "true");
	if (len <= AZB_MAX_CHECKED_RANGE && d->ck == AZBLOB_CHECKSUM_MD5)
		azb_hdrs_add(&r.hdrs, "x-ms-range-get-content-md5", "true");
	/* 416 from offset 0: an empty blob (the caller looks at it). */
	rc = azb_exec_ok(d->ctx, &r, resp, first && !off ? first_ok : NULL,
			 err);
	if (rc == AZBLOB_E_CONDITION && d->etag)
		azb_fail(err, AZBLOB_E_CONDITION, 0,
			 "%s/%s: the blob changed during the download",
			 d->container, d->blob);
	azb_req_free(&r);
	return rc;
}

/* A worker's chunk: read, check, report. */
static int fetch_chunk(struct down *d, struct chunk *c, azblob_error *err)
{
	struct azb_resp resp = { 0 };
	uint64_t a, b, total;
	unsigned char *buf = c->buf ? c->buf : d->dst + (c->off - d->start);
	int rc;

	rc = get_range(d, c->off, c->len, buf, false, &resp, err);
	if (!rc && (resp.status != 206 ||
		    content_range(azb_hdrs_get(&resp.hdrs, "Content-Range"),
				  &a, &b, &total) ||
		    a != c->off || b - a + 1 != c->len ||
		    resp.dst_len != c->len))
		rc = azb_fail(err, AZBLOB_E_PROTOCOL, 0,
			      "%s/%s: bytes %" PRIu64 "-%" PRIu64
			      ": an answer for another range", d->container,
			      d->blob, c->off, c->off + c->len - 1);
	if (!rc)
		rc = check_range_sum(d, &resp, buf, c->len, c->off, err);
	azb_resp_free(&resp);
	return rc;
}

static void chunk_task(struct azb_task *t)
{
	struct chunk *c = (struct chunk *)t;
	struct down *d = c->d;
	azblob_error e = { 0 };
	int rc = fetch_chunk(d, c, &e);

	pthread_mutex_lock(&d->lock);
	c->rc = rc;
	azb_err_move(&c->err, &e);
	c->ready = true;
	d->inflight--;
	if (rc)
		d->failed = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

static int progress(const azblob_opts *o, uint64_t done, uint64_t total,
		    azblob_error *err)
{
	if (o && o->progress && o->progress(o->progress_arg, done, total))
		return azb_fail(err, AZBLOB_E_CANCELLED, ECANCELED,
				"cancelled");
	return AZBLOB_OK;
}

static int deliver(struct down *d, EVP_MD_CTX *md5, const void *p,
		   size_t n, azblob_error *err)
{
	if (md5)
		EVP_DigestUpdate(md5, p, n);
	if (d->write && n) {
		errno = 0;
		if (d->write(d->arg, p, n))
			return azb_fail(err, errno == ECANCELED ?
					AZBLOB_E_CANCELLED : AZBLOB_E_IO,
					errno, "writing the download: %s",
					errno ? strerror(errno) : "failed");
	}
	return AZBLOB_OK;
}

/*
 * Everything after the first chunk: [@next, @end) in chunks, @nslots
 * chunk structures, at most @conc in flight. In stream mode chunks are
 * delivered in order.
 */
static int rest_of(struct down *d, uint64_t next, uint64_t end,
		   unsigned int conc, EVP_MD_CTX *md5, uint64_t total_bytes,
		   azblob_error *err)
{
	unsigned int nslots = d->write ? conc + 2 : conc;
	struct chunk *cs = calloc(nslots, sizeof(*cs)), *free_list = NULL;
	struct azb_pool *pool = NULL;
	uint64_t seq = 0, deliver_seq = 0, ndone = 0;
	int rc = AZBLOB_OK;

	if (!cs)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	for (unsigned int i = 0; i < nslots; i++) {
		cs[i].d = d;
		cs[i].task.fn = chunk_task;
		cs[i].next = free_list;
		free_list = &cs[i];
		if (d->write && !(cs[i].buf = malloc(d->chunk)))
			rc = azb_fail(err, AZBLOB_E_NOMEM, ENOMEM,
				      "out of memory");
	}
	if (!rc && azb_pool_start(&pool, conc))
		rc = azb_fail(err, AZBLOB_E_NOMEM, errno, "cannot start threads");
	pthread_mutex_lock(&d->lock);
	while (!rc) {
		struct chunk *ready = NULL;
		uint64_t done;

		/* Hand over (stream) or collect (buffer) finished chunks. */
		for (unsigned int i = 0; i < nslots && !ready; i++)
			if (cs[i].ready && (!d->write || cs[i].seq == deliver_seq))
				ready = &cs[i];
		if (ready) {
			ready->ready = false;
			if (ready->rc) {
				rc = ready->rc;
				azb_err_move(err, &ready->err);
				break;
			}
			pthread_mutex_unlock(&d->lock);
			if (d->write)
				rc = deliver(d, md5, ready->buf, ready->len, err);
			pthread_mutex_lock(&d->lock);
			deliver_seq++;
			d->done += ready->len;
			ready->next = free_list;
			free_list = ready;
			done = d->done;
			pthread_mutex_unlock(&d->lock);
			if (!rc)
				rc = progress(d->opts, done, total_bytes, err);
			pthread_mutex_lock(&d->lock);
			ndone++;
			continue;
		}
		if (next == end && ndone == seq)
			break;
		if (next < end && free_list && d->inflight < conc &&
		    !d->failed) {
			struct chunk *c = free_list;

			free_list = c->next;
			c->off = next;
			c->len = end - next < d->chunk ? (size_t)(end - next) :
							 d->chunk;
			c->seq = seq++;
			next += c->len;
			d->inflight++;
			pthread_mutex_unlock(&d->lock);
			azb_pool_submit(pool, &c->task);
			pthread_mutex_lock(&d->lock);
			continue;
		}
		pthread_cond_wait(&d->cond, &d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	azb_pool_finish(pool);	/* the chunks in flight finish first */
	for (unsigned int i = 0; i < nslots; i++) {
		azb_err_reset(&cs[i].err);
		free(cs[i].buf);
	}
	free(cs);
	return rc;
}

static int download(struct down *d, size_t cap, size_t *len_out,
		    azblob_error *err)
{
	const azblob_opts *o = d->opts;
	struct azb_transport *t;
	struct azb_resp resp = { 0 };
	unsigned int conc = azb_opt_concurrency(d->ctx, o);
	uint64_t start = o && o->have_range ? o->range_off : 0;
	uint64_t want = o && o->have_range ? o->range_len : UINT64_MAX;
	uint64_t end, a = 0, b = 0, total = 0;
	unsigned char *first = NULL;
	size_t flen;
	EVP_MD_CTX *md5 = NULL;
	const char *stored_md5 = NULL;
	char mine[32];
	int rc;

	if (len_out)
		*len_out = 0;
	rc = azb_check_container(d->container, err);
	if (!rc)
		rc = azb_check_blob(d->blob, err);
	if (!rc)
		rc = azb_ctx_transport(d->ctx, &t, err);
	if (rc)
		return rc;
	d->ck = azb_opt_checksum(d->ctx, o);
	d->chunk = o && o->block_size ? o->block_size : d->ctx->chunk_size;
	if (d->chunk > t->max_body)
		d->chunk = t->max_body;
	d->start = start;
	flen = want < d->chunk ? (size_t)want : d->chunk;
	if (d->dst && cap < flen)
		flen = cap;
	if (d->dst && !flen) {
		/* No room at all: only the size is of interest. */
		azblob_props *p;

		rc = azblob_get_properties(d->ctx, d->container, d->blob, &p,
					   err);
		if (rc)
			return rc;
		total = p->size > start ? p->size - start : 0;
		if (total > want)
			total = want;
		azblob_props_free(p);
		if (len_out)
			*len_out = (size_t)total;
		return total ? azb_fail(err, AZBLOB_E_RANGE, ENOSPC,
					"%s/%s: %" PRIu64 " bytes do not fit a buffer of 0",
					d->container, d->blob, total) :
			       AZBLOB_OK;
	}
	first = d->dst ? d->dst : malloc(flen);
	if (!first)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	rc = get_range(d, start, flen, first, true, &resp, err);
	if (rc)
		goto out;
	if (resp.status == 416) {
		/* An empty blob has no range at all. */
		total = 0;
		end = 0;
		goto done;
	}
	if (resp.status == 200 && !start && resp.dst_len <= flen) {
		total = resp.dst_len;	/* the whole blob, range ignored */
		a = 0;
		b = total ? total - 1 : 0;
	} else if (resp.status != 206 ||
		   content_range(azb_hdrs_get(&resp.hdrs, "Content-Range"),
				 &a, &b, &total) ||
		   a != start || b - a + 1 != resp.dst_len || b - a >= flen) {
		rc = azb_fail(err, AZBLOB_E_PROTOCOL, 0,
			      "%s/%s: an answer for another range", d->container,
			      d->blob);
		goto out;
	}
	rc = check_range_sum(d, &resp, first, resp.dst_len, start, err);
	if (rc)
		goto out;
	end = want == UINT64_MAX || start + want > total ? total : start + want;
	if (d->dst && end - start > cap) {
		if (len_out)
			*len_out = (size_t)(end - start);
		rc = azb_fail(err, AZBLOB_E_RANGE, ENOSPC,
			      "%s/%s: %" PRIu64 " bytes do not fit a buffer of %zu",
			      d->container, d->blob, end - start, cap);
		goto out;
	}
	stored_md5 = azb_hdrs_get(&resp.hdrs, resp.status == 200 ?
				  "Content-MD5" : "x-ms-blob-content-md5");
	if (d->ck == AZBLOB_CHECKSUM_MD5 && stored_md5 && !start &&
	    end == total) {
		md5 = EVP_MD_CTX_new();
		if (!md5 || !EVP_DigestInit_ex(md5, EVP_md5(), NULL)) {
			rc = azb_fail(err, AZBLOB_E_NOMEM, ENOMEM,
				      "out of memory");
			goto out;
		}
	}
	if (azb_hdrs_get(&resp.hdrs, "ETag") &&
	    !(d->etag = strdup(azb_hdrs_get(&resp.hdrs, "ETag")))) {
		rc = azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
		goto out;
	}
	d->done = b - a + 1 < end - start ? b - a + 1 : end - start;
	if (d->write) {
		rc = deliver(d, md5, first, (size_t)d->done, err);
		if (rc)
			goto out;
	}
	rc = progress(o, d->done, end - start, err);
	if (!rc && start + d->done < end)
		rc = rest_of(d, start + d->done, end, conc, md5, end - start,
			     err);
	if (rc)
		goto out;
	if (md5) {
		unsigned char md[EVP_MAX_MD_SIZE];
		unsigned int ml = 0;

		if (!d->write)	/* buffer mode: hash it now, in order */
			EVP_DigestUpdate(md5, d->dst, (size_t)(end - start));
		EVP_DigestFinal_ex(md5, md, &ml);
		azb_base64_encode(md, ml, mine);
		if (strcmp(mine, stored_md5)) {
			rc = azb_fail(err, AZBLOB_E_INTEGRITY, EIO,
				      "%s/%s: MD5 mismatch (stored %s, received %s)",
				      d->container, d->blob, stored_md5, mine);
			goto out;
		}
	}
done:
	if (len_out)
		*len_out = (size_t)(end - start);
out:
	EVP_MD_CTX_free(md5);
	azb_resp_free(&resp);
	if (first != d->dst)
		free(first);
	free(d->etag);
	d->etag = NULL;
	return rc;
}

static int run(azblob_ctx *ctx, const char *container, const char *blob,
	       unsigned char *buf, size_t cap, size_t *len,
	       azblob_write_fn fn, void *arg, const azblob_opts *opts,
	       azblob_error *err)
{
	struct down d = { .ctx = ctx, .container = container, .blob = blob,
			  .opts = opts, .dst = buf, .write = fn, .arg = arg };
	azblob_error e = { 0 };
	int rc;

	pthread_mutex_init(&d.lock, NULL);
	pthread_cond_init(&d.cond, NULL);
	rc = download(&d, cap, len, &e);
	pthread_cond_destroy(&d.cond);
	pthread_mutex_destroy(&d.lock);
	azb_err_move(err, &e);
	return rc;
}

AZB_EXPORT int azblob_download_buffer(azblob_ctx *ctx, const char *container,
				      const char *blob, void *buf, size_t cap,
				      size_t *len, const azblob_opts *opts,
				      azblob_error *err)
{
	if (!buf && cap)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "no buffer");
	return run(ctx, container, blob, buf ? buf : (unsigned char *)"", cap,
		   len, NULL, NULL, opts, err);
}

AZB_EXPORT int azblob_download_stream(azblob_ctx *ctx, const char *container,
				      const char *blob,
				      azblob_write_fn write_fn, void *arg,
				      const azblob_opts *opts,
				      azblob_error *err)
{
	if (!write_fn)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "no write callback");
	return run(ctx, container, blob, NULL, 0, NULL, write_fn, arg, opts,
		   err);
}

static int fd_write(void *arg, const void *buf, size_t len)
{
	int fd = *(int *)arg;
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

AZB_EXPORT int azblob_download_fd(azblob_ctx *ctx, const char *container,
				  const char *blob, int fd,
				  const azblob_opts *opts, azblob_error *err)
{
	return run(ctx, container, blob, NULL, 0, NULL, fd_write, &fd, opts,
		   err);
}
