/* SPDX-License-Identifier: GPL-2.0 */
/*
 * az_blob_bench's results, shared by the runner (az_blob_bench.c) and the
 * goals (goals.c).
 */
#ifndef AZ_BLOB_BENCH_H
#define AZ_BLOB_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mode {
	MODE_IOCTL, MODE_NOOP, MODE_WAKE, MODE_READ, MODE_MEMCPY,
	MODE_URING, MODE_URING_FIXED, NR_MODES
};

static inline bool mode_sized(enum mode m)
{
	return m == MODE_IOCTL || m == MODE_READ || m == MODE_MEMCPY ||
	       m == MODE_URING || m == MODE_URING_FIXED;
}

/* The modes whose requests the simulated host reads (the NULL op). */
static inline bool mode_host(enum mode m)
{
	return m == MODE_IOCTL || m == MODE_URING || m == MODE_URING_FIXED;
}

static inline bool mode_uring(enum mode m)
{
	return m == MODE_URING || m == MODE_URING_FIXED;
}

struct config {
	enum mode mode;
	unsigned int threads;
	unsigned int qd;	/* io_uring modes: commands in flight */
	uint64_t size;
	double seconds;
	double warmup;
	uint64_t requests;	/* total; 0: run for @seconds */
	const char *device;
};

struct result {
	struct config cfg;
	double elapsed;
	uint64_t ops;
	uint64_t errors;
	double cpu_busy_pct;	/* all CPUs together, 100 = all busy */
	double usr_pct, sys_pct, irq_pct;	/* parts of cpu_busy_pct */
	double cpu_us_per_op;	/* every CPU's busy time, the host's too */
	double host_us_per_op;	/* the host's read of the data; < 0: unknown */
	double p50, p90, p99, max;
	unsigned int n;		/* > 1: medians of n runs of the cell */
	double rate;		/* with n > 1: the median ops/s */
};

static inline double ops_per_s(const struct result *r)
{
	if (r->n > 1)
		return r->rate;
	return r->elapsed > 0 ? (double)r->ops / r->elapsed : 0;
}

static inline double mb_per_s(const struct result *r)
{
	return mode_sized(r->cfg.mode) ?
		ops_per_s(r) * (double)r->cfg.size / 1e6 : 0;
}

/* The median of @n values (the mean of the middle two if @n is even). */
double median(double *v, unsigned int n);
void size_str(char *buf, size_t len, uint64_t size);

/*
 * Issue 11's goals, those named in @which ("abcd" or a part of it): a, b
 * and c from @rs, the cells (medians where repeated); d from @raw, every
 * run in the order of the plan, where a cell's repeats are adjacent.
 */
void print_goals(const struct result *rs, unsigned int n,
		 const struct result *raw, unsigned int nraw,
		 const char *which, double margin);

#endif
