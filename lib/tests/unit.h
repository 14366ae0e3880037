/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TEST-ONLY: the unit tests' tiny harness. One line per case ("ok N name"
 * or "not ok N name"), a total at the end, exit status 1 on any failure.
 */
#ifndef AZB_TEST_UNIT_H
#define AZB_TEST_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "azb.h"

extern int t_checks_failed;

#define CHECK(c) do { \
	if (!(c)) { \
		t_checks_failed++; \
		fprintf(stderr, "#  %s:%d: CHECK(%s) failed\n", __FILE__, \
			__LINE__, #c); \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *_a = (a), *_b = (b); \
	if (!_a || !_b || strcmp(_a, _b)) { \
		t_checks_failed++; \
		fprintf(stderr, "#  %s:%d: \"%s\" != \"%s\"\n", __FILE__, \
			__LINE__, _a ? _a : "(null)", _b ? _b : "(null)"); \
	} \
} while (0)

#define CHECK_U64(a, b) do { \
	uint64_t _a = (a), _b = (b); \
	if (_a != _b) { \
		t_checks_failed++; \
		fprintf(stderr, "#  %s:%d: %s = 0x%" PRIx64 ", want 0x%" \
			PRIx64 "\n", __FILE__, __LINE__, #a, _a, _b); \
	} \
} while (0)

void t_run(const char *name, void (*fn)(void));

void unit_crc(void);
void unit_auth(void);
void unit_xml(void);
void unit_misc(void);
void unit_frame(void);
void unit_uring(void);

#endif
