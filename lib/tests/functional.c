// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: libazblob's functional suite against a real Blob endpoint.
 *
 * Everything comes from the environment, so that the same binary runs on
 * the host against Azurite over REST, and inside a guest with the driver
 * transport (where no node runs: the SDK checks are then written to a
 * manifest for the host to run afterwards):
 *
 *   AZBLOB_TEST_CONNECTION_STRING  the account (else
 *                                  AZURE_STORAGE_CONNECTION_STRING, else
 *                                  UseDevelopmentStorage=true)
 *   AZBLOB_TRANSPORT               rest, driver or auto (the library's own)
 *   AZBLOB_TEST_SDK                tools/az_blob_host/node: cross-check every
 *                                  blob with @azure/storage-blob
 *   AZBLOB_TEST_SDK_ENDPOINT       the endpoint for sdk.js (http://host:port)
 *   AZBLOB_TEST_DIR                where sdk_props.js is
 *   AZBLOB_TEST_MANIFEST           append "sha256 CONTAINER BLOB SIZE HEX"
 *                                  lines for a later SDK check
 *   AZBLOB_TEST_SDK_FIXTURES       blobs the SDK wrote beforehand, to read
 *                                  ("sdkblob ..." lines: func_cases.c)
 *   AZBLOB_TEST_BIG_MIB            size of the big transfer (300)
 *   AZBLOB_CA_FILE                 CAs for an HTTPS endpoint
 *   AZBLOB_TEST_KEEP               keep the test containers
 *   AZBLOB_TEST_LOOPBACK           (functional-loopback only) the endpoint of
 *                                  the host's Blob service, run in-process
 *                                  as the "driver"
 *
 *   AZBLOB_TEST_BEARER             a bearer token the endpoint accepts
 *
 *   functional [FILTER]            only cases whose name contains FILTER
 *                                  (or one of "A|B|...")
 *
 * One line per case ("ok N name", "not ok N name", "skip N name"), then
 * "# functional (TRANSPORT): P passed, F failed, S skipped".
 */
#include <stdlib.h>
#include <unistd.h>

#include "func.h"
#ifdef AZB_TEST_LOOPBACK
#include "loopback.h"
#endif

struct fenv F;
int f_checks_failed;
static int n_run, n_failed, n_skipped;
static const char *filter;

/* FILTER: substrings separated by "|"; a case runs if it has one. */
static bool selected(const char *name)
{
	const char *f = filter;

	if (!f)
		return true;
	while (*f) {
		size_t k = strcspn(f, "|");
		char part[256];

		snprintf(part, sizeof(part), "%.*s", (int)k, f);
		if (k && strstr(name, part))
			return true;
		f += k + (f[k] == '|');
	}
	return false;
}

void f_run(const char *name, void (*fn)(void))
{
	int before = f_checks_failed;
	uint64_t t0;

	if (!selected(name))
		return;
	t0 = azb_now_ms();
	fn();
	n_run++;
	if (f_checks_failed != before) {
		n_failed++;
		printf("not ok %d %s\n", n_run + n_skipped, name);
	} else {
		printf("ok %d %s (%.1f s)\n", n_run + n_skipped, name,
		       (double)(azb_now_ms() - t0) / 1000);
	}
	fflush(stdout);
}

void f_skip(const char *name, const char *why)
{
	if (!selected(name))
		return;
	n_skipped++;
	printf("skip %d %s: %s\n", n_run + n_skipped, name, why);
}

static const char *env(const char *n);

azblob_ctx *f_ctx(const char *cs)
{
	azblob_ctx *c = NULL;

	if (azblob_ctx_new_from_connection_string(&c, cs, F.err))
		return NULL;
	azblob_ctx_set_retry(c, 4, 50, 500, NULL);
	if (env("AZBLOB_CA_FILE"))
		azblob_ctx_set_ca_file(c, env("AZBLOB_CA_FILE"), NULL);
#ifdef AZB_TEST_LOOPBACK
	if (F.loopback && loopback_attach(c, F.loopback)) {
		azblob_ctx_free(c);
		return NULL;
	}
#endif
	return c;
}

static const char *env(const char *n)
{
	const char *v = getenv(n);

	return v && *v ? v : NULL;
}

static const char *transport_name(azblob_ctx *c)
{
	switch (azblob_ctx_transport(c)) {
	case AZBLOB_TRANSPORT_REST:
		return "rest";
	case AZBLOB_TRANSPORT_DRIVER:
		return "driver";
	default:
		return "unresolved";
	}
}

int main(int argc, char **argv)
{
	const char *m;
	uint64_t id;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	filter = argc > 1 ? argv[1] : NULL;
	F.cs = env("AZBLOB_TEST_CONNECTION_STRING");
	if (!F.cs)
		F.cs = env("AZURE_STORAGE_CONNECTION_STRING");
	if (!F.cs)
		F.cs = "UseDevelopmentStorage=true";
	F.sdk_dir = env("AZBLOB_TEST_SDK");
	F.sdk_ep = env("AZBLOB_TEST_SDK_ENDPOINT");
	F.loopback = env("AZBLOB_TEST_LOOPBACK");
	F.big_mib = env("AZBLOB_TEST_BIG_MIB") ?
		    (unsigned int)atoi(env("AZBLOB_TEST_BIG_MIB")) : 300;
	m = env("AZBLOB_TEST_MANIFEST");
	if (m)
		F.manifest = fopen(m, "a");
	F.err = azblob_error_new();
	F.ctx = f_ctx(F.cs);
	if (!F.ctx) {
		printf("Bail out! %s\n", azblob_error_message(F.err));
		return 2;
	}
	rc = azblob_ctx_connect(F.ctx, F.err);
	if (rc) {
		printf("Bail out! %s\n", azblob_error_message(F.err));
		return 2;
	}
	azb_random(&id, sizeof(id));
	snprintf(F.container, sizeof(F.container), "azbt-%s-%012" PRIx64,
		 transport_name(F.ctx), id & (uint64_t)0xffffffffffff);
	snprintf(F.container2, sizeof(F.container2), "azbt-%s-%012" PRIx64 "x",
		 transport_name(F.ctx), id & (uint64_t)0xffffffffffff);
	printf("# functional: transport %s, container %s, SDK %s\n",
	       transport_name(F.ctx), F.container,
	       sdk_available() ? "checks every blob" :
	       F.manifest ? "checks later (manifest)" : "not available");
	if (azblob_container_create(F.ctx, F.container, F.err) ||
	    azblob_container_create(F.ctx, F.container2, F.err)) {
		printf("Bail out! %s\n", azblob_error_message(F.err));
		return 2;
	}
	func_cases();
	func_big();
	if (!env("AZBLOB_TEST_KEEP")) {
		azblob_container_delete(F.ctx, F.container, NULL);
		azblob_container_delete(F.ctx, F.container2, NULL);
	}
	{
		unsigned long reqs, conns;

		azb_rest_stats(F.ctx, &reqs, &conns);
		if (reqs) {
			printf("# rest: %lu requests on %lu connections\n", reqs,
			       conns);
			/* Connections are reused (retries and the 4-thread
			 * case open some more). */
			if (conns * 4 > reqs) {
				printf("not ok: connections not reused\n");
				n_failed++;
			}
		}
	}
	{
		/* AZBLOB_DRIVER_ASYNC=1 or 0: the requests went that way. */
		const char *async = env("AZBLOB_DRIVER_ASYNC");
		struct azb_driver_stats ds;

		azb_driver_stats(F.ctx, &ds);
		if (ds.ring_requests || ds.ioctl_requests)
			printf("# driver: %lu requests through io_uring (at most %u in flight on a ring of %u), %lu through the ioctl\n",
			       ds.ring_requests, ds.ring_peak, ds.ring_entries,
			       ds.ioctl_requests);
		if (azblob_ctx_transport(F.ctx) == AZBLOB_TRANSPORT_DRIVER &&
		    !F.loopback && async && !strcmp(async, "1") &&
		    (!ds.ring_requests || ds.ioctl_requests)) {
			printf("not ok: AZBLOB_DRIVER_ASYNC=1 but not all requests went through io_uring\n");
			n_failed++;
		}
		if (azblob_ctx_transport(F.ctx) == AZBLOB_TRANSPORT_DRIVER &&
		    async && !strcmp(async, "0") && ds.ring_requests) {
			printf("not ok: AZBLOB_DRIVER_ASYNC=0 but requests went through io_uring\n");
			n_failed++;
		}
	}
#ifdef AZB_TEST_LOOPBACK
	if (F.loopback) {
		unsigned long reqs, host_reads;

		loopback_counts(&reqs, &host_reads);
		printf("# loopback driver: %lu requests, %lu with AZ_BLOB_DATA_HOST_READS\n",
		       reqs, host_reads);
	}
#endif
	printf("# functional (%s): %d passed, %d failed, %d skipped\n",
	       transport_name(F.ctx), n_run - n_failed, n_failed, n_skipped);
	azblob_ctx_free(F.ctx);
	azblob_error_free(F.err);
	if (F.manifest)
		fclose(F.manifest);
#ifdef AZB_TEST_LOOPBACK
	loopback_detach();
#endif
	return n_failed ? 1 : 0;
}
