// SPDX-License-Identifier: GPL-2.0
/*
 * az_blob_bench - throughput and latency of /dev/azure_blob.
 *
 * TEST-ONLY: the requests are the simulated host's NULL op (az_blob_sim.h),
 * which a real host does not know. Modes:
 *
 *   ioctl  the driver's request ioctl, AZ_SIM_OP_NULL, a data buffer of
 *          --size bytes (the host reads it, AZ_BLOB_DATA_HOST_READS)
 *   noop   an ioctl number the driver does not know (ENOTTY): the cost of
 *          the system call and the driver's dispatch, nothing else
 *   wake   a futex ping-pong between two threads: the cost of one sleep and
 *          one wake-up each way, what every request pays at least once
 *   read   one read pass over --size bytes (what the NULL op does per byte)
 *   memcpy one copy of --size bytes
 *   uring  the request as an io_uring command (AZ_BLOB_URING_CMD_REQUEST),
 *          --qd commands in flight from one thread, buffers pinned per
 *          request
 *   uring-fixed  the same from a registered buffer (IORING_URING_CMD_FIXED)
 *
 * The io_uring modes use a small ring of their own on raw system calls
 * (static binary, no liburing). With --goals the run ends with the issue's
 * goals as ratios of its own cells, each PASS or MISS.
 *
 * Each run prints one machine-readable line (key=value), and a table of
 * every run follows at the end.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/futex.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <misc/hv_azure_blob.h>
#include "az_blob_sim.h"
#include "bench.h"

/* Debian 12's linux-libc-dev (6.1) has these; for older headers. */
#ifndef IORING_SETUP_SQE128
#define IORING_SETUP_SQE128	(1U << 10)
#endif
#ifndef IORING_SETUP_CQE32
#define IORING_SETUP_CQE32	(1U << 11)
#endif
#ifndef IORING_URING_CMD_FIXED
#define IORING_URING_CMD_FIXED	(1U << 0)
#endif

/* Not the driver's: same magic and size, a number it does not know. */
#define BENCH_BAD_IOCTL \
	_IOWR(AZ_BLOB_MAGIC_NUMBER, 0xfe, struct az_blob_request_sync)

#define MAX_LIST	16
#define MAX_RUNS	1024
#define MAX_QD		256
#define REQ_AREA	4096	/* request at 0, response at RESP_OFF */
#define RESP_OFF	2048
#define RESP_LEN	64
#define URING_TIMEOUT_MS 60000	/* 1..AZ_BLOB_URING_MAX_TIMEOUT */

static const char *const mode_name[NR_MODES] = {
	"ioctl", "noop", "wake", "read", "memcpy", "uring", "uring-fixed"
};

enum phase { PH_WARMUP, PH_MEASURE, PH_STOP };

/*
 * Latency histogram: exact below 64 ns, then 64 buckets per power of two
 * (under 1.6 % relative error), up to 2^63 ns.
 */
#define HIST_SUB_BITS	6
#define HIST_SUB	(1U << HIST_SUB_BITS)
#define HIST_BUCKETS	(HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t n[HIST_BUCKETS];
	uint64_t count;
	uint64_t max;
};

