// SPDX-License-Identifier: GPL-2.0
/*
 * Integration cases, data path: the test service's ops on buffers across
 * many guest pages, timeouts, parallelism, malformed packets. Every
 * expected value is computed in advance (az_blob_sim.h).
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../az_blob_test/az_blob_sim.h"
#include "../service.h"
#include "../util.h"
#include "fake_guest.h"
#include "integ.h"
#include "integ_life.h"

#define PG	4096U

struct fg *ic_guest(struct ictx *c)
{
	struct fg *g = calloc(1, sizeof(*g));
	uint64_t t0 = az_now_ns();

	if (!g || fg_connect(g, c->host.sock, c->host.ram, c->host.ram_size,
			     5000)) {
		ic_fail(c, __FILE__, __LINE__, "connect: %s",
			g ? g->err : "no memory");
		free(g);
		return NULL;
	}
	/* The host marks the relay READY right after the setup messages. */
	while (fg_host_state(g) != AZ_RELAY_HOST_READY && ic_ms_since(t0) < 2000)
		ic_sleep_ms(1);
	return g;
}

void ic_guest_done(struct fg *g)
{
	if (g)
		fg_disconnect(g);
	free(g);
}

struct fg_xfer *ic_xfer(uint32_t dlen, uint32_t din, uint32_t qlen,
			uint32_t qin, uint32_t rlen, uint32_t rin)
{
	struct fg_xfer *x = calloc(1, sizeof(*x));

	if (!x)
		abort();
	x->len[FG_DATA] = dlen;
	x->in[FG_DATA] = din;
	x->len[FG_REQ] = qlen;
	x->in[FG_REQ] = qin;
	x->len[FG_RESP] = rlen;
	x->in[FG_RESP] = rin;
	x->alloc = FG_SCATTER;
	return x;
}

/* Send, wait, check it came once with @status and @resp_len. */
uint64_t ic_roundtrip(struct ictx *c, struct fg *g, const struct fg_xfer *x,
		      uint32_t status, uint32_t resp_len)
{
	uint64_t cookie = fg_send_xfer(g, x, true);

	IC(c, cookie != 0);
	if (!cookie)
		return 0;
	IC_EQ(c, fg_wait_cookie(g, cookie, 10000), 0);
	IC_EQ(c, g->comps[cookie].seen, 1);
	IC_EQ(c, g->comps[cookie].error, status);
	IC_EQ(c, g->comps[cookie].response_len, resp_len);
	IC_EQ(c, g->comps[cookie].length, 0);
	return cookie;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(xorshift(&seed) >> 32);
}

/* ------------------------------------------------------------------ */

static void t_setup_and_heartbeat(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	const struct az_relay_shm *h;
	uint64_t hb0, hb1;

	if (!g)
		return;
	h = g->shm;
	IC_EQ(c, g->my_id, 1);
	IC_EQ(c, g->host_id, 0);
	IC_EQ(c, le64toh(h->magic), AZ_RELAY_MAGIC);
	IC_EQ(c, le32toh(h->version), AZ_RELAY_VERSION);
	IC_EQ(c, fg_host_state(g), AZ_RELAY_HOST_READY);
	IC_EQ(c, le32toh(h->host_peer), 0);
	IC_EQ(c, le32toh(h->shm_size), AZ_RELAY_SHM_SIZE);
	IC_EQ(c, le32toh(h->sq_offset), AZ_RELAY_SQ_OFFSET);
	IC_EQ(c, le32toh(h->sq_size), AZ_RELAY_SQ_SIZE);
	IC_EQ(c, le32toh(h->cq_offset), AZ_RELAY_CQ_OFFSET);
	IC_EQ(c, le32toh(h->cq_size), AZ_RELAY_CQ_SIZE);
	IC_EQ(c, h->sq.write_index, 0);
	IC_EQ(c, h->sq.read_index, 0);
	IC_EQ(c, h->cq.write_index, 0);
	IC_EQ(c, h->cq.read_index, 0);
	hb0 = fg_heartbeat(g);
	ic_sleep_ms(550);
	hb1 = fg_heartbeat(g);
	/* Every 100 ms: 5 or 6 beats, some slack for a busy machine. */
	IC(c, hb1 - hb0 >= 3 && hb1 - hb0 <= 9);
	ic_guest_done(g);
}

