// SPDX-License-Identifier: GPL-2.0
/*
 * demo: a few requests explained step by step, for newcomers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* ------------------------------------------------------------------ */
/* demo                                                                */
/* ------------------------------------------------------------------ */

static void show_req(const struct az_blob_request_sync *r, const char *what)
{
	printf("  sending %s: request_len %u, response_len %u, data_len %u, data_valid %u, timeout %u ms\n",
	       what, r->request_len, r->response_len, r->data_len,
	       r->data_valid, r->timeout);
}

static void show_answer(int err, const struct az_blob_request_sync *r,
			int64_t ms)
{
	if (err)
		printf("  ioctl failed: %s (%s) after %" PRId64 " ms\n",
		       errname(err), strerror(err), ms);
	else
		printf("  host answered after %" PRId64 " ms: status 0x%08x, response_len %u\n",
		       ms, r->response.status, r->response.response_len);
}

int demo(void)
{
	static const char hello[] = "Hello, Azure Blob!";
	const size_t mib = 1 << 20;
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t req[64], resp[256], *data;
	int fd, err, bad = 0;
	uint64_t want, got;
	int64_t t0;
	size_t i;

	printf("az_blob_test demo on %s\n", run.dev);
	printf("Every request buffer starts with a 32-byte struct az_sim_req telling the\n"
	       "simulated host what to do (az_blob_sim.h); the driver passes it on as is.\n\n");
	fd = open(run.dev, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("open %s: %s\n", run.dev, strerror(errno));
		return 1;
	}
	data = mmap(NULL, mib, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (data == MAP_FAILED) {
		printf("mmap: %s\n", strerror(errno));
		return 1;
	}

	printf("1. Echo: the host copies the request into the response.\n");
	sim_hdr(&h, AZ_SIM_OP_ECHO, 0, 0, 0, 0, 0);
	memcpy(req, &h, sizeof(h));
	memcpy(req + sizeof(h), hello, sizeof(hello));
	memset(resp, 0, sizeof(resp));
	rq_init(&r, req, sizeof(h) + sizeof(hello), resp, sizeof(resp),
		NULL, 0, 0);
	show_req(&r, "header + \"Hello, Azure Blob!\"");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	if (!err && r.response.response_len == r.request_len &&
	    !memcmp(resp + sizeof(h), hello, sizeof(hello))) {
		printf("  response text: \"%s\"\n\n", (char *)resp + sizeof(h));
	} else {
		printf("  unexpected answer\n\n");
		bad = 1;
	}

	printf("2. Fill: the host writes 1 MiB of a seeded pattern into the data buffer.\n");
	sim_hdr(&h, AZ_SIM_OP_FILL, 0, 0, 0, 0x1234, 0);
	rq_init(&r, &h, sizeof(h), resp, 8, data, mib, 0);
	show_req(&r, "FILL seed 0x1234");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	for (i = 0; !err && i < mib; i++)
		if (data[i] != az_sim_pattern(0x1234, i))
			break;
	if (!err && i == mib && get_u64(resp) == mib) {
		printf("  host says it wrote %" PRIu64 " bytes; all %zu verified\n\n",
		       get_u64(resp), mib);
	} else {
		printf("  pattern wrong at byte %zu\n\n", i);
		bad = 1;
	}

	printf("3. Checksum: the host reads 65536 bytes and returns their FNV-1a.\n");
	for (i = 0; i < mib; i++)
		data[i] = (uint8_t)(i * 7);
	want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, data, 65536);
	sim_hdr(&h, AZ_SIM_OP_SUM, 0, 0, 0, 0, 0);
	rq_init(&r, &h, sizeof(h), resp, 8, data, mib, 65536);
	show_req(&r, "SUM");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	got = err ? 0 : get_u64(resp);
	printf("  host 0x%016" PRIx64 ", computed here 0x%016" PRIx64 ": %s\n\n",
	       got, want, got == want ? "match" : "MISMATCH");
	bad |= got != want;

	printf("4. Host status: the ioctl succeeds, the host's own result is in response.status.\n");
	sim_hdr(&h, AZ_SIM_OP_ECHO, 0, 0, SIM_HOST_ERROR, 0, 0);
	rq_init(&r, &h, sizeof(h), resp, sizeof(resp), NULL, 0, 0);
	show_req(&r, "ECHO asking for status 0xC0000001");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	bad |= err || r.response.status != SIM_HOST_ERROR;
	printf("\n");

	printf("5. Host timeout: the host takes 3000 ms, the caller allows 500 ms.\n");
	sim_hdr(&h, AZ_SIM_OP_ECHO, 0, 3000, 0, 0, 0);
	rq_init(&r, &h, sizeof(h), resp, sizeof(resp), NULL, 0, 0);
	r.timeout = 500;
	show_req(&r, "ECHO with delay 3000 ms");
	t0 = now_ms();
	err = blob_ioctl(fd, &r);
	show_answer(err, &r, now_ms() - t0);
	if (!err && r.response.status == AZ_BLOB_HOST_TIMEOUT)
		printf("  0x%08x is AZ_BLOB_HOST_TIMEOUT: the host gave up, nothing was written\n",
		       AZ_BLOB_HOST_TIMEOUT);
	else
		bad = 1;

	munmap(data, mib);
	close(fd);
	printf("\ndemo %s\n", bad ? "saw unexpected answers" : "done");
	return bad ? 1 : 0;
}
