/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libazblob internals: the request and response every operation builds and
 * every transport carries, the transport interface, the context, errors.
 *
 * Layers, bottom up:
 *   util.c, crc64*.c, base64 in util.c     bytes and strings
 *   url.c                                  endpoints, connection strings
 *   auth.c                                 SharedKey, SAS, bearer
 *   xml.c                                  list, error and block list bodies
 *   rest.c / driver.c (+ hsframe.c)        transports (one interface)
 *   exec.c                                 sign, send, retry, map errors
 *   pool.c                                 worker threads of one transfer
 *   ops.c, list.c, upload.c, download.c    the operations, written once
 *   ctx.c, error.c, opts.c, props.c        the public objects
 */
#ifndef AZB_H
#define AZB_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "azblob.h"

#define AZB_EXPORT __attribute__((visibility("default")))
#define AZB_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define AZB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The REST API version the library speaks (Azurite 3.35 accepts it). */
#define AZB_API_VERSION		"2025-01-05"

#define AZB_KIB			((size_t)1 << 10)
#define AZB_MIB			((size_t)1 << 20)
#define AZB_MAX_BLOCKS		50000U
#define AZB_MAX_BLOCK_SIZE	(4000 * AZB_MIB)	/* Put Block */
#define AZB_MAX_PUT_SIZE	(5000 * AZB_MIB)	/* Put Blob */
/* Ranges whose CRC-64 or MD5 the service computes (x-ms-range-get-*). */
#define AZB_MAX_CHECKED_RANGE	(4 * AZB_MIB)
/* The largest response body read into memory (list pages, errors). */
#define AZB_MAX_SMALL_BODY	(32 * AZB_MIB)
#define AZB_MAX_CONCURRENCY	64U

/* ------------------------------------------------------------------ */
/* Strings and bytes (util.c)                                          */
/* ------------------------------------------------------------------ */

/* A growable byte string, always NUL-terminated when p != NULL. */
struct azb_buf {
	char *p;
	size_t len;
	size_t cap;
	bool oom;	/* an append failed; the content is incomplete */
};

int azb_buf_reserve(struct azb_buf *b, size_t extra);
void azb_buf_add(struct azb_buf *b, const void *p, size_t n);
void azb_buf_adds(struct azb_buf *b, const char *s);
void azb_buf_addf(struct azb_buf *b, const char *fmt, ...) AZB_PRINTF(2, 3);
void azb_buf_free(struct azb_buf *b);
/* Take ownership of the string (never NULL unless out of memory). */
char *azb_buf_steal(struct azb_buf *b);

char *azb_strdup(const char *s);
char *azb_strndup(const char *s, size_t n);
int azb_strcasecmp_n(const char *a, const char *b, size_t n);

/* Base64 (RFC 4648, with padding). */
size_t azb_base64_len(size_t n);
void azb_base64_encode(const void *src, size_t n, char *dst);
/* Returns the decoded length, or -1 for malformed input. dst: n/4*3. */
long azb_base64_decode(const char *src, size_t n, unsigned char *dst);

/* Percent-encode @s: unreserved characters stay; "/" too if @keep_slash. */
void azb_pct_encode(struct azb_buf *b, const char *s, size_t n,
		    bool keep_slash);
/* Decode %XX (not "+"). Returns NULL on malformed input or OOM. */
char *azb_pct_decode(const char *s, size_t n);

/* "Thu, 26 Nov 2026 10:00:00 GMT" (always English). out: 30 bytes. */
void azb_http_date(time_t t, char out[32]);
/* Parse an RFC 1123 date; 0 on success. */
int azb_parse_http_date(const char *s, time_t *out);

/* Parse a decimal u64, the whole string; 0 on success. */
int azb_parse_u64(const char *s, uint64_t *out);

/* Random bytes (getrandom, with a fallback). */
void azb_random(void *p, size_t n);

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t azb_now_ms(void);
void azb_sleep_ms(unsigned int ms);

/* ------------------------------------------------------------------ */
/* CRC-64/NVME (crc64.c, crc64_clmul.c)                                */
/* ------------------------------------------------------------------ */

/*
 * The raw update without the inversions: crc' = crc * x^(8 n) + M * x^64
 * mod G, reflected. azblob_crc64() is ~raw(~crc).
 */
