/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The test service ("ABST" requests of ../az_blob_test/az_blob_sim.h).
 */
#ifndef AZ_BLOB_HOST_TEST_SERVICE_H
#define AZ_BLOB_HOST_TEST_SERVICE_H

#include "service.h"

/* Fill @svc with the test service (stateless: no fini needed). */
void az_test_service_init(struct az_host_service *svc);

#endif /* AZ_BLOB_HOST_TEST_SERVICE_H */
