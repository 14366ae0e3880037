// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: functional cases: the big transfer with bounded memory,
 * failed and cancelled block uploads leave no uncommitted blocks, threads
 * sharing one context, deletes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "func.h"
#include "transfer.h"

#define MiB ((uint64_t)1024 * 1024)

struct watch {
	uint64_t base, peak;
	unsigned int calls;
};

static int watch_rss(void *arg, uint64_t done, uint64_t total)
{
	struct watch *w = arg;
	uint64_t r = rss_now();

	(void)done;
	(void)total;
	if (r > w->peak)
		w->peak = r;
	w->calls++;
	return 0;
}

static void big(void)
{
	uint64_t size = (uint64_t)F.big_mib * MiB;
	struct gsrc g = { .seed = 700, .size = size, .max_read = 1 << 20 };
	azblob_opts *o = azblob_opts_new();
	struct watch w = { 0 };
	unsigned int conc = 4;
	uint64_t bound = (conc + 2) * 8 * MiB + 96 * MiB;
	struct sink s;
	char hex[65], want[65];

	gen_sha256(700, size, want);
	azblob_opts_set_concurrency(o, conc);
	azblob_opts_set_progress(o, watch_rss, &w);
	w.base = w.peak = rss_now();
	/* Unknown size: the library cannot know it is big. */
	FOK(azblob_upload_stream(F.ctx, F.container, "big/stream", gsrc_read,
				 &g, o, F.err));
	printf("# up %" PRIu64 " MiB: RSS grew by %" PRIu64 " MiB at most (%u progress calls)\n",
	       size / MiB, (w.peak - w.base) / MiB, w.calls);
	FCHECK(w.peak - w.base < bound);
	FCHECK(w.calls >= size / (8 * MiB));
	w.base = w.peak = rss_now();
	w.calls = 0;
	sink_init(&s);
	FOK(azblob_download_stream(F.ctx, F.container, "big/stream",
				   sink_write, &s, o, F.err));
	sink_final(&s, hex);
	printf("# down %" PRIu64 " MiB: RSS grew by %" PRIu64 " MiB at most\n",
	       size / MiB, (w.peak - w.base) / MiB);
	FCHECK(w.peak - w.base < bound);
	FCHECK(s.bytes == size && !strcmp(hex, want));
	sdk_expect(F.container, "big/stream", size, want);
	azblob_opts_free(o);
}

static size_t uncommitted(const char *name)
{
	size_t n = 99;
	azblob_error e = { 0 };
	int rc = azb_count_uncommitted(F.ctx, F.container, name, &n, &e);

	if (rc == AZBLOB_E_NOT_FOUND)
		n = 0;
	else if (rc)
		fprintf(stderr, "#  block list: %s\n", azblob_error_message(&e));
	azb_err_reset(&e);
	return n;
}

static int cancel_at(void *arg, uint64_t done, uint64_t total)
{
	(void)total;
	return done >= *(uint64_t *)arg;
}

