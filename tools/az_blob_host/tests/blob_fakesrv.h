/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TEST-ONLY: a scripted HTTP server on 127.0.0.1 for what a real Blob
 * service will not do on demand: chunked and malformed answers, interim
 * responses, closing idle or half-done connections, never answering,
 * stopping to read.
 */
#ifndef AZ_BLOB_HOST_TESTS_BLOB_FAKESRV_H
#define AZ_BLOB_HOST_TESTS_BLOB_FAKESRV_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

struct fake_srv;

/*
 * Called on the server's thread for each accepted connection, one at a
 * time; the server closes @fd afterwards. @n counts connections from 0.
 */
typedef void (*fake_handler)(struct fake_srv *s, int fd, int n);

struct fake_srv {
	int lfd;
	int port;
	char url[64];
	pthread_t th;
	atomic_int stop;
	atomic_int accepts;
	atomic_int requests;	/* requests read by fake_read_request() */
	fake_handler handler;
	void *arg;
	bool no_accept;
};

/* Listen on a free port; with @handler NULL, never accept (backlog only). */
int fake_start(struct fake_srv *s, fake_handler handler, void *arg);
void fake_stop(struct fake_srv *s);

/*
 * Read one request (head, then a Content-Length body, dropped) from @fd
 * (blocking, but returns -1 once s->stop is set). Its head goes to @head
 * (NUL-terminated, cut to @max). 0, or -1 at EOF/error.
 */
int fake_read_request(struct fake_srv *s, int fd, char *head, size_t max);
/* Write all of @len bytes (or a NUL-terminated string when @len is 0). */
int fake_write(int fd, const char *data, size_t len);
/* A port nobody listens on (bound, then closed). */
int fake_dead_port(void);

#endif /* AZ_BLOB_HOST_TESTS_BLOB_FAKESRV_H */
