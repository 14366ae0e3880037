// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: the unit tests of libazblob (no network): CRC-64, SharedKey,
 * XML, retry policy, URLs and connection strings, the HsReq001/HsRes001
 * framing and the driver transport against a scripted host, the REST
 * transport's retries against a scripted server.
 *
 *   unit [FILTER]    run the cases whose name contains FILTER
 */
#include <stdlib.h>

#include "unit.h"

int t_checks_failed;
static int n_run, n_failed;
static const char *filter;

void t_run(const char *name, void (*fn)(void))
{
	int before = t_checks_failed;

	if (filter && !strstr(name, filter))
		return;
	fn();
	n_run++;
	if (t_checks_failed != before) {
		n_failed++;
		printf("not ok %d %s\n", n_run, name);
	} else {
		printf("ok %d %s\n", n_run, name);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	filter = argc > 1 ? argv[1] : NULL;
	unit_crc();
	unit_auth();
	unit_xml();
	unit_misc();
	unit_frame();
	unit_uring();
	printf("# unit: %d passed, %d failed\n", n_run - n_failed, n_failed);
	return n_failed ? 1 : 0;
}