static void t_echo(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	struct fg_xfer *x = ic_xfer(0, 0, 100, 40, 200, 4000);
	uint8_t req[100], resp[200];

	if (!g)
		goto out;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	IC_EQ(c, x->nr_pfns, 3);
	fill_random(req, sizeof(req), 1);
	fg_xfer_write(g, x, FG_REQ, 0, req, sizeof(req));
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 0, 0, 0);
	fg_xfer_read(g, x, FG_REQ, 0, req, sizeof(req));
	fg_xfer_memset(g, x, FG_RESP, 0xcc);
	ic_roundtrip(c, g, x, 0, 100);
	fg_xfer_read(g, x, FG_RESP, 0, resp, sizeof(resp));
	IC(c, !memcmp(resp, req, 100));
	IC_EQ(c, resp[100], 0xcc);
	IC_EQ(c, resp[199], 0xcc);

	/* The status the request asks for comes back as it is. */
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 0, 0x12345678, 0);
	ic_roundtrip(c, g, x, 0x12345678, 100);
out:
	ic_guest_done(g);
	free(x);
}

static void t_echo_many_pages(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	struct fg_xfer *x = ic_xfer(0, 0, 40000, 123, 40000, 4000);
	uint8_t *req = malloc(40000), *resp = malloc(40000), after;

	if (!g)
		goto out;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	IC_EQ(c, x->nr_pfns, 10 + 11);
	fill_random(req, 40000, 2);
	fg_xfer_write(g, x, FG_REQ, 0, req, 40000);
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 0, 0, 0);
	fg_xfer_read(g, x, FG_REQ, 0, req, 40000);
	ic_roundtrip(c, g, x, 0, 40000);
	fg_xfer_read(g, x, FG_RESP, 0, resp, 40000);
	IC(c, !memcmp(req, resp, 40000));

	/* A shorter response buffer: that much, and not a byte beyond. */
	fg_pages_reset(g);
	x->len[FG_RESP] = 1000;
	x->in[FG_RESP] = 100;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	fg_xfer_write(g, x, FG_REQ, 0, req, 40000);
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 0, 0, 0);
	fg_xfer_read(g, x, FG_REQ, 0, req, 40000);
	memset(fg_xfer_byte(g, x, FG_RESP, 0) - 100, 0xcc, PG);
	ic_roundtrip(c, g, x, 0, 1000);
	fg_xfer_read(g, x, FG_RESP, 0, resp, 1000);
	IC(c, !memcmp(req, resp, 1000));
	after = *(fg_xfer_byte(g, x, FG_RESP, 0) + 1000);
	IC_EQ(c, after, 0xcc);
	IC_EQ(c, *(fg_xfer_byte(g, x, FG_RESP, 0) - 1), 0xcc);
out:
	ic_guest_done(g);
	free(req);
	free(resp);
	free(x);
}