static void failed_upload(void)
{
	azblob_opts *o = azblob_opts_new();
	struct gsrc g = { .seed = 800, .size = 40 * MiB, .fail_at = 12 * MiB };
	azblob_props *p = NULL;
	uint64_t stop = 6 * MiB;
	char hex[65];

	azblob_opts_set_block_size(o, 2 * MiB);
	/* A new blob: the read fails after some blocks were staged. */
	FCHECK(azblob_upload_stream(F.ctx, F.container, "fail/new", gsrc_read,
				    &g, o, F.err) == AZBLOB_E_IO);
	FCHECK(azblob_error_errno(F.err) == EPIPE);
	FCHECK(azblob_get_properties(F.ctx, F.container, "fail/new", &p,
				     F.err) == AZBLOB_E_NOT_FOUND);
	FCHECK(uncommitted("fail/new") == 0);
	/* An existing blob of blocks: content kept, staged blocks gone. */
	g = (struct gsrc){ .seed = 801, .size = 10 * MiB };
	FOK(azblob_upload_stream(F.ctx, F.container, "fail/old", gsrc_read, &g,
				 o, F.err));
	g = (struct gsrc){ .seed = 802, .size = 40 * MiB, .fail_at = 12 * MiB };
	FCHECK(azblob_upload_stream(F.ctx, F.container, "fail/old", gsrc_read,
				    &g, o, F.err) == AZBLOB_E_IO);
	FCHECK(uncommitted("fail/old") == 0);
	gen_sha256(801, 10 * MiB, hex);
	sdk_expect(F.container, "fail/old", 10 * MiB, hex);
	{
		struct sink s;
		char h[65];

		sink_init(&s);
		FOK(azblob_download_stream(F.ctx, F.container, "fail/old",
					   sink_write, &s, NULL, F.err));
		sink_final(&s, h);
		FCHECK(!strcmp(h, hex));
	}
	/* Cancelled from the progress callback. */
	azblob_opts_set_progress(o, cancel_at, &stop);
	g = (struct gsrc){ .seed = 803, .size = 40 * MiB };
	FCHECK(azblob_upload_stream(F.ctx, F.container, "fail/cancel",
				    gsrc_read, &g, o, F.err) ==
	       AZBLOB_E_CANCELLED);
	FCHECK(uncommitted("fail/cancel") == 0);
	FCHECK(azblob_get_properties(F.ctx, F.container, "fail/cancel", &p,
				     F.err) == AZBLOB_E_NOT_FOUND);
	{
		struct sink s;

		sink_init(&s);
		FCHECK(azblob_download_stream(F.ctx, F.container, "fail/old",
					      sink_write, &s, o, F.err) ==
		       AZBLOB_E_CANCELLED);
		sink_final(&s, hex);
	}
	azblob_opts_free(o);
}

struct th {
	int id;
	int failures;
};

static void *thread_main(void *arg)
{
	struct th *t = arg;
	azblob_error *e = azblob_error_new();

	for (int i = 0; i < 3; i++) {
		uint64_t size = (uint64_t)(t->id + 1) * 3 * MiB + (uint64_t)i;
		unsigned char *b = malloc(size), *back = malloc(size);
		char name[64];
		size_t n = 0;

		snprintf(name, sizeof(name), "threads/%d-%d", t->id, i);
		gen(900 + (uint64_t)t->id * 10 + (uint64_t)i, 0, b, size);
		if (azblob_upload_buffer(F.ctx, F.container, name, b, size,
					 NULL, e) ||
		    azblob_download_buffer(F.ctx, F.container, name, back, size,
					   &n, NULL, e) ||
		    n != size || memcmp(b, back, size)) {
			fprintf(stderr, "#  thread %d: %s\n", t->id,
				azblob_error_message(e));
			t->failures++;
		}
		free(b);
		free(back);
	}
	azblob_error_free(e);
	return NULL;
}

static void threads(void)
{
	pthread_t th[4];
	struct th t[4];

	for (int i = 0; i < 4; i++) {
		t[i] = (struct th){ .id = i };
		pthread_create(&th[i], NULL, thread_main, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		FCHECK(!t[i].failures);
	}
}

static void deletes(void)
{
	azblob_props *p = NULL;

	FOK(azblob_delete(F.ctx, F.container, "sizes/mem-1", F.err));
	FCHECK(azblob_get_properties(F.ctx, F.container, "sizes/mem-1", &p,
				     F.err) == AZBLOB_E_NOT_FOUND);
	FOK(azblob_container_delete(F.ctx, F.container2, F.err));
	FCHECK(azblob_container_delete(F.ctx, F.container2, F.err) ==
	       AZBLOB_E_NOT_FOUND);
}

void func_big(void)
{
	char name[160];

	snprintf(name, sizeof(name),
		 "big: %u MiB streamed up (unknown size) and down, memory bounded, SDK agrees",
		 F.big_mib);
	f_run(name, big);
	f_run("failed and cancelled block uploads leave no uncommitted blocks",
	      failed_upload);
	f_run("threads: 4 threads share one context", threads);
	f_run("deletes: blob, container", deletes);
}
