/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The relay between the simulated VMBus in a test guest and the host VSP
 * outside it (tools/az_blob_host), through the shared memory of QEMU's
 * ivshmem-doorbell device. TEST-ONLY: a real Hyper-V host and guest talk
 * through VMBus rings, which this stands in for. Included by the host VSP
 * (userspace) and by the relay personality of az_blob_sim (kernel), so it
 * uses <linux/types.h> only.
 *
 * Who does what:
 *
 * - The host VSP creates the shared memory (ivshmem BAR2), writes the
 *   header below before QEMU starts, and serves it as the ivshmem server.
 *   It is peer @host_peer of the ivshmem doorbell; the guest is the peer
 *   the server announces to QEMU.
 * - The guest's relay takes every packet the driver puts on the simulated
 *   VMBus ring and copies it, exactly as it was on the ring (descriptor,
 *   GPA range with its PFN list, the 56-byte request), into the submission
 *   ring (sq) as one %AZ_RELAY_REC_PACKET record, then rings the host's
 *   doorbell (ivshmem BAR0 register 12: host_peer << 16 | 0).
 * - The host validates each packet as a real Blob VSP would (the guest is
 *   untrusted), executes it on guest memory by GPA, and answers with one
 *   %AZ_RELAY_REC_COMPLETION record in the completion ring (cq) per packet,
 *   then signals the guest (its eventfd for vector 0: MSI-X vector 0).
 * - The relay turns each completion into the VMBus completion packet the
 *   real host would send (VM_PKT_COMP, the packet's transaction id) and
 *   delivers it through the simulated bus, from the interrupt through
 *   softirq to the driver's channel callback.
 *
 * Rings: two byte rings of records. Indices are free-running byte counts
 * (u32, wrapping); offset in the data area = index & (size - 1); size is a
 * power of two. Only the producer writes @write_index, only the consumer
 * @read_index. A producer writes the record, then (release) the index; a
 * consumer reads the index (acquire), then the record, then (release)
 * advances @read_index. A record's length includes its header, is a
 * multiple of 16 and at most size / 2. A record never wraps: when it does
 * not fit before the end of the data area, the producer first fills the
 * rest with one %AZ_RELAY_REC_PAD record (the rest is a multiple of 16, so
 * a header always fits).
 *
 * The consumer never trusts a record: a length that is not a multiple of 16,
 * below the header, above size / 2 or beyond the producer's index, or an
 * index that moved backwards or by more than the size, is a broken ring.
 * The host then stops serving (state %AZ_RELAY_HOST_GONE); the guest then
 * rescinds the channel.
 *
 * Signals: a producer signals after each batch it writes. A producer that
 * finds no room sets its ring's @producer_waiting to 1, then (full barrier)
 * looks again; a consumer that advanced @read_index and sees
 * @producer_waiting set clears it and signals the producer. The guest
 * signals with the doorbell, the host with the guest's eventfd.
 *
 * Liveness: the host adds 1 to @heartbeat every %AZ_RELAY_HEARTBEAT_MS
 * while it serves. The guest treats a heartbeat that did not move for
 * %AZ_RELAY_DEAD_MS, or @host_state %AZ_RELAY_HOST_GONE, as the VSP gone:
 * it rescinds the channel, as Hyper-V does when a VSP dies. A host that
 * exits cleanly sets %AZ_RELAY_HOST_GONE and signals the guest first.
 *
 * Closing: when the guest closes the channel with requests the host did
 * not complete, the relay sends %AZ_RELAY_REC_CLOSE (@cookie: the channel's
 * generation) and waits, up to %AZ_RELAY_CLOSE_WAIT_MS, for the host's
 * %AZ_RELAY_REC_CLOSED with the same @cookie. The host answers only after
 * it stopped touching the memory of every request of that generation (it
 * cancels them and sends no completion for them). This is the host
 * contract of vmbus_close(): afterwards the guest may reuse those pages.
 * Packets of a later generation follow the CLOSE in the ring.
 */
#ifndef _AZ_RELAY_H
#define _AZ_RELAY_H

#include <linux/types.h>

/* "AZRELAY1" little-endian */
#define AZ_RELAY_MAGIC		0x3159414c4552415aULL
#define AZ_RELAY_VERSION	1

/* ivshmem BAR2: a power of two, as ivshmem requires */
#define AZ_RELAY_SHM_SIZE	(8U << 20)
/* Where the rings' data areas start, and their sizes. */
#define AZ_RELAY_SQ_OFFSET	(1U << 20)
#define AZ_RELAY_SQ_SIZE	(4U << 20)
#define AZ_RELAY_CQ_OFFSET	(5U << 20)
#define AZ_RELAY_CQ_SIZE	(1U << 20)

#define AZ_RELAY_HEARTBEAT_MS	100
#define AZ_RELAY_DEAD_MS	2000
#define AZ_RELAY_CLOSE_WAIT_MS	30000

/* ivshmem BAR0 registers (QEMU docs/specs/ivshmem-spec.rst) */
#define AZ_RELAY_IVSHMEM_INTRMASK	0
#define AZ_RELAY_IVSHMEM_INTRSTATUS	4
#define AZ_RELAY_IVSHMEM_IVPOSITION	8
#define AZ_RELAY_IVSHMEM_DOORBELL	12

enum az_relay_host_state {
	AZ_RELAY_HOST_STARTING = 0,	/* header written, not serving yet */
	AZ_RELAY_HOST_READY = 1,	/* serving the rings */
	AZ_RELAY_HOST_GONE = 2,		/* stopped: rescind */
};

/**
 * struct az_relay_ring - The control words of one ring, in the header page.
 * @write_index: Producer: bytes written so far (free-running).
 * @pad0: Own cache line.
 * @read_index: Consumer: bytes consumed so far (free-running).
 * @producer_waiting: Producer sets it to 1 when it found no room; the
 *                    consumer clears it and signals after freeing room.
 * @pad1: Own cache line.
 */
struct az_relay_ring {
	__le32 write_index;
	__u8 pad0[60];
	__le32 read_index;
	__le32 producer_waiting;
	__u8 pad1[56];
};

/**
 * struct az_relay_shm - Start of the shared memory, written by the host.
 * @magic: %AZ_RELAY_MAGIC.
 * @version: %AZ_RELAY_VERSION.
 * @host_state: enum az_relay_host_state.
 * @heartbeat: The host adds 1 every %AZ_RELAY_HEARTBEAT_MS while it serves.
 * @host_peer: The host's ivshmem peer id: the doorbell's target.
 * @shm_size: %AZ_RELAY_SHM_SIZE.
 * @sq_offset: Offset of the submission ring's data area (guest to host).
 * @sq_size: Its size, a power of two.
 * @cq_offset: Offset of the completion ring's data area (host to guest).
 * @cq_size: Its size, a power of two.
 * @reserved: 0.
 * @sq: The submission ring's control words (64-byte aligned).
 * @cq: The completion ring's control words.
 */
struct az_relay_shm {
	__le64 magic;
	__le32 version;
	__le32 host_state;
	__le64 heartbeat;
	__le32 host_peer;
	__le32 shm_size;
	__le32 sq_offset;
	__le32 sq_size;
	__le32 cq_offset;
	__le32 cq_size;
	__u8 reserved[16];
	struct az_relay_ring sq;
	struct az_relay_ring cq;
};

enum az_relay_rec_type {
	/* Either ring: filler up to the end of the data area; skip it. */
	AZ_RELAY_REC_PAD = 0,
	/* sq: a packet as it was on the VMBus ring; @cookie names it. */
	AZ_RELAY_REC_PACKET = 1,
	/* cq: struct az_relay_completion for the packet @cookie. */
	AZ_RELAY_REC_COMPLETION = 2,
	/* sq: the guest closed the channel of generation @cookie; no payload. */
	AZ_RELAY_REC_CLOSE = 3,
	/* cq: the host let go of every request of generation @cookie. */
	AZ_RELAY_REC_CLOSED = 4,
};

/**
 * struct az_relay_rec - Header of every record in either ring.
 * @len: Bytes of the record, header included, a multiple of 16.
 * @type: enum az_relay_rec_type.
 * @gen: %AZ_RELAY_REC_PACKET: the channel's generation (opens so far) it
 *       was sent in; otherwise 0.
 * @cookie: The relay's name for a packet (unique among those the host may
 *          still answer; never the VMBus transaction id, which the guest
 *          driver chose and may repeat), or a generation.
 *
 * A %AZ_RELAY_REC_PACKET's payload is the packet: @len - 16 bytes, of which
 * the first len8 x 8 (from the VMBus descriptor) are the packet; the rest
 * is padding.
 */
struct az_relay_rec {
	__le32 len;
	__le16 type;
	__le16 gen;
	__le64 cookie;
};

/**
 * struct az_relay_completion - Payload of %AZ_RELAY_REC_COMPLETION: the
 * 12-byte VMBus Blob completion (PROTOCOL.md), which the relay sends to the
 * driver as the payload of a VM_PKT_COMP packet with the request's
 * transaction id.
 * @length: Unused by the guest (the host writes 0).
 * @error: The host's status for the request.
 * @response_len: Bytes the host wrote into the response buffer.
 * @reserved: 0.
 */
struct az_relay_completion {
	__le32 length;
	__le32 error;
	__le32 response_len;
	__le32 reserved;
};

#endif /* _AZ_RELAY_H */