static void t_info(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	struct fg_xfer *x = ic_xfer(10000, 7, 48, 4090, 80, 16);
	struct az_sim_info want, got;
	struct pktgen_req r;
	uint8_t tail[16];

	if (!g)
		goto out;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	IC_EQ(c, x->nr_pfns, 3 + 2 + 1);
	x->data_valid = 1234;
	x->timeout_ms = 60000;
	fg_sim_req(g, x, AZ_SIM_OP_INFO, 0, 0, 0, 0);
	fg_xfer_req(x, &r);
	memset(&want, 0, sizeof(want));
	pktgen_req_bytes(&r, want.packet);
	want.range_offset = 0;
	want.range_len = htole32(6 * PG);
	want.nr_pfns = htole32(6);
	want.pkt_type = htole32(9);
	want.pkt_flags = htole32(1);
	want.rangecount = htole32(1);
	ic_roundtrip(c, g, x, 0, sizeof(got));
	fg_xfer_read(g, x, FG_RESP, 0, &got, sizeof(got));
	IC(c, !memcmp(&got, &want, sizeof(got)));
	IC_EQ(c, le32toh(got.nr_pfns), 6);
	IC_EQ(c, le32toh(got.range_len), 6 * PG);

	/* A 50-byte response buffer: the first 50 bytes of it. */
	fg_pages_reset(g);
	x->len[FG_RESP] = 50;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	fg_sim_req(g, x, AZ_SIM_OP_INFO, 0, 0, 0, 0);
	fg_xfer_memset(g, x, FG_RESP, 0);
	memset(fg_xfer_byte(g, x, FG_RESP, 50), 0xcc, sizeof(tail));
	fg_xfer_req(x, &r);
	pktgen_req_bytes(&r, want.packet);
	ic_roundtrip(c, g, x, 0, 50);
	fg_xfer_read(g, x, FG_RESP, 0, &got, 50);
	IC(c, !memcmp(&got, &want, 50));
	memcpy(tail, fg_xfer_byte(g, x, FG_RESP, 50), sizeof(tail));
	IC_EQ(c, tail[0], 0xcc);
	IC_EQ(c, tail[15], 0xcc);
out:
	ic_guest_done(g);
	free(x);
}

/* FILL @dlen bytes at in-page @din; every byte checked. */
static void fill_case(struct ictx *c, uint32_t dlen, uint32_t din,
		      enum fg_alloc alloc, uint32_t want_pfns)
{
	struct fg *g = ic_guest(c);
	struct fg_xfer *x = ic_xfer(dlen, din, 32, 0, 8, 0);
	uint64_t v = 0, bad = 0, i;
	uint8_t *data = malloc(dlen);

	if (!g)
		goto out;
	x->alloc = alloc;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	IC_EQ(c, x->nr_pfns, want_pfns);
	fg_xfer_memset(g, x, FG_DATA, 0);
	fg_sim_req(g, x, AZ_SIM_OP_FILL, 0, 0, 0xC0000001U, 0x1234);
	ic_roundtrip(c, g, x, 0xC0000001U, 8);
	fg_xfer_read(g, x, FG_RESP, 0, &v, 8);
	IC_EQ(c, le64toh(v), dlen);
	fg_xfer_read(g, x, FG_DATA, 0, data, dlen);
	for (i = 0; i < dlen; i++)
		if (data[i] != az_sim_pattern(0x1234, i))
			bad++;
	IC_EQ(c, bad, 0);
out:
	ic_guest_done(g);
	free(data);
	free(x);
}

static void t_fill_3mib_scattered(struct ictx *c)
{
	uint32_t dlen = (3U << 20) + 777;

	fill_case(c, dlen, 2049, FG_SCATTER, (2049 + dlen + PG - 1) / PG + 2);
}

static void t_fill_8192_pfns(struct ictx *c)
{
	fill_case(c, 8190 * PG, 0, FG_CONTIG, 8192);
}

