// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Uploads: one Put Blob for small blobs, otherwise blocks staged in
 * parallel (Put Block) and committed at the end (Put Block List).
 *
 * The calling thread is the producer: it reads the source in order (a
 * memory buffer, a read callback, a file descriptor) into one of at most
 * concurrency + 1 block buffers and hands each full block to a worker;
 * memory therefore stays at (concurrency + 1) x block size whatever the
 * blob's size. From memory no copy is made: a block is a slice of the
 * caller's buffer.
 *
 * Block size: the configured size, raised when a known size would need
 * more than 50,000 blocks; for a stream of unknown size it doubles every
 * 5,000 blocks (blocks of one blob may differ in size). Never more than
 * one request of the transport holds.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transfer.h"

#define GROW_EVERY	5000U	/* blocks between doublings (unknown size) */

struct src {
	const unsigned char *mem;	/* a buffer, or NULL */
	size_t mem_len;
	azblob_read_fn read;
	void *arg;
	bool known;			/* the size is known */
	uint64_t size;
	uint64_t off;			/* bytes taken so far */
	bool eof;
};

struct up;

struct slot {
	struct azb_task task;
	struct up *up;
	struct slot *next;
	unsigned char *buf;	/* owned, for streams */
	size_t cap;
	const unsigned char *data;
	size_t len;
	uint32_t index;
};

struct up {
	struct azblob_ctx *ctx;
	const char *container, *blob;
	const azblob_opts *opts;
	enum azblob_checksum ck;
	char nonce[16];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct slot *free_slots;
	unsigned int inflight;
	uint64_t done;
	bool failed;
	azblob_error err;
};

static void up_fail(struct up *u, azblob_error *e)
{
	pthread_mutex_lock(&u->lock);
	if (!u->failed) {
		u->failed = true;
		azb_err_move(&u->err, e);
	}
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	azb_err_reset(e);
}

static void put_block(struct azb_task *t)
{
	struct slot *s = (struct slot *)t;
	struct up *u = s->up;
	char id[AZB_BLOCK_ID_B64];
	struct azb_buf q = { 0 };
	struct azb_resp resp = { 0 };
	azblob_error e = { 0 };
	struct azb_req r;
	int rc;

	azb_block_id(u->nonce, s->index, id);
	azb_query_add(&q, "comp", "block");
	azb_query_add(&q, "blockid", id);
	rc = azb_blob_req(u->ctx, &r, AZB_PUT, u->container, u->blob, &q, &e);
	if (!rc) {
		r.body = s->data;
		r.body_len = s->len;
		azb_add_checksum(&r, u->ck, s->data, s->len);
		rc = azb_exec(u->ctx, &r, &resp, &e);
		azb_req_free(&r);
	}
	azb_resp_free(&resp);
	if (rc)
		up_fail(u, &e);
	pthread_mutex_lock(&u->lock);
	u->inflight--;
	if (!rc)
		u->done += s->len;
	s->next = u->free_slots;
	u->free_slots = s;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
}

/* Fill @buf with up to @want bytes from a stream; sets s->eof. */
static int read_full(struct src *s, unsigned char *buf, size_t want,
		     size_t *got, azblob_error *err)
{
	*got = 0;
	while (*got < want && !s->eof) {
		ssize_t n;

		errno = 0;
		n = s->read(s->arg, buf + *got, want - *got);
		if (n < 0)
			return azb_fail(err, errno == ECANCELED ?
					AZBLOB_E_CANCELLED : AZBLOB_E_IO,
					errno, "reading the upload: %s",
					errno ? strerror(errno) : "failed");
		if ((size_t)n > want - *got)
			return azb_fail(err, AZBLOB_E_INVAL, 0,
					"read callback returned too much");
		if (!n)
			s->eof = true;
		*got += (size_t)n;
	}
	s->off += *got;
	return AZBLOB_OK;
}

