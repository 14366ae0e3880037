/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the io_uring suites share (uring_suite.c defines it): the kernel's
 * and the driver's answers to "what can this run expect", one command
 * submitted and waited for, requests with known answers. uring_suite.c has
 * the functional, validation, ring shape and registered buffer tests,
 * uring_life.c the commands whose ring, task or device goes away,
 * uring_fuzz.c the SQE fuzzer.
 */
#ifndef AZ_BLOB_TEST_URING_TEST_H
#define AZ_BLOB_TEST_URING_TEST_H

#include "harness.h"
#include "uring.h"

#define U_RING_FLAGS	(IORING_SETUP_SQE128 | IORING_SETUP_CQE32)
#define U_CMD_OFF	48	/* offsetof(struct io_uring_sqe, cmd) */

/* The kernel and the driver */

/* The running kernel is @maj.@min or later. */
int k_at_least(int maj, int min);
/* 6.7 and later cancel a uring_cmd at ring exit / exec (ASYNC.md). */
int k_cancels(void);
/*
 * A counter of the driver's stats that the harness does not know
 * (fixed_pages, cancelled, overdue, resets), or -1.
 */
long ustat(const char *key);
/* Nothing in flight, pinned or referenced in a registered buffer. */
int all_idle(int ms);
/* The driver's outstanding count is @n (within @ms). */
int outstanding_is(long n, int ms);

/* Commands */

void prep_cmd(const struct uring *u, struct io_uring_sqe *sqe, int fd,
	      const struct az_blob_request_sync *r, uint64_t ud);
int ring_new(struct uring *u, unsigned int entries, unsigned int flags);
/* Submit everything handed out; fail unless the kernel took @n SQEs. */
int submit_n(struct uring *u, int n);
int wait_cqe(struct uring *u, int ms, struct ur_cqe *c, const char *what);
/* One command: submit @r with @cflags/@bi/@iosqe on @u, wait up to @ms. */
int cmd1(struct uring *u, int fd, const struct az_blob_request_sync *r,
	 uint32_t cflags, uint16_t bi, uint8_t iosqe, int ms,
	 struct ur_cqe *c, const char *what);
/*
 * Whether the tests can run: 0, TEST_SKIP (no io_uring path in the
 * driver) or TEST_FAIL, with the reason set.
 */
int uring_ready(void);
#define READY()	do { int _r = uring_ready(); if (_r) return _r; } while (0)

/* Requests with known answers */

/*
 * One request in an arena of its own: the request at @PG + 100, the
 * response on its own page(s), the data page aligned after them (+1 with
 * @odd), a guard page at each end.
 */
struct ureq {
	struct arena *a;
	struct az_blob_request_sync r;
	uint8_t *req, *resp, *data;
	uint32_t op, seed, status;
	size_t req_len, resp_len, data_len, data_valid;
};

int ureq_init(struct ureq *q, uint32_t op, size_t req_len, size_t resp_len,
	      size_t data_len, size_t data_valid, uint32_t fault,
	      uint32_t delay, uint32_t status, uint32_t seed, int tracked);
void ureq_free(struct ureq *q);
/* A CQE with res 0 and @q's exact answer. */
int cqe_ok(const struct ur_cqe *c, struct ureq *q, const char *what);
/*
 * The same request through the ioctl and through io_uring: the same
 * status, length and bytes, one submitted and one completed each.
 */
int both_ways(struct uring *u, int fd, struct ureq *q, const char *what);

#endif /* AZ_BLOB_TEST_URING_TEST_H */
