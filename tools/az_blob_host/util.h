/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Small helpers of the host VSP: clock, log, eventfds, futex waits, sizes.
 */
#ifndef AZ_BLOB_HOST_UTIL_H
#define AZ_BLOB_HOST_UTIL_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define AZ_PROG "az_blob_host"

#define AZ_NSEC_PER_MSEC	1000000ULL
#define AZ_NSEC_PER_SEC		1000000000ULL

#define AZ_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define AZ_ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t az_now_ns(void);

/* One line on stderr, prefixed with the program name. */
void az_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Add 1 to an eventfd (interrupt its reader); never blocks. */
void az_eventfd_signal(int fd);
/* Consume an eventfd's count if any; never blocks. */
void az_eventfd_drain(int fd);

/*
 * Sleep while *@addr == @val, until CLOCK_MONOTONIC @until_ns (0: no limit)
 * or a wake. Returns at once if *@addr != @val. Spurious returns happen:
 * callers loop on their own condition.
 */
void az_futex_wait(const atomic_int *addr, int val, uint64_t until_ns);
/* Wake every waiter of az_futex_wait() on @addr. */
void az_futex_wake(atomic_int *addr);

/*
 * Parse a size: digits with an optional K, M, G or T suffix (binary, any
 * case, optional trailing "iB"/"B"). Returns 0, or -1 on junk or overflow.
 */
int az_parse_size(const char *s, uint64_t *out);

/* Parse an unsigned decimal in [@min, @max]: 0, or -1. */
int az_parse_uint(const char *s, unsigned long min, unsigned long max,
		  unsigned long *out);

#endif /* AZ_BLOB_HOST_UTIL_H */
