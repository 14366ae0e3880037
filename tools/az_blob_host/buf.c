// SPDX-License-Identifier: GPL-2.0
/*
 * Access to a request's buffers (struct az_host_buf): pieces of mapped
 * guest RAM. Every access is checked against the buffer's length and its
 * pieces; nothing outside them is ever touched.
 */
#include <string.h>

#include "service.h"

/* Find the piece holding byte @off: its index, and @off within it. */
static int az_buf_seek(const struct az_host_buf *buf, size_t off,
		       unsigned int *idx, size_t *in)
{
	unsigned int i;

	for (i = 0; i < buf->iovcnt; i++) {
		if (off < buf->iov[i].iov_len) {
			*idx = i;
			*in = off;
			return 0;
		}
		off -= buf->iov[i].iov_len;
	}
	return -1;
}

static int az_buf_range_ok(const struct az_host_buf *buf, size_t off,
			   size_t len)
{
	return off <= buf->len && len <= buf->len - off;
}

/* Copy @len bytes between @buf at @off and @mem, in the direction @to_buf. */
static int az_buf_copy(const struct az_host_buf *buf, size_t off,
		       unsigned char *mem, size_t len, int to_buf)
{
	unsigned int i;
	size_t in;

	if (!az_buf_range_ok(buf, off, len))
		return -1;
	if (!len)
		return 0;
	if (az_buf_seek(buf, off, &i, &in))
		return -1;
	for (; len && i < buf->iovcnt; i++, in = 0) {
		unsigned char *g = (unsigned char *)buf->iov[i].iov_base + in;
		size_t n = buf->iov[i].iov_len - in;

		if (n > len)
			n = len;
		if (to_buf)
			memcpy(g, mem, n);
		else
			memcpy(mem, g, n);
		mem += n;
		len -= n;
	}
	return len ? -1 : 0;
}

int az_host_buf_read(const struct az_host_buf *buf, size_t off, void *dst,
		     size_t len)
{
	return az_buf_copy(buf, off, dst, len, 0);
}

int az_host_buf_write(const struct az_host_buf *buf, size_t off,
		      const void *src, size_t len)
{
	/* Only read from, whatever the cast says. */
	return az_buf_copy(buf, off, (unsigned char *)src, len, 1);
}

int az_host_buf_slice(const struct az_host_buf *buf, size_t off, size_t len,
		      struct iovec *out, int max)
{
	unsigned int i;
	size_t in;
	int n = 0;

	if (!az_buf_range_ok(buf, off, len) || max < 0)
		return -1;
	if (!len)
		return 0;
	if (az_buf_seek(buf, off, &i, &in))
		return -1;
	for (; len && i < buf->iovcnt; i++, in = 0) {
		size_t k = buf->iov[i].iov_len - in;

		if (k > len)
			k = len;
		if (n == max)
			return -1;
		out[n].iov_base = (unsigned char *)buf->iov[i].iov_base + in;
		out[n].iov_len = k;
		n++;
		len -= k;
	}
	return len ? -1 : n;
}
