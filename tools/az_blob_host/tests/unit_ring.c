// SPDX-License-Identifier: GPL-2.0
/*
 * The relay rings: record and index validation (every malformed case of
 * az_relay.h), consumer and producer over memory.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "../ring.h"
#include "unit.h"

#define RSIZE	4096U

struct tring {
	struct az_relay_ring ctl;
	uint8_t data[RSIZE] __attribute__((aligned(16)));
};

static void tring_init(struct tring *t, struct az_ring *r)
{
	memset(t, 0, sizeof(*t));
	az_ring_init(r, &t->ctl, t->data, RSIZE);
}

/* Write a record header as a (possibly broken) guest would. */
static void put_hdr(struct tring *t, uint32_t off, uint32_t len, uint16_t type,
		    uint64_t cookie)
{
	struct az_relay_rec h = {
		.len = htole32(len),
		.type = htole16(type),
		.gen = htole16(3),
		.cookie = htole64(cookie),
	};

	memcpy(t->data + off, &h, sizeof(h));
}

static void set_w(struct tring *t, uint32_t w)
{
	t->ctl.write_index = htole32(w);
}

static void t_check_rec(void)
{
	CHECK_EQ(az_ring_check_rec(32, 0, 32, RSIZE), AZ_RING_OK);
	CHECK_EQ(az_ring_check_rec(16, RSIZE - 16, 16, RSIZE), AZ_RING_OK);
	CHECK_EQ(az_ring_check_rec(RSIZE / 2, 0, RSIZE, RSIZE), AZ_RING_OK);
	CHECK_EQ(az_ring_check_rec(24, 0, 64, RSIZE), AZ_RING_LEN_ALIGN);
	CHECK_EQ(az_ring_check_rec(1, 0, 64, RSIZE), AZ_RING_LEN_ALIGN);
	CHECK_EQ(az_ring_check_rec(0, 0, 64, RSIZE), AZ_RING_LEN_SHORT);
	CHECK_EQ(az_ring_check_rec(RSIZE / 2 + 16, 0, RSIZE, RSIZE),
		 AZ_RING_LEN_LARGE);
	CHECK_EQ(az_ring_check_rec(0xfffffff0U, 0, RSIZE, RSIZE),
		 AZ_RING_LEN_LARGE);
	CHECK_EQ(az_ring_check_rec(64, 0, 48, RSIZE), AZ_RING_LEN_BEYOND);
	CHECK_EQ(az_ring_check_rec(32, RSIZE - 16, 64, RSIZE), AZ_RING_WRAPS);
}

static void t_check_index(void)
{
	/* Host consumer, guest producer: mine = read, now = write. */
	CHECK_EQ(az_ring_check_index(0, 0, 0, RSIZE, true), AZ_RING_OK);
	CHECK_EQ(az_ring_check_index(0, 0, RSIZE, RSIZE, true), AZ_RING_OK);
	CHECK_EQ(az_ring_check_index(0, 0, RSIZE + 16, RSIZE, true),
		 AZ_RING_BACKWARDS);	/* also more than a size at once */
	CHECK_EQ(az_ring_check_index(0, 64, 32, RSIZE, true),
		 AZ_RING_BACKWARDS);
	CHECK_EQ(az_ring_check_index(100, 100, 80, RSIZE, true),
		 AZ_RING_BACKWARDS);
	CHECK_EQ(az_ring_check_index(0, 4000, 4112, RSIZE, true),
		 AZ_RING_BEYOND);
	/* Free-running indices wrap at 2^32. */
	CHECK_EQ(az_ring_check_index(0xfffffff0U, 0xfffffff0U, 0x20, RSIZE,
				     true), AZ_RING_OK);
	/* Host producer, guest consumer: mine = write, now = read. */
	CHECK_EQ(az_ring_check_index(64, 0, 32, RSIZE, false), AZ_RING_OK);
	CHECK_EQ(az_ring_check_index(64, 32, 16, RSIZE, false),
		 AZ_RING_BACKWARDS);
	CHECK_EQ(az_ring_check_index(64, 32, 80, RSIZE, false),
		 AZ_RING_BEYOND);	/* read past what was written */
}

static void t_next_ok_and_pad(void)
{
	struct az_relay_rec h;
	const uint8_t *pl;
	struct az_ring r;
	struct tring *t = calloc(1, sizeof(*t));

	tring_init(t, &r);
	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_EMPTY);
	put_hdr(t, 0, 48, AZ_RELAY_REC_PACKET, 0x1122334455667788ULL);
	memset(t->data + 16, 0xab, 32);
	put_hdr(t, 48, 16, AZ_RELAY_REC_PAD, 0);
	put_hdr(t, 64, 16, AZ_RELAY_REC_CLOSE, 7);
	set_w(t, 80);

	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_OK);
	CHECK_EQ(h.len, 48);
	CHECK_EQ(h.type, AZ_RELAY_REC_PACKET);
	CHECK_EQ(h.gen, 3);
	CHECK_EQ(h.cookie, 0x1122334455667788ULL);
	CHECK(pl == t->data + 16);
	az_ring_advance(&r, h.len);
	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_OK);
	CHECK_EQ(h.type, AZ_RELAY_REC_PAD);
	az_ring_advance(&r, h.len);
	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_OK);
	CHECK_EQ(h.type, AZ_RELAY_REC_CLOSE);
	CHECK_EQ(h.cookie, 7);
	az_ring_advance(&r, h.len);
	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_EMPTY);

	/* Publishing: nobody waits, then the producer waits. */
	CHECK(!az_ring_publish_read(&r));
	CHECK_EQ(le32toh(t->ctl.read_index), 80);
	t->ctl.producer_waiting = htole32(1);
	CHECK(az_ring_publish_read(&r));
	CHECK_EQ(t->ctl.producer_waiting, 0);
	free(t);
}