static unsigned int hist_bucket(uint64_t ns)
{
	unsigned int e;

	if (ns < HIST_SUB)
		return ns;
	e = 63 - __builtin_clzll(ns);
	return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB +
	       ((ns >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The middle of a bucket. */
static double hist_value(unsigned int b)
{
	unsigned int e, sub;
	double lo, width;

	if (b < HIST_SUB)
		return b;
	e = (b - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
	sub = (b - HIST_SUB) % HIST_SUB;
	width = (double)(1ULL << (e - HIST_SUB_BITS));
	lo = (HIST_SUB + sub) * width;
	return lo + width / 2;
}

static void hist_add(struct hist *h, uint64_t ns)
{
	h->n[hist_bucket(ns)]++;
	h->count++;
	if (ns > h->max)
		h->max = ns;
}

static void hist_merge(struct hist *to, const struct hist *from)
{
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		to->n[i] += from->n[i];
	to->count += from->count;
	if (from->max > to->max)
		to->max = from->max;
}

/* Percentile @p (0..100) in microseconds; 0 without samples. */
static double hist_pct_us(const struct hist *h, double p)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (!h->count)
		return 0;
	want = (uint64_t)(p / 100.0 * (double)h->count);
	if (want >= h->count)
		want = h->count - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen > want)
			return hist_value(i) / 1000.0;
	}
	return h->max / 1000.0;
}

/* One futex ping-pong pair (MODE_WAKE). */
struct pair {
	_Atomic uint32_t turn;	/* 1: the partner's turn */
	_Atomic bool stop;
	pthread_t partner;
};

/* A ring of our own: IORING_SETUP_SQE128 | IORING_SETUP_CQE32. */
struct ring {
	int fd;
	unsigned int sq_entries, cq_entries;
	void *map;
	size_t map_len;
	uint8_t *sqes;
	size_t sqes_len;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	uint8_t *cqes;		/* 32 bytes each */
};

struct worker {
	const struct config *cfg;
	pthread_t thread;
	int fd;
	uint8_t *area;		/* request and response (MODE_IOCTL); io_uring:
				 * qd of them, then the data */
	size_t area_len;
	uint8_t *data;		/* cfg->size bytes */
	uint8_t *copy;		/* MODE_MEMCPY: the destination */
	uint64_t sink;		/* MODE_READ: keeps the reads */
	struct pair pair;	/* MODE_WAKE */
	struct ring ring;	/* io_uring modes */
	uint64_t quota;		/* ops to measure; 0: until PH_STOP */
	uint64_t ops;
	uint64_t errors;
	char why[160];
	struct hist hist;
};

static _Atomic int phase;
static pthread_barrier_t start_barrier;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("az_blob_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, NULL, NULL, 0);
}

/* Block while *@w is @val. */
static void futex_wait_while(_Atomic uint32_t *w, uint32_t val)
{
	while (atomic_load(w) == val)
		futex(w, FUTEX_WAIT_PRIVATE, val);
}

static void *partner_main(void *arg)
{
	struct pair *p = arg;

	for (;;) {
		futex_wait_while(&p->turn, 0);
		if (atomic_load(&p->stop))
			return NULL;
		atomic_store(&p->turn, 0);
		futex(&p->turn, FUTEX_WAKE_PRIVATE, 1);
	}
}

/* The NULL request for one buffer triple. */
static void fill_request(const struct config *cfg,
			 struct az_blob_request_sync *r, uint8_t *area,
			 uint8_t *data)
{
	struct az_sim_req *s = (struct az_sim_req *)area;

	memset(s, 0, sizeof(*s));
	s->magic = AZ_SIM_MAGIC;	/* the guests are little-endian */
	s->op = AZ_SIM_OP_NULL;
	memset(r, 0, sizeof(*r));
	r->request_len = sizeof(*s);
	r->request_buffer = (uintptr_t)area;
	r->response_len = RESP_LEN;
	r->response_buffer = (uintptr_t)(area + RESP_OFF);
	r->data_len = cfg->size;
	r->data_valid = cfg->size;
	r->data_buffer = cfg->size ? (uintptr_t)data : 0;
	r->flags = AZ_BLOB_DATA_HOST_READS;
}

/* What the host answered: false with w->why set unless 0, 0. */
static bool check_answer(struct worker *w, uint32_t status, uint32_t len)
{
	if (status == AZ_SIM_STATUS_BAD_REQUEST) {
		snprintf(w->why, sizeof(w->why),
			 "the host does not know AZ_SIM_OP_NULL (an az_blob_sim.ko older than this tool?)");
		return false;
	}
	if (status || len) {
		snprintf(w->why, sizeof(w->why),
			 "status 0x%08x, response_len %u; want 0, 0", status, len);
		return false;
	}
	return true;
}

/* One read pass, as the NULL op reads: eight bytes at a time. */
static uint64_t read_pass(const uint8_t *p, uint64_t n)
{
	uint64_t acc = 0, v, i;

	for (i = 0; i + sizeof(v) <= n; i += sizeof(v)) {
		memcpy(&v, p + i, sizeof(v));
		acc ^= v;
	}
	for (; i < n; i++)
		acc ^= p[i];
	return acc;
}

/* One operation; false with w->why set on failure. */
static bool do_op(struct worker *w, struct az_blob_request_sync *r)
{
	const struct config *cfg = w->cfg;

	switch (cfg->mode) {
	case MODE_IOCTL:
		r->response.status = ~0U;
		r->response.response_len = ~0U;
		if (ioctl(w->fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, r)) {
			snprintf(w->why, sizeof(w->why), "request ioctl: %s",
				 strerror(errno));
			return false;
		}
		return check_answer(w, r->response.status,
				    r->response.response_len);
	case MODE_NOOP:
		if (ioctl(w->fd, BENCH_BAD_IOCTL, r) != -1 || errno != ENOTTY) {
			snprintf(w->why, sizeof(w->why),
				 "unknown ioctl did not fail with ENOTTY: %s",
				 strerror(errno));
			return false;
		}
		return true;
	case MODE_WAKE:
		atomic_store(&w->pair.turn, 1);
		futex(&w->pair.turn, FUTEX_WAKE_PRIVATE, 1);
		futex_wait_while(&w->pair.turn, 1);
		return true;
	case MODE_READ:
		w->sink ^= read_pass(w->data, cfg->size);
		/* The compiler must not drop the pass. */
		__asm__ volatile("" : : "r"(w->sink) : "memory");
		return true;
	case MODE_MEMCPY:
		memcpy(w->copy, w->data, cfg->size);
		__asm__ volatile("" : : "r"(w->copy) : "memory");
		return true;
	default:
		return false;
	}
}

/* ------------------------------------------------------------------ */
/* io_uring on raw system calls                                        */

static int ring_setup(struct ring *rg, unsigned int entries)
{
	struct io_uring_params p;
	size_t sq_len, cq_len;
	uint8_t *m;

	memset(rg, 0, sizeof(*rg));
	rg->fd = -1;
	memset(&p, 0, sizeof(p));
	p.flags = IORING_SETUP_SQE128 | IORING_SETUP_CQE32;
	rg->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (rg->fd < 0)
		return -errno;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP))
		return -ENOSYS;	/* 5.4 and older: not a kernel we run */
	rg->sq_entries = p.sq_entries;
	rg->cq_entries = p.cq_entries;
	sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	cq_len = p.cq_off.cqes + p.cq_entries * 32;
	rg->map_len = sq_len > cq_len ? sq_len : cq_len;
	rg->map = mmap(NULL, rg->map_len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_POPULATE, rg->fd, IORING_OFF_SQ_RING);
	if (rg->map == MAP_FAILED) {
		rg->map = NULL;
		return -errno;
	}
	rg->sqes_len = p.sq_entries * 128;
	rg->sqes = mmap(NULL, rg->sqes_len, PROT_READ | PROT_WRITE,
			MAP_SHARED | MAP_POPULATE, rg->fd, IORING_OFF_SQES);
	if (rg->sqes == MAP_FAILED) {
		rg->sqes = NULL;
		return -errno;
	}
	m = rg->map;
	rg->sq_head = (unsigned int *)(m + p.sq_off.head);
	rg->sq_tail = (unsigned int *)(m + p.sq_off.tail);
	rg->sq_mask = (unsigned int *)(m + p.sq_off.ring_mask);
	rg->sq_array = (unsigned int *)(m + p.sq_off.array);
	rg->cq_head = (unsigned int *)(m + p.cq_off.head);
	rg->cq_tail = (unsigned int *)(m + p.cq_off.tail);
	rg->cq_mask = (unsigned int *)(m + p.cq_off.ring_mask);
	rg->cqes = m + p.cq_off.cqes;
	return 0;
}

