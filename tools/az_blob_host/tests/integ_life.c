// SPDX-License-Identifier: GPL-2.0
/*
 * Integration cases, life cycle: queued timeouts, channel close, ring
 * flow control under a flood, broken rings, connections, start-up errors,
 * signals.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../az_blob_test/az_blob_sim.h"
#include "../service.h"
#include "../util.h"
#include "integ_life.h"

static struct fg *ic_guest_on(struct ictx *c, const struct ihost *h)
{
	struct fg *g = calloc(1, sizeof(*g));

	if (!g || fg_connect(g, h->sock, h->ram, h->ram_size, 5000)) {
		ic_fail(c, __FILE__, __LINE__, "connect: %s",
			g ? g->err : "no memory");
		free(g);
		return NULL;
	}
	return g;
}

/* Consume a pending interrupt without looking at the rings. */
static void irq_clear(struct fg *g)
{
	uint64_t v;

	while (read(g->irq_fd, &v, sizeof(v)) == sizeof(v))
		;
}

static bool irq_pending(struct fg *g, int ms)
{
	struct pollfd p = { .fd = g->irq_fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static void echo_ok(struct ictx *c, struct fg *g)
{
	struct fg_xfer *x = ic_xfer(0, 0, 64, 0, 64, 0);

	fg_pages_reset(g);
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 0, 0, 0);
	ic_roundtrip(c, g, x, 0, 64);
	free(x);
}

/* Send @n requests of @op with @fault, @delay_ms; cookies into @out. */
static void send_n(struct ictx *c, struct fg *g, unsigned int n,
		   uint32_t fault, uint32_t delay_ms, uint64_t *out)
{
	struct fg_xfer *x = ic_xfer(0, 0, 64, 0, 64, 0);
	unsigned int i;

	IC_EQ(c, fg_xfer_layout(g, x), 0);
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, fault, delay_ms, 0, 0);
	for (i = 0; i < n; i++) {
		out[i] = fg_send_xfer(g, x, true);
		IC(c, out[i] != 0);
	}
	free(x);
}

void t_queued_timeout(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	struct fg_xfer *x = ic_xfer(0, 0, 64, 0, 64, 0);
	uint64_t never[INTEG_THREADS], cookie, t0, ms;
	unsigned int i;
	uint8_t b;

	if (!g)
		goto out;
	/* Every worker busy with a request that never ends... */
	send_n(c, g, INTEG_THREADS, AZ_SIM_FAULT_NEVER, 0, never);
	ic_sleep_ms(100);
	/* ...so this one waits in the queue past its deadline. */
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	x->timeout_ms = 200;
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 0, 0, 0);
	fg_xfer_memset(g, x, FG_RESP, 0xcc);
	t0 = az_now_ns();
	cookie = fg_send_xfer(g, x, true);
	IC_EQ(c, fg_wait_cookie(g, cookie, 3000), 0);
	ms = ic_ms_since(t0);
	IC_EQ(c, g->comps[cookie].error, AZ_HOST_TIMEOUT);
	IC_EQ(c, g->comps[cookie].response_len, 0);
	IC(c, ms >= 190 && ms <= 2500);
	fg_xfer_read(g, x, FG_RESP, 0, &b, 1);
	IC_EQ(c, b, 0xcc);

	/* Close: the workers let go, CLOSED, no completion for them. */
	IC_EQ(c, fg_send_close(g, 1), 0);
	IC_EQ(c, fg_wait_closed(g, 1, 2000), 0);
	ic_sleep_ms(100);
	fg_drain(g);
	for (i = 0; i < INTEG_THREADS; i++)
		IC_EQ(c, g->comps[never[i]].seen, 0);
	g->gen = 2;
	echo_ok(c, g);
out:
	ic_guest_done(g);
	free(x);
}