static void t_sum(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	uint32_t dlen = (1U << 20) + 5, valid = (1U << 20) - 3;
	struct fg_xfer *x = ic_xfer(dlen, 333, 32, 100, 16, 0);
	uint8_t *data = malloc(dlen);
	uint64_t want, v = 0;

	if (!g)
		goto out;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	x->data_valid = valid;
	fill_random(data, dlen, 3);
	fg_xfer_write(g, x, FG_DATA, 0, data, dlen);
	want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, data, valid);
	fg_sim_req(g, x, AZ_SIM_OP_SUM, 0, 0, 0, 0);
	ic_roundtrip(c, g, x, 0, 8);
	fg_xfer_read(g, x, FG_RESP, 0, &v, 8);
	IC_EQ(c, le64toh(v), want);

	/* A 4-byte response buffer: the low half of the sum. */
	fg_pages_reset(g);
	x->len[FG_RESP] = 4;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	fg_xfer_write(g, x, FG_DATA, 0, data, dlen);
	fg_sim_req(g, x, AZ_SIM_OP_SUM, 0, 0, 0, 0);
	v = 0;
	ic_roundtrip(c, g, x, 0, 4);
	fg_xfer_read(g, x, FG_RESP, 0, &v, 4);
	IC_EQ(c, le64toh(v), want & 0xffffffffULL);

	/* Nothing valid: the sum of nothing. */
	x->data_valid = 0;
	fg_sim_req(g, x, AZ_SIM_OP_SUM, 0, 0, 0, 0);
	v = 0;
	ic_roundtrip(c, g, x, 0, 4);
	fg_xfer_read(g, x, FG_RESP, 0, &v, 4);
	IC_EQ(c, le64toh(v), AZ_SIM_FNV1A_INIT & 0xffffffffULL);
out:
	ic_guest_done(g);
	free(data);
	free(x);
}

/* Request and response in one guest page: its PFN twice in the range. */
static void t_shared_page(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	struct az_sim_req s = {
		.magic = htole32(AZ_SIM_MAGIC),
		.op = htole32(AZ_SIM_OP_ECHO),
	};
	const uint64_t pfn = 3000;
	uint64_t pfns[2] = { pfn, pfn };
	struct pktgen_req r = { 0 };
	uint8_t *page;
	uint64_t cookie;

	if (!g)
		return;
	page = g->ram + pfn * PG;
	memset(page, 0xcc, PG);
	memcpy(page, &s, sizeof(s));
	fill_random(page + 32, 32, 4);
	r.op = 0x100;
	r.req_off = 0;
	r.req_len = 64;
	r.resp_off = PG + 2048;
	r.resp_len = 64;
	cookie = fg_send_packet(g, pfns, 2, &r, true);
	IC_EQ(c, fg_wait_cookie(g, cookie, 5000), 0);
	IC_EQ(c, g->comps[cookie].error, 0);
	IC_EQ(c, g->comps[cookie].response_len, 64);
	IC(c, !memcmp(page + 2048, page, 64));
	IC_EQ(c, page[2048 + 64], 0xcc);
	ic_guest_done(g);
}

static void t_timeouts(struct ictx *c)
{
	static const struct {
		uint32_t fault, delay, timeout, status, min_ms, max_ms;
	} tc[] = {
		/* delay beyond the timeout: TIMEOUT at the deadline */
		{ 0, 5000, 200, AZ_HOST_TIMEOUT, 190, 2500 },
		/* timeout == delay counts as a timeout (az_blob_sim.h) */
		{ 0, 300, 300, AZ_HOST_TIMEOUT, 290, 2500 },
		/* delay within the timeout: answered after the delay */
		{ 0, 150, 2000, 0, 145, 1990 },
		/* never answered, but the host enforces the timeout */
		{ AZ_SIM_FAULT_NEVER, 0, 300, AZ_HOST_TIMEOUT, 290, 2500 },
	};
	struct fg *g = ic_guest(c);
	struct fg_xfer *x[4];
	uint64_t cookie[4], t0;
	unsigned int i;
	uint8_t b;

	if (!g)
		return;
	t0 = az_now_ns();
	for (i = 0; i < 4; i++) {
		x[i] = ic_xfer(0, 0, 64, 0, 64, 0);
		x[i]->timeout_ms = tc[i].timeout;
		IC_EQ(c, fg_xfer_layout(g, x[i]), 0);
		fg_sim_req(g, x[i], AZ_SIM_OP_ECHO, tc[i].fault, tc[i].delay,
			   0, 0);
		fg_xfer_memset(g, x[i], FG_RESP, 0xcc);
		cookie[i] = fg_send_xfer(g, x[i], true);
	}
	for (i = 0; i < 4; i++) {
		uint64_t ms;

		IC_EQ(c, fg_wait_cookie(g, cookie[i], 5000), 0);
		ms = (g->comps[cookie[i]].at_ns - t0) / AZ_NSEC_PER_MSEC;
		IC_EQ(c, g->comps[cookie[i]].seen, 1);
		IC_EQ(c, g->comps[cookie[i]].error, tc[i].status);
		IC_EQ(c, g->comps[cookie[i]].response_len,
		      tc[i].status ? 0 : 64);
		if (ms < tc[i].min_ms || ms > tc[i].max_ms)
			ic_fail(c, __FILE__, __LINE__,
				"case %u answered after %llu ms, want %u..%u",
				i, (unsigned long long)ms, tc[i].min_ms,
				tc[i].max_ms);
		/* A timed-out request leaves the response buffer alone. */
		fg_xfer_read(g, x[i], FG_RESP, 63, &b, 1);
		IC_EQ(c, b, tc[i].status ? 0xcc : *fg_xfer_byte(g, x[i],
								FG_REQ, 63));
	}
	for (i = 0; i < 4; i++)
		free(x[i]);
	ic_guest_done(g);
}

