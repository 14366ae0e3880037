/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal io_uring for the test tool, on raw syscalls: the tool is built
 * static for 64 and 32 bit, and Debian 12 has no i386 static liburing. One
 * ring, its SQ and CQ mapped, SQEs handed out in order, CQEs copied out one
 * at a time; registered buffers. Not thread-safe: one thread per ring (a
 * forked child may submit on the ring it inherited).
 */
#ifndef AZ_BLOB_TEST_URING_H
#define AZ_BLOB_TEST_URING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/io_uring.h>

/* Debian 12's linux-libc-dev (6.1) has all of these; newer names only. */
#ifndef IORING_SETUP_SQE128
#define IORING_SETUP_SQE128		(1U << 10)
#endif
#ifndef IORING_SETUP_CQE32
#define IORING_SETUP_CQE32		(1U << 11)
#endif
#ifndef IORING_URING_CMD_FIXED
#define IORING_URING_CMD_FIXED		(1U << 0)
#endif

struct uring {
	int fd;
	unsigned int flags;		/* the setup flags */
	unsigned int sq_entries, cq_entries;
	size_t sqe_size, cqe_size;	/* 64 or 128; 16 or 32 */
	void *sq_ring, *cq_ring;	/* one mapping if single_mmap */
	size_t sq_ring_len, cq_ring_len, sqes_len;
	int single_mmap;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	uint8_t *sqes, *cqes;
	unsigned int sqe_tail;		/* SQEs handed out, not yet published */
};

/* A CQE copied out of the ring; big0/big1 are 0 on a 16-byte CQE ring. */
struct ur_cqe {
	uint64_t user_data;
	int32_t res;
	uint32_t flags;
	uint64_t big0, big1;
};

/* Each returns 0 or a positive errno unless it says otherwise. */
int ur_setup(struct uring *u, unsigned int entries, unsigned int flags);
void ur_close(struct uring *u);
/* The next free SQE, zeroed (sqe_size bytes); NULL when the SQ is full. */
struct io_uring_sqe *ur_get_sqe(struct uring *u);
/*
 * Publish the SQEs handed out and enter the kernel: -errno, or the number
 * the kernel consumed. @wait: also wait for that many CQEs (no timeout).
 */
int ur_submit(struct uring *u, unsigned int wait);
/* Copy out the next CQE if there is one: 1, else 0. */
int ur_peek(struct uring *u, struct ur_cqe *c);
/* The next CQE within @ms: 0, or ETIME (none came), or an enter errno. */
int ur_wait(struct uring *u, int ms, struct ur_cqe *c);
/* CQEs posted and not yet taken. */
unsigned int ur_cq_ready(const struct uring *u);
int ur_register_buffers(struct uring *u, const struct iovec *iov,
			unsigned int n);
int ur_unregister_buffers(struct uring *u);

#endif /* AZ_BLOB_TEST_URING_H */
