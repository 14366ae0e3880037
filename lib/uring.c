// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A minimal io_uring ring with raw syscalls (uring.h): no liburing, so the
 * library's dependencies and the static guest build stay as they are.
 *
 * One ring per driver transport, shared by every thread of the context.
 * A caller takes a slot (at most @entries commands in flight; more wait),
 * writes its SQE and submits it under the submission lock, then waits for
 * its own CQE. Whoever waits and finds no one reaping becomes the reaper:
 * it sleeps in io_uring_enter(GETEVENTS) without holding any lock, hands
 * every CQE it finds to the slot its user_data names, and gives the role
 * up once its own CQE has come; the others sleep on a condition variable.
 * So one thread at a time is in the kernel waiting for completions, and
 * any number of commands are in flight on the ring.
 *
 * The ring is set up without COOP_TASKRUN or DEFER_TASKRUN on purpose:
 * a driver posts a uring_cmd's CQE from task work queued to the task that
 * submitted it, and that task may be asleep on the condition variable
 * (not in io_uring_enter). With the default notification (TWA_SIGNAL) the
 * kernel interrupts that sleep, runs the task work and restarts the
 * futex wait, so the CQE is posted and the reaper wakes; COOP only
 * promises to run it at the submitter's next kernel entry, and
 * DEFER_TASKRUN needs a single submitting task.
 *
 * The CQ ring has twice the SQ ring's entries (the kernel's default) and
 * never more than @entries commands are in flight, so it cannot overflow.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "uring.h"

struct slot {
	bool busy;
	bool done;
	int32_t res;
	uint64_t res2;
};

struct azb_uring {
	int fd;
	unsigned int entries;
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len;
	union azb_sqe128 *sqes;
	size_t sqes_len;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	unsigned char *cqes;		/* 32-byte CQEs */

	pthread_mutex_t sq_lock;	/* the SQ tail and io_uring_enter(submit) */
	pthread_mutex_t lock;		/* the slots, the CQ head, the reaper */
	pthread_cond_t cond;
	bool reaping;
	unsigned int inflight;
	unsigned int peak;
	uint64_t completed;
	struct slot slots[];
};

#define CQE32_SIZE	(2 * sizeof(struct io_uring_cqe))

static int sys_setup(unsigned int entries, struct io_uring_params *p)
{
	return (int)syscall(__NR_io_uring_setup, entries, p);
}

static int sys_enter(int fd, unsigned int to_submit, unsigned int min,
		     unsigned int flags)
{
	return (int)syscall(__NR_io_uring_enter, fd, to_submit, min, flags,
			    NULL, 8);
}

static int sys_register(int fd, unsigned int op, void *arg, unsigned int n)
{
	return (int)syscall(__NR_io_uring_register, fd, op, arg, n);
}

void azb_uring_close(struct azb_uring *r)
{
	if (!r)
		return;
	if (r->sqes)
		munmap(r->sqes, r->sqes_len);
	if (r->cq_map && r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_map_len);
	if (r->sq_map)
		munmap(r->sq_map, r->sq_map_len);
	if (r->fd >= 0)
		close(r->fd);
	pthread_cond_destroy(&r->cond);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->sq_lock);
	free(r);
}

int azb_uring_open(struct azb_uring **out, unsigned int entries)
{
	struct io_uring_params p;
	struct azb_uring *r;
	unsigned char *sq, *cq;
	int e;

	*out = NULL;
	if (!entries || entries > 4096 || (entries & (entries - 1)))
		return -EINVAL;
	r = calloc(1, sizeof(*r) + entries * sizeof(struct slot));
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	pthread_mutex_init(&r->sq_lock, NULL);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);

	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
	r->fd = sys_setup(entries, &p);
	if (r->fd < 0)
		goto fail;
	/* The kernel rounds up; we never have more than @entries in flight. */
	if (p.sq_entries < entries || p.cq_entries < p.sq_entries) {
		errno = EINVAL;
		goto fail;
	}
	r->entries = entries;
	r->sq_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	r->cq_map_len = p.cq_off.cqes + p.cq_entries * CQE32_SIZE;
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_map_len > r->sq_map_len)
			r->sq_map_len = r->cq_map_len;
		r->cq_map_len = r->sq_map_len;
	}
	r->sq_map = mmap(NULL, r->sq_map_len, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED) {
		r->sq_map = NULL;
		goto fail;
	}
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		r->cq_map = r->sq_map;
	} else {
		r->cq_map = mmap(NULL, r->cq_map_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, r->fd,
				 IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED) {
			r->cq_map = NULL;
			goto fail;
		}
	}
	r->sqes_len = p.sq_entries * sizeof(union azb_sqe128);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED) {
		r->sqes = NULL;
		goto fail;
	}
	sq = r->sq_map;
	cq = r->cq_map;
	r->sq_head = (unsigned int *)(sq + p.sq_off.head);
	r->sq_tail = (unsigned int *)(sq + p.sq_off.tail);
	r->sq_mask = (unsigned int *)(sq + p.sq_off.ring_mask);
	r->sq_array = (unsigned int *)(sq + p.sq_off.array);
	r->cq_head = (unsigned int *)(cq + p.cq_off.head);
	r->cq_tail = (unsigned int *)(cq + p.cq_off.tail);
	r->cq_mask = (unsigned int *)(cq + p.cq_off.ring_mask);
	r->cqes = cq + p.cq_off.cqes;
	*out = r;
	return 0;
