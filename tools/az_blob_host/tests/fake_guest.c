// SPDX-License-Identifier: GPL-2.0
/*
 * A fake guest for the host VSP's integration tests; see fake_guest.h.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../az_blob_test/az_blob_sim.h"
#include "../util.h"
#include "fake_guest.h"

#define PG	4096U

static uint32_t ld_acq(const __le32 *p)
{
	return le32toh(__atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE));
}

static void st_rel(__le32 *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELEASE);
}

/* One server message: the int64 and the fd that came with it (or -1). */
static int fg_recv_msg(int sock, int64_t *val, int *fd, int ms)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
	struct pollfd p = { .fd = sock, .events = POLLIN };
	uint64_t le;
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cm.buf, .msg_controllen = sizeof(cm.buf),
	};
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	if (poll(&p, 1, ms) != 1)
		return -2;
	n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	if (n == 0)
		return -3;		/* closed: refused */
	if (n != (ssize_t)sizeof(le))
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	*val = (int64_t)le64toh(le);
	return 0;
}

static int fg_fail(struct fg *g, const char *what)
{
	snprintf(g->err, sizeof(g->err), "%s", what);
	fg_disconnect(g);
	return -1;
}

/* The five setup messages, as QEMU's ivshmem_recv_setup() expects them. */
static int fg_setup(struct fg *g)
{
	int64_t v;
	int fd, r;

	r = fg_recv_msg(g->sock, &v, &fd, 5000);
	if (r == -3)
		return -3;
	if (r || v != 0 || fd >= 0)
		return fg_fail(g, "bad version message");
	if (fg_recv_msg(g->sock, &v, &fd, 5000) || fd >= 0 || v < 0 ||
	    v > 65535)
		return fg_fail(g, "bad id message");
	g->my_id = v;
	if (fg_recv_msg(g->sock, &v, &fd, 5000) || v != -1 || fd < 0)
		return fg_fail(g, "bad shared memory message");
	g->shm_fd = fd;
	if (fg_recv_msg(g->sock, &v, &fd, 5000) || fd < 0 || v == g->my_id ||
	    v < 0 || v > 65535)
		return fg_fail(g, "bad peer connect message");
	g->host_id = v;
	g->host_fd = fd;
	if (fg_recv_msg(g->sock, &v, &fd, 5000) || fd < 0 || v != g->my_id)
		return fg_fail(g, "bad interrupt setup message");
	g->irq_fd = fd;
	/* As QEMU does: O_NONBLOCK on the shared file descriptions. */
	fcntl(g->host_fd, F_SETFL, O_NONBLOCK);
	fcntl(g->irq_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

int fg_connect(struct fg *g, const char *sock, const char *ram_path,
	       uint64_t ram_size, unsigned int retry_ms)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	uint64_t until = az_now_ns() + (uint64_t)retry_ms * AZ_NSEC_PER_MSEC;
	void *p;
	int fd, r;

	memset(g, 0, sizeof(*g));
	g->sock = g->shm_fd = g->host_fd = g->irq_fd = -1;
	g->next_cookie = 1;
	g->gen = 1;
	g->next_pfn = FG_FIRST_PFN;
	if (strlen(sock) >= sizeof(sa.sun_path))
		return fg_fail(g, "socket path too long");
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	for (;;) {
		g->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (g->sock < 0)
			return fg_fail(g, "socket");
		if (connect(g->sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return fg_fail(g, "connect");
		r = fg_setup(g);
		if (!r)
			break;
		if (r != -3)
			return -1;
		close(g->sock);
		g->sock = -1;
		if (az_now_ns() > until)
			return fg_fail(g, "refused");
		usleep(20000);
	}
	p = mmap(NULL, AZ_RELAY_SHM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 g->shm_fd, 0);
	if (p == MAP_FAILED)
		return fg_fail(g, "mmap shm");
	g->shm = p;
	g->sq = (uint8_t *)p + AZ_RELAY_SQ_OFFSET;
	g->cq = (uint8_t *)p + AZ_RELAY_CQ_OFFSET;
	fd = open(ram_path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fg_fail(g, "open RAM");
	p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return fg_fail(g, "mmap RAM");
	g->ram = p;
	g->ram_size = ram_size;
	g->comps = calloc(FG_MAX_COOKIES, sizeof(*g->comps));
	if (!g->comps)
		return fg_fail(g, "calloc");
	return 0;
}

void fg_disconnect(struct fg *g)
{
	if (g->ram)
		munmap(g->ram, g->ram_size);
	if (g->shm)
		munmap(g->shm, AZ_RELAY_SHM_SIZE);
	if (g->sock >= 0)
		close(g->sock);
	if (g->shm_fd >= 0)
		close(g->shm_fd);
	if (g->host_fd >= 0)
		close(g->host_fd);
	if (g->irq_fd >= 0)
		close(g->irq_fd);
	free(g->comps);
	g->ram = NULL;
	g->shm = NULL;
	g->comps = NULL;
	g->sock = g->shm_fd = g->host_fd = g->irq_fd = -1;
}

void fg_doorbell(struct fg *g)
{
	uint64_t one = 1;

	if (write(g->host_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		perror("doorbell");
}

uint32_t fg_host_state(const struct fg *g)
{
	return ld_acq(&g->shm->host_state);
}

uint64_t fg_heartbeat(const struct fg *g)
{
	return le64toh(__atomic_load_n((const uint64_t *)&g->shm->heartbeat,
				       __ATOMIC_ACQUIRE));
}

/* ------------------------------------------------------------------ */
/* Completion ring: consumer                                           */

static void fg_take(struct fg *g, const struct az_relay_rec *h,
		    const uint8_t *pl)
{
	struct az_relay_completion c;
	uint64_t cookie = le64toh(h->cookie);
	struct fg_comp *fc;

	switch (le16toh(h->type)) {
	case AZ_RELAY_REC_PAD:
		return;
	case AZ_RELAY_REC_COMPLETION:
		if (le32toh(h->len) != 16 + sizeof(c)) {
			g->cq_broken = true;
			return;
		}
		memcpy(&c, pl, sizeof(c));
		if (!cookie || cookie >= g->next_cookie ||
		    cookie >= FG_MAX_COOKIES) {
			g->unknown++;
			return;
		}
		fc = &g->comps[cookie];
		if (!fc->seen++) {
			fc->length = le32toh(c.length);
			fc->error = le32toh(c.error);
			fc->response_len = le32toh(c.response_len);
			fc->at_ns = az_now_ns();
		}
		return;
	case AZ_RELAY_REC_CLOSED:
		if (le32toh(h->len) != 16 || g->nclosed == FG_MAX_CLOSED) {
			g->cq_broken = true;
			return;
		}
		g->closed[g->nclosed++] = cookie;
		return;
	default:
		g->cq_broken = true;
	}
}

void fg_drain(struct fg *g)
{
	const uint32_t size = AZ_RELAY_CQ_SIZE;
	bool took = false;

	while (!g->cq_broken) {
		uint32_t w = ld_acq(&g->shm->cq.write_index);
		uint32_t avail = w - g->cq_r, off, len;
		struct az_relay_rec h;

		if (avail > size || avail % 16) {
			g->cq_broken = true;
			break;
		}
		if (!avail)
			break;
		while (avail) {
			off = g->cq_r & (size - 1);
			memcpy(&h, g->cq + off, sizeof(h));
			len = le32toh(h.len);
			if (len < 16 || len % 16 || len > size / 2 ||
			    len > avail || off + len > size) {
				g->cq_broken = true;
				break;
			}
			fg_take(g, &h, g->cq + off + 16);
			g->cq_r += len;
			avail -= len;
			took = true;
		}
	}
	if (!took)
		return;
	st_rel(&g->shm->cq.read_index, g->cq_r);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (ld_acq(&g->shm->cq.producer_waiting)) {
		g->saw_cq_waiting++;
		st_rel(&g->shm->cq.producer_waiting, 0);
		fg_doorbell(g);
	}
}

bool fg_wait_irq(struct fg *g, int ms)
{
	struct pollfd p = { .fd = g->irq_fd, .events = POLLIN };
	uint64_t v;
	bool got = false;

	if (poll(&p, 1, ms) == 1) {
		got = read(g->irq_fd, &v, sizeof(v)) == sizeof(v);
	}
	fg_drain(g);
	return got;
}

int fg_wait_cookie(struct fg *g, uint64_t cookie, int ms)
{
	uint64_t until = az_now_ns() + (uint64_t)ms * AZ_NSEC_PER_MSEC;

	for (;;) {
		fg_drain(g);
		if (g->comps[cookie].seen)
			return 0;
		if (az_now_ns() >= until)
			return -1;
		fg_wait_irq(g, 20);
	}
}

int fg_wait_closed(struct fg *g, uint64_t gen, int ms)
{
	uint64_t until = az_now_ns() + (uint64_t)ms * AZ_NSEC_PER_MSEC;
	unsigned int i;

	for (;;) {
		fg_drain(g);
		for (i = 0; i < g->nclosed; i++)
			if (g->closed[i] == gen)
				return 0;
		if (az_now_ns() >= until)
			return -1;
		fg_wait_irq(g, 20);
	}
}

/* ------------------------------------------------------------------ */
/* Submission ring: producer                                           */

void fg_publish(struct fg *g)
{
	st_rel(&g->shm->sq.write_index, g->sq_w);
	fg_doorbell(g);
}

void fg_sq_raw(struct fg *g, uint32_t off, const void *p, uint32_t len)
{
	memcpy(g->sq + off, p, len);
}

void fg_set_sq_write(struct fg *g, uint32_t w)
{
	g->sq_w = w;
	st_rel(&g->shm->sq.write_index, w);
	fg_doorbell(g);
}

static void fg_put_hdr(struct fg *g, uint32_t off, uint32_t len, uint16_t type,
		       uint16_t gen, uint64_t cookie)
{
	struct az_relay_rec h = {
		.len = htole32(len),
		.type = htole16(type),
		.gen = htole16(gen),
		.cookie = htole64(cookie),
	};

	memcpy(g->sq + off, &h, sizeof(h));
}

int fg_push(struct fg *g, uint16_t type, uint16_t gen, uint64_t cookie,
	    const void *payload, uint32_t plen, bool publish)
{
	const uint32_t size = AZ_RELAY_SQ_SIZE;
	uint32_t len = (16 + plen + 15) & ~15U, off, pad, room;
	uint64_t until = az_now_ns() + 10 * AZ_NSEC_PER_SEC;

	for (;;) {
		room = size - (g->sq_w - ld_acq(&g->shm->sq.read_index));
		off = g->sq_w & (size - 1);
		pad = off + len > size ? size - off : 0;
		if (pad + len <= room)
			break;
		/* No room: say so, look again, then wait for the host. */
		fg_publish(g);
		st_rel(&g->shm->sq.producer_waiting, 1);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		room = size - (g->sq_w - ld_acq(&g->shm->sq.read_index));
		if (pad + len <= room)
			continue;
		g->sq_waits++;
		if (az_now_ns() > until)
			return -1;
		if (g->hold_cq && !ld_acq(&g->shm->cq.producer_waiting)) {
			struct pollfd p = { .fd = g->irq_fd, .events = POLLIN };
			uint64_t v;

			if (poll(&p, 1, 10) == 1 &&
			    read(g->irq_fd, &v, sizeof(v)) < 0)
				continue;
		} else {
			fg_wait_irq(g, 50);
		}
	}
	if (pad) {
		fg_put_hdr(g, off, pad, AZ_RELAY_REC_PAD, 0, 0);
		g->sq_w += pad;
		off = 0;
	}
	fg_put_hdr(g, off, len, type, gen, cookie);
	if (plen)
		memcpy(g->sq + off + 16, payload, plen);
	memset(g->sq + off + 16 + plen, 0, len - 16 - plen);
	g->sq_w += len;
	if (publish)
		fg_publish(g);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */

void fg_pages_reset(struct fg *g)
{
	g->next_pfn = FG_FIRST_PFN;
}

static int fg_alloc_pages(struct fg *g, uint64_t *pfns, uint32_t n,
			  enum fg_alloc how)
{
	uint32_t i, base = g->next_pfn;

	if (how == FG_SCATTER)
		base = (base + 7) & ~7U;
	if ((uint64_t)base + n + 8 > g->ram_size / PG)
		return -1;
	for (i = 0; i < n; i++) {
		if (how == FG_CONTIG) {
			pfns[i] = base + i;
		} else {
			/* 7, 6, ..., 0, 15, 14, ...: never contiguous upward. */
			uint32_t blk = i / 8 * 8, in = 7 - i % 8;

			pfns[i] = base + blk + in;
		}
	}
	g->next_pfn = base + ((n + 7) & ~7U) + 8;	/* a gap page block */
	return 0;
}

int fg_xfer_layout(struct fg *g, struct fg_xfer *x)
{
	uint32_t w, at = 0;

	for (w = 0; w < 3; w++) {
		x->npages[w] = x->len[w] ?
			(x->in[w] + x->len[w] + PG - 1) / PG : 0;
		x->first[w] = at;
		x->off[w] = at * PG + x->in[w];
		if (at + x->npages[w] > 8192)
			return -1;
		if (fg_alloc_pages(g, x->pfns + at, x->npages[w], x->alloc))
			return -1;
		at += x->npages[w];
	}
	if (!x->len[FG_DATA])
		x->off[FG_DATA] = 0;
	x->nr_pfns = at;
	return 0;
}

uint8_t *fg_xfer_byte(struct fg *g, const struct fg_xfer *x, enum fg_which w,
		      uint32_t k)
{
	uint32_t pos = x->in[w] + k;
	uint64_t pfn = x->pfns[x->first[w] + pos / PG];

	return g->ram + pfn * PG + pos % PG;
}

void fg_xfer_write(struct fg *g, const struct fg_xfer *x, enum fg_which w,
		   uint32_t off, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	while (len) {
		uint32_t pos = x->in[w] + off, n = PG - pos % PG;

		if (n > len)
			n = len;
		memcpy(fg_xfer_byte(g, x, w, off), s, n);
		s += n;
		off += n;
		len -= n;
	}
}

void fg_xfer_read(struct fg *g, const struct fg_xfer *x, enum fg_which w,
		  uint32_t off, void *dst, uint32_t len)
{
	uint8_t *d = dst;

	while (len) {
		uint32_t pos = x->in[w] + off, n = PG - pos % PG;

		if (n > len)
			n = len;
		memcpy(d, fg_xfer_byte(g, x, w, off), n);
		d += n;
		off += n;
		len -= n;
	}
}

void fg_xfer_memset(struct fg *g, const struct fg_xfer *x, enum fg_which w,
		    uint8_t v)
{
	uint32_t off = 0, len = x->len[w];

	while (len) {
		uint32_t pos = x->in[w] + off, n = PG - pos % PG;

		if (n > len)
			n = len;
		memset(fg_xfer_byte(g, x, w, off), v, n);
		off += n;
		len -= n;
	}
}

void fg_xfer_req(const struct fg_xfer *x, struct pktgen_req *r)
{
	uint32_t i;

	memset(r, 0, sizeof(*r));
	r->timeout_ms = x->timeout_ms;
	r->data_off = x->off[FG_DATA];
	r->data_len = x->len[FG_DATA];
	r->data_valid = x->data_valid;
	r->op = 0x100;
	r->req_off = x->off[FG_REQ];
	r->req_len = x->len[FG_REQ];
	r->resp_off = x->off[FG_RESP];
	r->resp_len = x->len[FG_RESP];
	for (i = 0; i < 16; i++)
		r->tid[i] = (uint8_t)(0x40 + i);
}

uint64_t fg_send_packet(struct fg *g, const uint64_t *pfns, uint32_t nr,
			const struct pktgen_req *r, bool publish)
{
	uint64_t cookie = g->next_cookie;
	uint8_t *pkt = malloc(pktgen_size(nr));
	size_t len;
	int ret;

	if (!pkt || cookie >= FG_MAX_COOKIES) {
		free(pkt);
		return 0;
	}
	/* The transaction id is the driver's: deliberately not the cookie. */
	len = pktgen_build(pkt, pfns, nr, r, 0x8000 + (cookie % 1024));
	g->next_cookie++;
	ret = fg_push(g, AZ_RELAY_REC_PACKET, g->gen, cookie, pkt,
		      (uint32_t)len, publish);
	free(pkt);
	return ret ? 0 : cookie;
}

uint64_t fg_send_xfer(struct fg *g, const struct fg_xfer *x, bool publish)
{
	struct pktgen_req r;

	fg_xfer_req(x, &r);
	return fg_send_packet(g, x->pfns, x->nr_pfns, &r, publish);
}

uint64_t fg_send_bytes(struct fg *g, const void *bytes, uint32_t len)
{
	uint64_t cookie = g->next_cookie++;

	if (fg_push(g, AZ_RELAY_REC_PACKET, g->gen, cookie, bytes, len, true))
		return 0;
	return cookie;
}

int fg_send_close(struct fg *g, uint64_t gen)
{
	return fg_push(g, AZ_RELAY_REC_CLOSE, 0, gen, NULL, 0, true);
}

void fg_sim_req(struct fg *g, const struct fg_xfer *x, uint32_t op,
		uint32_t fault, uint32_t delay_ms, uint32_t status,
		uint32_t seed)
{
	struct az_sim_req s = {
		.magic = htole32(AZ_SIM_MAGIC),
		.op = htole32(op),
		.fault = htole32(fault),
		.delay_ms = htole32(delay_ms),
		.status = htole32(status),
		.seed = htole32(seed),
	};

	fg_xfer_write(g, x, FG_REQ, 0, &s, sizeof(s));
}
