/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TEST-ONLY: the functional suite of libazblob against a real Blob
 * endpoint. The same binary runs on the host (REST to Azurite) and inside
 * a guest (driver transport through /dev/azure_blob); see functional.c.
 */
#ifndef AZB_TEST_FUNC_H
#define AZB_TEST_FUNC_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "azb.h"

struct fenv {
	const char *cs;		/* connection string */
	const char *sdk_dir;	/* tools/az_blob_host/node, or NULL */
	const char *sdk_ep;	/* endpoint for sdk.js */
	const char *loopback;	/* endpoint of the in-process host service */
	FILE *manifest;		/* blobs for a later SDK check, or NULL */
	char container[64];
	char container2[64];
	unsigned int big_mib;
	azblob_ctx *ctx;
	azblob_error *err;
};

extern struct fenv F;
extern int f_checks_failed;

#define FCHECK(c) do { \
	if (!(c)) { \
		f_checks_failed++; \
		fprintf(stderr, "#  %s:%d: CHECK(%s) failed%s%s\n", __FILE__, \
			__LINE__, #c, F.err && azblob_error_status(F.err) ? \
			": " : "", F.err ? azblob_error_message(F.err) : ""); \
	} \
} while (0)

/* The public call @x must succeed; prints the error otherwise. */
#define FOK(x) do { \
	int _rc = (x); \
	if (_rc) { \
		f_checks_failed++; \
		fprintf(stderr, "#  %s:%d: %s = %d: %s\n", __FILE__, __LINE__, \
			#x, _rc, azblob_error_message(F.err)); \
	} \
} while (0)

void f_run(const char *name, void (*fn)(void));
void f_skip(const char *name, const char *why);

/* A context configured like F.ctx (transport, loopback), other cs. */
azblob_ctx *f_ctx(const char *cs);

/* Deterministic content: byte i of stream @seed, any range. */
void gen(uint64_t seed, uint64_t off, void *buf, size_t len);
/* SHA-256 (hex) of gen(@seed) bytes [0, @len). */
void gen_sha256(uint64_t seed, uint64_t len, char hex[65]);
void sha256_hex(const void *p, size_t n, char hex[65]);

/* A streaming SHA-256 sink for azblob_download_stream(). */
struct sink {
	void *md;	/* EVP_MD_CTX */
	uint64_t bytes;
};
void sink_init(struct sink *s);
int sink_write(void *arg, const void *buf, size_t len);
void sink_final(struct sink *s, char hex[65]);

/* A generator source for azblob_upload_stream(). */
struct gsrc {
	uint64_t seed, size, off;
	uint64_t fail_at;	/* return -1 when reaching this offset (0: never) */
	size_t max_read;	/* short reads (0: as asked) */
};
ssize_t gsrc_read(void *arg, void *buf, size_t len);

/* The Azure SDK for JavaScript as the independent reader and writer.
 * Returns 1 if it is not available (check skipped; noted in the
 * manifest), 0 on success, -1 on failure. */
bool sdk_available(void);
int sdk_sha256(const char *container, const char *blob, uint64_t *size,
	       char hex[65]);
/* Check that the SDK reads @blob as @size bytes with SHA-256 @hex. */
void sdk_expect(const char *container, const char *blob, uint64_t size,
		const char *hex);
int sdk_put(const char *container, const char *blob, uint64_t seed,
	    uint64_t size);
/* "contentType" and metadata as the SDK sees them, "k=v;k=v". */
int sdk_props(const char *container, const char *blob, char *type,
	      size_t tlen, char *meta, size_t mlen);

/* Resident set size now, bytes. */
uint64_t rss_now(void);

void func_cases(void);
void func_big(void);

#endif
