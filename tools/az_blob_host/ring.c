// SPDX-License-Identifier: GPL-2.0
/*
 * The relay rings (az_relay.h), host side: consumer of sq, producer of cq.
 */
#include <string.h>

#include "ring.h"

static const char *const az_ring_errs[] = {
	[AZ_RING_OK] = "ok",
	[AZ_RING_EMPTY] = "empty",
	[AZ_RING_FULL] = "full",
	[AZ_RING_BACKWARDS] = "index moved backwards",
	[AZ_RING_BEYOND] = "index moved by more than the ring size",
	[AZ_RING_PARTIAL] = "less than a record header published",
	[AZ_RING_LEN_ALIGN] = "record length not a multiple of 16",
	[AZ_RING_LEN_SHORT] = "record length below its header",
	[AZ_RING_LEN_LARGE] = "record length above half the ring",
	[AZ_RING_LEN_BEYOND] = "record beyond the producer's index",
	[AZ_RING_WRAPS] = "record wraps around the end of the ring",
};

const char *az_ring_strerror(enum az_ring_status s)
{
	if ((unsigned int)s < sizeof(az_ring_errs) / sizeof(az_ring_errs[0]))
		return az_ring_errs[s];
	return "unknown";
}

void az_ring_init(struct az_ring *r, struct az_relay_ring *ctl, uint8_t *data,
		  uint32_t size)
{
	r->ctl = ctl;
	r->data = data;
	r->size = size;
	r->index = 0;
	r->peer = 0;
}

enum az_ring_status az_ring_check_rec(uint32_t len, uint32_t off,
				      uint32_t avail, uint32_t size)
{
	if (len % AZ_REC_ALIGN)
		return AZ_RING_LEN_ALIGN;
	if (len < AZ_REC_HDR)
		return AZ_RING_LEN_SHORT;
	if (len > size / 2)
		return AZ_RING_LEN_LARGE;
	if (len > avail)
		return AZ_RING_LEN_BEYOND;
	if (off > size || len > size - off)
		return AZ_RING_WRAPS;
	return AZ_RING_OK;
}

enum az_ring_status az_ring_check_index(uint32_t mine, uint32_t seen,
					uint32_t now, uint32_t size,
					bool producer)
{
	/* Free-running u32 indices: distances are differences mod 2^32. */
	if (now - seen > size)
		return AZ_RING_BACKWARDS;
	if (producer ? now - mine > size : mine - now > size)
		return AZ_RING_BEYOND;
	return AZ_RING_OK;
}

enum az_ring_status az_ring_next(struct az_ring *r, struct az_relay_rec *hdr,
				 const uint8_t **payload)
{
	uint32_t w = az_load_acquire32(&r->ctl->write_index);
	uint32_t avail, off, len;
	enum az_ring_status s;

	s = az_ring_check_index(r->index, r->peer, w, r->size, true);
	if (s)
		return s;
	r->peer = w;
	avail = w - r->index;
	if (!avail)
		return AZ_RING_EMPTY;
	if (avail < AZ_REC_HDR)
		return AZ_RING_PARTIAL;
	off = r->index & (r->size - 1);
	if (off > r->size - AZ_REC_HDR)
		return AZ_RING_WRAPS;
	memcpy(hdr, r->data + off, sizeof(*hdr));
	len = le32toh(hdr->len);
	s = az_ring_check_rec(len, off, avail, r->size);
	if (s)
		return s;
	hdr->len = len;
	hdr->type = le16toh(hdr->type);
	hdr->gen = le16toh(hdr->gen);
	hdr->cookie = le64toh(hdr->cookie);
	*payload = r->data + off + AZ_REC_HDR;
	return AZ_RING_OK;
}

bool az_ring_publish_read(struct az_ring *r)
{
	az_store_release32(&r->ctl->read_index, r->index);
	/* Pairs with the producer's barrier between its flag and its look. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!az_load32(&r->ctl->producer_waiting))
		return false;
	az_store32(&r->ctl->producer_waiting, 0);
	return true;
}

static void az_ring_write_hdr(struct az_ring *r, uint32_t off, uint32_t len,
			      uint16_t type, uint16_t gen, uint64_t cookie)
{
	struct az_relay_rec h = {
		.len = htole32(len),
		.type = htole16(type),
		.gen = htole16(gen),
		.cookie = htole64(cookie),
	};

	memcpy(r->data + off, &h, sizeof(h));
}

enum az_ring_status az_ring_put(struct az_ring *r, uint16_t type, uint16_t gen,
				uint64_t cookie, const void *payload,
				uint32_t plen)
{
	uint32_t rd = az_load_acquire32(&r->ctl->read_index);
	uint32_t len = AZ_ALIGN_REC(AZ_REC_HDR + plen);
	uint32_t off, pad, room;
	enum az_ring_status s;

	s = az_ring_check_index(r->index, r->peer, rd, r->size, false);
	if (s)
		return s;
	r->peer = rd;
	if (len > r->size / 2)
		return AZ_RING_LEN_LARGE;	/* the caller's bug */
	room = r->size - (r->index - rd);
	off = r->index & (r->size - 1);
	pad = off + len > r->size ? r->size - off : 0;
	if (pad + len > room)
		return AZ_RING_FULL;
	if (pad) {
		az_ring_write_hdr(r, off, pad, AZ_RELAY_REC_PAD, 0, 0);
		r->index += pad;
		off = 0;
	}
	az_ring_write_hdr(r, off, len, type, gen, cookie);
	if (plen)
		memcpy(r->data + off + AZ_REC_HDR, payload, plen);
	if (len - AZ_REC_HDR > plen)
		memset(r->data + off + AZ_REC_HDR + plen, 0,
		       len - AZ_REC_HDR - plen);
	r->index += len;
	return AZ_RING_OK;
}

void az_ring_publish_write(struct az_ring *r)
{
	az_store_release32(&r->ctl->write_index, r->index);
}

enum az_ring_status az_ring_put_or_wait(struct az_ring *r, uint16_t type,
					uint16_t gen, uint64_t cookie,
					const void *payload, uint32_t plen)
{
	enum az_ring_status s;

	s = az_ring_put(r, type, gen, cookie, payload, plen);
	if (s != AZ_RING_FULL)
		return s;
	az_store32(&r->ctl->producer_waiting, 1);
	/* Pairs with the consumer's barrier between its index and the flag. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return az_ring_put(r, type, gen, cookie, payload, plen);
}