/* One broken ring: header @len at 0, write index @w. */
static enum az_ring_status next_with(uint32_t len, uint32_t w)
{
	struct tring *t = calloc(1, sizeof(*t));
	struct az_relay_rec h;
	const uint8_t *pl;
	enum az_ring_status s;
	struct az_ring r;

	tring_init(t, &r);
	put_hdr(t, 0, len, AZ_RELAY_REC_PACKET, 1);
	set_w(t, w);
	s = az_ring_next(&r, &h, &pl);
	free(t);
	return s;
}

static void t_next_broken(void)
{
	CHECK_EQ(next_with(32, 32), AZ_RING_OK);
	CHECK_EQ(next_with(40, 48), AZ_RING_LEN_ALIGN);
	CHECK_EQ(next_with(0, 48), AZ_RING_LEN_SHORT);
	CHECK_EQ(next_with(RSIZE, RSIZE), AZ_RING_LEN_LARGE);
	CHECK_EQ(next_with(64, 48), AZ_RING_LEN_BEYOND);
	CHECK_EQ(next_with(32, 8), AZ_RING_PARTIAL);
	CHECK_EQ(next_with(32, RSIZE + 16), AZ_RING_BACKWARDS);
	CHECK_EQ(next_with(32, 0xfffffff0U), AZ_RING_BACKWARDS);
}

static void t_next_backwards_and_wrap(void)
{
	struct tring *t = calloc(1, sizeof(*t));
	struct az_relay_rec h;
	const uint8_t *pl;
	struct az_ring r;

	/* The write index moves back after the host saw it. */
	tring_init(t, &r);
	put_hdr(t, 0, 32, AZ_RELAY_REC_PACKET, 1);
	put_hdr(t, 32, 32, AZ_RELAY_REC_PACKET, 2);
	set_w(t, 64);
	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_OK);
	az_ring_advance(&r, h.len);
	set_w(t, 48);
	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_BACKWARDS);

	/* A record that runs past the end of the data area. */
	tring_init(t, &r);
	r.index = RSIZE - 32;
	r.peer = RSIZE - 32;
	put_hdr(t, RSIZE - 32, 64, AZ_RELAY_REC_PACKET, 1);
	set_w(t, RSIZE + 32);
	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_WRAPS);

	/* A PAD to the end, then a record at the start: fine. */
	tring_init(t, &r);
	r.index = RSIZE - 32;
	r.peer = RSIZE - 32;
	put_hdr(t, RSIZE - 32, 32, AZ_RELAY_REC_PAD, 0);
	put_hdr(t, 0, 64, AZ_RELAY_REC_PACKET, 9);
	set_w(t, RSIZE + 64);
	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_OK);
	CHECK_EQ(h.type, AZ_RELAY_REC_PAD);
	az_ring_advance(&r, h.len);
	CHECK_EQ(az_ring_next(&r, &h, &pl), AZ_RING_OK);
	CHECK_EQ(h.cookie, 9);
	CHECK(pl == t->data + 16);
	free(t);
}