fail:
	e = errno ? errno : EINVAL;
	azb_uring_close(r);
	return -e;
}

bool azb_uring_op_supported(struct azb_uring *r, unsigned int op)
{
	const unsigned int n = 256;
	struct io_uring_probe *p;
	bool ok;

	p = calloc(1, sizeof(*p) + n * sizeof(struct io_uring_probe_op));
	if (!p)
		return false;
	ok = sys_register(r->fd, IORING_REGISTER_PROBE, p, n) == 0 &&
	     op <= p->last_op && op < n &&
	     (p->ops[op].flags & IO_URING_OP_SUPPORTED);
	free(p);
	return ok;
}

/* Hand the CQEs in the ring to their slots. Under r->lock. */
static void reap_locked(struct azb_uring *r)
{
	unsigned int head = *r->cq_head;
	unsigned int tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
	bool any = false;

	for (; head != tail; head++) {
		const struct io_uring_cqe *c = (const void *)
			(r->cqes + (head & *r->cq_mask) * CQE32_SIZE);
		uint64_t ud = c->user_data;

		if (ud < r->entries && r->slots[ud].busy &&
		    !r->slots[ud].done) {
			r->slots[ud].res = c->res;
			r->slots[ud].res2 = c->big_cqe[0];
			r->slots[ud].done = true;
			r->completed++;
			any = true;
		}
	}
	__atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
	if (any)
		pthread_cond_broadcast(&r->cond);
}

static void put_slot_locked(struct azb_uring *r, unsigned int i)
{
	r->slots[i].busy = false;
	r->slots[i].done = false;
	r->inflight--;
	pthread_cond_broadcast(&r->cond);
}

/* Put the SQE at the tail and have the kernel take it. 0 or -errno. */
static int submit(struct azb_uring *r, const union azb_sqe128 *sqe,
		  unsigned int slot)
{
	unsigned int tail, idx;
	int n, e = 0;

	pthread_mutex_lock(&r->sq_lock);
	tail = *r->sq_tail;
	idx = tail & *r->sq_mask;
	r->sqes[idx] = *sqe;
	r->sqes[idx].sqe.user_data = slot;
	r->sq_array[idx] = idx;
	__atomic_store_n(r->sq_tail, tail + 1, __ATOMIC_RELEASE);
	do {
		n = sys_enter(r->fd, 1, 0, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		e = errno;
	if (n <= 0 && __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE) == tail) {
		/* Not consumed (EAGAIN, ENOMEM, EBUSY, ...): take it back.
		 * Only enter(submit) reads the tail, and we hold sq_lock. */
		__atomic_store_n(r->sq_tail, tail, __ATOMIC_RELEASE);
		if (!e)
			e = EAGAIN;
	} else {
		e = 0;
	}
	pthread_mutex_unlock(&r->sq_lock);
	return -e;
}

int azb_uring_run(struct azb_uring *r, const union azb_sqe128 *sqe,
		  int32_t *res, uint64_t *res2)
{
	unsigned int i;
	int rc;

	pthread_mutex_lock(&r->lock);
	while (r->inflight == r->entries)
		pthread_cond_wait(&r->cond, &r->lock);
	for (i = 0; r->slots[i].busy; i++)
		;
	r->slots[i].busy = true;
	r->slots[i].done = false;
	if (++r->inflight > r->peak)
		r->peak = r->inflight;
	pthread_mutex_unlock(&r->lock);

	rc = submit(r, sqe, i);

	pthread_mutex_lock(&r->lock);
	if (rc) {
		put_slot_locked(r, i);
		pthread_mutex_unlock(&r->lock);
		return rc;
	}
	while (!r->slots[i].done) {
		if (r->reaping) {
			pthread_cond_wait(&r->cond, &r->lock);
			continue;
		}
		r->reaping = true;
		reap_locked(r);
		while (!r->slots[i].done) {
			int n;

			pthread_mutex_unlock(&r->lock);
			n = sys_enter(r->fd, 0, 1, IORING_ENTER_GETEVENTS);
			if (n < 0 && errno != EINTR && errno != EAGAIN &&
			    errno != EBUSY && errno != ETIME) {
				/* Should not happen; do not spin. */
				struct timespec ts = { 0, 1000000 };

				nanosleep(&ts, NULL);
			}
			pthread_mutex_lock(&r->lock);
			reap_locked(r);
		}
		r->reaping = false;
		/* Someone else may be waiting for a reaper. */
		pthread_cond_broadcast(&r->cond);
	}
	*res = r->slots[i].res;
	if (res2)
		*res2 = r->slots[i].res2;
	put_slot_locked(r, i);
	pthread_mutex_unlock(&r->lock);
	return 0;
}

void azb_uring_get_stats(struct azb_uring *r, struct azb_uring_stats *st)
{
	pthread_mutex_lock(&r->lock);
	st->completed = r->completed;
	st->peak = r->peak;
	st->entries = r->entries;
	pthread_mutex_unlock(&r->lock);
}
