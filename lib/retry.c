// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The retry policy, as pure functions so that the unit tests can drive it.
 *
 * What is retried: HTTP 408, 429, 500, 502, 503 and 504 (the service did
 * not do the request, or says to come back), a connection that could not
 * be made, a connection that dropped, a try that timed out, and a busy
 * driver (EBUSY, EAGAIN: nothing was sent). A failure that may have taken
 * effect (dropped, timed out, or a 5xx) is retried only for idempotent
 * requests; one that certainly did not (no connection, a busy driver,
 * 408, 429, 503) is retried for every request.
 *
 * The wait: base * 2^(try - 1), capped at max, then "equal jitter": a
 * uniformly random time between half of that and all of it, so that many
 * clients that failed together do not come back together; and never less
 * than the service's Retry-After.
 */
#include <stdlib.h>
#include <string.h>

#include "azb.h"

bool azb_retry_status(int s)
{
	return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 ||
	       s == 504;
}

/* Statuses that say the request was not carried out. */
static bool not_done_status(int s)
{
	return s == 408 || s == 429 || s == 503;
}

bool azb_retry_should(const struct azb_retry *p, unsigned int tries,
		      int http_status, enum azb_tfail_kind tf,
		      bool idempotent)
{
	if (tries >= p->max_tries)
		return false;
	switch (tf) {
	case AZB_TF_NONE:
		if (!azb_retry_status(http_status))
			return false;
		return idempotent || not_done_status(http_status);
	case AZB_TF_NOT_SENT:
	case AZB_TF_BUSY:
		return true;
	case AZB_TF_DROPPED:
	case AZB_TF_TIMEOUT:
		return idempotent;
	case AZB_TF_FATAL:
		return false;
	}
	return false;
}

unsigned int azb_retry_backoff_ms(const struct azb_retry *p,
				  unsigned int tries, uint64_t rnd,
				  unsigned int retry_after_ms)
{
	uint64_t d = p->base_ms ? p->base_ms : 1;
	uint64_t half;

	for (unsigned int i = 1; i < tries && d < p->max_ms; i++)
		d *= 2;
	if (d > p->max_ms)
		d = p->max_ms;
	half = d / 2;
	d = half + (d - half ? rnd % (d - half + 1) : 0);
	if (d < retry_after_ms)
		d = retry_after_ms;
	/* Retry-After is honoured, but not beyond ten minutes. */
	if (d > 600000)
		d = 600000;
	return (unsigned int)d;
}

int azb_parse_retry_after(const char *v, time_t now, unsigned int *ms)
{
	uint64_t s;
	time_t t;

	while (*v == ' ')
		v++;
	if (!azb_parse_u64(v, &s)) {
		*ms = s > 3600 ? 3600000U : (unsigned int)s * 1000U;
		return 0;
	}
	if (!azb_parse_http_date(v, &t)) {
		*ms = t <= now ? 0 : t - now > 3600 ? 3600000U :
		      (unsigned int)(t - now) * 1000U;
		return 0;
	}
	return -1;
}

unsigned int azb_try_timeout_ms(unsigned int base_ms,
				unsigned int min_kib_per_s, uint64_t bytes)
{
	uint64_t t = base_ms;

	if (min_kib_per_s)
		t += bytes * 1000 / ((uint64_t)min_kib_per_s * 1024);
	return t > UINT32_MAX ? UINT32_MAX : (unsigned int)t;
}
