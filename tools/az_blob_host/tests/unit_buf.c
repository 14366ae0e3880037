// SPDX-License-Identifier: GPL-2.0
/*
 * az_host_buf_read/write/slice: across pieces, at the edges, refused
 * outside the buffer.
 */
#include <string.h>

#include "../service.h"
#include "unit.h"

struct tbuf {
	uint8_t a[5], b[4096], c[3];
	struct iovec iov[3];
	struct az_host_buf buf;
};

static void tbuf_init(struct tbuf *t)
{
	size_t i;

	for (i = 0; i < sizeof(t->a); i++)
		t->a[i] = (uint8_t)i;
	for (i = 0; i < sizeof(t->b); i++)
		t->b[i] = (uint8_t)(5 + i);
	for (i = 0; i < sizeof(t->c); i++)
		t->c[i] = (uint8_t)(5 + 4096 + i);
	t->iov[0] = (struct iovec){ t->a, sizeof(t->a) };
	t->iov[1] = (struct iovec){ t->b, sizeof(t->b) };
	t->iov[2] = (struct iovec){ t->c, sizeof(t->c) };
	t->buf.iov = t->iov;
	t->buf.iovcnt = 3;
	t->buf.len = 5 + 4096 + 3;
}

static void t_read(void)
{
	static struct tbuf t;
	uint8_t out[4200];
	size_t i;

	tbuf_init(&t);
	memset(out, 0xee, sizeof(out));
	CHECK_EQ(az_host_buf_read(&t.buf, 0, out, t.buf.len), 0);
	for (i = 0; i < t.buf.len; i++)
		if (out[i] != (uint8_t)i)
			break;
	CHECK_EQ(i, t.buf.len);
	CHECK_EQ(out[t.buf.len], 0xee);

	/* Across the first and the last boundary. */
	CHECK_EQ(az_host_buf_read(&t.buf, 3, out, 4), 0);
	CHECK_EQ(out[0], 3);
	CHECK_EQ(out[3], 6);
	CHECK_EQ(az_host_buf_read(&t.buf, 4100, out, 4), 0);
	CHECK_EQ(out[0], (uint8_t)4100);
	CHECK_EQ(out[3], (uint8_t)4103);
	/* The last byte; nothing at the end; one byte too many. */
	CHECK_EQ(az_host_buf_read(&t.buf, 4103, out, 1), 0);
	CHECK_EQ(az_host_buf_read(&t.buf, 4104, out, 0), 0);
	CHECK_EQ(az_host_buf_read(&t.buf, 4104, out, 1), -1);
	CHECK_EQ(az_host_buf_read(&t.buf, 0, out, 4105), -1);
	CHECK_EQ(az_host_buf_read(&t.buf, 4105, out, 0), -1);
	CHECK_EQ(az_host_buf_read(&t.buf, SIZE_MAX, out, 2), -1);
	CHECK_EQ(az_host_buf_read(&t.buf, 2, out, SIZE_MAX), -1);
}

static void t_write(void)
{
	static struct tbuf t;
	uint8_t in[8] = { 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7 };

	tbuf_init(&t);
	CHECK_EQ(az_host_buf_write(&t.buf, 2, in, 8), 0);
	CHECK_EQ(t.a[1], 1);
	CHECK_EQ(t.a[2], 0xa0);
	CHECK_EQ(t.a[4], 0xa2);
	CHECK_EQ(t.b[0], 0xa3);
	CHECK_EQ(t.b[4], 0xa7);
	CHECK_EQ(t.b[5], 10);
	CHECK_EQ(az_host_buf_write(&t.buf, 4100, in, 4), 0);
	CHECK_EQ(t.b[4095], 0xa0);
	CHECK_EQ(t.c[2], 0xa3);
	/* Refused writes leave everything alone. */
	CHECK_EQ(az_host_buf_write(&t.buf, 4101, in, 4), -1);
	CHECK_EQ(t.c[0], 0xa1);
	CHECK_EQ(az_host_buf_write(&t.buf, 4104, in, 1), -1);
	CHECK_EQ(az_host_buf_write(&t.buf, 4104, in, 0), 0);
}

static void t_slice(void)
{
	static struct tbuf t;
	struct iovec out[4];

	tbuf_init(&t);
	CHECK_EQ(az_host_buf_slice(&t.buf, 0, t.buf.len, out, 4), 3);
	CHECK(out[0].iov_base == t.a && out[0].iov_len == 5);
	CHECK(out[2].iov_base == t.c && out[2].iov_len == 3);
	CHECK_EQ(az_host_buf_slice(&t.buf, 4, 2, out, 4), 2);
	CHECK(out[0].iov_base == t.a + 4 && out[0].iov_len == 1);
	CHECK(out[1].iov_base == t.b && out[1].iov_len == 1);
	CHECK_EQ(az_host_buf_slice(&t.buf, 6, 100, out, 4), 1);
	CHECK(out[0].iov_base == t.b + 1 && out[0].iov_len == 100);
	CHECK_EQ(az_host_buf_slice(&t.buf, 3, 4100, out, 4), 3);
	CHECK_EQ(out[2].iov_len, 2);
	CHECK_EQ(az_host_buf_slice(&t.buf, 0, t.buf.len, out, 2), -1);
	CHECK_EQ(az_host_buf_slice(&t.buf, 0, 0, out, 0), 0);
	CHECK_EQ(az_host_buf_slice(&t.buf, 1, t.buf.len, out, 4), -1);
	CHECK_EQ(az_host_buf_slice(&t.buf, 0, 1, out, -1), -1);
}

static void t_inconsistent(void)
{
	static struct tbuf t;
	uint8_t out[8];
	struct iovec v[4];

	/* A buffer whose pieces are shorter than its length. */
	tbuf_init(&t);
	t.buf.len += 10;
	CHECK_EQ(az_host_buf_read(&t.buf, 4100, out, 8), -1);
	CHECK_EQ(az_host_buf_write(&t.buf, 4104, out, 2), -1);
	CHECK_EQ(az_host_buf_slice(&t.buf, 4100, 8, v, 4), -1);
	CHECK_EQ(az_host_buf_read(&t.buf, 4100, out, 4), 0);
}

const struct az_test az_buf_tests[] = {
	{ "buf_read", t_read },
	{ "buf_write", t_write },
	{ "buf_slice", t_slice },
	{ "buf_inconsistent_pieces", t_inconsistent },
	{ NULL, NULL },
};
