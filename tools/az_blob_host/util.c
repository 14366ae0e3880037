// SPDX-License-Identifier: GPL-2.0
/*
 * Small helpers of the host VSP: clock, log, eventfds, futex waits, sizes.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

uint64_t az_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * AZ_NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

void az_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write, so that lines of concurrent threads do not mix. */
	fprintf(stderr, AZ_PROG ": %s\n", line);
}

void az_eventfd_signal(int fd)
{
	uint64_t one = 1;
	ssize_t n;

	do {
		n = write(fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
	/* EAGAIN: the counter is saturated, the reader is signalled anyway. */
}

void az_eventfd_drain(int fd)
{
	uint64_t v;
	ssize_t n;

	do {
		n = read(fd, &v, sizeof(v));
	} while (n < 0 && errno == EINTR);
}

void az_futex_wait(const atomic_int *addr, int val, uint64_t until_ns)
{
	struct timespec ts, *tp = NULL;

	if (atomic_load(addr) != val)
		return;
	if (until_ns) {
		ts.tv_sec = (time_t)(until_ns / AZ_NSEC_PER_SEC);
		ts.tv_nsec = (long)(until_ns % AZ_NSEC_PER_SEC);
		tp = &ts;
	}
	/*
	 * FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. atomic_int
	 * is a plain 32-bit int on Linux, as a futex word must be.
	 */
	syscall(SYS_futex, (const int *)addr,
		FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, val, tp, NULL,
		FUTEX_BITSET_MATCH_ANY);
}

void az_futex_wake(atomic_int *addr)
{
	syscall(SYS_futex, (int *)addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
		INT_MAX, NULL, NULL, 0);
}

int az_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case '\0':
		break;
	default:
		return -1;
	}
	if (shift) {
		end++;
		if (toupper((unsigned char)*end) == 'I' &&
		    toupper((unsigned char)end[1]) == 'B')
			end += 2;
		else if (toupper((unsigned char)*end) == 'B')
			end++;
	}
	if (*end)
		return -1;
	if (shift && v > (~0ULL >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int az_parse_uint(const char *s, unsigned long min, unsigned long max,
		  unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