void t_close(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	uint64_t ck[20], t0, ms;
	unsigned int i;

	if (!g)
		return;
	/* 16 run (all workers), 4 wait in the queue. */
	send_n(c, g, 18, AZ_SIM_FAULT_NEVER, 0, ck);
	send_n(c, g, 2, 0, 10000, ck + 18);
	ic_sleep_ms(100);
	t0 = az_now_ns();
	IC_EQ(c, fg_send_close(g, 1), 0);
	IC_EQ(c, fg_wait_closed(g, 1, 2000), 0);
	ms = ic_ms_since(t0);
	IC(c, ms < 1500);
	ic_sleep_ms(200);
	fg_drain(g);
	for (i = 0; i < 20; i++)
		IC_EQ(c, g->comps[ck[i]].seen, 0);
	IC_EQ(c, g->nclosed, 1);
	IC_EQ(c, g->closed[0], 1);

	/* The next generation is served. */
	g->gen = 2;
	echo_ok(c, g);
	/* A close with nothing outstanding is answered at once. */
	t0 = az_now_ns();
	IC_EQ(c, fg_send_close(g, 2), 0);
	IC_EQ(c, fg_wait_closed(g, 2, 2000), 0);
	IC(c, ic_ms_since(t0) < 1000);
	IC_EQ(c, g->nclosed, 2);
	IC_EQ(c, g->closed[1], 2);
	IC_EQ(c, g->unknown, 0);
	IC(c, !g->cq_broken);
	ic_guest_done(g);
}

/*
 * More requests than both rings hold. First 70000, the guest reading no
 * completion until the host waits for room: the completion ring fills
 * (32768 records), the host sets producer_waiting and stops taking
 * packets, the submission ring fills (32768 records), the guest waits for
 * room, sees the host waiting, reads, signals it; the host frees room in
 * the submission ring and signals the guest. Then 40000 more, plainly.
 * Both rings wrap (PAD records).
 */
static void flood_phase(struct ictx *c, struct fg *g,
			const struct fg_xfer *x, unsigned int n, bool hold)
{
	uint64_t t0 = az_now_ns(), first = g->next_cookie, cookie;
	unsigned int i, done = 0, bad = 0;

	g->hold_cq = hold;
	for (i = 0; i < n; i++) {
		if (!fg_send_xfer(g, x, i % 64 == 63)) {
			ic_fail(c, __FILE__, __LINE__,
				"no room for request %u", i);
			break;
		}
	}
	fg_publish(g);
	g->hold_cq = false;
	while (ic_ms_since(t0) < 120000) {
		fg_drain(g);
		for (done = 0, cookie = first; cookie < first + n; cookie++)
			done += g->comps[cookie].seen ? 1 : 0;
		if (done == n || g->cq_broken)
			break;
		fg_wait_irq(g, 50);
	}
	printf("# flood: %u requests in %llu ms; so far the host waited for room %u times, the guest %u times\n",
	       n, (unsigned long long)ic_ms_since(t0), g->saw_cq_waiting,
	       g->sq_waits);
	IC_EQ(c, done, n);
	for (cookie = first; cookie < first + n; cookie++)
		if (g->comps[cookie].seen != 1 || g->comps[cookie].error ||
		    g->comps[cookie].response_len != 32)
			bad++;
	IC_EQ(c, bad, 0);
}

void t_flood(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	struct fg_xfer *x = ic_xfer(0, 0, 32, 0, 32, 0);

	if (!g)
		goto out;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 0, 0, 0);
	flood_phase(c, g, x, 70000, true);
	IC(c, g->saw_cq_waiting >= 1);
	IC(c, g->sq_waits >= 1);
	flood_phase(c, g, x, 40000, false);
	IC_EQ(c, g->unknown, 0);
	IC(c, !g->cq_broken);
	IC_EQ(c, fg_host_state(g), AZ_RELAY_HOST_READY);
out:
	ic_guest_done(g);
	free(x);
}

/*
 * A 32 MiB FILL cut off mid-way, by its deadline (@timeout_ms) or by a
 * CLOSE once its first byte is written: after the completion (or the
 * CLOSED) not one more byte of the data buffer may change. Returns 1 if
 * the FILL was cut off and checked, 0 if it finished first, 2 if it was
 * cut off before it wrote anything (on a loaded machine the deadline can
 * pass while it is still queued); nothing may change then either.
 */
