/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ivshmem server (QEMU docs/specs/ivshmem-spec.rst) that QEMU's
 * ivshmem-doorbell device connects to, with the host VSP as a second peer
 * that never connects: one guest at a time.
 *
 * On connect the guest gets, as 8-byte little-endian messages: protocol
 * version 0; its peer id (%AZ_GUEST_PEER); -1 with the shared memory (a
 * memfd of %AZ_RELAY_SHM_SIZE whose relay header is already written); the
 * host's peer id (%AZ_HOST_PEER) with the host's eventfd for vector 0 (the
 * guest's doorbell to it makes it readable); its own id with its eventfd
 * for vector 0 (the host writes it to raise the guest's MSI-X vector 0).
 * A second connection while a guest is served is closed at once.
 */
#ifndef AZ_BLOB_HOST_SERVER_H
#define AZ_BLOB_HOST_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "az_relay.h"

#define AZ_HOST_PEER	0
#define AZ_GUEST_PEER	1
#define AZ_IVSHMEM_PROTOCOL_VERSION	0

/**
 * struct az_session - What one guest connection shares with the host.
 * @shm_fd: The memfd (ivshmem BAR2).
 * @shm: It, mapped.
 * @host_efd: The guest's doorbell to the host.
 * @guest_efd: The guest's interrupt (vector 0).
 */
struct az_session {
	int shm_fd;
	struct az_relay_shm *shm;
	int host_efd;
	int guest_efd;
};

/**
 * struct az_server - The listening socket and the guest, if any.
 * @listen_fd: The socket QEMU connects to.
 * @path: Its path (removed at close).
 * @client_fd: The guest's connection, -1 if none.
 * @next: Prepared for the next guest (header written before it connects).
 * @cur: The connected guest's.
 * @verbose: Log connections.
 */
struct az_server {
	int listen_fd;
	char *path;
	int client_fd;
	struct az_session next;
	struct az_session cur;
	int verbose;
};

/* An empty server (az_server_close() is safe on it). */
void az_server_init(struct az_server *s);

/* Prepare the first session and listen on @path. */
int az_server_open(struct az_server *s, const char *path, int verbose,
		   char *err, size_t errlen);

/*
 * Accept a connection. Returns 1 when a guest was set up (@cur is its
 * session), 0 when nothing new happened (refused, or failed: logged).
 */
int az_server_accept(struct az_server *s);

/* The guest's socket is readable: true if the guest went away. */
bool az_server_client_gone(struct az_server *s);

/* Forget the guest's session (the core no longer uses it); prepare next. */
void az_server_end_session(struct az_server *s);

/* Close everything and remove the socket. */
void az_server_close(struct az_server *s);

#endif /* AZ_BLOB_HOST_SERVER_H */