static void t_parallel(struct ictx *c)
{
	struct fg *g = ic_guest(c);
	struct fg_xfer *x = ic_xfer(0, 0, 64, 0, 64, 0);
	uint64_t cookie[12], t0, ms;
	unsigned int i;

	if (!g)
		goto out;
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 400, 0, 0);
	t0 = az_now_ns();
	for (i = 0; i < 12; i++)
		cookie[i] = fg_send_xfer(g, x, i == 11);
	for (i = 0; i < 12; i++) {
		IC_EQ(c, fg_wait_cookie(g, cookie[i], 5000), 0);
		IC_EQ(c, g->comps[cookie[i]].error, 0);
		IC_EQ(c, g->comps[cookie[i]].response_len, 64);
	}
	ms = ic_ms_since(t0);
	/* 12 x 400 ms one after another would be 4.8 s. */
	if (ms < 395 || ms > 2500)
		ic_fail(c, __FILE__, __LINE__, "12 parallel requests took %llu ms",
			(unsigned long long)ms);
out:
	ic_guest_done(g);
	free(x);
}

/* A valid ECHO layout whose packet @mutate breaks; expect @status. */
static void malformed_one(struct ictx *c, struct fg *g, const char *what,
			  void (*mutate)(struct fg *g, uint8_t *pkt,
					 uint32_t *len, uint64_t *pfns,
					 uint32_t *nr, struct pktgen_req *r),
			  uint32_t status)
{
	struct fg_xfer *x = ic_xfer(5000, 10, 64, 0, 64, 0);
	uint32_t len, nr;
	uint64_t cookie, *pfns = calloc(8300, sizeof(*pfns));
	uint8_t *pkt = malloc(pktgen_size(8300) + 64), b;
	struct pktgen_req r;

	fg_pages_reset(g);
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 0, 0, 0);
	fg_xfer_memset(g, x, FG_RESP, 0xcc);
	memcpy(pfns, x->pfns, x->nr_pfns * sizeof(*pfns));
	nr = x->nr_pfns;
	fg_xfer_req(x, &r);
	/* First the inputs of the packet, then its bytes. */
	mutate(g, NULL, NULL, pfns, &nr, &r);
	len = (uint32_t)pktgen_build(pkt, pfns, nr, &r, 0x99);
	mutate(g, pkt, &len, NULL, NULL, NULL);
	cookie = fg_send_bytes(g, pkt, len);
	if (fg_wait_cookie(g, cookie, 5000)) {
		ic_fail(c, __FILE__, __LINE__, "%s: no answer", what);
	} else if (g->comps[cookie].error != status ||
		   g->comps[cookie].response_len) {
		ic_fail(c, __FILE__, __LINE__,
			"%s: status %#x response_len %u, want %#x 0", what,
			g->comps[cookie].error,
			g->comps[cookie].response_len, status);
	}
	fg_xfer_read(g, x, FG_RESP, 0, &b, 1);
	if (b != 0xcc)
		ic_fail(c, __FILE__, __LINE__, "%s: response written", what);
	free(pfns);
	free(pkt);
	free(x);
}

