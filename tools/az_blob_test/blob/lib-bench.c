// SPDX-License-Identifier: GPL-2.0
/*
 * lib-bench: libazblob's transports side by side, in a guest (make bench).
 * TEST-ONLY.
 *
 *   lib-bench TRANSPORT CONNECTION_STRING CONTAINER BLOB BYTES [OPS]
 *
 * TRANSPORT is "driver" (/dev/azure_blob), "rest" (libcurl over the
 * guest's network) or "null" (no transfer: the generator and the checker
 * alone, the program's own share of the figures). OPS (default 1)
 * uploads of BYTES each, timed together, then OPS downloads; then the blob
 * is deleted. Both directions stream: the upload reads from a generator
 * (azblob_upload_stream), the download goes to a checker that compares
 * every byte with the generator's (azblob_download_stream): nothing holds
 * the whole blob, so 1 GiB needs no more memory than 1 MiB. The library's
 * defaults otherwise (concurrency, block and chunk size, CRC-64;
 * $LIB_BENCH_CHECKSUM=none|crc64|md5 sets the checksum).
 *
 * Around each direction: the wall time (CLOCK_MONOTONIC) and the guest's
 * CPU time from the first line of /proc/stat (user + nice + system + irq +
 * softirq, in clock ticks: every CPU, not just this process, so that the
 * kernel's and the driver's work on the guest's behalf counts too). One
 * line per direction:
 *
 *   bench TRANSPORT up|down BYTES OPS WALL_NS BUSY_TICKS HZ
 *
 * or "FAIL lib-bench ...: WHY" and exit 1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "azblob.h"

#define PAT_SIZE ((size_t)1 << 20)	/* the repeated random block */
#define STAMP 4096			/* an offset stamp every 4 KiB */
#define CHUNK ((size_t)4 << 20)		/* "null": the library's chunk size */

/* The data: a random 1 MiB block repeated, with each 4 KiB page's first 8
 * bytes replaced by the page's offset (so that a chunk in the wrong place
 * or a repeated one does not compare equal). */
struct pattern {
	unsigned char *base;	/* PAT_SIZE bytes */
};

struct source {
	const struct pattern *p;
	uint64_t size, off;
};

/* What the checker compares with: kept from one download to the next. */
struct scratch {
	unsigned char *buf;
	size_t cap;
};

struct checker {
	const struct pattern *p;
	uint64_t off;
	struct scratch *s;
	uint64_t bad_at;	/* first mismatch + 1, 0 if none */
};