static void t_put_roundtrip(void)
{
	struct tring *t = calloc(1, sizeof(*t));
	struct az_ring prod, cons;
	struct az_relay_completion c = { .error = htole32(0x80070102U) };
	unsigned int i, got = 0, pads = 0;
	struct az_relay_rec h;
	const uint8_t *pl;
	enum az_ring_status s;

	tring_init(t, &prod);
	az_ring_init(&cons, &t->ctl, t->data, RSIZE);
	/* 32-byte records: 128 fill the ring, the 129th does not fit. */
	for (i = 0; i < RSIZE / 32; i++)
		CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, i, &c,
				     sizeof(c)), AZ_RING_OK);
	CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, i, &c,
			     sizeof(c)), AZ_RING_FULL);
	CHECK_EQ(t->ctl.producer_waiting, 0);
	CHECK_EQ(az_ring_put_or_wait(&prod, AZ_RELAY_REC_COMPLETION, 0, i, &c,
				     sizeof(c)), AZ_RING_FULL);
	CHECK_EQ(le32toh(t->ctl.producer_waiting), 1);
	az_ring_publish_write(&prod);
	CHECK_EQ(le32toh(t->ctl.write_index), RSIZE);

	/* The consumer reads 3 of them and frees their room. */
	for (i = 0; i < 3; i++) {
		CHECK_EQ(az_ring_next(&cons, &h, &pl), AZ_RING_OK);
		CHECK_EQ(h.cookie, i);
		CHECK_EQ(h.len, 32);
		az_ring_advance(&cons, h.len);
	}
	CHECK(az_ring_publish_read(&cons));	/* the producer waited */

	/* 96 bytes free: two 48-byte records fit, a third does not. */
	{
		uint8_t big[32];

		memset(big, 0x5c, sizeof(big));
		CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, 1000,
				     big, sizeof(big)), AZ_RING_OK);
		CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, 1001,
				     big, sizeof(big)), AZ_RING_OK);
		CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, 1002,
				     big, sizeof(big)), AZ_RING_FULL);
	}
	az_ring_publish_write(&prod);

	/* Drain everything; count what came back. */
	for (;;) {
		s = az_ring_next(&cons, &h, &pl);
		if (s != AZ_RING_OK)
			break;
		if (h.type == AZ_RELAY_REC_PAD)
			pads++;
		else
			got++;
		az_ring_advance(&cons, h.len);
	}
	CHECK_EQ(s, AZ_RING_EMPTY);
	CHECK_EQ(got, RSIZE / 32 - 3 + 2);
	CHECK_EQ(pads, 0);
	az_ring_publish_read(&cons);

	/* Now force a pad: producer at offset 48 from the end. */
	tring_init(t, &prod);
	az_ring_init(&cons, &t->ctl, t->data, RSIZE);
	prod.index = cons.index = prod.peer = cons.peer = RSIZE - 48;
	t->ctl.read_index = t->ctl.write_index = htole32(RSIZE - 48);
	CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_CLOSED, 0, 42, NULL, 0),
		 AZ_RING_OK);				/* 16 bytes */
	{
		/* 48 bytes do not fit in the last 32: pad 32, then 48. */
		struct az_relay_completion two[2] = { c, c };

		CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, 43,
				     two, sizeof(two)), AZ_RING_OK);
	}
	az_ring_publish_write(&prod);
	CHECK_EQ(le32toh(t->ctl.write_index), RSIZE - 48 + 16 + 32 + 48);
	CHECK_EQ(az_ring_next(&cons, &h, &pl), AZ_RING_OK);
	CHECK_EQ(h.type, AZ_RELAY_REC_CLOSED);
	CHECK_EQ(h.cookie, 42);
	CHECK_EQ(h.len, 16);
	az_ring_advance(&cons, h.len);
	CHECK_EQ(az_ring_next(&cons, &h, &pl), AZ_RING_OK);
	CHECK_EQ(h.type, AZ_RELAY_REC_PAD);
	CHECK_EQ(h.len, 32);
	az_ring_advance(&cons, h.len);
	CHECK_EQ(az_ring_next(&cons, &h, &pl), AZ_RING_OK);
	CHECK_EQ(h.type, AZ_RELAY_REC_COMPLETION);
	CHECK_EQ(h.cookie, 43);
	CHECK(pl == t->data + 16);
	{
		struct az_relay_completion back;

		memcpy(&back, pl, sizeof(back));
		CHECK_EQ(le32toh(back.error), 0x80070102U);
	}
	free(t);
}

static void t_put_broken_consumer(void)
{
	struct tring *t = calloc(1, sizeof(*t));
	uint8_t x[16] = { 0 };
	struct az_ring prod;

	tring_init(t, &prod);
	CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, 1, x,
			     sizeof(x)), AZ_RING_OK);
	az_ring_publish_write(&prod);
	/* The guest claims to have read more than was written. */
	t->ctl.read_index = htole32(64);
	CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, 2, x,
			     sizeof(x)), AZ_RING_BEYOND);
	/* ... or moves its read index back. */
	t->ctl.read_index = htole32(32);
	CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, 2, x,
			     sizeof(x)), AZ_RING_OK);
	t->ctl.read_index = htole32(16);
	CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, 3, x,
			     sizeof(x)), AZ_RING_BACKWARDS);
	/* A record larger than half the ring is the caller's bug. */
	t->ctl.read_index = htole32(32);
	CHECK_EQ(az_ring_put(&prod, AZ_RELAY_REC_COMPLETION, 0, 4, t->data,
			     RSIZE / 2), AZ_RING_LEN_LARGE);
	CHECK(az_ring_broken(AZ_RING_BEYOND));
	CHECK(!az_ring_broken(AZ_RING_FULL));
	CHECK(!az_ring_broken(AZ_RING_EMPTY));
	free(t);
}

const struct az_test az_ring_tests[] = {
	{ "ring_check_rec", t_check_rec },
	{ "ring_check_index", t_check_index },
	{ "ring_next_records_and_pad", t_next_ok_and_pad },
	{ "ring_next_malformed", t_next_broken },
	{ "ring_next_backwards_and_wrap", t_next_backwards_and_wrap },
	{ "ring_put_roundtrip_full_pad", t_put_roundtrip },
	{ "ring_put_broken_consumer", t_put_broken_consumer },
	{ NULL, NULL },
};