#define MUT(name, body)							\
	static void name(struct fg *g, uint8_t *pkt, uint32_t *len,	\
			 uint64_t *pfns, uint32_t *nr, struct pktgen_req *r) \
	{								\
		(void)g; (void)pkt; (void)len; (void)pfns; (void)nr; (void)r; \
		body							\
	}

static void put16(uint8_t *p, uint16_t v)
{
	v = htole16(v);
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htole32(v);
	memcpy(p, &v, 4);
}

MUT(m_pfn_beyond_ram, if (pfns) pfns[1] = g->ram_size / PG;)
MUT(m_pfn_huge, if (pfns) pfns[0] = 0xfffffffffffffULL;)
MUT(m_pfn_hole, if (pfns) pfns[2] = (4ULL << 30) / PG;)
MUT(m_req_beyond, if (r) r->req_off = 4 * PG - 32;)
MUT(m_resp_beyond, if (r) r->resp_off = 0xfffffff0U;)
MUT(m_data_beyond, if (r) r->data_len = 4 * PG;)
MUT(m_rangecount, if (pkt) put32(pkt + 20, 2);)
MUT(m_too_many, if (pfns) { uint32_t i; for (i = *nr; i < 8193; i++)
	pfns[i] = pfns[i % 2]; *nr = 8193; })
MUT(m_short, if (len) *len = 8;)
MUT(m_len8_beyond, if (pkt) put16(pkt + 4, (uint16_t)(*len / 8 + 2));)
MUT(m_inline_64, if (pkt) { memset(pkt + *len, 0, 8); *len += 8;
	put16(pkt + 4, (uint16_t)(*len / 8)); })
MUT(m_type, if (pkt) put16(pkt, 6);)
MUT(m_flags, if (pkt) put16(pkt + 6, 0);)
MUT(m_range_offset, if (pkt) put32(pkt + 28, 512);)
MUT(m_version, if (r) r->version = 1;)
MUT(m_operation, if (r) r->op = 0x101;)
MUT(m_no_request, if (r) r->req_len = 0;)
MUT(m_no_response, if (r) r->resp_len = 0;)
MUT(m_valid, if (r) r->data_valid = r->data_len + 1;)
MUT(m_bad_magic, if (pfns) memcpy(g->ram + pfns[2] * PG, "XBST", 4);)
MUT(m_bad_op, if (pfns) { uint32_t op = htole32(9);
	memcpy(g->ram + pfns[2] * PG + 4, &op, 4); })
MUT(m_bad_fault, if (pfns) { uint32_t f = htole32(AZ_SIM_FAULT_DUPLICATE);
	memcpy(g->ram + pfns[2] * PG + 8, &f, 4); })
MUT(m_short_sim_req, if (r) r->req_len = 16;)