static int put_whole(struct up *u, const void *data, size_t len,
		     azblob_error *err)
{
	const azblob_opts *o = u->opts;
	struct azb_resp resp = { 0 };
	struct azb_req r;
	int rc;

	rc = azb_blob_req(u->ctx, &r, AZB_PUT, u->container, u->blob, NULL,
			  err);
	if (rc)
		return rc;
	r.body = data;
	r.body_len = len;
	azb_hdrs_add(&r.hdrs, "x-ms-blob-type", "BlockBlob");
	if (o && o->content_type)
		azb_hdrs_add(&r.hdrs, "x-ms-blob-content-type",
			     o->content_type);
	if (o)
		azb_add_meta_headers(&r, o->meta, o->nmeta);
	if (o && o->no_overwrite) {
		azb_hdrs_add(&r.hdrs, "If-None-Match", "*");
		r.flags &= ~AZB_REQ_IDEMPOTENT;
	}
	azb_add_checksum(&r, u->ck, data, len);
	rc = azb_exec(u->ctx, &r, &resp, err);
	azb_req_free(&r);
	azb_resp_free(&resp);
	return rc;
}

static int progress(const azblob_opts *o, uint64_t done, uint64_t total,
		    azblob_error *err)
{
	if (o && o->progress && o->progress(o->progress_arg, done, total))
		return azb_fail(err, AZBLOB_E_CANCELLED, ECANCELED,
				"cancelled");
	return AZBLOB_OK;
}

static size_t round_up(uint64_t v, size_t to)
{
	return (size_t)((v + to - 1) / to * to);
}