static void ring_close(struct ring *rg)
{
	if (rg->sqes)
		munmap(rg->sqes, rg->sqes_len);
	if (rg->map)
		munmap(rg->map, rg->map_len);
	if (rg->fd >= 0)
		close(rg->fd);
	memset(rg, 0, sizeof(*rg));
	rg->fd = -1;
}

/* Queue the command of slot @i (SQE @i); the kernel sees it at ring_enter. */
static void ring_queue(struct ring *rg, unsigned int i,
		       const struct az_blob_request_sync *r, int fd, bool fixed)
{
	struct io_uring_sqe *sqe = (struct io_uring_sqe *)(rg->sqes + i * 128);
	unsigned int tail = *rg->sq_tail;

	memset(sqe, 0, 128);
	sqe->opcode = IORING_OP_URING_CMD;
	sqe->fd = fd;
	sqe->cmd_op = AZ_BLOB_URING_CMD_REQUEST;
	sqe->user_data = i;
	if (fixed) {
		sqe->uring_cmd_flags = IORING_URING_CMD_FIXED;
		sqe->buf_index = 0;
	}
	memcpy(sqe->cmd, r, sizeof(*r));
	rg->sq_array[tail & *rg->sq_mask] = i;
	__atomic_store_n(rg->sq_tail, tail + 1, __ATOMIC_RELEASE);
}

static int ring_enter(struct ring *rg, unsigned int submit, unsigned int wait)
{
	long ret = syscall(__NR_io_uring_enter, rg->fd, submit, wait,
			   wait ? IORING_ENTER_GETEVENTS : 0, NULL, 0);

	return ret < 0 ? -errno : (int)ret;
}

/*
 * One thread, cfg->qd commands kept in flight; each command's latency is
 * from the moment its SQE was written to the moment its CQE was read.
 */
static void uring_loop(struct worker *w)
{
	const struct config *cfg = w->cfg;
	bool fixed = cfg->mode == MODE_URING_FIXED;
	struct az_blob_request_sync r[MAX_QD];
	uint64_t t0[MAX_QD];
	int ph0[MAX_QD];
	unsigned int i, head, tail, inflight = 0, unsubmitted = 0;
	uint64_t started = 0;
	bool stopping = false;
	int ret;

	for (i = 0; i < cfg->qd; i++)
		fill_request(cfg, &r[i], w->area + (size_t)i * REQ_AREA, w->data);
	for (i = 0; i < cfg->qd; i++) {
		r[i].timeout = URING_TIMEOUT_MS;
		ph0[i] = atomic_load(&phase);
		t0[i] = now_ns();
		ring_queue(&w->ring, i, &r[i], w->fd, fixed);
		inflight++;
		unsubmitted++;
		if (ph0[i] == PH_MEASURE)
			started++;
	}
	while (inflight) {
		ret = ring_enter(&w->ring, unsubmitted, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN && ret != -EBUSY) {
			snprintf(w->why, sizeof(w->why), "io_uring_enter: %s",
				 strerror(-ret));
			w->errors++;
			atomic_store(&phase, PH_STOP);
			return;	/* closing the ring ends what is in flight */
		}
		if (ret > 0)
			unsubmitted -= (unsigned int)ret;

		head = *w->ring.cq_head;
		tail = __atomic_load_n(w->ring.cq_tail, __ATOMIC_ACQUIRE);
		for (; head != tail; head++) {
			struct io_uring_cqe *cqe = (struct io_uring_cqe *)
				(w->ring.cqes + (head & *w->ring.cq_mask) * 32);
			uint64_t t1 = now_ns(), res2 = cqe->big_cqe[0];
			unsigned int slot = (unsigned int)cqe->user_data;
			int res = cqe->res;
			int ph;

			inflight--;
			if (slot >= cfg->qd) {
				snprintf(w->why, sizeof(w->why),
					 "CQE with user_data %u", slot);
				res = -EPROTO;
			} else if (res < 0) {
				snprintf(w->why, sizeof(w->why),
					 "CQE res %d (%s)", res, strerror(-res));
			} else if (!check_answer(w, AZ_BLOB_CQE_STATUS(res2),
						 AZ_BLOB_CQE_RESPONSE_LEN(res2))) {
				res = -EPROTO;
			}
			if (res < 0) {
				if (!w->errors)
					atomic_store(&phase, PH_STOP);
				w->errors++;
				stopping = true;
				continue;
			}
			if (ph0[slot] == PH_MEASURE) {
				hist_add(&w->hist, t1 - t0[slot]);
				w->ops++;
			}
			ph = atomic_load(&phase);
			if (ph == PH_STOP || (w->quota && started >= w->quota))
				stopping = true;
			if (stopping)
				continue;
			ph0[slot] = ph;
			if (ph == PH_MEASURE)
				started++;
			t0[slot] = now_ns();
			ring_queue(&w->ring, slot, &r[slot], w->fd, fixed);
			inflight++;
			unsubmitted++;
		}
		__atomic_store_n(w->ring.cq_head, head, __ATOMIC_RELEASE);
	}
}

