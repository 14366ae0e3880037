// SPDX-License-Identifier: GPL-2.0
/*
 * A minimal io_uring on raw syscalls (uring.h): setup with any flags, the
 * SQ/CQ/SQE mappings, submit, CQEs with a timeout, registered buffers.
 * Works for 64-bit and 32-bit callers alike (the ring layout is the same;
 * io_uring_enter's timeout argument is a __kernel_timespec of two 64-bit
 * fields on both).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "uring.h"

#ifndef __NR_io_uring_setup		/* the same on x86-64 and i386 */
#define __NR_io_uring_setup		425
#define __NR_io_uring_enter		426
#define __NR_io_uring_register		427
#endif

static int sys_setup(unsigned int entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned int submit, unsigned int wait,
		     unsigned int flags, const void *arg, size_t argsz)
{
	return (int)syscall(__NR_io_uring_enter, fd, submit, wait, flags, arg,
			    argsz);
}

static int sys_register(int fd, unsigned int op, const void *arg,
			unsigned int n)
{
	return (int)syscall(__NR_io_uring_register, fd, op, arg, n);
}

int ur_setup(struct uring *u, unsigned int entries, unsigned int flags)
{
	struct io_uring_params p;
	uint8_t *sq, *cq;
	void *m;
	int err;

	memset(u, 0, sizeof(*u));
	u->fd = -1;
	memset(&p, 0, sizeof(p));
	p.flags = flags;
	u->fd = sys_setup(entries, &p);
	if (u->fd < 0) {
		err = errno;
		u->fd = -1;
		return err;
	}
	u->flags = flags;
	u->sq_entries = p.sq_entries;
	u->cq_entries = p.cq_entries;
	u->sqe_size = (flags & IORING_SETUP_SQE128) ? 128 : 64;
	u->cqe_size = (flags & IORING_SETUP_CQE32) ? 32 : 16;
	u->sq_ring_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	u->cq_ring_len = p.cq_off.cqes + p.cq_entries * u->cqe_size;
	u->single_mmap = !!(p.features & IORING_FEAT_SINGLE_MMAP);
	if (u->single_mmap) {
		if (u->cq_ring_len > u->sq_ring_len)
			u->sq_ring_len = u->cq_ring_len;
		u->cq_ring_len = u->sq_ring_len;
	}
	m = mmap(NULL, u->sq_ring_len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQ_RING);
	if (m == MAP_FAILED)
		goto fail;
	u->sq_ring = m;
	if (u->single_mmap) {
		u->cq_ring = m;
	} else {
		m = mmap(NULL, u->cq_ring_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_CQ_RING);
		if (m == MAP_FAILED)
			goto fail;
		u->cq_ring = m;
	}
	u->sqes_len = p.sq_entries * u->sqe_size;
	m = mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (m == MAP_FAILED)
		goto fail;
	u->sqes = m;
	sq = u->sq_ring;
	cq = u->cq_ring;
	u->sq_head = (unsigned int *)(sq + p.sq_off.head);
	u->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	u->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned int *)(sq + p.sq_off.array);
	u->cq_head = (unsigned int *)(cq + p.cq_off.head);
	u->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	u->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	u->cqes = cq + p.cq_off.cqes;
	u->sqe_tail = *u->sq_tail;
	return 0;
fail:
	err = errno;
	ur_close(u);
	return err;
}

void ur_close(struct uring *u)
{
	if (u->sqes)
		munmap(u->sqes, u->sqes_len);
	if (u->cq_ring && u->cq_ring != u->sq_ring)
		munmap(u->cq_ring, u->cq_ring_len);
	if (u->sq_ring)
		munmap(u->sq_ring, u->sq_ring_len);
	if (u->fd >= 0)
		close(u->fd);
	memset(u, 0, sizeof(*u));
	u->fd = -1;
}

struct io_uring_sqe *ur_get_sqe(struct uring *u)
{
	unsigned int head = __atomic_load_n(u->sq_head, __ATOMIC_ACQUIRE);
	struct io_uring_sqe *sqe;

	if (u->sqe_tail - head >= u->sq_entries)
		return NULL;
	sqe = (struct io_uring_sqe *)(u->sqes +
				      (u->sqe_tail & *u->sq_mask) * u->sqe_size);
	memset(sqe, 0, u->sqe_size);
	u->sq_array[u->sqe_tail & *u->sq_mask] = u->sqe_tail & *u->sq_mask;
	u->sqe_tail++;
	return sqe;
}

int ur_submit(struct uring *u, unsigned int wait)
{
	unsigned int n = u->sqe_tail - *u->sq_tail;
	int ret;

	__atomic_store_n(u->sq_tail, u->sqe_tail, __ATOMIC_RELEASE);
	do {
		ret = sys_enter(u->fd, n, wait,
				wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : ret;
}

unsigned int ur_cq_ready(const struct uring *u)
{
	return __atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE) - *u->cq_head;
}

int ur_peek(struct uring *u, struct ur_cqe *c)
{
	unsigned int head = *u->cq_head;
	const struct io_uring_cqe *cqe;

	if (__atomic_load_n(u->cq_tail, __ATOMIC_ACQUIRE) == head)
		return 0;
	cqe = (const struct io_uring_cqe *)(u->cqes +
					    (head & *u->cq_mask) * u->cqe_size);
	memset(c, 0, sizeof(*c));
	c->user_data = cqe->user_data;
	c->res = cqe->res;
	c->flags = cqe->flags;
	if (u->cqe_size == 32) {
		memcpy(&c->big0, (const uint8_t *)cqe + 16, 8);
		memcpy(&c->big1, (const uint8_t *)cqe + 24, 8);
	}
	__atomic_store_n(u->cq_head, head + 1, __ATOMIC_RELEASE);
	return 1;
}

static int64_t mono_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int ur_wait(struct uring *u, int ms, struct ur_cqe *c)
{
	int64_t end = mono_ms() + (ms > 0 ? ms : 0), left;
	struct io_uring_getevents_arg arg;
	struct __kernel_timespec ts;
	int ret;

	for (;;) {
		if (ur_peek(u, c))
			return 0;
		left = end - mono_ms();
		if (left <= 0)
			return ETIME;
		memset(&arg, 0, sizeof(arg));
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000LL;
		arg.ts = (uint64_t)(uintptr_t)&ts;
		ret = sys_enter(u->fd, 0, 1,
				IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
				&arg, sizeof(arg));
		if (ret < 0 && errno != EINTR && errno != ETIME) {
			int err = errno;

			return ur_peek(u, c) ? 0 : err;
		}
	}
}

int ur_register_buffers(struct uring *u, const struct iovec *iov,
			unsigned int n)
{
	return sys_register(u->fd, IORING_REGISTER_BUFFERS, iov, n) ? errno : 0;
}

int ur_unregister_buffers(struct uring *u)
{
	return sys_register(u->fd, IORING_UNREGISTER_BUFFERS, NULL, 0) ?
	       errno : 0;
}