static int pattern_init(struct pattern *p)
{
	uint64_t x = 0x9E3779B97F4A7C15ull;

	p->base = malloc(PAT_SIZE);
	if (!p->base)
		return -1;
	for (size_t i = 0; i < PAT_SIZE; i += 8) {
		/* xorshift64 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p->base + i, &x, 8);
	}
	return 0;
}

/* Bytes [off, off + len) of the stream into @buf. */
static void pattern_fill(const struct pattern *p, uint64_t off,
			 unsigned char *buf, size_t len)
{
	size_t done = 0;
	uint64_t page;

	while (done < len) {
		size_t at = (off + done) % PAT_SIZE;
		size_t n = PAT_SIZE - at;

		if (n > len - done)
			n = len - done;
		memcpy(buf + done, p->base + at, n);
		done += n;
	}
	/* The stamps of every page that overlaps the range. */
	for (page = off / STAMP * STAMP; page < off + len; page += STAMP) {
		unsigned char st[8];

		memcpy(st, &page, 8);
		for (unsigned int j = 0; j < 8; j++)
			if (page + j >= off && page + j < off + len)
				buf[page + j - off] = st[j];
	}
}

static ssize_t source_read(void *arg, void *buf, size_t len)
{
	struct source *s = arg;

	if (s->off >= s->size)
		return 0;
	if (len > s->size - s->off)
		len = s->size - s->off;
	pattern_fill(s->p, s->off, buf, len);
	s->off += len;
	return (ssize_t)len;
}

static int checker_write(void *arg, const void *buf, size_t len)
{
	struct checker *c = arg;

	if (len > c->s->cap) {
		free(c->s->buf);
		c->s->buf = malloc(len);
		c->s->cap = c->s->buf ? len : 0;
		if (!c->s->buf) {
			errno = ENOMEM;
			return -1;
		}
	}
	pattern_fill(c->p, c->off, c->s->buf, len);
	if (memcmp(c->s->buf, buf, len)) {
		size_t i = 0;

		while (c->s->buf[i] == ((const unsigned char *)buf)[i])
			i++;
		c->bad_at = c->off + i + 1;
		errno = EILSEQ;
		return -1;
	}
	c->off += len;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* user + nice + system + irq + softirq of all CPUs, in clock ticks. */
static int busy_ticks(uint64_t *out)
{
	unsigned long long v[7] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		   &v[2], &v[3], &v[4], &v[5], &v[6]);
	fclose(f);
	if (n != 7)
		return -1;
	*out = v[0] + v[1] + v[2] + v[5] + v[6];
	return 0;
}

struct run {
	const char *transport;
	azblob_ctx *ctx;	/* NULL for "null" */
	azblob_error *err;
	const char *container, *blob;
	uint64_t bytes;
	unsigned int ops;
	struct pattern pat;
	struct scratch scratch;
	unsigned char *chunk;	/* "null": 4 MiB the generator fills */
};

static int fail(const struct run *r, const char *what)
{
	printf("FAIL lib-bench %s %s %s/%s: %s\n", r->transport, what,
	       r->container, r->blob,
	       r->err ? azblob_error_message(r->err) : strerror(errno));
	return -1;
}

static int one_up(struct run *r)
{
	struct source s = { .p = &r->pat, .size = r->bytes };

	if (!r->ctx) {
		while (source_read(&s, r->chunk, CHUNK) > 0)
			;
		return 0;
	}
	if (azblob_upload_stream(r->ctx, r->container, r->blob, source_read,
				 &s, NULL, r->err))
		return fail(r, "upload");
	return 0;
}

static int one_down(struct run *r)
{
	struct checker c = { .p = &r->pat, .s = &r->scratch };
	int rc = 0;

	if (!r->ctx) {
		/* What the checker does with each 4 MiB chunk, on a copy. */
		struct source s = { .p = &r->pat, .size = r->bytes };
		ssize_t n;

		while ((n = source_read(&s, r->chunk, CHUNK)) > 0)
			if (checker_write(&c, r->chunk, (size_t)n))
				rc = -1;
	} else if (azblob_download_stream(r->ctx, r->container, r->blob,
					  checker_write, &c, NULL, r->err)) {
		rc = fail(r, "download");
	}
	if (!rc && c.off != r->bytes) {
		printf("FAIL lib-bench %s download %s/%s: %" PRIu64
		       " bytes, not %" PRIu64 "\n", r->transport, r->container,
		       r->blob, c.off, r->bytes);
		rc = -1;
	}
	if (c.bad_at)
		printf("FAIL lib-bench %s download %s/%s: byte %" PRIu64
		       " differs\n", r->transport, r->container, r->blob,
		       c.bad_at - 1);
	return rc;
}

static int timed(struct run *r, const char *dir, int (*op)(struct run *))
{
	uint64_t t0, t1, b0, b1;

	if (busy_ticks(&b0))
		return fail(r, "/proc/stat");
	t0 = now_ns();
	for (unsigned int i = 0; i < r->ops; i++)
		if (op(r))
			return -1;
	t1 = now_ns();
	if (busy_ticks(&b1))
		return fail(r, "/proc/stat");
	printf("bench %s %s %" PRIu64 " %u %" PRIu64 " %" PRIu64 " %ld\n",
	       r->transport, dir, r->bytes, r->ops, t1 - t0, b1 - b0,
	       sysconf(_SC_CLK_TCK));
	fflush(stdout);
	return 0;
}

static int setup(struct run *r, const char *cs)
{
	enum azblob_transport t = !strcmp(r->transport, "rest") ?
				  AZBLOB_TRANSPORT_REST :
				  AZBLOB_TRANSPORT_DRIVER;
	const char *ck = getenv("LIB_BENCH_CHECKSUM");
	int rc;

	r->err = azblob_error_new();
	if (!r->err)
		return -1;
	if (azblob_ctx_new_from_connection_string(&r->ctx, cs, r->err) ||
	    azblob_ctx_set_transport(r->ctx, t, r->err) ||
	    (ck && azblob_ctx_set_checksum(r->ctx, !strcmp(ck, "none") ?
					   AZBLOB_CHECKSUM_NONE :
					   !strcmp(ck, "md5") ?
					   AZBLOB_CHECKSUM_MD5 :
					   AZBLOB_CHECKSUM_CRC64, r->err)) ||
	    azblob_ctx_connect(r->ctx, r->err))
		return fail(r, "connect");
	if (azblob_ctx_transport(r->ctx) != t) {
		printf("FAIL lib-bench %s: the context resolved to another transport\n",
		       r->transport);
		return -1;
	}
	rc = azblob_container_create(r->ctx, r->container, r->err);
	if (rc && rc != AZBLOB_E_EXISTS)
		return fail(r, "create container");
	return 0;
}

int main(int argc, char **argv)
{
	struct run r = { 0 };
	char *end;
	int rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 6 || argc > 7) {
		fprintf(stderr, "usage: lib-bench driver|rest|null CONNECTION_STRING CONTAINER BLOB BYTES [OPS]\n");
		return 2;
	}
	r.transport = argv[1];
	r.container = argv[3];
	r.blob = argv[4];
	errno = 0;
	r.bytes = strtoull(argv[5], &end, 0);
	if (errno || *end) {
		fprintf(stderr, "lib-bench: BYTES %s\n", argv[5]);
		return 2;
	}
	r.ops = argc > 6 ? (unsigned int)atoi(argv[6]) : 1;
	if (!r.ops || (strcmp(r.transport, "driver") &&
		       strcmp(r.transport, "rest") &&
		       strcmp(r.transport, "null"))) {
		fprintf(stderr, "lib-bench: TRANSPORT driver, rest or null; OPS >= 1\n");
		return 2;
	}
	r.chunk = malloc(CHUNK);
	if (pattern_init(&r.pat) || !r.chunk)
		return 1;
	if (strcmp(r.transport, "null") && setup(&r, argv[2]))
		goto out;
	if (timed(&r, "up", one_up) || timed(&r, "down", one_down))
		goto out;
	if (r.ctx && azblob_delete(r.ctx, r.container, r.blob, r.err)) {
		fail(&r, "delete");
		goto out;
	}
	rc = 0;
out:
	azblob_ctx_free(r.ctx);
	azblob_error_free(r.err);
	free(r.pat.base);
	free(r.chunk);
	free(r.scratch.buf);
	return rc;
}
