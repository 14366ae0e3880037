/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host VSP's core: takes packets off the relay's submission ring,
 * validates them as the real Blob VSP does, runs them on a pool of worker
 * threads through the services (service.h), enforces timeouts, honours the
 * guest's channel closes and writes completions to the completion ring.
 *
 * Who touches guest memory, and when:
 *
 * - The main thread reads a request's first bytes (the service magic) while
 *   it dispatches the packet; nobody else touches the request yet.
 * - A worker touches it only inside the service's execute(), which it calls
 *   once. The completion is written after execute() returned, by that worker:
 *   no completion ever precedes the end of the host's access.
 * - Timeout: the main thread cancels a running request at its deadline
 *   (cancel flag + futex wake); the service stops, returns, and the worker
 *   answers %AZ_HOST_TIMEOUT. A request still queued at its deadline is
 *   answered at once: no worker ever saw it.
 * - Close (%AZ_RELAY_REC_CLOSE): queued requests are dropped, running ones
 *   cancelled; %AZ_RELAY_REC_CLOSED goes out once the last of them returned
 *   (and after every earlier close's), and none of them is answered.
 * - Stop (broken ring, guest gone, shutdown): the same without CLOSED.
 */
#ifndef AZ_BLOB_HOST_CORE_H
#define AZ_BLOB_HOST_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "az_relay.h"
#include "gpa.h"
#include "service.h"

#define AZ_CORE_MAX_SERVICES	4
#define AZ_CORE_MAX_THREADS	1024
/* Beyond the guest requestor's 1024: only a broken guest reaches it. */
#define AZ_CORE_MAX_OUTSTANDING	4096
/* Records taken off the submission ring before looking at anything else. */
#define AZ_CORE_SQ_BATCH	256
/* A service still running this long after its cancel is reported. */
#define AZ_CORE_CANCEL_WARN_MS	2000
/* The main thread looks at the rings at least this often. */
#define AZ_CORE_TICK_MS		100

/**
 * struct az_req_info - What the host received, for the test service's INFO.
 * @raw_req: The 56-byte request as it was in the packet.
 * @range_offset: The GPA range's offset field.
 * @range_len: The GPA range's len field.
 * @nr_pfns: PFNs in the range.
 * @pkt_type: The packet's type.
 * @pkt_flags: The packet's flags.
 * @rangecount: The packet's range count.
 * @taken_ns: When the host took the packet off the ring (CLOCK_MONOTONIC).
 */
struct az_req_info {
	uint8_t raw_req[56];
	uint32_t range_offset;
	uint32_t range_len;
	uint32_t nr_pfns;
	uint32_t pkt_type;
	uint32_t pkt_flags;
	uint32_t rangecount;
	uint64_t taken_ns;
};

/* The packet behind a request the core handed to a service. */
const struct az_req_info *az_core_req_info(const struct az_host_req *req);

/*
 * Sleep until CLOCK_MONOTONIC @until_ns (0: no limit) or until @req is
 * cancelled, without polling. Returns true if it was cancelled.
 */
bool az_host_wait_cancel(const struct az_host_req *req, uint64_t until_ns);

struct az_core_cfg {
	unsigned int threads;
	int verbose;
};

struct az_core_stats {
	uint64_t packets;	/* PACKET records taken */
	uint64_t invalid;	/* answered AZ_HOST_INVALID_DATA by the core */
	uint64_t unserved;	/* no service for the request's magic */
	uint64_t completed;	/* completions written or queued */
	uint64_t timeouts;	/* answered AZ_HOST_TIMEOUT by the core */
	uint64_t cancelled;	/* dropped by a close or a stop */
	uint64_t closes;	/* CLOSE records */
	uint64_t heartbeats;
};

struct az_core;

/* A core over guest RAM @ram; no thread runs yet. NULL on failure. */
struct az_core *az_core_new(const struct az_core_cfg *cfg,
			    const struct az_ram_layout *ram);
/* Register a service (before az_core_start()): 0, or -1 if full. */
int az_core_add_service(struct az_core *c, const struct az_host_service *svc);
/* Start the workers and the heartbeat: 0, or -1 (errno set). */
int az_core_start(struct az_core *c);
/* Readable when the main thread should call az_core_run(). */
int az_core_wake_fd(const struct az_core *c);

/*
 * Serve the relay in @shm (header written, ring control words zero) and
 * interrupt the guest through @irq_fd. Sets the state to READY.
 */
void az_core_attach(struct az_core *c, struct az_relay_shm *shm, int irq_fd);
/* The guest is gone: stop serving and cancel everything (no completions). */
void az_core_detach_begin(struct az_core *c);
/* No request of the session is left (after az_core_detach_begin()). */
bool az_core_idle(struct az_core *c);
/* Forget the session; call only once idle. */
void az_core_detach(struct az_core *c);

/*
 * The main thread's share: take records off the submission ring, write
 * completions that waited for room, answer deadlines. Returns the longest
 * the caller may wait (ms) before calling it again; -1: no session.
 */
int az_core_run(struct az_core *c);

/*
 * Stop serving: cancel every request and wait up to @wait_ms for the
 * services to return. Returns true if every worker is out of guest memory,
 * false if some service ignored its cancel (the caller then revokes the
 * guest RAM mapping before it calls az_core_set_gone()).
 */
bool az_core_shutdown(struct az_core *c, unsigned int wait_ms);
/* Mark the host GONE and interrupt the guest (if a session is attached). */
void az_core_set_gone(struct az_core *c);

void az_core_get_stats(struct az_core *c, struct az_core_stats *st);

/* Stop the threads and free; only once no service is running. */
void az_core_free(struct az_core *c);

#endif /* AZ_BLOB_HOST_CORE_H */