/* Ring and registered buffer for one io_uring worker; false with why set. */
static bool uring_prepare(struct worker *w)
{
	struct iovec iov;
	int ret;

	ret = ring_setup(&w->ring, w->cfg->qd);
	if (ret) {
		snprintf(w->why, sizeof(w->why), "io_uring_setup(SQE128|CQE32): %s",
			 strerror(-ret));
		return false;
	}
	if (w->cfg->mode == MODE_URING_FIXED) {
		iov.iov_base = w->area;
		iov.iov_len = w->area_len;
		if (syscall(__NR_io_uring_register, w->ring.fd,
			    IORING_REGISTER_BUFFERS, &iov, 1) < 0) {
			snprintf(w->why, sizeof(w->why),
				 "IORING_REGISTER_BUFFERS of %zu bytes: %s",
				 w->area_len, strerror(errno));
			return false;
		}
	}
	return true;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct az_blob_request_sync r;
	bool ready = true;
	uint64_t t0, t1;
	int ph;

	memset(&r, 0, sizeof(r));
	if (w->cfg->mode == MODE_IOCTL)
		fill_request(w->cfg, &r, w->area, w->data);
	if (mode_uring(w->cfg->mode))
		ready = uring_prepare(w);

	pthread_barrier_wait(&start_barrier);
	if (!ready) {
		w->errors++;
		atomic_store(&phase, PH_STOP);
	} else if (mode_uring(w->cfg->mode)) {
		uring_loop(w);
	} else {
		for (;;) {
			ph = atomic_load(&phase);
			if (ph == PH_STOP || (w->quota && w->ops >= w->quota))
				break;
			t0 = now_ns();
			if (!do_op(w, &r)) {
				w->errors++;
				atomic_store(&phase, PH_STOP);
				break;
			}
			t1 = now_ns();
			/* Counted if it started in the window, however it ends. */
			if (ph == PH_MEASURE) {
				hist_add(&w->hist, t1 - t0);
				w->ops++;
			}
		}
	}
	if (mode_uring(w->cfg->mode))
		ring_close(&w->ring);

	if (w->cfg->mode == MODE_WAKE) {
		atomic_store(&w->pair.stop, true);
		atomic_store(&w->pair.turn, 1);
		futex(&w->pair.turn, FUTEX_WAKE_PRIVATE, 1);
		pthread_join(w->pair.partner, NULL);
	}
	return NULL;
}

/* Jiffies of all CPUs from /proc/stat: user+nice, system, irq+softirq, total. */
struct cpu_times {
	uint64_t usr, sys, irq, busy, total;
};

static bool cpu_sample(struct cpu_times *c)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n, i;

	if (!f)
		return false;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
		   &v[8], &v[9]);
	fclose(f);
	if (n < 5)
		return false;
	c->total = 0;
	/* guest and guest_nice are already in user and nice */
	for (i = 0; i < 8; i++)
		c->total += v[i];
	c->busy = c->total - v[3] - v[4];	/* idle, iowait */
	c->usr = v[0] + v[1];
	c->sys = v[2];
	c->irq = v[5] + v[6];
	return true;
}

/*
 * The simulated host's time in its NULL op's read of the data (its stats
 * file's "null_ns"), so that a request's time splits into the host's part
 * and the rest; false where the file is not there.
 */
static bool host_sample(uint64_t *ns)
{
	FILE *f = fopen("/sys/kernel/debug/az_blob_sim/stats", "r");
	unsigned long long v;
	char line[256];
	bool ok = false;

	if (!f)
		return false;
	while (!ok && fgets(line, sizeof(line), f))
		if (sscanf(line, "null_ns %llu", &v) == 1) {
			*ns = v;
			ok = true;
		}
	fclose(f);
	return ok;
}

/* Sleep @s seconds, or less if a failed op stopped the run. */
static void sleep_s(double s)
{
	uint64_t end = now_ns() + (uint64_t)(s * 1e9), t;
	struct timespec ts;

	while (atomic_load(&phase) != PH_STOP && (t = now_ns()) < end) {
		t = end - t < 100000000ULL ? end - t : 100000000ULL;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)t;
		nanosleep(&ts, NULL);
	}
}

static void *map_area(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu bytes: %s", len, strerror(errno));
	/* Real pages, not the zero page. */
	memset(p, 0xa5, len);
	return p;
}