uint64_t azb_crc64_raw_table(uint64_t crc, const unsigned char *p, size_t n);
uint64_t azb_crc64_raw_clmul(uint64_t crc, const unsigned char *p, size_t n);
bool azb_crc64_have_clmul(void);
/* Folding constants x^n mod G, reflected (used by the CLMUL path). */
uint64_t azb_crc64_xpow(unsigned int n);
/* {x^1087, x^1023, x^191, x^127} mod G, as crc64_clmul.c has them. */
extern const uint64_t azb_crc64_clmul_k[4];
/*
 * The 8 bytes little-endian, base64: "iJh5CoYUi64=". out: 13 bytes. In
 * util.c, so that the host VSP can build crc64*.c alone.
 */
void azb_crc64_base64(uint64_t crc, char out[16]);

/* ------------------------------------------------------------------ */
/* Errors (error.c)                                                    */
/* ------------------------------------------------------------------ */

struct azblob_error {
	enum azblob_status status;
	int http_status;
	int sys_errno;
	uint32_t host_status;
	char *message;
	char *service_code;
	char *service_message;
	char *request_id;
};

/*
 * Record a failure in @err (may be NULL) and return @status. The message
 * is printf-formatted. A later failure replaces an earlier one.
 */
int azb_fail(azblob_error *err, enum azblob_status status, int sys_errno,
	     const char *fmt, ...) AZB_PRINTF(4, 5);
void azb_err_reset(azblob_error *err);
/* Move @from into @to (which may be NULL); @from is left empty. */
void azb_err_move(azblob_error *to, azblob_error *from);
/* Prefix the message with "@what: ". */
void azb_err_prefix(azblob_error *err, const char *what);

/* ------------------------------------------------------------------ */
/* Requests and responses                                              */
/* ------------------------------------------------------------------ */

enum azb_method {
	AZB_GET = 1,	/* the values of the HsReq001 format */
	AZB_PUT = 2,
	AZB_HEAD = 3,
	AZB_DELETE = 4,
	AZB_POST = 5,
};

struct azb_hdr {
	char *name;
	char *value;
};

struct azb_hdrs {
	struct azb_hdr *v;
	size_t n;
	size_t cap;
	bool oom;
};

void azb_hdrs_add(struct azb_hdrs *h, const char *name, const char *value);
void azb_hdrs_addn(struct azb_hdrs *h, const char *name, size_t nlen,
		   const char *value, size_t vlen);
/* First value of @name (any case), or NULL. */
const char *azb_hdrs_get(const struct azb_hdrs *h, const char *name);
/* Drop entries from index @n on. */
void azb_hdrs_truncate(struct azb_hdrs *h, size_t n);
void azb_hdrs_free(struct azb_hdrs *h);

/* Request flags. */
#define AZB_REQ_IDEMPOTENT	(1U << 0)	/* may be repeated */

/**
 * struct azb_req - One REST request.
 * @method: The method.
 * @path: Absolute path as sent, percent-encoded, with the account's path
 *        prefix for path-style endpoints.
 * @query: The query without "?", encoded (SAS included); "" for none.
 * @hdrs: Header fields (x-ms-date and Authorization are added per try).
 * @body: The request body (PUT), or NULL.
 * @body_len: Its length.
 * @dst: Where a successful (2xx) response body goes, or NULL to collect
 *       it in &azb_resp.body.
 * @dst_cap: Room at @dst; a longer body is a protocol error.
 * @body_max: Without @dst, the longest body to collect (0: a default).
 * @flags: AZB_REQ_*.
 * @what: The resource, for messages ("photos/cat.jpg"); owned.
 */
struct azb_req {
	enum azb_method method;
	char *path;
	char *query;
	struct azb_hdrs hdrs;
	const void *body;
	size_t body_len;
	void *dst;
	size_t dst_cap;
	size_t body_max;
	unsigned int flags;
	char *what;
};

/**
 * struct azb_resp - The service's answer.
 * @status: The HTTP status.
 * @hdrs: Header fields as received.
 * @body: The body when the request had no @dst, or an error body.
 * @dst_len: Bytes written to the request's @dst.
 */
struct azb_resp {
	int status;
	struct azb_hdrs hdrs;
	struct azb_buf body;
	size_t dst_len;
};

void azb_req_init(struct azb_req *r, enum azb_method m);
void azb_req_free(struct azb_req *r);
void azb_resp_reset(struct azb_resp *r);
void azb_resp_free(struct azb_resp *r);

/*
 * Why a transport could not deliver an answer. The retry policy decides by
 * @kind; @err holds the message for the caller.
 */
