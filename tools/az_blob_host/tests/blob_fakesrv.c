// SPDX-License-Identifier: GPL-2.0
/*
 * TEST-ONLY: the scripted HTTP server (see blob_fakesrv.h).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "blob_fakesrv.h"

static int listen_any(int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 64) || getsockname(fd, (struct sockaddr *)&a, &al)) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

int fake_dead_port(void)
{
	int port, fd = listen_any(&port);

	if (fd < 0)
		return -1;
	close(fd);
	return port;
}

static void *serve(void *arg)
{
	struct fake_srv *s = arg;

	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = s->lfd, .events = POLLIN };
		int fd;

		if (poll(&p, 1, 20) <= 0)
			continue;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		s->handler(s, fd, atomic_fetch_add(&s->accepts, 1));
		close(fd);
	}
	return NULL;
}

int fake_start(struct fake_srv *s, fake_handler handler, void *arg)
{
	memset(s, 0, sizeof(*s));
	s->lfd = listen_any(&s->port);
	if (s->lfd < 0)
		return -1;
	snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%d", s->port);
	s->handler = handler;
	s->arg = arg;
	s->no_accept = !handler;
	if (handler && pthread_create(&s->th, NULL, serve, s)) {
		close(s->lfd);
		return -1;
	}
	return 0;
}

void fake_stop(struct fake_srv *s)
{
	atomic_store(&s->stop, 1);
	if (!s->no_accept)
		pthread_join(s->th, NULL);
	close(s->lfd);
}

/* recv() that gives up once the server stops. */
static ssize_t rd(struct fake_srv *s, int fd, void *b, size_t n)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (atomic_load(&s->stop))
			return -1;
		if (poll(&p, 1, 20) <= 0)
			continue;
		return recv(fd, b, n, 0);
	}
}

int fake_read_request(struct fake_srv *s, int fd, char *head, size_t max)
{
	size_t n = 0;
	long long body = 0;
	char *end = NULL, *cl;

	/* Byte by byte: nothing past the head is consumed by accident. */
	while (!end) {
		char c;

		if (rd(s, fd, &c, 1) != 1)
			return -1;
		if (n + 1 < max)
			head[n++] = c;
		head[n] = '\0';
		if (n >= 4 && !memcmp(head + n - 4, "\r\n\r\n", 4))
			end = head + n;
	}
	cl = strcasestr(head, "\r\nContent-Length:");
	if (cl)
		body = atoll(cl + 17);
	while (body > 0) {
		char buf[65536];
		ssize_t k = rd(s, fd, buf, body < (long long)sizeof(buf) ?
				     (size_t)body : sizeof(buf));

		if (k <= 0)
			return -1;
		body -= k;
	}
	atomic_fetch_add(&s->requests, 1);
	return 0;
}

int fake_write(int fd, const char *data, size_t len)
{
	if (!len)
		len = strlen(data);
	while (len) {
		ssize_t k = send(fd, data, len, MSG_NOSIGNAL);

		if (k <= 0)
			return -1;
		data += k;
		len -= (size_t)k;
	}
	return 0;
}