static int cut_fill(struct ictx *c, struct fg *g, uint32_t timeout_ms,
		    bool close)
{
	const uint32_t dlen = 8190 * 4096, seed = 5;
	struct fg_xfer *x = ic_xfer(dlen, 0, 32, 0, 8, 0);
	uint8_t *snap = malloc(dlen), *now = malloc(dlen);
	uint8_t *first, *last;
	uint64_t cookie, t0;
	bool started;
	int ret = -1;

	fg_pages_reset(g);
	x->alloc = FG_CONTIG;
	x->timeout_ms = timeout_ms;
	if (fg_xfer_layout(g, x))
		goto out;
	fg_xfer_memset(g, x, FG_DATA, 0);
	fg_sim_req(g, x, AZ_SIM_OP_FILL, 0, 0, 0, seed);
	first = fg_xfer_byte(g, x, FG_DATA, 0);
	last = fg_xfer_byte(g, x, FG_DATA, dlen - 1);
	cookie = fg_send_xfer(g, x, true);
	if (close) {
		t0 = az_now_ns();
		while (!__atomic_load_n(first, __ATOMIC_RELAXED) &&
		       ic_ms_since(t0) < 5000)
			;
		IC_EQ(c, fg_send_close(g, g->gen), 0);
		IC_EQ(c, fg_wait_closed(g, g->gen, 5000), 0);
		g->gen++;
	} else {
		IC_EQ(c, fg_wait_cookie(g, cookie, 5000), 0);
	}
	fg_drain(g);
	if (g->comps[cookie].seen && !g->comps[cookie].error) {
		ret = 0;		/* it finished before the cut */
		goto out;
	}
	if (close)
		IC_EQ(c, g->comps[cookie].seen, 0);
	else
		IC_EQ(c, g->comps[cookie].error, AZ_HOST_TIMEOUT);
	started = *first != 0;
	if (started)
		IC_EQ(c, *first, az_sim_pattern(seed, 0));
	IC_EQ(c, *last, 0);		/* it did stop before the end */
	fg_xfer_read(g, x, FG_DATA, 0, snap, dlen);
	ic_sleep_ms(300);
	fg_xfer_read(g, x, FG_DATA, 0, now, dlen);
	IC(c, !memcmp(snap, now, dlen));
	ret = started ? 1 : 2;
out:
	free(snap);
	free(now);
	free(x);
	return ret;
}

void t_no_write_after_answer(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	uint32_t ms = 3;
	int i, r = 0;

	if (!g)
		return;
	/* Shorter when it finished first, longer when it never began. */
	for (i = 0; i < 10 && r != 1 && r != -1; i++) {
		r = cut_fill(c, g, ms, false);
		if (r == 0 && ms > 1)
			ms--;
		else if (r == 2)
			ms += 2;
	}
	if (r != 1)
		ic_fail(c, __FILE__, __LINE__, "no FILL cut off by its deadline");
	for (i = 0, r = 0; i < 5 && r != 1 && r != -1; i++)
		r = cut_fill(c, g, 0, true);
	if (r != 1)
		ic_fail(c, __FILE__, __LINE__, "no FILL cut off by a close");
	echo_ok(c, g);
	ic_guest_done(g);
}

/* ------------------------------------------------------------------ */
/* Broken rings                                                        */

static void raw_hdr(struct fg *g, uint32_t len, uint16_t type)
{
	struct az_relay_rec h = {
		.len = htole32(len),
		.type = htole16(type),
		.cookie = htole64(g->next_cookie++),
	};

	fg_sq_raw(g, g->sq_w & (AZ_RELAY_SQ_SIZE - 1), &h, sizeof(h));
}

static void b_align(struct fg *g)
{
	raw_hdr(g, 24, AZ_RELAY_REC_PACKET);
	fg_set_sq_write(g, g->sq_w + 32);
}

static void b_short(struct fg *g)
{
	raw_hdr(g, 0, AZ_RELAY_REC_PACKET);
	fg_set_sq_write(g, g->sq_w + 16);
}

static void b_large(struct fg *g)
{
	raw_hdr(g, AZ_RELAY_SQ_SIZE / 2 + 16, AZ_RELAY_REC_PAD);
	fg_set_sq_write(g, g->sq_w + AZ_RELAY_SQ_SIZE / 2 + 16);
}

static void b_beyond(struct fg *g)
{
	raw_hdr(g, 64, AZ_RELAY_REC_PACKET);
	fg_set_sq_write(g, g->sq_w + 32);
}