enum azb_tfail_kind {
	AZB_TF_NONE = 0,
	AZB_TF_NOT_SENT,	/* nothing reached the service: safe to retry */
	AZB_TF_DROPPED,		/* the connection failed: may have executed */
	AZB_TF_TIMEOUT,		/* the try timed out: may have executed */
	AZB_TF_BUSY,		/* driver: EBUSY/EAGAIN, not sent */
	AZB_TF_FATAL,		/* anything else: no retry */
};

struct azb_tfail {
	enum azb_tfail_kind kind;
	azblob_error err;
};

/* ------------------------------------------------------------------ */
/* Transports (rest.c, driver.c)                                       */
/* ------------------------------------------------------------------ */

/**
 * struct azb_transport - What a transport offers the operations.
 * @kind: REST or DRIVER.
 * @name: "rest" or "driver".
 * @max_body: The largest request or response body of one request.
 * @exec: Carry @req and fill @resp. Returns 0 when the service answered
 *        (any HTTP status), or -1 with @f filled. @timeout_ms: this try.
 *        Thread-safe; many calls run at once.
 * @destroy: Free the transport.
 */
struct azb_transport {
	enum azblob_transport kind;
	const char *name;
	size_t max_body;
	int (*exec)(struct azb_transport *t, const struct azb_req *req,
		    struct azb_resp *resp, unsigned int timeout_ms,
		    struct azb_tfail *f);
	void (*destroy)(struct azb_transport *t);
};

struct azblob_ctx;
int azb_rest_open(struct azblob_ctx *ctx, struct azb_transport **out,
		  azblob_error *err);
int azb_driver_open(struct azblob_ctx *ctx, struct azb_transport **out,
		    azblob_error *err);
bool azb_rest_available(void);
/* Requests carried and connections opened by the REST transport (tests). */
void azb_rest_stats(struct azblob_ctx *ctx, unsigned long *requests,
		    unsigned long *connects);

/*
 * The driver's ioctl, replaceable for tests (a loopback to the host's
 * Blob service without a guest): returns what ioctl() would, errno set.
 */
struct az_blob_request_sync;
typedef int (*azb_driver_submit_fn)(void *arg, int fd,
				    struct az_blob_request_sync *req);
void azb_ctx_set_driver_submit(struct azblob_ctx *ctx, azb_driver_submit_fn fn,
			       void *arg);

/* What the driver transport carried, and how (tests, benchmarks). */
struct azb_driver_stats {
	bool ring;			/* io_uring in use now */
	unsigned long ring_requests;	/* completed through the ring */
	unsigned long ioctl_requests;	/* submitted through the ioctl */
	unsigned int ring_peak;		/* most in flight on the ring */
	unsigned int ring_entries;
};
void azb_driver_stats(struct azblob_ctx *ctx, struct azb_driver_stats *st);

/*
 * Whether @fd takes AZ_BLOB_URING_CMD_REQUEST on @ring (driver.c): 0, or
 * the errno that says why not (EOPNOTSUPP: no ->uring_cmd; EINVAL: the
 * kernel lacks IORING_OP_URING_CMD).
 */
struct azb_uring;
int azb_driver_probe_ring(struct azb_uring *ring, int fd);
/* Tests: set up the ring without probing the device (the first command
 * then decides, as with a device replaced after the probe). */
void azb_ctx_set_driver_ring_noprobe(struct azblob_ctx *ctx, bool noprobe);

/* The largest body one driver request carries (the data buffer). */
#define AZB_DRIVER_MAX_BODY	((size_t)(8192 - 64) * 4096)

/* ------------------------------------------------------------------ */
/* Endpoints and connection strings (url.c)                            */
/* ------------------------------------------------------------------ */

struct azb_url {
	char *scheme;	/* "http" or "https" */
	char *host;	/* without brackets for IPv6 */
	unsigned int port;
	char *path;	/* "" or "/seg..." without a trailing "/" */
	char *query;	/* after "?", or NULL (a SAS in the URL) */
};

int azb_url_parse(const char *s, struct azb_url *u, azblob_error *err);
void azb_url_free(struct azb_url *u);
/* "scheme://host[:port]" (port omitted when it is the default). */
char *azb_url_origin(const struct azb_url *u);
bool azb_host_is_ip_or_local(const char *host);

struct azb_connstr {
	char *endpoint;	/* the Blob endpoint URL */
	char *account;
	char *key;
	char *sas;
};