static int upload(struct azblob_ctx *ctx, const char *container,
		  const char *blob, struct src *src, const azblob_opts *opts,
		  azblob_error *err)
{
	struct up u = { .ctx = ctx, .container = container, .blob = blob,
			.opts = opts };
	unsigned int conc = azb_opt_concurrency(ctx, opts);
	struct slot *slots = NULL, *first;
	struct azb_transport *t;
	struct azb_pool *pool = NULL;
	EVP_MD_CTX *md5 = NULL;
	size_t bs, max_block, threshold, got = 0;
	uint64_t total = src->known ? src->size : UINT64_MAX;
	uint32_t nblocks = 0;
	bool staged = false;
	char md5_b64[32];
	int rc;

	rc = azb_check_container(container, err);
	if (!rc)
		rc = azb_check_blob(blob, err);
	if (!rc)
		rc = azb_ctx_transport(ctx, &t, err);
	if (rc)
		return rc;
	u.ck = azb_opt_checksum(ctx, opts);
	max_block = t->max_body < AZB_MAX_BLOCK_SIZE ? t->max_body :
						       AZB_MAX_BLOCK_SIZE;
	bs = opts && opts->block_size ? opts->block_size : ctx->block_size;
	if (bs > max_block)
		bs = max_block;
	if (src->known && src->size > (uint64_t)bs * AZB_MAX_BLOCKS) {
		uint64_t need = round_up((src->size + AZB_MAX_BLOCKS - 1) /
					 AZB_MAX_BLOCKS, 64 * AZB_KIB);

		if (need > max_block)
			return azb_fail(err, AZBLOB_E_TOO_LARGE, EFBIG,
					"%s/%s: %llu bytes need blocks larger than the %s transport's %zu",
					container, blob,
					(unsigned long long)src->size, t->name,
					max_block);
		bs = (size_t)need;
	}
	threshold = ctx->put_threshold;
	if (threshold > t->max_body)
		threshold = t->max_body;

	/* From memory, small enough: one Put Blob. */
	if (src->mem && src->mem_len <= threshold) {
		rc = put_whole(&u, src->mem, src->mem_len, err);
		if (!rc)
			rc = progress(opts, src->mem_len, src->mem_len, err);
		return rc;
	}

	slots = calloc(conc + 1, sizeof(*slots));
	if (!slots)
		return azb_fail(err, AZBLOB_E_NOMEM, ENOMEM, "out of memory");
	for (unsigned int i = 0; i <= conc; i++) {
		slots[i].up = &u;
		slots[i].task.fn = put_block;
		slots[i].next = i ? &slots[i - 1] : NULL;
	}
	u.free_slots = &slots[conc];
	first = NULL;

	/* A stream: read the first block; if it is all, one Put Blob. */
	if (!src->mem) {
		first = u.free_slots;
		u.free_slots = first->next;
		first->buf = malloc(bs);
		if (!first->buf) {
			rc = azb_fail(err, AZBLOB_E_NOMEM, ENOMEM,
				      "out of memory");
			goto out;
		}
		first->cap = bs;
		rc = read_full(src, first->buf, bs, &got, err);
		if (rc)
			goto out;
		if (src->eof && got <= threshold) {
			rc = put_whole(&u, first->buf, got, err);
			if (!rc)
				rc = progress(opts, got, got, err);
			goto out;
		}
		first->data = first->buf;
		first->len = got;
	}

	azb_random(u.nonce, 8);
	for (int i = 7; i >= 0; i--) {
		unsigned char c = (unsigned char)u.nonce[i];

		u.nonce[2 * i] = "0123456789abcdef"[c >> 4];
		u.nonce[2 * i + 1] = "0123456789abcdef"[c & 15];
	}
	u.nonce[15] = '\0';
	if (u.ck == AZBLOB_CHECKSUM_MD5) {
		md5 = EVP_MD_CTX_new();
		if (!md5 || !EVP_DigestInit_ex(md5, EVP_md5(), NULL)) {
			rc = azb_fail(err, AZBLOB_E_NOMEM, ENOMEM,
				      "out of memory");
			goto out;
		}
	}
	pthread_mutex_init(&u.lock, NULL);
	pthread_cond_init(&u.cond, NULL);
	if (azb_pool_start(&pool, conc)) {
		rc = azb_fail(err, AZBLOB_E_NOMEM, errno, "cannot start threads");
		goto out_sync;
	}

	for (;;) {
		struct slot *s = first;
		size_t want = bs;
		uint64_t done;
		bool stop;

		/* Unknown size (or more than announced): grow the blocks. */
		if ((!src->known || src->off > src->size) &&
		    nblocks / GROW_EVERY) {
			unsigned int sh = nblocks / GROW_EVERY;

			want = sh >= 16 || (bs << sh) > max_block ? max_block :
								    bs << sh;
		}
		pthread_mutex_lock(&u.lock);
		while (!s && !u.free_slots && !u.failed)
			pthread_cond_wait(&u.cond, &u.lock);
		stop = u.failed;
		if (!s && !stop) {
			s = u.free_slots;
			u.free_slots = s->next;
		}
		done = u.done;
		pthread_mutex_unlock(&u.lock);
		if (stop)
			break;
		rc = progress(opts, done, total, err);
		if (rc)
			goto fail;
		if (!first) {
			if (src->mem) {
				s->data = src->mem + src->off;
				s->len = src->mem_len - src->off < want ?
					 src->mem_len - src->off : want;
				src->off += s->len;
				src->eof = src->off == src->mem_len;
			} else {
				if (s->cap < want) {
					free(s->buf);
					s->buf = malloc(want);
					s->cap = s->buf ? want : 0;
					if (!s->buf) {
						rc = azb_fail(err, AZBLOB_E_NOMEM,
							      ENOMEM, "out of memory");
						goto fail_slot;
					}
				}
				rc = read_full(src, s->buf, want, &s->len, err);
				if (rc)
					goto fail_slot;
				s->data = s->buf;
			}
		}
		first = NULL;
		if (!s->len) {		/* the end, at a block boundary */
			pthread_mutex_lock(&u.lock);
			s->next = u.free_slots;
			u.free_slots = s;
			pthread_mutex_unlock(&u.lock);
			break;
		}
		if (nblocks == AZB_MAX_BLOCKS) {
			rc = azb_fail(err, AZBLOB_E_TOO_LARGE, EFBIG,
				      "%s/%s: more than 50,000 blocks",
				      container, blob);
			goto fail_slot;
		}
		if (md5)
			EVP_DigestUpdate(md5, s->data, s->len);
		s->index = nblocks++;
		staged = true;
		pthread_mutex_lock(&u.lock);
		u.inflight++;
		pthread_mutex_unlock(&u.lock);
		azb_pool_submit(pool, &s->task);
		if (src->eof)
			break;
		continue;
fail_slot:
		pthread_mutex_lock(&u.lock);
		s->next = u.free_slots;
		u.free_slots = s;
		pthread_mutex_unlock(&u.lock);
		goto fail;
	}
	azb_pool_finish(pool);		/* waits for the blocks in flight */
	pool = NULL;
	if (u.failed) {
		rc = u.err.status;
		azb_err_move(err, &u.err);
		goto discard;
	}
	if (md5) {
		unsigned char d[EVP_MAX_MD_SIZE];
		unsigned int dl = 0;

		EVP_DigestFinal_ex(md5, d, &dl);
		azb_base64_encode(d, dl, md5_b64);
	}
	rc = azb_commit_blocks(ctx, container, blob, u.nonce, nblocks, opts,
			       md5 ? md5_b64 : NULL, err);
	if (!rc)
		rc = progress(opts, src->off, src->off, err);
	if (rc)
		goto discard;
	goto out_sync;
fail:
	azb_pool_finish(pool);
	pool = NULL;
discard:
	/* The commit may have failed after taking effect: then nothing is
	 * left to discard and this finds the committed blob. */
	if (staged && rc != AZBLOB_OK)
		azb_discard_uncommitted(ctx, container, blob);
out_sync:
	azb_pool_finish(pool);
	pthread_cond_destroy(&u.cond);
	pthread_mutex_destroy(&u.lock);
out:
	azb_err_reset(&u.err);
	EVP_MD_CTX_free(md5);
	for (unsigned int i = 0; slots && i <= conc; i++)
		free(slots[i].buf);
	free(slots);
	return rc;
}

