// SPDX-License-Identifier: GPL-2.0
/*
 * TEST-ONLY: what the parts of blob_test share: the harness's state and
 * checks (blob_test.c), the cases of blob_test_format.c (CRC-64, JSON,
 * request framing), blob_test_http.c (the HTTP client against a scripted
 * server) and blob_test_azurite.c (a real Blob service, the SDK, --bench).
 */
#ifndef AZ_BLOB_HOST_BLOB_TEST_H
#define AZ_BLOB_HOST_BLOB_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <azblob.h>

#include "../blob_service.h"
#include "../json.h"
#include "blob_client.h"
#include "blob_fakesrv.h"

#define MIB		(1024UL * 1024UL)
#define TIMEOUT_MS	60000U	/* for requests that must not hang the test */

/* The harness's state (blob_test.c). */
extern const char *endpoint;
extern const char *node_dir;
extern char container[64];
extern struct az_host_service svc;	/* the endpoint's */
extern struct az_host_service svc_dead;	/* nobody listens there */

/* Record why the case fails (first reason wins) and return -1. */
__attribute__((format(printf, 2, 3)))
int failf(int line, const char *fmt, ...);

#define CHECK(cond) do {						\
	if (!(cond))							\
		return failf(__LINE__, "%s", #cond);			\
} while (0)
#define CHECKF(cond, ...) do {						\
	if (!(cond))							\
		return failf(__LINE__, __VA_ARGS__);			\
} while (0)
/* A host status, with its name in the message. */
#define CHECK_ST(got, want) do {					\
	uint32_t g_ = (got), w_ = (want);				\
	if (g_ != w_)							\
		return failf(__LINE__, "status %#x, want %#x", g_, w_);	\
} while (0)

uint64_t now_ms(void);

/* Run sdk.js; its stdout (first line) in @out. The exit status. */
__attribute__((format(printf, 3, 4)))
int sdk(char *out, size_t max, const char *fmt, ...);
/* put and get of @mib MiB to the endpoint, timed (--bench). */
int bench(size_t mib);

/* The cases, in the order they run. */
/* blob_test_format.c */
int t_crc64(void);
int t_json_valid(void);
int t_json_malformed(void);
int t_json_limits(void);
int t_json_escapes(void);
int t_json_duplicates(void);
int t_json_writer(void);
int t_frame_header(void);
int t_frame_crc(void);
int t_frame_truncated(void);
int t_frame_schema(void);
int t_frame_refused(void);
/* blob_test_http.c */
int t_http_chunked(void);
int t_http_truncated(void);
int t_http_framings(void);
int t_http_malformed(void);
int t_http_keepalive_stale(void);
int t_http_retry(void);
int t_http_early_answer(void);
int t_deadline_no_answer(void);
int t_deadline_mid_upload(void);
int t_cancel(void);
int t_refused(void);
/* blob_test_azurite.c */
int t_container(void);
int t_put_get_sizes(void);
int t_head(void);
int t_list(void);
int t_delete_404(void);
int t_403(void);
int t_sharedkey_order(void);
int t_inline_body(void);
int t_truncated_get(void);
int t_insufficient_buffer(void);
int t_keepalive_reuse(void);
int t_threads(void);
int t_sdk_reverse(void);
int t_encoded_names(void);
int t_content_crc64(void);
int t_cleanup(void);

#endif /* AZ_BLOB_HOST_BLOB_TEST_H */