static int run(const struct config *cfg, struct result *res)
{
	struct cpu_times c0 = { 0 }, c1 = { 0 };
	uint64_t t0, t1 = 0, h0 = 0, h1 = 0;
	struct worker *ws;
	struct hist *all;
	bool have_cpu, have_host;
	unsigned int i;
	int fd = -1, ret = 0;

	if (cfg->mode == MODE_IOCTL || cfg->mode == MODE_NOOP ||
	    mode_uring(cfg->mode)) {
		fd = open(cfg->device, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die("%s: %s", cfg->device, strerror(errno));
	}
	ws = calloc(cfg->threads, sizeof(*ws));
	all = calloc(1, sizeof(*all));
	if (!ws || !all)
		die("out of memory");

	atomic_store(&phase, cfg->requests ? PH_MEASURE : PH_WARMUP);
	if (pthread_barrier_init(&start_barrier, NULL, cfg->threads + 1))
		die("pthread_barrier_init failed");
	for (i = 0; i < cfg->threads; i++) {
		struct worker *w = &ws[i];

		w->cfg = cfg;
		w->fd = fd;
		if (cfg->requests)
			w->quota = cfg->requests / cfg->threads +
				   (i < cfg->requests % cfg->threads);
		if (cfg->mode == MODE_IOCTL) {
			w->area_len = REQ_AREA;
			w->area = map_area(REQ_AREA);
			if (cfg->size)
				w->data = map_area(cfg->size);
		} else if (mode_uring(cfg->mode)) {
			/*
			 * One mapping (the registered buffer): qd request and
			 * response pages, then one data buffer that every
			 * command reads (the host only reads it).
			 */
			w->area_len = (size_t)cfg->qd * REQ_AREA +
				      ((cfg->size + 4095) & ~4095ULL);
			w->area = map_area(w->area_len);
			w->data = w->area + (size_t)cfg->qd * REQ_AREA;
		} else if (cfg->mode == MODE_READ || cfg->mode == MODE_MEMCPY) {
			w->data = map_area(cfg->size);
			if (cfg->mode == MODE_MEMCPY)
				w->copy = map_area(cfg->size);
		}
		if (cfg->mode == MODE_WAKE &&
		    pthread_create(&w->pair.partner, NULL, partner_main,
				   &w->pair))
			die("pthread_create failed");
		if (pthread_create(&w->thread, NULL, worker_main, w))
			die("pthread_create failed");
	}

	pthread_barrier_wait(&start_barrier);
	if (!cfg->requests && cfg->warmup > 0)
		sleep_s(cfg->warmup);
	have_cpu = cpu_sample(&c0);
	have_host = mode_host(cfg->mode) && host_sample(&h0);
	t0 = now_ns();
	if (!cfg->requests) {
		/* Unless a failed op stopped the run already. */
		int expect = PH_WARMUP;

		atomic_compare_exchange_strong(&phase, &expect, PH_MEASURE);
		sleep_s(cfg->seconds);
		t1 = now_ns();
		have_cpu = cpu_sample(&c1) && have_cpu;
		have_host = have_host && host_sample(&h1);
		atomic_store(&phase, PH_STOP);
	}
	for (i = 0; i < cfg->threads; i++)
		pthread_join(ws[i].thread, NULL);
	if (cfg->requests) {
		t1 = now_ns();
		have_cpu = cpu_sample(&c1) && have_cpu;
		have_host = have_host && host_sample(&h1);
	}

	memset(res, 0, sizeof(*res));
	res->cfg = *cfg;
	res->elapsed = (double)(t1 - t0) / 1e9;
	for (i = 0; i < cfg->threads; i++) {
		struct worker *w = &ws[i];

		hist_merge(all, &w->hist);
		res->ops += w->ops;
		res->errors += w->errors;
		if (w->errors && !ret) {
			fprintf(stderr, "az_blob_bench: %s: thread %u: %s\n",
				mode_name[cfg->mode], i, w->why);
			ret = 1;
		}
		if (w->area)
			munmap(w->area, w->area_len);
		if (w->data && !mode_uring(cfg->mode))
			munmap(w->data, cfg->size);
		if (w->copy)
			munmap(w->copy, cfg->size);
	}
	if (have_cpu && c1.total > c0.total) {
		double tot = (double)(c1.total - c0.total);

		res->cpu_busy_pct = 100.0 * (double)(c1.busy - c0.busy) / tot;
		res->usr_pct = 100.0 * (double)(c1.usr - c0.usr) / tot;
		res->sys_pct = 100.0 * (double)(c1.sys - c0.sys) / tot;
		res->irq_pct = 100.0 * (double)(c1.irq - c0.irq) / tot;
		if (res->ops)
			res->cpu_us_per_op = (double)(c1.busy - c0.busy) * 1e6 /
					     (double)sysconf(_SC_CLK_TCK) /
					     (double)res->ops;
	}
	res->host_us_per_op = -1;
	if (have_host && h1 >= h0 && res->ops)
		res->host_us_per_op = (double)(h1 - h0) / 1e3 /
				      (double)res->ops;
	res->p50 = hist_pct_us(all, 50);
	res->p90 = hist_pct_us(all, 90);
	res->p99 = hist_pct_us(all, 99);
	res->max = all->max / 1000.0;

	pthread_barrier_destroy(&start_barrier);
	free(all);
	free(ws);
	if (fd >= 0)
		close(fd);
	return ret;
}

static void print_line(const struct result *r)
{
	if (r->n > 1)
		printf("az_blob_bench median n=%u", r->n);
	else
		printf("az_blob_bench");
	printf(" mode=%s threads=%u qd=%u size=%llu seconds=%.3f ops=%llu errors=%llu ops_per_s=%.1f mb_per_s=%.2f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f cpu_busy_pct=%.1f usr_pct=%.1f sys_pct=%.1f irq_pct=%.1f cpu_us_per_op=%.1f",
	       mode_name[r->cfg.mode], r->cfg.threads,
	       mode_uring(r->cfg.mode) ? r->cfg.qd : 0,
	       mode_sized(r->cfg.mode) ? (unsigned long long)r->cfg.size : 0ULL,
	       r->elapsed, (unsigned long long)r->ops,
	       (unsigned long long)r->errors, ops_per_s(r), mb_per_s(r),
	       r->p50, r->p90, r->p99, r->max, r->cpu_busy_pct,
	       r->usr_pct, r->sys_pct, r->irq_pct, r->cpu_us_per_op);
	if (r->host_us_per_op >= 0)
		printf(" host_us_per_op=%.1f", r->host_us_per_op);
	printf("\n");
	fflush(stdout);
}

static void print_table(const struct result *rs, unsigned int n)
{
	unsigned int i;
	char size[24], qd[16];

	printf("\n%-11s %7s %4s %6s %10s %9s %9s %9s %9s %9s %6s %5s %5s %5s %9s\n",
	       "mode", "threads", "qd", "size", "ops/s", "MB/s", "p50 us",
	       "p90 us", "p99 us", "max us", "cpu%", "usr%", "sys%", "irq%",
	       "cpu us/op");
	for (i = 0; i < n; i++) {
		const struct result *r = &rs[i];

		if (mode_sized(r->cfg.mode))
			size_str(size, sizeof(size), r->cfg.size);
		else
			snprintf(size, sizeof(size), "-");
		if (mode_uring(r->cfg.mode))
			snprintf(qd, sizeof(qd), "%u", r->cfg.qd);
		else
			snprintf(qd, sizeof(qd), "-");
		printf("%-11s %7u %4s %6s %10.1f %9.2f %9.1f %9.1f %9.1f %9.1f %6.1f %5.1f %5.1f %5.1f %9.1f%s\n",
		       mode_name[r->cfg.mode], r->cfg.threads, qd, size,
		       ops_per_s(r), mb_per_s(r), r->p50, r->p90, r->p99,
		       r->max, r->cpu_busy_pct, r->usr_pct, r->sys_pct,
		       r->irq_pct, r->cpu_us_per_op,
		       r->errors ? "  ERRORS" : "");
	}
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: az_blob_bench [OPTION]... [MODE]...\n"
"Throughput and latency of /dev/azure_blob against the simulated Blob host\n"
"(az_blob_sim.ko, AZ_SIM_OP_NULL). TEST-ONLY: a real host does not know\n"
"the request this sends.\n"
"\n"
"Modes (default: ioctl):\n"
"  ioctl   the request ioctl: the host reads the data buffer (--size bytes,\n"
"          AZ_BLOB_DATA_HOST_READS) and answers status 0, response_len 0\n"
"  noop    an ioctl number the driver does not know (fails with ENOTTY)\n"
"  wake    futex ping-pong between two threads (--threads pairs); one op is\n"
"          a round trip\n"
"  read    one read pass over --size bytes, eight at a time (as the NULL\n"
"          op reads them); one thread\n"
"  memcpy  one memcpy of --size bytes; one thread\n"
"  uring   the request as an io_uring command (AZ_BLOB_URING_CMD_REQUEST,\n"
"          SQE128/CQE32 ring), --qd commands in flight from one thread,\n"
"          the buffers pinned by each command; the commands share one\n"
"          data buffer\n"
"  uring-fixed  as uring, all buffers in one registered buffer\n"
"          (IORING_URING_CMD_FIXED)\n"
"\n"
"Options (LIST: comma-separated values; every combination is run):\n"
"  -t, --threads=LIST   concurrent threads of ioctl (default 1)\n"
"  -T, --base-threads=LIST  threads (pairs) of noop and wake (default: -t)\n"
"  -q, --qd=LIST        io_uring commands in flight (default 1; 1..%d)\n"
"  -s, --size=LIST      data buffer bytes, K/M suffix (default 4K; 0: no\n"
"                       data buffer)\n"
"  -d, --seconds=S      measured time per run (default 5)\n"
"  -w, --warmup=S       unmeasured time before it (default 1)\n"
"  -n, --requests=N     measure N ops per run (split over the threads)\n"
"                       instead of a time, without warm-up\n"
"  -r, --repeat=N       run every combination N times (default 1); then\n"
"                       an \"az_blob_bench median n=N ...\" line per\n"
"                       combination follows, and the table and the goals\n"
"                       take the medians\n"
"  -g, --goals[=LIST]   end with issue 11's goals (LIST: letters of abcd,\n"
"                       default all) as ratios of the cells; goal d pairs\n"
"                       the runs of a repeat and wants a sign test over\n"
"                       the pairs (-r 5 or more, with --interleave)\n"
"  -m, --margin=X       goal d: a pair counts when registered beats pinned\n"
"                       by more than X (default 1, any gain)\n"
"  -I, --interleave     run size by size, the modes' cells taking turns\n"
"                       (the table keeps its order)\n"
"  -S, --short          the bench's own smoke test: -d 0.2 -w 0.05 --goals,\n"
"                       and unless given, every mode, -s 4K,64K -t 1,2\n"
"                       -q 1,4 (no timing is judged)\n"
"  -D, --device=PATH    the device (default /dev/azure_blob)\n"
"  -h, --help           this text\n"
"\n"
"Output: per run one line \"az_blob_bench mode=... threads=... qd=...\n"
"size=... seconds=... ops=... errors=... ops_per_s=... mb_per_s=...\n"
"p50_us=... p90_us=... p99_us=... max_us=... cpu_busy_pct=... usr_pct=...\n"
"sys_pct=... irq_pct=... cpu_us_per_op=... [host_us_per_op=...]\", then a\n"
"table of all runs, then\n"
"with --goals one \"goal X: ...\" and one \"az_blob_bench goal=X ...\" line\n"
"per goal. Latency is per op, from the caller (a wake op is a round trip;\n"
"an io_uring op from writing its SQE to reading its CQE). MB/s counts\n"
"--size bytes (10^6). cpu_busy_pct is the busy time of all CPUs\n"
"(/proc/stat) over the run, 100 = every CPU busy, split into usr, sys and\n"
"irq (hard and soft); cpu_us_per_op divides that busy time, the simulated\n"
"host's included, by the ops; host_us_per_op is the simulated host's time\n"
"in reading the data (its stats' null_ns), per op. Exit status: 0, 1 if an op failed, 2 on a\n"
"usage or setup error.\n", MAX_QD);
}

