/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the integration cases, and the life-cycle cases
 * (integ_life.c).
 */
#ifndef AZ_BLOB_HOST_INTEG_LIFE_H
#define AZ_BLOB_HOST_INTEG_LIFE_H

#include "fake_guest.h"
#include "integ.h"

/* A guest connected to the shared host (NULL: the case failed). */
struct fg *ic_guest(struct ictx *c);
void ic_guest_done(struct fg *g);
/* A request layout: data, request, response lengths and in-page offsets. */
struct fg_xfer *ic_xfer(uint32_t dlen, uint32_t din, uint32_t qlen,
			uint32_t qin, uint32_t rlen, uint32_t rin);
/* Send @x, wait, check status and response length; returns the cookie. */
uint64_t ic_roundtrip(struct ictx *c, struct fg *g, const struct fg_xfer *x,
		      uint32_t status, uint32_t resp_len);

void t_queued_timeout(struct ictx *c);
void t_close(struct ictx *c);
void t_flood(struct ictx *c);
void t_no_write_after_answer(struct ictx *c);
void t_broken_ring(struct ictx *c);
void t_second_guest(struct ictx *c);
void t_reconnect(struct ictx *c);
void t_startup_errors(struct ictx *c);
void t_sigterm(struct ictx *c);
void t_sigint(struct ictx *c);
void t_sigkill(struct ictx *c);

#endif /* AZ_BLOB_HOST_INTEG_LIFE_H */
