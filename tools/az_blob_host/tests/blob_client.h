/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TEST-ONLY: what a guest library does with the Blob service's format,
 * for the tests of tools/az_blob_host: build an HsReq001 request (with a
 * SharedKey signature, as the guest would sign it), lay buffers out as
 * scattered pieces the way guest pages arrive, run a request through a
 * service, and check and parse the HsRes001 answer.
 */
#ifndef AZ_BLOB_HOST_TESTS_BLOB_CLIENT_H
#define AZ_BLOB_HOST_TESTS_BLOB_CLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../json.h"
#include "../service.h"

/* The emulator's published account and key, and the version we pin. */
#define BC_ACCOUNT	"devstoreaccount1"
#define BC_KEY		"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define BC_VERSION	"2025-01-05"

#define BC_MAX_HDRS	40

struct bc_hdr {
	char name[128];
	char value[1024];
};

struct bc_req {
	unsigned int method;
	char path[2048];
	char query[1024];
	struct bc_hdr h[BC_MAX_HDRS];
	int nh;
};

void bc_req_init(struct bc_req *r, unsigned int method, const char *path,
		 const char *query);
void bc_hdr_add(struct bc_req *r, const char *name, const char *value);
/*
 * Add x-ms-date and x-ms-version (unless present) and the SharedKey
 * Authorization for @account/@key_b64, signing Content-Length as
 * @content_length (the data_valid the request will carry).
 */
int bc_sign(struct bc_req *r, const char *account, const char *key_b64,
	    size_t content_length);
/* The string SharedKey signs (exposed for a test); malloc'd. */
char *bc_string_to_sign(const struct bc_req *r, const char *account,
			size_t content_length);
/* Sort x-ms-* names the way Azure does: <0, 0, >0. */
int bc_azure_cmp(const char *a, const char *b);

/* The HsReq001 buffer for @r (malloc'd, *@len bytes). */
unsigned char *bc_frame(const struct bc_req *r, size_t *len);
/* Frame raw JSON (for malformed-request tests), with a correct CRC. */
unsigned char *bc_frame_json(unsigned int method, const char *json,
			     size_t json_len, size_t *len);
/* Recompute the CRC of a request buffer after editing it. */
void bc_fix_crc(unsigned char *buf, size_t len);

/*
 * A buffer in scattered pieces (struct az_host_buf over ordinary memory).
 * Pieces are placed in the backing store out of order with gaps, so that
 * nothing can rely on them being contiguous.
 */
enum tb_layout {
	TB_ONE,		/* one piece */
	TB_TINY,	/* pieces of 1 to 13 bytes */
	TB_PAGES,	/* like guest pages: 4096 - 123, then 4096s */
	TB_RANDOM,	/* random sizes 1 .. 70000 */
};

struct tbuf {
	struct az_host_buf hb;
	struct iovec *iov;
	unsigned char *backing;
	size_t backing_len;
};

int tb_new(struct tbuf *t, size_t len, enum tb_layout layout, uint32_t seed);
void tb_free(struct tbuf *t);
void tb_fill(struct tbuf *t, const void *src, size_t len);
void tb_get(const struct tbuf *t, void *dst, size_t len);
/* Set every byte (of the pieces) to @c. */
void tb_set(struct tbuf *t, int c);

/* Deterministic pseudo-random bytes. */
void bc_random(void *dst, size_t len, uint64_t seed);

/**
 * struct bc_res - An HsRes001 answer, checked and parsed.
 */
struct bc_res {
	struct az_host_result res;
	unsigned int http;
	uint32_t body_bytes;
	uint32_t needed;
	bool parsed;		/* header and JSON present and valid */
	struct az_json_doc doc;
	const char *reason;
	const struct az_json *headers;
	bool truncated;
	bool has_length;
	uint64_t content_length;
	unsigned char *inline_body;	/* decoded body_base64, or NULL */
	size_t inline_len;
	const char *error;	/* why the answer is malformed, or NULL */
};

/*
 * Run one request through @svc: the request buffer in TB_TINY pieces,
 * @data and @resp as given. @timeout_ms 0 = no deadline. Fills @out; the
 * answer is checked (magic, format, CRC, JSON) when response_len > 0.
 */
void bc_exec(const struct az_host_service *svc, const unsigned char *req,
	     size_t req_len, struct tbuf *data, size_t data_valid,
	     struct tbuf *resp, uint32_t timeout_ms, const atomic_int *cancel,
	     struct bc_res *out);
void bc_res_free(struct bc_res *r);
/* A response header's value (first match, case-insensitive), or NULL. */
const char *bc_res_header(const struct bc_res *r, const char *name);

/* SHA-256 of @len bytes as 64 hex digits + NUL. */
void bc_sha256_hex(const void *p, size_t len, char out[65]);
void bc_sha256_tbuf_hex(const struct tbuf *t, size_t len, char out[65]);

#endif /* AZ_BLOB_HOST_TESTS_BLOB_CLIENT_H */
