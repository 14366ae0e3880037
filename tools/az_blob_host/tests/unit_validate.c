// SPDX-License-Identifier: GPL-2.0
/*
 * Packet validation: a valid packet parsed field by field, then every way
 * to break one, each refused for its own reason.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "../validate.h"
#include "pktgen.h"
#include "unit.h"


struct tpkt {
	uint8_t buf[70000];
	size_t len;
	uint64_t pfns[8193];
	uint32_t nr;
	struct pktgen_req r;
};

/* 3 pages: data 1000 bytes at 100, request 64 at page 1, response 80 at page 2. */
static void tpkt_default(struct tpkt *t)
{
	uint32_t i;

	memset(t, 0, sizeof(*t));
	t->nr = 3;
	for (i = 0; i < 8193; i++)
		t->pfns[i] = 0x100 + i * 3;
	t->r.timeout_ms = 5000;
	t->r.data_off = 100;
	t->r.data_len = 1000;
	t->r.data_valid = 600;
	t->r.op = 0x100;
	t->r.req_off = 4096 + 8;
	t->r.req_len = 64;
	t->r.resp_off = 8192 + 16;
	t->r.resp_len = 80;
	for (i = 0; i < 16; i++)
		t->r.tid[i] = (uint8_t)(0xf0 + i);
}

static void tpkt_build(struct tpkt *t)
{
	t->len = pktgen_build(t->buf, t->pfns, t->nr, &t->r, 0x77);
}

static enum az_pkt_status tpkt_parse(struct tpkt *t, struct az_packet *p)
{
	return az_packet_parse(t->buf, t->len, p);
}

static void put16(uint8_t *b, uint16_t v)
{
	v = htole16(v);
	memcpy(b, &v, 2);
}

static void put32(uint8_t *b, uint32_t v)
{
	v = htole32(v);
	memcpy(b, &v, 4);
}

static void t_valid(void)
{
	struct tpkt *t = malloc(sizeof(*t));
	struct az_packet p;
	uint8_t raw[56];

	tpkt_default(t);
	tpkt_build(t);
	CHECK_EQ(t->len, 32 + 3 * 8 + 56);
	CHECK_EQ(tpkt_parse(t, &p), AZ_PKT_OK);
	CHECK_EQ(p.type, 9);
	CHECK_EQ(p.flags, 1);
	CHECK_EQ(p.trans_id, 0x77);
	CHECK_EQ(p.len, t->len);
	CHECK_EQ(p.rangecount, 1);
	CHECK_EQ(p.range_offset, 0);
	CHECK_EQ(p.range_len, 3 * 4096);
	CHECK_EQ(p.nr_pfns, 3);
	CHECK_EQ(az_packet_pfn(&p, 0), 0x100);
	CHECK_EQ(az_packet_pfn(&p, 2), 0x106);
	CHECK_EQ(p.req.timeout_ms, 5000);
	CHECK_EQ(p.req.data_offset, 100);
	CHECK_EQ(p.req.data_length, 1000);
	CHECK_EQ(p.req.data_valid, 600);
	CHECK_EQ(p.req.request_offset, 4104);
	CHECK_EQ(p.req.request_length, 64);
	CHECK_EQ(p.req.response_offset, 8208);
	CHECK_EQ(p.req.response_length, 80);
	CHECK_EQ(p.req.transaction_id[15], 0xff);
	pktgen_req_bytes(&t->r, raw);
	CHECK(!memcmp(p.raw_req, raw, 56));

	/* Padding after the packet in the record is fine. */
	t->len += 8;
	CHECK_EQ(tpkt_parse(t, &p), AZ_PKT_OK);
	CHECK_EQ(p.len, t->len - 8);
	free(t);
}

static void t_edges_valid(void)
{
	struct tpkt *t = malloc(sizeof(*t));
	struct az_packet p;

	/* Exactly 8192 PFNs. */
	tpkt_default(t);
	t->nr = 8192;
	t->r.resp_off = 8191 * 4096;
	t->r.resp_len = 4096;
	tpkt_build(t);
	CHECK_EQ(tpkt_parse(t, &p), AZ_PKT_OK);
	CHECK_EQ(p.nr_pfns, 8192);
	/* No data buffer: its offset is not looked at. */
	tpkt_default(t);
	t->r.data_len = 0;
	t->r.data_valid = 0;
	t->r.data_off = 0xffffffffU;
	tpkt_build(t);
	CHECK_EQ(tpkt_parse(t, &p), AZ_PKT_OK);
	/* Buffers ending exactly at the end of the range. */
	tpkt_default(t);
	t->r.resp_off = 3 * 4096 - 80;
	t->r.data_off = 0;
	t->r.data_len = 3 * 4096;
	t->r.data_valid = 3 * 4096;
	tpkt_build(t);
	CHECK_EQ(tpkt_parse(t, &p), AZ_PKT_OK);
	/* Timeout 0: none. */
	tpkt_default(t);
	t->r.timeout_ms = 0;
	tpkt_build(t);
	CHECK_EQ(tpkt_parse(t, &p), AZ_PKT_OK);
	free(t);
}

/* Build the default packet, let @mutate break it, parse. */
static enum az_pkt_status broken(void (*mutate)(struct tpkt *t))
{
	struct tpkt *t = malloc(sizeof(*t));
	struct az_packet p;
	enum az_pkt_status s;

	tpkt_default(t);
	tpkt_build(t);
	mutate(t);
	s = tpkt_parse(t, &p);
	free(t);
	return s;
}

