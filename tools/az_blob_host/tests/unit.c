// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the host VSP: GPA translation, relay ring records, packet
 * validation, guest buffer access. Run by "make check".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/* The runner's own state: this is a test program, not the host. */
static unsigned int az_t_case_failures;

void az_t_fail(const char *file, int line, const char *what,
	       unsigned long long got, unsigned long long want, bool vals)
{
	az_t_case_failures++;
	if (vals)
		printf("#   %s:%d: %s: got %llu (%#llx), want %llu (%#llx)\n",
		       file, line, what, got, got, want, want);
	else
		printf("#   %s:%d: %s\n", file, line, what);
}

int main(int argc, char **argv)
{
	static const struct az_test *const suites[] = {
		az_gpa_tests, az_ring_tests, az_validate_tests, az_buf_tests,
	};
	unsigned int i, n = 0, failed = 0;
	const struct az_test *t;

	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		for (t = suites[i]; t->name; t++) {
			if (argc > 1 && !strstr(t->name, argv[1]))
				continue;
			az_t_case_failures = 0;
			t->fn();
			n++;
			if (az_t_case_failures)
				failed++;
			printf("%s %u %s\n", az_t_case_failures ? "not ok" : "ok",
			       n, t->name);
		}
	}
	printf("# unit: %u cases, %u passed, %u failed\n", n, n - failed,
	       failed);
	return failed ? 1 : 0;
}
