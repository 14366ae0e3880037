/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * TEST-ONLY: the driver transport without a guest. The library's ioctl is
 * replaced by a call into the host VSP's own Blob service
 * (tools/az_blob_host/blob_service.c) against a real endpoint, with the
 * driver's checks of the request (lengths, flags, 8192 pages) first.
 */
#ifndef AZB_TEST_LOOPBACK_H
#define AZB_TEST_LOOPBACK_H

#include "azb.h"

/* Route @ctx's driver transport to the Blob service at @endpoint. */
int loopback_attach(struct azblob_ctx *ctx, const char *endpoint);
void loopback_detach(void);
/* Requests the loopback carried, and how many had HOST_READS set. */
void loopback_counts(unsigned long *requests, unsigned long *host_reads);

#endif