static uint64_t parse_num(const char *s, const char *what, bool suffix)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		die("bad %s '%s'", what, s);
	if (suffix && (*end == 'K' || *end == 'k')) {
		v <<= 10;
		end++;
	} else if (suffix && (*end == 'M' || *end == 'm')) {
		v <<= 20;
		end++;
	}
	if (*end)
		die("bad %s '%s'", what, s);
	return v;
}

static unsigned int parse_list(char *arg, uint64_t *out, const char *what,
			       bool suffix)
{
	unsigned int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_LIST)
			die("more than %d %s values", MAX_LIST, what);
		out[n++] = parse_num(tok, what, suffix);
	}
	if (!n)
		die("no %s given", what);
	return n;
}

static double parse_seconds(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > 1e6)
		die("bad %s '%s'", what, s);
	return v;
}

static bool cfg_equal(const struct config *a, const struct config *b)
{
	return a->mode == b->mode && a->threads == b->threads &&
	       a->qd == b->qd && a->size == b->size;
}

/*
 * The repeats of a cell (adjacent in @rs) as one result: each figure the
 * median of the runs, errors and ops summed. Returns the results left.
 */
static unsigned int aggregate(const struct result *rs, unsigned int n,
			      struct result *out)
{
	double v[MAX_RUNS];
	unsigned int i = 0, j, k, m = 0;