static void b_partial(struct fg *g)
{
	raw_hdr(g, 32, AZ_RELAY_REC_PACKET);
	fg_set_sq_write(g, g->sq_w + 8);
}

static void b_backwards(struct fg *g)
{
	fg_set_sq_write(g, g->sq_w - 16);
}

static void b_jump(struct fg *g)
{
	raw_hdr(g, 32, AZ_RELAY_REC_PACKET);
	fg_set_sq_write(g, g->sq_w + AZ_RELAY_SQ_SIZE + 16);
}

static void b_completion_in_sq(struct fg *g)
{
	raw_hdr(g, 32, AZ_RELAY_REC_COMPLETION);
	fg_set_sq_write(g, g->sq_w + 32);
}

static void b_unknown_type(struct fg *g)
{
	raw_hdr(g, 16, 77);
	fg_set_sq_write(g, g->sq_w + 16);
}

/* The guest acks completions the host never wrote, then gets one. */
static void b_cq_read_beyond(struct fg *g)
{
	struct az_sim_req s = { .magic = htole32(AZ_SIM_MAGIC),
				.op = htole32(AZ_SIM_OP_ECHO) };
	struct pktgen_req r = { .op = 0x100, .req_len = 64, .resp_off = 4096,
				.resp_len = 64 };
	uint64_t pfns[2] = { 5000, 5001 };

	memcpy(g->ram + 5000 * 4096, &s, sizeof(s));
	__atomic_store_n((uint32_t *)&g->shm->cq.read_index,
			 htole32(g->cq_r + 64), __ATOMIC_RELEASE);
	fg_send_packet(g, pfns, 2, &r, true);
}

/* The guest moves its completion read index back. */
static void b_cq_read_backwards(struct fg *g)
{
	struct az_sim_req s = { .magic = htole32(AZ_SIM_MAGIC),
				.op = htole32(AZ_SIM_OP_ECHO) };
	struct pktgen_req r = { .op = 0x100, .req_len = 64, .resp_off = 4096,
				.resp_len = 64 };
	uint64_t pfns[2] = { 5000, 5001 };

	memcpy(g->ram + 5000 * 4096, &s, sizeof(s));
	__atomic_store_n((uint32_t *)&g->shm->cq.read_index,
			 htole32(g->cq_r - 64), __ATOMIC_RELEASE);
	fg_send_packet(g, pfns, 2, &r, true);
}

static void broken_one(struct ictx *c, const char *what,
		       void (*breakit)(struct fg *g))
{
	struct fg *g = ic_guest(c);
	uint64_t t0, hb0;
	bool irq = false;

	if (!g)
		return;
	echo_ok(c, g);
	echo_ok(c, g);
	irq_clear(g);
	breakit(g);
	t0 = az_now_ns();
	while (fg_host_state(g) != AZ_RELAY_HOST_GONE && ic_ms_since(t0) < 2000)
		ic_sleep_ms(2);
	if (fg_host_state(g) != AZ_RELAY_HOST_GONE)
		ic_fail(c, __FILE__, __LINE__, "%s: host state %u, not GONE",
			what, fg_host_state(g));
	irq = irq_pending(g, 1000);
	if (!irq)
		ic_fail(c, __FILE__, __LINE__, "%s: no interrupt", what);
	hb0 = fg_heartbeat(g);
	ic_sleep_ms(300);
	if (fg_heartbeat(g) != hb0)
		ic_fail(c, __FILE__, __LINE__, "%s: heartbeat still moves",
			what);
	ic_guest_done(g);
}

