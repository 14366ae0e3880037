// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A build without libcurl (make REST=0, e.g. a static library for a
 * minimal guest): the driver transport only.
 */
#include "azb.h"

bool azb_rest_available(void)
{
	return false;
}

int azb_rest_open(struct azblob_ctx *ctx, struct azb_transport **out,
		  azblob_error *err)
{
	(void)ctx;
	(void)out;
	return azb_fail(err, AZBLOB_E_UNSUPPORTED, 0,
			"this build has no REST transport (built with REST=0) and the driver did not open");
}

void azb_rest_stats(struct azblob_ctx *ctx, unsigned long *requests,
		    unsigned long *connects)
{
	(void)ctx;
	*requests = *connects = 0;
}
