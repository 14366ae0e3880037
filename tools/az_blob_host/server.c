// SPDX-License-Identifier: GPL-2.0
/*
 * The ivshmem server: one guest (QEMU) at a time, the host as peer 0.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ring.h"
#include "server.h"
#include "util.h"

static void az_session_init(struct az_session *ss)
{
	ss->shm_fd = -1;
	ss->shm = NULL;
	ss->host_efd = -1;
	ss->guest_efd = -1;
}

static void az_session_free(struct az_session *ss)
{
	if (ss->shm)
		munmap(ss->shm, AZ_RELAY_SHM_SIZE);
	if (ss->shm_fd >= 0)
		close(ss->shm_fd);
	if (ss->host_efd >= 0)
		close(ss->host_efd);
	if (ss->guest_efd >= 0)
		close(ss->guest_efd);
	az_session_init(ss);
}

/* The relay header of az_relay.h, written before any guest sees it. */
static void az_session_write_header(struct az_relay_shm *h)
{
	memset(h, 0, sizeof(*h));
	h->magic = htole64(AZ_RELAY_MAGIC);
	h->version = htole32(AZ_RELAY_VERSION);
	h->host_state = htole32(AZ_RELAY_HOST_STARTING);
	h->heartbeat = 0;
	h->host_peer = htole32(AZ_HOST_PEER);
	h->shm_size = htole32(AZ_RELAY_SHM_SIZE);
	h->sq_offset = htole32(AZ_RELAY_SQ_OFFSET);
	h->sq_size = htole32(AZ_RELAY_SQ_SIZE);
	h->cq_offset = htole32(AZ_RELAY_CQ_OFFSET);
	h->cq_size = htole32(AZ_RELAY_CQ_SIZE);
	/* Both rings' control words stay zero: empty, nobody waiting. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static int az_session_prepare(struct az_session *ss)
{
	void *p;

	az_session_init(ss);
	ss->shm_fd = memfd_create("az_relay", MFD_CLOEXEC);
	if (ss->shm_fd < 0)
		goto fail;
	if (ftruncate(ss->shm_fd, AZ_RELAY_SHM_SIZE) < 0)
		goto fail;
	p = mmap(NULL, AZ_RELAY_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 ss->shm_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	ss->shm = p;
	az_session_write_header(ss->shm);
	/* QEMU makes them non-blocking anyway (shared file description). */
	ss->host_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ss->guest_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ss->host_efd < 0 || ss->guest_efd < 0)
		goto fail;
	return 0;

fail:
	az_log("cannot prepare the shared memory: %s", strerror(errno));
	az_session_free(ss);
	return -1;
}

/* One protocol message: an int64 (little-endian), maybe with an fd. */
static int az_send_msg(int sock, int64_t val, int fd)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	uint64_t le = htole64((uint64_t)val);
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(&cm, 0, sizeof(cm));
		msg.msg_control = cm.buf;
		msg.msg_controllen = sizeof(cm.buf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do {
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(le) ? 0 : -1;
}

static int az_server_greet(int sock, const struct az_session *ss)
{
	if (az_send_msg(sock, AZ_IVSHMEM_PROTOCOL_VERSION, -1) ||
	    az_send_msg(sock, AZ_GUEST_PEER, -1) ||
	    az_send_msg(sock, -1, ss->shm_fd) ||
	    /* The other peer (the host), vector 0: the guest's doorbell. */
	    az_send_msg(sock, AZ_HOST_PEER, ss->host_efd) ||
	    /* The guest's own vector 0: its interrupt. */
	    az_send_msg(sock, AZ_GUEST_PEER, ss->guest_efd))
		return -1;
	return 0;
}

/* Refuse to take over a path that is not a stale socket of ours. */
static int az_server_claim_path(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd, ret;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	if (!ret) {
		snprintf(err, errlen, "%s: another server listens there", path);
		return -1;
	}
	unlink(path);		/* stale: nobody listens */
	return 0;
}

void az_server_init(struct az_server *s)
{
	memset(s, 0, sizeof(*s));
	s->listen_fd = -1;
	s->client_fd = -1;
	az_session_init(&s->cur);
	az_session_init(&s->next);
}

int az_server_open(struct az_server *s, const char *path, int verbose,
		   char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	az_server_init(s);
	s->verbose = verbose;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: socket path longer than %zu bytes",
			 path, sizeof(sa.sun_path) - 1);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (az_session_prepare(&s->next)) {
		snprintf(err, errlen, "cannot create the shared memory: %s",
			 strerror(errno));
		return -1;
	}
	err[0] = '\0';
	if (az_server_claim_path(path, err, errlen)) {
		if (!err[0])
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	s->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->listen_fd < 0 ||
	    bind(s->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	s->path = strdup(path);
	if (!s->path || listen(s->listen_fd, 4) < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 s->path ? strerror(errno) : "out of memory");
		unlink(path);
		goto fail;
	}
	return 0;

fail:
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
	free(s->path);
	s->path = NULL;
	az_session_free(&s->next);
	return -1;
}

int az_server_accept(struct az_server *s)
{
	int fd;

	fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			az_log("accept: %s", strerror(errno));
		return 0;
	}
	if (s->client_fd >= 0 || !s->next.shm) {
		az_log("refusing a second guest: %s",
		       s->client_fd >= 0 ? "one is connected" :
					   "the last one is still draining");
		close(fd);
		return 0;
	}
	if (az_server_greet(fd, &s->next)) {
		az_log("guest setup failed: %s", strerror(errno));
		close(fd);
		return 0;
	}
	s->client_fd = fd;
	s->cur = s->next;
	az_session_init(&s->next);
	if (s->verbose)
		az_log("guest connected: peer %d, host peer %d",
		       AZ_GUEST_PEER, AZ_HOST_PEER);
	return 1;
}

bool az_server_client_gone(struct az_server *s)
{
	char buf[64];
	ssize_t n;

	n = recv(s->client_fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR)))
		return false;	/* QEMU never talks; ignore it if it does */
	return true;
}

void az_server_end_session(struct az_server *s)
{
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
	az_session_free(&s->cur);
	if (s->verbose)
		az_log("guest disconnected");
	if (!s->next.shm)
		az_session_prepare(&s->next);
}

void az_server_close(struct az_server *s)
{
	if (s->client_fd >= 0)
		close(s->client_fd);
	s->client_fd = -1;
	az_session_free(&s->cur);
	az_session_free(&s->next);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
	if (s->path) {
		unlink(s->path);
		free(s->path);
		s->path = NULL;
	}
}
