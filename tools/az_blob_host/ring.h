/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host's side of the relay rings of az_relay.h: consumer of the
 * submission ring, producer of the completion ring. The guest is hostile:
 * every index and record header it wrote is read once, into host memory,
 * and checked there; the host keeps its own index and never reads it back.
 */
#ifndef AZ_BLOB_HOST_RING_H
#define AZ_BLOB_HOST_RING_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>

#include "az_relay.h"

#define AZ_REC_HDR	((uint32_t)sizeof(struct az_relay_rec))
#define AZ_REC_ALIGN	16U
#define AZ_ALIGN_REC(x)	(((x) + AZ_REC_ALIGN - 1) & ~(AZ_REC_ALIGN - 1))

/* Shared-memory words: one load or store each, little-endian. */
static inline uint32_t az_load_acquire32(const __le32 *p)
{
	return le32toh(__atomic_load_n((const uint32_t *)p, __ATOMIC_ACQUIRE));
}

static inline uint32_t az_load32(const __le32 *p)
{
	return le32toh(__atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED));
}

static inline void az_store_release32(__le32 *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELEASE);
}

static inline void az_store32(__le32 *p, uint32_t v)
{
	__atomic_store_n((uint32_t *)p, htole32(v), __ATOMIC_RELAXED);
}

enum az_ring_status {
	AZ_RING_OK = 0,
	AZ_RING_EMPTY,		/* consumer: nothing to read */
	AZ_RING_FULL,		/* producer: no room now */
	/* The rest: a broken ring. */
	AZ_RING_BACKWARDS,	/* the peer's index moved backwards */
	AZ_RING_BEYOND,		/* the peer's index moved by more than the size */
	AZ_RING_PARTIAL,	/* less than a record header published */
	AZ_RING_LEN_ALIGN,	/* record length not a multiple of 16 */
	AZ_RING_LEN_SHORT,	/* record length below the header */
	AZ_RING_LEN_LARGE,	/* record length above size / 2 */
	AZ_RING_LEN_BEYOND,	/* record beyond the producer's index */
	AZ_RING_WRAPS,		/* record runs past the end of the data area */
};

static inline bool az_ring_broken(enum az_ring_status s)
{
	return s >= AZ_RING_BACKWARDS;
}

const char *az_ring_strerror(enum az_ring_status s);

/**
 * struct az_ring - The host's state of one ring.
 * @ctl: The control words, in shared memory.
 * @data: The data area, in shared memory.
 * @size: Bytes of @data, a power of two (the host's constant, never read
 *        from shared memory).
 * @index: The host's own index: read index of the submission ring, write
 *         index of the completion ring (free-running).
 * @peer: The peer's index as last read.
 */
struct az_ring {
	struct az_relay_ring *ctl;
	uint8_t *data;
	uint32_t size;
	uint32_t index;
	uint32_t peer;
};

/*
 * Attach to a fresh ring: its control words are zero (the host zeroes the
 * shared memory before the guest can see it).
 */
void az_ring_init(struct az_ring *r, struct az_relay_ring *ctl, uint8_t *data,
		  uint32_t size);

/*
 * Whether a record of @len bytes at data offset @off, with @avail bytes
 * published from there on, is well formed in a ring of @size bytes.
 */
enum az_ring_status az_ring_check_rec(uint32_t len, uint32_t off,
				      uint32_t avail, uint32_t size);

/*
 * Whether the peer may have moved its index from @seen to @now, with the
 * host at @mine: the distance the consumer trails the producer stays
 * within @size, and no index moves backwards. @producer says which of the
 * two the peer is.
 */
enum az_ring_status az_ring_check_index(uint32_t mine, uint32_t seen,
					uint32_t now, uint32_t size,
					bool producer);

/*
 * Consumer: the next record. On %AZ_RING_OK, *@hdr is a copy of its
 * header (length checked) and *@payload points at its payload in shared
 * memory (hdr->len - 16 bytes; copy before use, once). Does not consume.
 */
enum az_ring_status az_ring_next(struct az_ring *r, struct az_relay_rec *hdr,
				 const uint8_t **payload);

/* Consumer: the record az_ring_next() returned is done with. */
static inline void az_ring_advance(struct az_ring *r, uint32_t len)
{
	r->index += len;
}

/*
 * Consumer: publish the read index. Returns true if the producer was
 * waiting for room: the flag is cleared and the caller signals it.
 */
bool az_ring_publish_read(struct az_ring *r);

/*
 * Producer: write one record (filler first if it would not fit before the
 * end of the data area). Not visible until az_ring_publish_write().
 * Returns %AZ_RING_OK, %AZ_RING_FULL (nothing written) or a broken status
 * (the consumer's index is impossible).
 */
enum az_ring_status az_ring_put(struct az_ring *r, uint16_t type, uint16_t gen,
				uint64_t cookie, const void *payload,
				uint32_t plen);

/* Producer: publish what az_ring_put() wrote. */
void az_ring_publish_write(struct az_ring *r);

/*
 * Producer that got %AZ_RING_FULL: announce it waits (the consumer clears
 * the flag and signals), then look again. Returns az_ring_put()'s status
 * for the second try.
 */
enum az_ring_status az_ring_put_or_wait(struct az_ring *r, uint16_t type,
					uint16_t gen, uint64_t cookie,
					const void *payload, uint32_t plen);

#endif /* AZ_BLOB_HOST_RING_H */