static void t_malformed(struct ictx *c)
{
	static const struct {
		const char *what;
		void (*m)(struct fg *, uint8_t *, uint32_t *, uint64_t *,
			  uint32_t *, struct pktgen_req *);
		uint32_t status;
	} tc[] = {
		{ "pfn beyond RAM", m_pfn_beyond_ram, AZ_HOST_INVALID_DATA },
		{ "huge pfn", m_pfn_huge, AZ_HOST_INVALID_DATA },
		{ "pfn at 4 GiB (no high RAM)", m_pfn_hole, AZ_HOST_INVALID_DATA },
		{ "request beyond range", m_req_beyond, AZ_HOST_INVALID_DATA },
		{ "response offset wraps", m_resp_beyond, AZ_HOST_INVALID_DATA },
		{ "data beyond range", m_data_beyond, AZ_HOST_INVALID_DATA },
		{ "rangecount 2", m_rangecount, AZ_HOST_INVALID_DATA },
		{ "8193 pfns", m_too_many, AZ_HOST_INVALID_DATA },
		{ "short packet", m_short, AZ_HOST_INVALID_DATA },
		{ "len8 beyond record", m_len8_beyond, AZ_HOST_INVALID_DATA },
		{ "64 bytes inline", m_inline_64, AZ_HOST_INVALID_DATA },
		{ "type in-band", m_type, AZ_HOST_INVALID_DATA },
		{ "no completion requested", m_flags, AZ_HOST_INVALID_DATA },
		{ "range offset", m_range_offset, AZ_HOST_INVALID_DATA },
		{ "version 1", m_version, AZ_HOST_INVALID_DATA },
		{ "operation 0x101", m_operation, AZ_HOST_INVALID_DATA },
		{ "no request buffer", m_no_request, AZ_HOST_INVALID_DATA },
		{ "no response buffer", m_no_response, AZ_HOST_INVALID_DATA },
		{ "data_valid > data_len", m_valid, AZ_HOST_INVALID_DATA },
		{ "unknown magic", m_bad_magic, AZ_HOST_INVALID_ARG },
		{ "test op 9", m_bad_op, AZ_SIM_STATUS_BAD_REQUEST },
		{ "fault DUPLICATE", m_bad_fault, AZ_SIM_STATUS_BAD_REQUEST },
		{ "request shorter than az_sim_req", m_short_sim_req,
		  AZ_SIM_STATUS_BAD_REQUEST },
	};
	struct fg *g = ic_guest(c);
	struct fg_xfer *x = ic_xfer(0, 0, 64, 0, 64, 0);
	unsigned int i;

	if (!g)
		goto out;
	for (i = 0; i < AZ_ARRAY_SIZE(tc); i++)
		malformed_one(c, g, tc[i].what, tc[i].m, tc[i].status);
	/* The host is still serving: a good request works. */
	fg_pages_reset(g);
	IC_EQ(c, fg_xfer_layout(g, x), 0);
	fg_sim_req(g, x, AZ_SIM_OP_ECHO, 0, 0, 0, 0);
	ic_roundtrip(c, g, x, 0, 64);
	IC_EQ(c, fg_host_state(g), AZ_RELAY_HOST_READY);
	IC_EQ(c, g->unknown, 0);
	IC(c, !g->cq_broken);
out:
	ic_guest_done(g);
	free(x);
}

const struct icase integ_cases[] = {
	{ "setup_messages_header_heartbeat", t_setup_and_heartbeat },
	{ "echo", t_echo },
	{ "echo_40000_bytes_across_pages", t_echo_many_pages },
	{ "info_packet_as_received", t_info },
	{ "fill_3MiB_scattered_pages", t_fill_3mib_scattered },
	{ "fill_8192_pfns_32MiB", t_fill_8192_pfns },
	{ "sum_data_valid", t_sum },
	{ "shared_page_twice_in_range", t_shared_page },
	{ "timeouts_delay_never", t_timeouts },
	{ "parallel_requests", t_parallel },
	{ "malformed_packets_answered", t_malformed },
	{ "queued_request_times_out", t_queued_timeout },
	{ "close_never_and_queued", t_close },
	{ "flood_wraps_both_rings", t_flood },
	{ "no_guest_write_after_answer_or_closed", t_no_write_after_answer },
	{ "broken_ring_records", t_broken_ring },
	{ "second_guest_refused", t_second_guest },
	{ "reconnect_after_disconnect", t_reconnect },
	{ "startup_errors", t_startup_errors },
	{ "sigterm_gone_and_clean", t_sigterm },
	{ "sigint_without_guest", t_sigint },
	{ "sigkill_heartbeat_stops", t_sigkill },
	{ NULL, NULL },
};