static void m_short(struct tpkt *t) { t->len = 15; }
static void m_len8_small(struct tpkt *t) { put16(t->buf + 4, 1); }
static void m_len8_beyond(struct tpkt *t) { t->len -= 8; }
static void m_type(struct tpkt *t) { put16(t->buf + 0, 6); }
static void m_flags0(struct tpkt *t) { put16(t->buf + 6, 0); }
static void m_flags3(struct tpkt *t) { put16(t->buf + 6, 3); }
static void m_desc_small(struct tpkt *t) { put16(t->buf + 2, 3); }
static void m_desc_beyond(struct tpkt *t)
{
	put16(t->buf + 2, (uint16_t)(t->len / 8 + 1));
}
static void m_range0(struct tpkt *t) { put32(t->buf + 20, 0); }
static void m_range2(struct tpkt *t) { put32(t->buf + 20, 2); }

/* Inline data of 48 bytes: one PFN more in the descriptor. */
static void m_inline_short(struct tpkt *t)
{
	put16(t->buf + 2, (uint16_t)((32 + 4 * 8) / 8));
}

/* Inline data of 64 bytes: 8 more bytes in the packet. */
static void m_inline_long(struct tpkt *t)
{
	memset(t->buf + t->len, 0, 8);
	t->len += 8;
	put16(t->buf + 4, (uint16_t)(t->len / 8));
}

static void m_range_offset(struct tpkt *t) { put32(t->buf + 28, 8); }
static void m_range_len(struct tpkt *t) { put32(t->buf + 24, 3 * 4096 + 1); }
static void m_range_len_short(struct tpkt *t) { put32(t->buf + 24, 8192); }

static void m_too_many(struct tpkt *t)
{
	t->nr = 8193;
	t->len = pktgen_build(t->buf, t->pfns, t->nr, &t->r, 1);
}

static void m_version(struct tpkt *t)
{
	t->r.version = 1;
	tpkt_build(t);
}

static void m_op(struct tpkt *t)
{
	t->r.op = 0x101;
	tpkt_build(t);
}

static void m_no_req(struct tpkt *t)
{
	t->r.req_len = 0;
	tpkt_build(t);
}

static void m_no_resp(struct tpkt *t)
{
	t->r.resp_len = 0;
	tpkt_build(t);
}

static void m_valid(struct tpkt *t)
{
	t->r.data_valid = 1001;
	tpkt_build(t);
}

static void m_req_range(struct tpkt *t)
{
	t->r.req_off = 3 * 4096 - 63;
	tpkt_build(t);
}

static void m_req_wrap(struct tpkt *t)
{
	t->r.req_off = 0xffffffffU;
	t->r.req_len = 2;		/* 32-bit sum wraps to 1 */
	tpkt_build(t);
}

static void m_resp_range(struct tpkt *t)
{
	t->r.resp_off = 3 * 4096;
	t->r.resp_len = 1;
	tpkt_build(t);
}

static void m_data_range(struct tpkt *t)
{
	t->r.data_off = 2 * 4096 + 3000;
	t->r.data_len = 1200;
	t->r.data_valid = 0;
	tpkt_build(t);
}

static void t_malformed(void)
{
	CHECK_EQ(broken(m_short), AZ_PKT_SHORT);
	CHECK_EQ(broken(m_len8_small), AZ_PKT_LEN);
	CHECK_EQ(broken(m_len8_beyond), AZ_PKT_LEN);
	CHECK_EQ(broken(m_type), AZ_PKT_TYPE);
	CHECK_EQ(broken(m_flags0), AZ_PKT_FLAGS);
	CHECK_EQ(broken(m_flags3), AZ_PKT_FLAGS);
	CHECK_EQ(broken(m_desc_small), AZ_PKT_DESC);
	CHECK_EQ(broken(m_desc_beyond), AZ_PKT_DESC);
	CHECK_EQ(broken(m_range0), AZ_PKT_RANGECOUNT);
	CHECK_EQ(broken(m_range2), AZ_PKT_RANGECOUNT);
	CHECK_EQ(broken(m_inline_short), AZ_PKT_INLINE);
	CHECK_EQ(broken(m_inline_long), AZ_PKT_INLINE);
	CHECK_EQ(broken(m_range_offset), AZ_PKT_RANGE_OFFSET);
	CHECK_EQ(broken(m_too_many), AZ_PKT_TOO_MANY_PFNS);
	CHECK_EQ(broken(m_range_len), AZ_PKT_RANGE_LEN);
	CHECK_EQ(broken(m_range_len_short), AZ_PKT_RANGE_LEN);
	CHECK_EQ(broken(m_version), AZ_PKT_VERSION);
	CHECK_EQ(broken(m_op), AZ_PKT_OPERATION);
	CHECK_EQ(broken(m_no_req), AZ_PKT_NO_REQUEST);
	CHECK_EQ(broken(m_no_resp), AZ_PKT_NO_RESPONSE);
	CHECK_EQ(broken(m_valid), AZ_PKT_DATA_VALID);
	CHECK_EQ(broken(m_req_range), AZ_PKT_REQUEST_RANGE);
	CHECK_EQ(broken(m_req_wrap), AZ_PKT_REQUEST_RANGE);
	CHECK_EQ(broken(m_resp_range), AZ_PKT_RESPONSE_RANGE);
	CHECK_EQ(broken(m_data_range), AZ_PKT_DATA_RANGE);
}

static void t_strerror(void)
{
	unsigned int i;

	for (i = 0; i < AZ_PKT_NR_STATUS; i++)
		CHECK(strcmp(az_pkt_strerror(i), "unknown"));
	CHECK(!strcmp(az_pkt_strerror(AZ_PKT_NR_STATUS), "unknown"));
}

const struct az_test az_validate_tests[] = {
	{ "validate_valid_packet", t_valid },
	{ "validate_edges_accepted", t_edges_valid },
	{ "validate_malformed_each_refused", t_malformed },
	{ "validate_strerror", t_strerror },
	{ NULL, NULL },
};