AZB_EXPORT int azblob_upload_buffer(azblob_ctx *ctx, const char *container,
				    const char *blob, const void *buf,
				    size_t len, const azblob_opts *opts,
				    azblob_error *err)
{
	struct src s = { .mem = buf, .mem_len = len, .known = true,
			 .size = len };
	azblob_error e = { 0 };
	int rc;

	if (!buf && len)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "no buffer");
	if (!buf)
		s.mem = (const unsigned char *)"";
	rc = upload(ctx, container, blob, &s, opts, &e);
	azb_err_move(err, &e);
	return rc;
}

AZB_EXPORT int azblob_upload_stream(azblob_ctx *ctx, const char *container,
				    const char *blob, azblob_read_fn read_fn,
				    void *arg, const azblob_opts *opts,
				    azblob_error *err)
{
	struct src s = { .read = read_fn, .arg = arg };
	azblob_error e = { 0 };
	int rc;

	if (!read_fn)
		return azb_fail(err, AZBLOB_E_INVAL, 0, "no read callback");
	if (opts && opts->size_hint) {
		s.known = true;
		s.size = opts->size_hint;
	}
	rc = upload(ctx, container, blob, &s, opts, &e);
	azb_err_move(err, &e);
	return rc;
}

static ssize_t fd_read(void *arg, void *buf, size_t len)
{
	int fd = *(int *)arg;
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

AZB_EXPORT int azblob_upload_fd(azblob_ctx *ctx, const char *container,
				const char *blob, int fd,
				const azblob_opts *opts, azblob_error *err)
{
	struct src s = { .read = fd_read, .arg = &fd };
	azblob_error e = { 0 };
	struct stat st;
	off_t pos;
	int rc;

	if (fstat(fd, &st))
		return azb_fail(err, AZBLOB_E_IO, errno, "upload: fd %d: %s",
				fd, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		pos = lseek(fd, 0, SEEK_CUR);
		s.known = true;
		s.size = pos >= 0 && pos <= st.st_size ?
			 (uint64_t)(st.st_size - pos) : (uint64_t)st.st_size;
	} else if (opts && opts->size_hint) {
		s.known = true;
		s.size = opts->size_hint;
	}
	rc = upload(ctx, container, blob, &s, opts, &e);
	azb_err_move(err, &e);
	return rc;
}