int azb_connstr_parse(const char *cs, struct azb_connstr *out,
		      azblob_error *err);
void azb_connstr_free(struct azb_connstr *c);

#define AZB_DEV_ACCOUNT	"devstoreaccount1"
#define AZB_DEV_KEY	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UV" \
			"ErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
#define AZB_DEV_ENDPOINT "http://127.0.0.1:10000/devstoreaccount1"

/* ------------------------------------------------------------------ */
/* Authorization (auth.c)                                              */
/* ------------------------------------------------------------------ */

enum azb_auth_kind { AZB_AUTH_NONE, AZB_AUTH_KEY, AZB_AUTH_SAS, AZB_AUTH_BEARER };

/* Azure's order of canonicalized header names (not strcmp). */
int azb_azure_cmp(const char *a, const char *b);
/* The SharedKey string-to-sign of @req for @account. */
char *azb_string_to_sign(const struct azb_req *req, const char *account);
/* "SharedKey account:signature" into @out (room for 128 + account). */
int azb_sign_shared_key(const struct azb_req *req, const char *account,
			const unsigned char *key, size_t key_len,
			struct azb_buf *out);

/* ------------------------------------------------------------------ */
/* XML bodies (xml.c)                                                  */
/* ------------------------------------------------------------------ */

struct azb_meta {
	char *key;
	char *value;
};

struct azblob_props {
	char *name;
	bool is_prefix;
	uint64_t size;
	char *etag;
	time_t last_modified;
	char *content_type;
	char *content_md5;
	char *content_encoding;
	char *content_language;
	char *content_disposition;
	char *cache_control;
	char *blob_type;
	struct azb_meta *meta;
	size_t nmeta;
	size_t meta_cap;
};

void azb_props_clear(struct azblob_props *p);
/* A metadata pair Azure accepts and gives back unchanged. */
bool azb_meta_ok(const char *key, const char *value);
int azb_props_add_meta(struct azblob_props *p, const char *k, size_t kl,
		       const char *v, size_t vl);

struct azb_list_page {
	struct azblob_props *items;
	size_t n;
	size_t cap;
	char *next_marker;	/* NULL when this was the last page */
};

enum azb_list_kind { AZB_LIST_CONTAINERS, AZB_LIST_BLOBS };

int azb_xml_parse_list(const char *xml, size_t len, enum azb_list_kind kind,
		       struct azb_list_page *page, azblob_error *err);
void azb_list_page_free(struct azb_list_page *page);
/* <Error><Code>..</Code><Message>..</Message></Error>; 0 if parsed. */
int azb_xml_parse_error(const char *xml, size_t len, char **code,
			char **message);

struct azb_block {
	char *id;	/* base64, as sent */
	uint64_t size;
};

/* The <CommittedBlocks> of a Get Block List answer. */
int azb_xml_parse_block_list(const char *xml, size_t len,
			     struct azb_block **blocks, size_t *n,
			     size_t *n_uncommitted, azblob_error *err);

/* ------------------------------------------------------------------ */
/* The context (ctx.c) and the request engine (exec.c)                 */
/* ------------------------------------------------------------------ */

struct azblob_ctx {
	/* Configuration: set before the context is shared. */
	struct azb_url url;
	bool have_url;
	char *account;
	unsigned char *key;
	size_t key_len;
	char *sas;		/* without "?" */
	enum azb_auth_kind auth;
	enum azblob_transport want;
	char *device;
	char *ca_file;
	unsigned int concurrency;
	size_t block_size;
	size_t chunk_size;
	size_t put_threshold;
	enum azblob_checksum checksum;
	unsigned int max_tries;
	unsigned int backoff_base_ms;
	unsigned int backoff_max_ms;
	unsigned int timeout_base_ms;
	unsigned int min_kib_per_s;
	azb_driver_submit_fn driver_submit;
	void *driver_submit_arg;
	enum azblob_driver_async driver_async;
	bool driver_ring_noprobe;	/* tests */

	/* Bearer token: replaceable at any time. */
	pthread_mutex_t token_lock;
	char *token;

	/* The transport, resolved once. */
	pthread_mutex_t transport_lock;
	struct azb_transport *transport;
	_Atomic(struct azb_transport *) transport_ready;

	/* Jitter. */
	atomic_uint_fast64_t rng;
};

/* The transport, resolving it on first use. */
int azb_ctx_transport(struct azblob_ctx *ctx, struct azb_transport **out,
		      azblob_error *err);

