/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A minimal io_uring ring (uring.c) for the driver transport: raw
 * syscalls, no liburing. SQE128 | CQE32, shared by every thread of a
 * context; each caller submits one SQE and sleeps until its own CQE.
 */
#ifndef AZB_URING_H
#define AZB_URING_H

#include <linux/io_uring.h>
#include <stdbool.h>
#include <stdint.h>

/* An SQE of a SQE128 ring: 64 bytes and the 64 of its command area. */
union azb_sqe128 {
	struct io_uring_sqe sqe;
	unsigned char bytes[128];
};

struct azb_uring;

/*
 * Set up a ring of @entries submission slots (a power of 2, at most 4096)
 * with IORING_SETUP_SQE128 | IORING_SETUP_CQE32. Returns 0 or -errno
 * (-ENOSYS without io_uring, -EPERM when kernel.io_uring_disabled or a
 * seccomp filter refuses it, -EINVAL on kernels before 5.19).
 */
int azb_uring_open(struct azb_uring **out, unsigned int entries);
void azb_uring_close(struct azb_uring *r);

/* Whether the kernel knows opcode @op (IORING_REGISTER_PROBE). */
bool azb_uring_op_supported(struct azb_uring *r, unsigned int op);

/*
 * Submit @sqe (its user_data is replaced) and wait for its completion;
 * thread-safe, many calls run at once (at most @entries in flight, more
 * wait for a slot). The SQE is copied: it may live on the caller's stack.
 * Returns 0 with the CQE's res and big_cqe[0] in @res and @res2, or
 * -errno when the kernel would not take the SQE (nothing was submitted).
 */
int azb_uring_run(struct azb_uring *r, const union azb_sqe128 *sqe,
		  int32_t *res, uint64_t *res2);

struct azb_uring_stats {
	uint64_t completed;	/* CQEs delivered to their submitters */
	unsigned int peak;	/* most commands in flight at once */
	unsigned int entries;	/* submission slots */
};

void azb_uring_get_stats(struct azb_uring *r, struct azb_uring_stats *st);

#endif /* AZB_URING_H */