	while (i < n) {
		struct result *o = &out[m++];

		for (j = i + 1; j < n && cfg_equal(&rs[j].cfg, &rs[i].cfg); j++)
			;
		*o = rs[i];
		if (j - i > 1) {
#define MED(field, expr) do {					\
		for (k = i; k < j; k++)				\
			v[k - i] = (expr);			\
		o->field = median(v, j - i);			\
	} while (0)
			MED(rate, ops_per_s(&rs[k]));
			MED(p50, rs[k].p50);
			MED(p90, rs[k].p90);
			MED(p99, rs[k].p99);
			MED(max, rs[k].max);
			MED(cpu_busy_pct, rs[k].cpu_busy_pct);
			MED(usr_pct, rs[k].usr_pct);
			MED(sys_pct, rs[k].sys_pct);
			MED(irq_pct, rs[k].irq_pct);
			MED(cpu_us_per_op, rs[k].cpu_us_per_op);
			MED(host_us_per_op, rs[k].host_us_per_op);
			MED(elapsed, rs[k].elapsed);
#undef MED
			o->ops = 0;
			o->errors = 0;
			for (k = i; k < j; k++) {
				o->ops += rs[k].ops;
				o->errors += rs[k].errors;
			}
			o->n = j - i;
		}
		i = j;
	}
	return m;
}

/* A cell of the plan; key: repeat, size, parameter index, mode index. */
struct cell {
	struct config cfg;
	unsigned int index;
	uint64_t key[4];
};