/* The path of a container or blob: prefix + "/" + encoded names. */
int azb_path(const struct azblob_ctx *ctx, const char *container,
	     const char *blob, char **out, azblob_error *err);
int azb_check_container(const char *name, azblob_error *err);
int azb_check_blob(const char *name, azblob_error *err);

/*
 * Send @req with the context's authorization, retrying what the policy
 * allows. Returns AZBLOB_OK when the service answered 2xx (or a status in
 * @ok_status, a 0-terminated list), else the failure, with the service's
 * code and message in @err. @resp holds the last answer.
 */
int azb_exec(struct azblob_ctx *ctx, struct azb_req *req,
	     struct azb_resp *resp, azblob_error *err);
int azb_exec_ok(struct azblob_ctx *ctx, struct azb_req *req,
		struct azb_resp *resp, const int *ok_status,
		azblob_error *err);

/* Add the SAS to a query being built ("&" handled). */
void azb_query_add(struct azb_buf *q, const char *name, const char *value);
int azb_finish_query(const struct azblob_ctx *ctx, struct azb_buf *q,
		     char **out, azblob_error *err);

/* ------------------------------------------------------------------ */
/* The retry policy (retry.c)                                          */
/* ------------------------------------------------------------------ */

struct azb_retry {
	unsigned int max_tries;
	unsigned int base_ms;
	unsigned int max_ms;
};

bool azb_retry_status(int http_status);
/*
 * Whether try number @tries (1 = the first) that failed this way is
 * retried: @http_status (0 if none), @tf (AZB_TF_NONE if answered),
 * @idempotent.
 */
bool azb_retry_should(const struct azb_retry *p, unsigned int tries,
		      int http_status, enum azb_tfail_kind tf,
		      bool idempotent);
/*
 * The wait before retry @tries + 1: exponential from base_ms, capped at
 * max_ms, with jitter from @rnd (uniform 64 bits), at least @retry_after_ms.
 */
unsigned int azb_retry_backoff_ms(const struct azb_retry *p,
				  unsigned int tries, uint64_t rnd,
				  unsigned int retry_after_ms);
/* Retry-After: seconds or an HTTP date; 0 on success. */
int azb_parse_retry_after(const char *v, time_t now, unsigned int *ms);
/* The per-try timeout for a request moving @bytes. */
unsigned int azb_try_timeout_ms(unsigned int base_ms,
				unsigned int min_kib_per_s, uint64_t bytes);

/* ------------------------------------------------------------------ */
/* Options (opts.c)                                                    */
/* ------------------------------------------------------------------ */

struct azblob_opts {
	char *content_type;
	struct azb_meta *meta;
	size_t nmeta;
	size_t meta_cap;
	bool have_range;
	uint64_t range_off;
	uint64_t range_len;
	unsigned int concurrency;	/* 0: the context's */
	size_t block_size;		/* 0: the context's */
	int checksum;			/* -1: the context's */
	uint64_t size_hint;		/* 0: none */
	bool no_overwrite;
	azblob_progress_fn progress;
	void *progress_arg;
};

/* Effective values of @opts (may be NULL) over @ctx. */
unsigned int azb_opt_concurrency(const struct azblob_ctx *ctx,
				 const azblob_opts *o);
enum azblob_checksum azb_opt_checksum(const struct azblob_ctx *ctx,
				      const azblob_opts *o);

/* ------------------------------------------------------------------ */
/* Worker threads of one transfer (pool.c)                             */
/* ------------------------------------------------------------------ */

struct azb_task {
	struct azb_task *next;
	void (*fn)(struct azb_task *t);
};

struct azb_pool;
int azb_pool_start(struct azb_pool **out, unsigned int threads);
void azb_pool_submit(struct azb_pool *p, struct azb_task *t);
/* Wait for every task submitted, join the threads, free. */
void azb_pool_finish(struct azb_pool *p);

/* ------------------------------------------------------------------ */
/* Operations shared by the transfer code (ops.c)                      */
/* ------------------------------------------------------------------ */

int azb_blob_req(struct azblob_ctx *ctx, struct azb_req *r,
		 enum azb_method m, const char *container, const char *blob,
		 struct azb_buf *query, azblob_error *err);
int azb_props_from_headers(const struct azb_hdrs *h, const char *name,
			   struct azblob_props *p);
void azb_add_meta_headers(struct azb_req *r, const struct azb_meta *m,
			  size_t n);

#endif /* AZB_H */
