/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A fake guest for the host VSP's integration tests: it connects to the
 * ivshmem server socket as QEMU's ivshmem-doorbell device does (version,
 * id, shared memory, the host's doorbell eventfd, its own interrupt
 * eventfd), maps the guest RAM file as QEMU's memory-backend-file does,
 * and plays the guest's relay of az_relay.h: producer of the submission
 * ring, consumer of the completion ring. Written from the header, not from
 * the host's ring code, so that the two check each other.
 */
#ifndef AZ_BLOB_HOST_FAKE_GUEST_H
#define AZ_BLOB_HOST_FAKE_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../az_relay.h"
#include "pktgen.h"

#define FG_MAX_COOKIES	(1U << 17)
#define FG_MAX_CLOSED	64
#define FG_FIRST_PFN	256

struct fg_comp {
	uint32_t seen;		/* completions received for the cookie */
	uint32_t length;
	uint32_t error;
	uint32_t response_len;
	uint64_t at_ns;		/* when the first one was seen */
};

struct fg {
	int sock;
	int shm_fd;
	struct az_relay_shm *shm;
	uint8_t *sq;
	uint8_t *cq;
	int host_fd;		/* doorbell: write to interrupt the host */
	int irq_fd;		/* our vector 0: the host writes it */
	int64_t my_id;
	int64_t host_id;
	uint8_t *ram;
	uint64_t ram_size;

	uint32_t sq_w;		/* our write index */
	uint32_t cq_r;		/* our read index */
	uint64_t next_cookie;
	uint16_t gen;
	uint32_t next_pfn;

	struct fg_comp *comps;	/* by cookie */
	uint64_t closed[FG_MAX_CLOSED];
	unsigned int nclosed;
	uint64_t unknown;	/* completions for cookies never sent */
	bool cq_broken;		/* the host broke the completion ring */
	unsigned int saw_cq_waiting;	/* host producer waited for room */
	unsigned int sq_waits;		/* we waited for room */
	/*
	 * fg_push, waiting for room: read no completion until the host
	 * waits for room in the completion ring itself.
	 */
	bool hold_cq;
	char err[256];
};

/*
 * Connect to @sock (retrying up to @retry_ms while the host refuses) and
 * map @ram_path of @ram_size bytes. 0, or -1 with g->err set.
 */
int fg_connect(struct fg *g, const char *sock, const char *ram_path,
	       uint64_t ram_size, unsigned int retry_ms);
void fg_disconnect(struct fg *g);

/* Ring the host's doorbell (what QEMU does on a write to BAR0 reg 12). */
void fg_doorbell(struct fg *g);

/*
 * Put one record into the submission ring (pad first if needed), waiting
 * for room as az_relay.h says (producer_waiting, then the host's signal),
 * draining completions meanwhile. @publish: make it visible and ring.
 * 0, or -1 if no room came within 10 s.
 */
int fg_push(struct fg *g, uint16_t type, uint16_t gen, uint64_t cookie,
	    const void *payload, uint32_t plen, bool publish);
/* Publish the write index and ring the doorbell. */
void fg_publish(struct fg *g);
/* Write raw bytes at the submission ring's write offset (for broken records). */
void fg_sq_raw(struct fg *g, uint32_t off, const void *p, uint32_t len);
void fg_set_sq_write(struct fg *g, uint32_t w);

/* Take every record the host published; ack as az_relay.h says. */
void fg_drain(struct fg *g);
/* Wait up to @ms for an interrupt, then drain. Returns true if one came. */
bool fg_wait_irq(struct fg *g, int ms);
/* Wait until @cookie has a completion: 0, or -1 after @ms. */
int fg_wait_cookie(struct fg *g, uint64_t cookie, int ms);
/* Wait until CLOSED @gen came: 0, or -1 after @ms. */
int fg_wait_closed(struct fg *g, uint64_t gen, int ms);

/* Host state and heartbeat, as the guest reads them. */
uint32_t fg_host_state(const struct fg *g);
uint64_t fg_heartbeat(const struct fg *g);

/* ------------------------------------------------------------------ */
/* Requests                                                            */

enum fg_alloc {
	FG_SCATTER,		/* blocks of 8 pages, each block reversed */
	FG_CONTIG,		/* ascending */
};

enum fg_which { FG_DATA, FG_REQ, FG_RESP };

/**
 * struct fg_xfer - One request's buffers in guest RAM, laid out as the
 * driver does: data pages, request pages, response pages, in one range.
 */
struct fg_xfer {
	/* in */
	uint32_t len[3];	/* bytes of data, request, response */
	uint32_t in[3];		/* in-page offset of each buffer's start */
	uint32_t data_valid;
	uint32_t timeout_ms;
	enum fg_alloc alloc;
	/* out */
	uint32_t npages[3];
	uint32_t first[3];	/* index of its first page in @pfns */
	uint32_t off[3];	/* its offset in the range */
	uint64_t pfns[8192];
	uint32_t nr_pfns;
};

/* Allocate the pages (0, or -1 if RAM ran out). */
int fg_xfer_layout(struct fg *g, struct fg_xfer *x);
/* Start a new page allocation at the bottom (between tests). */
void fg_pages_reset(struct fg *g);
/* Byte @k of buffer @w in guest RAM. */
uint8_t *fg_xfer_byte(struct fg *g, const struct fg_xfer *x, enum fg_which w,
		      uint32_t k);
void fg_xfer_write(struct fg *g, const struct fg_xfer *x, enum fg_which w,
		   uint32_t off, const void *src, uint32_t len);
void fg_xfer_read(struct fg *g, const struct fg_xfer *x, enum fg_which w,
		  uint32_t off, void *dst, uint32_t len);
void fg_xfer_memset(struct fg *g, const struct fg_xfer *x, enum fg_which w,
		    uint8_t v);
/* The 56-byte request for @x. */
void fg_xfer_req(const struct fg_xfer *x, struct pktgen_req *r);

/* Send a packet record for PFNs and request @r; returns its cookie (0: failed). */
uint64_t fg_send_packet(struct fg *g, const uint64_t *pfns, uint32_t nr,
			const struct pktgen_req *r, bool publish);
/* Send @x; returns its cookie (0: failed). */
uint64_t fg_send_xfer(struct fg *g, const struct fg_xfer *x, bool publish);
/* Send a PACKET record with @len arbitrary bytes; returns its cookie. */
uint64_t fg_send_bytes(struct fg *g, const void *bytes, uint32_t len);
/* Send CLOSE for generation @gen. */
int fg_send_close(struct fg *g, uint64_t gen);

/* The test service's request header (az_blob_sim.h) at the start of @x's request. */
void fg_sim_req(struct fg *g, const struct fg_xfer *x, uint32_t op,
		uint32_t fault, uint32_t delay_ms, uint32_t status,
		uint32_t seed);

#endif /* AZ_BLOB_HOST_FAKE_GUEST_H */