static int cell_cmp(const void *x, const void *y)
{
	const struct cell *a = *(const struct cell *const *)x;
	const struct cell *b = *(const struct cell *const *)y;
	unsigned int i;

	for (i = 0; i < 4; i++)
		if (a->key[i] != b->key[i])
			return a->key[i] < b->key[i] ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "base-threads", required_argument, NULL, 'T' },
		{ "qd", required_argument, NULL, 'q' },
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "requests", required_argument, NULL, 'n' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "goals", optional_argument, NULL, 'g' },
		{ "margin", required_argument, NULL, 'm' },
		{ "short", no_argument, NULL, 'S' },
		{ "interleave", no_argument, NULL, 'I' },
		{ "device", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t threads[MAX_LIST] = { 1 }, sizes[MAX_LIST] = { 4096 };
	uint64_t bthreads[MAX_LIST], qds[MAX_LIST] = { 1 };
	unsigned int nthreads = 1, nsizes = 1, nmodes = 0, repeat = 1;
	unsigned int nbthreads = 0, nqds = 1, nt, a, k;
	bool goals = false, is_short = false, set_t = false, set_s = false;
	bool set_q = false, set_d = false, set_w = false;
	double margin = 1.0;
	const char *which = "abcd";
	enum mode modes[MAX_LIST];
	struct config base = {
		.seconds = 5,
		.warmup = 1,
		.device = "/dev/azure_blob",
	};
	static struct result results[MAX_RUNS], raw[MAX_RUNS];
	static struct cell plan[MAX_RUNS];
	struct cell **order;
	unsigned int nres = 0, nraw, nplan = 0, m, s;
	bool interleave = false;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "t:T:q:s:d:w:n:r:g::m:SID:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 't':
			nthreads = parse_list(optarg, threads, "thread count",
					      false);
			set_t = true;
			break;
		case 'T':
			nbthreads = parse_list(optarg, bthreads,
					       "thread count", false);
			break;
		case 'q':
			nqds = parse_list(optarg, qds, "queue depth", false);
			set_q = true;
			break;
		case 's':
			nsizes = parse_list(optarg, sizes, "size", true);
			set_s = true;
			break;
		case 'd':
			base.seconds = parse_seconds(optarg, "seconds");
			set_d = true;
			break;
		case 'w':
			base.warmup = parse_seconds(optarg, "warm-up");
			set_w = true;
			break;
		case 'n':
			base.requests = parse_num(optarg, "request count",
						  false);
			break;
		case 'r':
			repeat = parse_num(optarg, "repeat count", false);
			break;
		case 'g':
			goals = true;
			if (optarg) {
				if (!*optarg ||
				    optarg[strspn(optarg, "abcd")])
					die("--goals takes letters of abcd");
				which = optarg;
			}
			break;
		case 'm':
			margin = parse_seconds(optarg, "margin");
			break;
		case 'S':
			is_short = true;
			break;
		case 'I':
			interleave = true;
			break;
		case 'D':
			base.device = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (; optind < argc; optind++) {
		for (m = 0; m < NR_MODES; m++)
			if (!strcmp(argv[optind], mode_name[m]))
				break;
		if (m == NR_MODES)
			die("unknown mode '%s' (see --help)", argv[optind]);
		if (nmodes == MAX_LIST)
			die("more than %d modes", MAX_LIST);
		modes[nmodes++] = m;
	}
	if (is_short) {
		goals = true;
		if (!set_d)
			base.seconds = 0.2;
		if (!set_w)
			base.warmup = 0.05;
		if (!nmodes)
			for (m = 0; m < NR_MODES; m++)
				modes[nmodes++] = m;
		if (!set_s) {
			sizes[0] = 4096;
			sizes[1] = 64 << 10;
			nsizes = 2;
		}
		if (!set_t) {
			threads[0] = 1;
			threads[1] = 2;
			nthreads = 2;
		}
		if (!set_q) {
			qds[0] = 1;
			qds[1] = 4;
			nqds = 2;
		}
	}
	if (!nmodes)
		modes[nmodes++] = MODE_IOCTL;
	if (!nbthreads) {
		memcpy(bthreads, threads, sizeof(threads));
		nbthreads = nthreads;
	}
	if (!repeat || repeat > MAX_RUNS)
		die("repeat count must be 1..%d", MAX_RUNS);
	if (!base.requests && base.seconds <= 0)
		die("--seconds must be above 0");
	if (margin <= 0)
		die("--margin must be above 0");
	for (k = 0; k < nthreads; k++)
		if (!threads[k] || threads[k] > 1024)
			die("thread count must be 1..1024");
	for (k = 0; k < nbthreads; k++)
		if (!bthreads[k] || bthreads[k] > 1024)
			die("thread count must be 1..1024");
	for (k = 0; k < nqds; k++)
		if (!qds[k] || qds[k] > MAX_QD)
			die("queue depth must be 1..%d", MAX_QD);
	for (s = 0; s < nsizes; s++)
		if (sizes[s] > AZ_BLOB_MAX_LEN)
			die("size above AZ_BLOB_MAX_LEN (%u)", AZ_BLOB_MAX_LEN);

	/* The cells, in the table's order (mode by mode). */
	for (m = 0; m < nmodes; m++) {
		enum mode md = modes[m];
		/* Only the sized modes have a size. */
		unsigned int ns = mode_sized(md) ? nsizes : 1;

		for (s = 0; s < ns; s++) {
			const uint64_t *list = threads;

			nt = nthreads;
			if (md == MODE_NOOP || md == MODE_WAKE) {
				list = bthreads;
				nt = nbthreads;
			} else if (mode_uring(md)) {
				list = qds;
				nt = nqds;
			} else if (md != MODE_IOCTL) {
				nt = 1;
			}
			for (a = 0; a < nt; a++) {
				for (k = 0; k < repeat; k++) {
					struct cell *cl = &plan[nplan];
					struct config *cfg = &cl->cfg;

					if (nplan == MAX_RUNS)
						die("more than %d runs", MAX_RUNS);
					*cfg = base;
					cfg->mode = md;
					cfg->size = sizes[s];
					cfg->threads = 1;
					cfg->qd = 0;
					cfg->requests = base.requests;
					if (mode_uring(md))
						cfg->qd = list[a];
					else if (md == MODE_IOCTL ||
						 md == MODE_NOOP ||
						 md == MODE_WAKE)
						cfg->threads = list[a];
					if ((md == MODE_READ ||
					     md == MODE_MEMCPY) && !cfg->size)
						continue;
					if (cfg->requests &&
					    cfg->requests < cfg->threads)
						die("--requests below the thread count");
					cl->index = nplan;
					cl->key[0] = k;
					cl->key[1] = mode_sized(md) ? cfg->size : 0;
					cl->key[2] = a;
					cl->key[3] = m;
					nplan++;
				}
			}
		}
	}
	/*
	 * --interleave: run size by size, and within a size the modes' first
	 * cells, then their second ones, and so on; a repeat comes after a
	 * whole round. Cells compared by a goal then run minutes apart at most
	 * instead of whole sweeps apart, on a machine whose load drifts.
	 */
	order = calloc(nplan ? nplan : 1, sizeof(*order));
	if (!order)
		die("out of memory");
	for (k = 0; k < nplan; k++)
		order[k] = &plan[k];
	if (interleave)
		qsort(order, nplan, sizeof(*order), cell_cmp);
	for (k = 0; k < nplan; k++) {
		if (run(&order[k]->cfg, &results[order[k]->index]))
			ret = 1;
		print_line(&results[order[k]->index]);
	}
	nres = nplan;
	free(order);
	nraw = nres;
	memcpy(raw, results, nraw * sizeof(*raw));
	if (repeat > 1) {
		static struct result agg[MAX_RUNS];

		nres = aggregate(results, nres, agg);
		for (k = 0; k < nres; k++)
			print_line(&agg[k]);
		memcpy(results, agg, nres * sizeof(*agg));
	}
	print_table(results, nres);
	if (goals)
		print_goals(results, nres, raw, nraw, which, margin);
	return ret;
}
