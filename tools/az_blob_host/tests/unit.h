/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny test harness for the host VSP's unit tests: each case is a
 * function; CHECK()s record failures; the runner prints one line per case
 * and a total, as the kernel's selftests do.
 */
#ifndef AZ_BLOB_HOST_UNIT_H
#define AZ_BLOB_HOST_UNIT_H

#include <stdbool.h>

struct az_test {
	const char *name;
	void (*fn)(void);
};

void az_t_fail(const char *file, int line, const char *what,
	       unsigned long long got, unsigned long long want, bool vals);

#define CHECK(cond)							\
	do {								\
		if (!(cond))						\
			az_t_fail(__FILE__, __LINE__, #cond, 0, 0, false); \
	} while (0)

#define CHECK_EQ(got, want)						\
	do {								\
		unsigned long long g_ = (unsigned long long)(got);	\
		unsigned long long w_ = (unsigned long long)(want);	\
		if (g_ != w_)						\
			az_t_fail(__FILE__, __LINE__, #got " == " #want,\
				  g_, w_, true);			\
	} while (0)

/* Each file's cases, ended by { NULL, NULL }. */
extern const struct az_test az_gpa_tests[];
extern const struct az_test az_ring_tests[];
extern const struct az_test az_validate_tests[];
extern const struct az_test az_buf_tests[];

#endif /* AZ_BLOB_HOST_UNIT_H */