void t_broken_ring(struct ictx *c)
{
	static const struct {
		const char *what;
		void (*fn)(struct fg *g);
	} tc[] = {
		{ "record length not a multiple of 16", b_align },
		{ "record length 0", b_short },
		{ "record longer than half the ring", b_large },
		{ "record beyond the write index", b_beyond },
		{ "write index inside a header", b_partial },
		{ "write index moved backwards", b_backwards },
		{ "write index moved by more than the size", b_jump },
		{ "completion record in the submission ring", b_completion_in_sq },
		{ "unknown record type", b_unknown_type },
		{ "completion read index beyond the write index", b_cq_read_beyond },
		{ "completion read index moved backwards", b_cq_read_backwards },
	};
	struct fg *g;
	unsigned int i;

	for (i = 0; i < AZ_ARRAY_SIZE(tc); i++)
		broken_one(c, tc[i].what, tc[i].fn);
	/* Each broken guest went away; the next one is served. */
	g = ic_guest(c);
	if (!g)
		return;
	IC_EQ(c, fg_host_state(g), AZ_RELAY_HOST_READY);
	echo_ok(c, g);
	ic_guest_done(g);
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */

void t_second_guest(struct ictx *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fg *g = ic_guest(c);
	struct pollfd p;
	char buf[8];
	ssize_t n = -1;
	int s;

	if (!g)
		return;
	if (strlen(c->host.sock) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, c->host.sock, strlen(c->host.sock) + 1);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	IC(c, s >= 0);
	IC_EQ(c, connect(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	p = (struct pollfd){ .fd = s, .events = POLLIN };
	if (poll(&p, 1, 3000) == 1)
		n = recv(s, buf, sizeof(buf), 0);
	/* Closed without a single message. */
	IC_EQ(c, n, 0);
	close(s);
	IC_EQ(c, fg_host_state(g), AZ_RELAY_HOST_READY);
	echo_ok(c, g);
	ic_guest_done(g);
}

void t_reconnect(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	uint64_t ck[6];

	if (!g)
		return;
	send_n(c, g, 5, AZ_SIM_FAULT_NEVER, 0, ck);
	send_n(c, g, 1, 0, 5000, ck + 5);
	ic_sleep_ms(100);
	ic_guest_done(g);

	/* The host cancels them, lets go, and serves a new guest. */
	g = ic_guest(c);
	if (!g)
		return;
	IC_EQ(c, fg_host_state(g), AZ_RELAY_HOST_READY);
	IC_EQ(c, g->shm->sq.write_index, 0);
	IC_EQ(c, g->shm->sq.read_index, 0);
	IC_EQ(c, g->shm->cq.write_index, 0);
	echo_ok(c, g);
	ic_guest_done(g);
}

void t_startup_errors(struct ictx *c)
{
	char out[4096], ram[256];
	int st, fd;

	{
		const char *const a[] = { NULL };

		st = ihost_run(c, a, out, sizeof(out));
		IC(c, WIFEXITED(st) && WEXITSTATUS(st) == 2);
		IC(c, strstr(out, "are required") != NULL);
	}
	{
		const char *const a[] = { "--ram-file", "/dev/shm/x",
					  "--ram-size", "12345", "--socket",
					  "/tmp/x", NULL };

		st = ihost_run(c, a, out, sizeof(out));
		IC(c, WIFEXITED(st) && WEXITSTATUS(st) == 2);
		IC(c, strstr(out, "--ram-size: '12345'") != NULL);
	}
	{
		const char *const a[] = { "--threads", "0", NULL };

		st = ihost_run(c, a, out, sizeof(out));
		IC(c, WIFEXITED(st) && WEXITSTATUS(st) == 2);
		IC(c, strstr(out, "--threads: '0'") != NULL);
	}
	{
		const char *const a[] = { "--bogus", NULL };

		st = ihost_run(c, a, out, sizeof(out));
		IC(c, WIFEXITED(st) && WEXITSTATUS(st) == 2);
		IC(c, strstr(out, "--help") != NULL);
	}
	/* Someone else's RAM file is neither used nor removed. */
	snprintf(ram, sizeof(ram), "/dev/shm/az_blob_host_test.%d.theirs",
		 (int)getpid());
	fd = open(ram, O_CREAT | O_WRONLY, 0600);
	IC(c, fd >= 0);
	close(fd);
	{
		const char *const a[] = { "--ram-file", ram, "--ram-size", "1M",
					  "--socket", "/tmp/az_unused.sock",
					  NULL };

		st = ihost_run(c, a, out, sizeof(out));
		IC(c, WIFEXITED(st) && WEXITSTATUS(st) == 1);
		IC(c, strstr(out, "File exists (remove it or use --force)"));
		IC_EQ(c, access(ram, F_OK), 0);
	}
	unlink(ram);
	/* A socket another host listens on is left to it. */
	{
		const char *const a[] = { "--ram-file", ram, "--ram-size", "1M",
					  "--socket", c->host.sock, NULL };

		st = ihost_run(c, a, out, sizeof(out));
		IC(c, WIFEXITED(st) && WEXITSTATUS(st) == 1);
		IC(c, strstr(out, "another server listens there") != NULL);
		IC(c, access(ram, F_OK) < 0);
	}
	{
		struct fg *g = ic_guest(c);

		if (g) {
			echo_ok(c, g);
			ic_guest_done(g);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Signals                                                             */

void t_sigterm(struct ictx *c)
{
	struct ihost h;
	struct fg *g;
	uint64_t ck[2], hb0, t0;
	char pid[32] = "";
	FILE *f;
	int st;

	if (ihost_start(c, &h, 4, NULL))
		return;
	f = fopen(h.pidfile, "r");
	IC(c, f != NULL);
	if (f) {
		IC(c, fgets(pid, sizeof(pid), f) != NULL);
		fclose(f);
	}
	IC_EQ(c, strtol(pid, NULL, 10), h.pid);
	g = ic_guest_on(c, &h);
	if (!g) {
		ihost_stop(c, &h, SIGKILL, 2000);
		return;
	}
	send_n(c, g, 1, AZ_SIM_FAULT_NEVER, 0, ck);
	send_n(c, g, 1, 0, 10000, ck + 1);
	ic_sleep_ms(150);
	fg_drain(g);
	irq_clear(g);

	t0 = az_now_ns();
	st = ihost_stop(c, &h, SIGTERM, 10000);
	IC(c, st >= 0 && WIFEXITED(st));
	IC_EQ(c, WEXITSTATUS(st), 0);
	IC(c, ic_ms_since(t0) < 3000);
	IC_EQ(c, fg_host_state(g), AZ_RELAY_HOST_GONE);
	IC(c, irq_pending(g, 0));
	IC(c, access(h.ram, F_OK) < 0 && errno == ENOENT);
	IC(c, access(h.sock, F_OK) < 0 && errno == ENOENT);
	IC(c, access(h.pidfile, F_OK) < 0 && errno == ENOENT);
	fg_drain(g);
	IC_EQ(c, g->comps[ck[0]].seen, 0);
	IC_EQ(c, g->comps[ck[1]].seen, 0);
	hb0 = fg_heartbeat(g);
	ic_sleep_ms(300);
	IC_EQ(c, fg_heartbeat(g), hb0);
	ic_guest_done(g);
	if (c->failures)
		ihost_dump_log(&h);
}

void t_sigint(struct ictx *c)
{
	struct ihost h;
	int st;

	if (ihost_start(c, &h, 1, NULL))
		return;
	st = ihost_stop(c, &h, SIGINT, 10000);
	IC(c, st >= 0 && WIFEXITED(st));
	IC_EQ(c, WEXITSTATUS(st), 0);
	IC(c, access(h.ram, F_OK) < 0);
	IC(c, access(h.sock, F_OK) < 0);
	IC(c, access(h.pidfile, F_OK) < 0);
}

void t_sigkill(struct ictx *c)
{
	struct ihost h;
	struct fg *g;
	uint64_t hb0, hb1;
	int st;

	if (ihost_start(c, &h, 2, NULL))
		return;
	g = ic_guest_on(c, &h);
	if (!g) {
		ihost_stop(c, &h, SIGKILL, 2000);
		return;
	}
	hb0 = fg_heartbeat(g);
	ic_sleep_ms(350);
	hb1 = fg_heartbeat(g);
	IC(c, hb1 >= hb0 + 2);
	st = ihost_stop(c, &h, SIGKILL, 5000);
	IC(c, st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	hb0 = fg_heartbeat(g);
	ic_sleep_ms(500);
	/* Nobody beats any more, and nobody said GONE: the guest's timer. */
	IC_EQ(c, fg_heartbeat(g), hb0);
	IC_EQ(c, fg_host_state(g), AZ_RELAY_HOST_READY);
	ic_guest_done(g);
	/* A killed host cannot clean up: its files stay for the harness. */
	IC_EQ(c, access(h.ram, F_OK), 0);
	unlink(h.ram);
	unlink(h.sock);
	unlink(h.pidfile);
}
