/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The test service of the simulated Blob VSP (az_blob_sim.ko), shared by the
 * simulator and the test tool. Test-only: a real host knows nothing of it.
 *
 * The driver treats the request buffer as opaque. The simulator reads a
 * struct az_sim_req at the start of it and answers as described below, so
 * that every outcome a test sees is computable in advance.
 */
#ifndef _AZ_BLOB_SIM_H
#define _AZ_BLOB_SIM_H

#include <linux/types.h>

#define AZ_SIM_MAGIC		0x54534241U	/* "ABST" little-endian */

/* What the host does with the buffers. */
enum az_sim_op {
	/* Copy min(request_len, response_len) bytes of the request buffer
	 * into the response buffer; response_len is that count.
	 */
	AZ_SIM_OP_ECHO = 1,
	/* Write a struct az_sim_info describing the packet as the host
	 * received it into the response buffer.
	 */
	AZ_SIM_OP_INFO = 2,
	/* Fill all data_len bytes of the data buffer with
	 * az_sim_pattern(seed, i); the response is the __u64 count written.
	 */
	AZ_SIM_OP_FILL = 3,
	/* Read data_valid bytes of the data buffer; the response is the
	 * __u64 az_sim_fnv1a() of them.
	 */
	AZ_SIM_OP_SUM = 4,
	/* Read data_valid bytes of the data buffer once (every page of them
	 * touched), write nothing; response_len is 0. The cheapest request a
	 * host can answer, for benchmarks: with @delay_ms 0 and no fault the
	 * host answers it as soon as it takes the packet off the ring.
	 */
	AZ_SIM_OP_NULL = 5,
};

/* How the host misbehaves while answering. */
enum az_sim_fault {
	AZ_SIM_FAULT_NONE = 0,
	/* First a completion with transaction id @arg (0xdead if 0), which the
	 * guest never allocated, then the right one.
	 */
	AZ_SIM_FAULT_UNKNOWN_ID = 1,
	/* First a completion with transaction id 0, then the right one. */
	AZ_SIM_FAULT_ID_ZERO = 2,
	/* The right completion, twice. */
	AZ_SIM_FAULT_DUPLICATE = 3,
	/* The completion carries only @arg payload bytes (8 if 0). */
	AZ_SIM_FAULT_SHORT = 4,
	/* The completion carries @arg payload bytes (4096 if 0, at most
	 * 65536), zero padded. The bus copies at most the channel's
	 * max_pkt_size bytes of it and the guest's iterator then resumes
	 * inside it, as the real one does (sim/README.md).
	 */
	AZ_SIM_FAULT_LONG = 5,
	/* The completion claims response_len = @arg. */
	AZ_SIM_FAULT_RESPLEN = 6,
	/* No completion until "release" is written to the control file or the
	 * channel is closed (then never).
	 */
	AZ_SIM_FAULT_NEVER = 7,
	/* The completion is sent as an in-band data packet (not VM_PKT_COMP). */
	AZ_SIM_FAULT_BAD_TYPE = 8,
	/* As LONG with @arg payload bytes (40 if 0), but the host keeps the
	 * completion back until it sends its next packet on the channel (the
	 * completion of another request, or "release"); then both go into
	 * the ring back to back, this one first. Counted in "held" meanwhile.
	 */
	AZ_SIM_FAULT_LONG_NEXT = 9,
	/* First an in-band data packet (VM_PKT_DATA_INBAND, flags 0) with the
	 * request's live transaction id, carrying a completion with status
	 * %AZ_SIM_STATUS_INBAND (@arg payload bytes if above 12, zero
	 * padded), then the right completion, back to back.
	 */
	AZ_SIM_FAULT_INBAND = 10,
	/* The right completion; the host keeps a copy and sends it just
	 * before its answer to the next request it takes off the ring on the
	 * channel, whatever that request's id, back to back with it. Under
	 * the VMBus core's requestor (freed ids reused, last freed first)
	 * that request holds this one's old id. One copy per channel,
	 * dropped at close; "dups_armed", "dups_sent" in stats.
	 */
	AZ_SIM_FAULT_REUSED_ID = 11,
	/* The host ignores the packet's timeout_ms: after @delay_ms it runs
	 * the op, writing the guest's pages, and completes with @status. If
	 * the channel is closed first, it runs the op during vmbus_close()
	 * and sends nothing. Every guest page piece it writes is counted in
	 * "late_writes" if the guest still has the page pinned or referenced
	 * (see "referenced_writes"), else it is not written and counted in
	 * "late_unpinned" (see "unpinned_writes").
	 */
	AZ_SIM_FAULT_LATE = 12,
	/* Answered normally; the next vmbus_open() of this channel (e.g. the
	 * driver's resume) fails with -@arg (-EAGAIN if 0, as when the host
	 * refuses the open; @arg < 4095).
	 */
	AZ_SIM_FAULT_FAIL_OPEN = 13,
};

/**
 * struct az_sim_req - Start of every request buffer sent to the simulator.
 * @magic: %AZ_SIM_MAGIC; anything else is answered with status
 *         %AZ_SIM_STATUS_BAD_REQUEST.
 * @op: enum az_sim_op.
 * @fault: enum az_sim_fault.
 * @delay_ms: Wait this long before answering. If the packet's timeout_ms is
 *            not 0 and not above @delay_ms, answer instead after timeout_ms
 *            with status AZ_BLOB_HOST_TIMEOUT (0x80070102), response_len 0,
 *            buffers untouched.
 * @status: The status to complete with (after the op is done).
 * @seed: Pattern seed for %AZ_SIM_OP_FILL.
 * @arg: The fault's argument.
 * @reserved: 0.
 */
struct az_sim_req {
	__u32 magic;
	__u32 op;
	__u32 fault;
	__u32 delay_ms;
	__u32 status;
	__u32 seed;
	__u32 arg;
	__u32 reserved;
};

/* Status for a request buffer the test service does not understand. */
#define AZ_SIM_STATUS_BAD_REQUEST	0x80070057U	/* E_INVALIDARG */
/* Status for a packet that breaks the VMBus Blob protocol (PROTOCOL.md). */
#define AZ_SIM_STATUS_VIOLATION		0x8007000DU	/* E_INVALID_DATA */
/* Status in the in-band packet of %AZ_SIM_FAULT_INBAND. */
#define AZ_SIM_STATUS_INBAND		0x8000FFFFU	/* E_UNEXPECTED */

/**
 * struct az_sim_info - Response of %AZ_SIM_OP_INFO.
 * @packet: The 56-byte request as received (little-endian, see PROTOCOL.md).
 * @range_offset: The GPA range's offset field.
 * @range_len: The GPA range's len field.
 * @nr_pfns: PFNs in the range.
 * @pkt_type: The packet's type (9 = VM_PKT_DATA_USING_GPA_DIRECT).
 * @pkt_flags: The packet's flags (1 = completion requested).
 * @rangecount: The packet's range count.
 */
struct az_sim_info {
	__u8 packet[56];
	__u32 range_offset;
	__u32 range_len;
	__u32 nr_pfns;
	__u32 pkt_type;
	__u32 pkt_flags;
	__u32 rangecount;
};

static inline __u8 az_sim_pattern(__u32 seed, __u64 i)
{
	__u64 x = (i + seed) * 0x9E3779B97F4A7C15ULL;

	return (__u8)(x >> 56);
}

static inline __u64 az_sim_fnv1a(__u64 h, const __u8 *p, __u64 n)
{
	while (n--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

#define AZ_SIM_FNV1A_INIT	0xcbf29ce484222325ULL

#endif /* _AZ_BLOB_SIM_H */
