/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libazblob: Azure Blob storage from C, over the Hyper-V host's fast path
 * (/dev/azure_blob, the hv_azure_blob driver) or over plain REST (HTTP or
 * HTTPS through libcurl), with one API for both.
 *
 * A program creates one context (azblob_ctx) with an endpoint and
 * credentials, then calls the operations below from any number of threads.
 * Every operation returns an enum azblob_status (AZBLOB_OK is 0) and, when
 * the caller passes an azblob_error, fills it with the details of a
 * failure: the class, the HTTP status and the service's x-ms-error-code
 * and message, or the driver's errno.
 *
 * Large transfers are split into blocks (uploads) and ranged reads
 * (downloads) that run in parallel on a pool of worker threads; memory is
 * bounded by concurrency x block (or chunk) size whatever the blob's size.
 *
 *   azblob_ctx *ctx;
 *   azblob_error *err = azblob_error_new();
 *
 *   if (azblob_ctx_new_from_env(&ctx, err) ||
 *       azblob_upload_fd(ctx, "photos", "2024/cat.jpg", fd, NULL, err))
 *           fprintf(stderr, "%s\n", azblob_error_message(err));
 *
 * Build with `pkg-config --cflags --libs azblob`.
 */
#ifndef AZBLOB_H
#define AZBLOB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AZBLOB_VERSION_MAJOR	0
#define AZBLOB_VERSION_MINOR	1
#define AZBLOB_VERSION_PATCH	0

/**
 * typedef azblob_ctx - A client: endpoint, credentials, transport, defaults.
 *
 * Configure it (the azblob_ctx_set_*() calls) before sharing it between
 * threads; after that every operation on it is thread-safe. Only
 * azblob_ctx_set_bearer_token() may also be called while operations run
 * (to refresh a token).
 */
typedef struct azblob_ctx azblob_ctx;

/**
 * typedef azblob_error - The details of a failure. One per thread.
 */
typedef struct azblob_error azblob_error;

/**
 * typedef azblob_opts - Options of one operation (content type, metadata,
 * range, progress, ...). NULL everywhere means the context's defaults.
 * An options object may be shared by operations that run at once as long
 * as nobody changes it meanwhile.
 */
typedef struct azblob_opts azblob_opts;

/**
 * typedef azblob_props - A blob's or container's properties and metadata:
 * from azblob_get_properties() or a listing.
 */
typedef struct azblob_props azblob_props;

/**
 * typedef azblob_lister - An iterator over containers or blobs, one page
 * (one request) at a time.
 */
typedef struct azblob_lister azblob_lister;

/**
 * enum azblob_status - The class of a failure.
 * @AZBLOB_OK: Success.
 * @AZBLOB_E_INVAL: An invalid argument (a bad name, a bad option).
 * @AZBLOB_E_NOMEM: Out of memory.
 * @AZBLOB_E_CONFIG: A missing or malformed endpoint, credential or
 *                   connection string.
 * @AZBLOB_E_NOT_FOUND: The service answered 404: no such container or
 *                      blob (see azblob_error_service_code()).
 * @AZBLOB_E_EXISTS: The service answered 409: the container or blob
 *                   already exists, or is being deleted.
 * @AZBLOB_E_AUTH: The service answered 401 or 403: a wrong key, an
 *                 expired SAS or token, no permission.
 * @AZBLOB_E_CONDITION: The service answered 412: the blob changed (for
 *                      example during a download).
 * @AZBLOB_E_RANGE: A range outside the blob (416), or a buffer too small.
 * @AZBLOB_E_SERVICE: Any other HTTP error status, including 5xx after the
 *                    retries.
 * @AZBLOB_E_NETWORK: The REST transport could not connect, or the
 *                    connection dropped (after the retries); also the
 *                    host's AZ_HOST_CONNECTION_* statuses.
 * @AZBLOB_E_TIMEOUT: A request exceeded its per-try timeout (after the
 *                    retries).
 * @AZBLOB_E_DRIVER: The driver failed the ioctl: azblob_error_errno() is
 *                   its errno (ENODEV, EBUSY, EAGAIN, E2BIG, ...), or
 *                   /dev/azure_blob could not be opened.
 * @AZBLOB_E_HOST: The host's Blob service refused the request:
 *                 azblob_error_host_status() is its status (an HRESULT).
 * @AZBLOB_E_PROTOCOL: A malformed answer: a response frame, header, XML
 *                     body or length that does not add up.
 * @AZBLOB_E_INTEGRITY: A checksum (CRC-64 or MD5) did not match.
 * @AZBLOB_E_IO: A local read or write (file descriptor, callback) failed;
 *               azblob_error_errno() says why.
 * @AZBLOB_E_CANCELLED: A callback (progress, read, write) asked to stop.
 * @AZBLOB_E_TOO_LARGE: More than the service allows (50,000 blocks).
 * @AZBLOB_E_UNSUPPORTED: Not supported with this build or transport.
 */
enum azblob_status {
	AZBLOB_OK = 0,
	AZBLOB_E_INVAL,
	AZBLOB_E_NOMEM,
	AZBLOB_E_CONFIG,
	AZBLOB_E_NOT_FOUND,
	AZBLOB_E_EXISTS,
	AZBLOB_E_AUTH,
	AZBLOB_E_CONDITION,
	AZBLOB_E_RANGE,
	AZBLOB_E_SERVICE,
	AZBLOB_E_NETWORK,
	AZBLOB_E_TIMEOUT,
	AZBLOB_E_DRIVER,
	AZBLOB_E_HOST,
	AZBLOB_E_PROTOCOL,
	AZBLOB_E_INTEGRITY,
	AZBLOB_E_IO,
	AZBLOB_E_CANCELLED,
	AZBLOB_E_TOO_LARGE,
	AZBLOB_E_UNSUPPORTED,
};

/**
 * enum azblob_transport - How requests reach the Blob service.
 * @AZBLOB_TRANSPORT_AUTO: The driver when its device opens, else REST.
 * @AZBLOB_TRANSPORT_REST: HTTP or HTTPS from this machine (libcurl).
 * @AZBLOB_TRANSPORT_DRIVER: /dev/azure_blob: the Hyper-V host executes the
 *                           requests; the library still signs them.
 */
enum azblob_transport {
	AZBLOB_TRANSPORT_AUTO = 0,
	AZBLOB_TRANSPORT_REST,
	AZBLOB_TRANSPORT_DRIVER,
};

/**
 * enum azblob_driver_async - How the driver transport submits requests.
 * @AZBLOB_DRIVER_ASYNC_AUTO: io_uring (IORING_OP_URING_CMD on one ring per
 *                            context) when the kernel and the device
 *                            allow it, else the synchronous ioctl from the
 *                            calling and worker threads.
 * @AZBLOB_DRIVER_ASYNC_OFF: The ioctl only.
 * @AZBLOB_DRIVER_ASYNC_ON: io_uring only: the transport fails to open
 *                          (%AZBLOB_E_UNSUPPORTED) where it cannot be used.
 *
 * With io_uring a try's timeout is clamped to the driver's limit for
 * asynchronous requests (AZ_BLOB_URING_MAX_TIMEOUT, 4 minutes).
 */
enum azblob_driver_async {
	AZBLOB_DRIVER_ASYNC_AUTO = 0,
	AZBLOB_DRIVER_ASYNC_OFF,
	AZBLOB_DRIVER_ASYNC_ON,
};

/**
 * enum azblob_checksum - Transfer integrity.
 * @AZBLOB_CHECKSUM_NONE: None beyond what TCP or TLS give.
 * @AZBLOB_CHECKSUM_CRC64: x-ms-content-crc64 (CRC-64/NVME) on every block
 *                         and single-shot upload; on downloads each range
 *                         of at most 4 MiB asks for and checks the
 *                         service's CRC-64 of it. The default.
 * @AZBLOB_CHECKSUM_MD5: Content-MD5 on every block and upload, and the
 *                       blob's MD5 stored on commit; on downloads each
 *                       range of at most 4 MiB is checked, and a whole
 *                       blob against its stored MD5 when it has one.
 *
 * A checksum is checked only where the service returns one.
 */
enum azblob_checksum {
	AZBLOB_CHECKSUM_NONE = 0,
	AZBLOB_CHECKSUM_CRC64,
	AZBLOB_CHECKSUM_MD5,
};

/* ---- Errors ---- */

/**
 * azblob_error_new() - Allocate an empty error object.
 *
 * Operations reset it when they succeed. Free it with azblob_error_free()
 * (NULL is allowed); azblob_error_clear() resets it to "no error".
 *
 * Return: The object, or NULL when out of memory.
 */
azblob_error *azblob_error_new(void);
void azblob_error_free(azblob_error *err);
void azblob_error_clear(azblob_error *err);

/**
 * azblob_error_status() - The class of the last failure.
 * @err: The object.
 *
 * Return: %AZBLOB_OK after a success.
 */
enum azblob_status azblob_error_status(const azblob_error *err);

/**
 * azblob_error_message() - A one-line description for people.
 * @err: The object.
 *
 * For example "container not found: photos", or "blob not found:
 * photos/cat.jpg", or "driver: /dev/azure_blob: No such device".
 *
 * Return: The message; "" after a success. Valid until @err changes.
 */
const char *azblob_error_message(const azblob_error *err);

/**
 * azblob_error_http_status() - The HTTP status of the service's answer.
 * @err: The object.
 *
 * Return: The status (404, 403, 503, ...), or 0 when the failure happened
 * before or without an HTTP answer (a driver, host, network or local
 * failure).
 */
int azblob_error_http_status(const azblob_error *err);

/**
 * azblob_error_service_code() - The service's error code.
 * @err: The object.
 *
 * Return: The x-ms-error-code header (or the <Code> of the error body),
 * for example "ContainerNotFound"; "" when there is none.
 */
const char *azblob_error_service_code(const azblob_error *err);

/**
 * azblob_error_service_message() - The service's error message.
 * @err: The object.
 *
 * Return: The <Message> of the service's XML error body; "" when none.
 */
const char *azblob_error_service_message(const azblob_error *err);

/**
 * azblob_error_request_id() - The service's x-ms-request-id of the failed
 * request (for support cases), or "".
 * @err: The object.
 */
const char *azblob_error_request_id(const azblob_error *err);

/**
 * azblob_error_errno() - The system error behind a failure.
 * @err: The object.
 *
 * Return: For %AZBLOB_E_DRIVER the driver's errno (ENODEV, EBUSY, ...);
 * for %AZBLOB_E_IO the local errno; otherwise 0 or a related errno.
 */
int azblob_error_errno(const azblob_error *err);

/**
 * azblob_error_host_status() - The status the host's Blob service
 * completed the request with (%AZBLOB_E_HOST, and %AZBLOB_E_NETWORK or
 * %AZBLOB_E_TIMEOUT through the driver).
 * @err: The object.
 *
 * Return: The HRESULT (for example 0x800704C9, connection refused), or 0.
 */
uint32_t azblob_error_host_status(const azblob_error *err);

/**
 * azblob_strstatus() - The name of a status ("not found", "driver", ...).
 * @status: The status.
 *
 * Return: A static string.
 */
const char *azblob_strstatus(enum azblob_status status);

/* ---- Contexts ---- */

/**
 * azblob_ctx_new() - Create a context without endpoint or credentials.
 * @out: Receives the context.
 * @err: Details of a failure; may be NULL.
 *
 * The transport defaults to the environment variable AZBLOB_TRANSPORT
 * ("auto", "rest" or "driver") and then to auto; the device to
 * AZBLOB_DEVICE and then to /dev/azure_blob; the driver transport's use of
 * io_uring to AZBLOB_DRIVER_ASYNC ("auto", "0" or "1") and then to auto.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_NOMEM or %AZBLOB_E_CONFIG (a bad
 * AZBLOB_TRANSPORT or AZBLOB_DRIVER_ASYNC).
 */
int azblob_ctx_new(azblob_ctx **out, azblob_error *err);

/**
 * azblob_ctx_new_from_connection_string() - Create a context from an Azure
 * Storage connection string.
 * @out: Receives the context.
 * @cs: The connection string: "Key=Value;..." with DefaultEndpointsProtocol,
 *      AccountName, AccountKey, EndpointSuffix, BlobEndpoint,
 *      SharedAccessSignature; or "UseDevelopmentStorage=true" (the emulator:
 *      http://127.0.0.1:10000/devstoreaccount1 with its published key).
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_NOMEM or %AZBLOB_E_CONFIG.
 */
int azblob_ctx_new_from_connection_string(azblob_ctx **out, const char *cs,
					  azblob_error *err);

/**
 * azblob_ctx_new_from_env() - Create a context from the environment, the
 * way the Azure CLI and AzCopy read it.
 * @out: Receives the context.
 * @err: Details of a failure; may be NULL.
 *
 * AZURE_STORAGE_CONNECTION_STRING if set; otherwise AZURE_STORAGE_ACCOUNT
 * with AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN (or AZBLOB_BEARER_TOKEN)
 * and the account's public endpoint. AZBLOB_ENDPOINT replaces the endpoint
 * in either case (e.g. a private endpoint or an emulator); AZBLOB_CA_FILE
 * names a CA bundle for HTTPS.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_NOMEM or %AZBLOB_E_CONFIG (nothing usable
 * in the environment).
 */
int azblob_ctx_new_from_env(azblob_ctx **out, azblob_error *err);

/**
 * azblob_ctx_free() - Free a context. NULL is allowed.
 * @ctx: The context; no operation may still run on it.
 */
void azblob_ctx_free(azblob_ctx *ctx);

/**
 * azblob_ctx_set_endpoint() - Set the account's Blob endpoint.
 * @ctx: The context.
 * @url: "https://ACCOUNT.blob.core.windows.net", or a path-style URL that
 *       names the account in its path ("http://127.0.0.1:10000/ACCOUNT").
 *       A URL whose host is an IP address or "localhost" and that has no
 *       path gets "/ACCOUNT" appended, as the emulator wants.
 * @err: Details of a failure; may be NULL.
 *
 * With the driver transport the host chooses where requests go; the
 * endpoint still decides the path the library signs and sends.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_CONFIG.
 */
int azblob_ctx_set_endpoint(azblob_ctx *ctx, const char *url,
			    azblob_error *err);

/**
 * azblob_ctx_set_shared_key() - Sign requests with the account key.
 * @ctx: The context.
 * @account: The storage account name.
 * @key_base64: The key as the portal shows it (base64).
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_CONFIG (the key is not base64).
 */
int azblob_ctx_set_shared_key(azblob_ctx *ctx, const char *account,
			      const char *key_base64, azblob_error *err);

/**
 * azblob_ctx_set_sas() - Authorize requests with a shared access signature.
 * @ctx: The context.
 * @sas: The SAS token (with or without the leading "?").
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_CONFIG.
 */
int azblob_ctx_set_sas(azblob_ctx *ctx, const char *sas, azblob_error *err);

/**
 * azblob_ctx_set_bearer_token() - Authorize requests with an OAuth token
 * (Microsoft Entra ID) that the caller obtained.
 * @ctx: The context.
 * @token: The access token, without "Bearer ".
 * @err: Details of a failure; may be NULL.
 *
 * May be called at any time, also while operations run, to replace an
 * expiring token; requests started afterwards use the new one.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_NOMEM or %AZBLOB_E_CONFIG.
 */
int azblob_ctx_set_bearer_token(azblob_ctx *ctx, const char *token,
				azblob_error *err);

/**
 * azblob_ctx_set_transport() - Choose the transport; overrides the
 * environment variable AZBLOB_TRANSPORT.
 * @ctx: The context.
 * @transport: The transport.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_INVAL, or %AZBLOB_E_UNSUPPORTED (REST in a
 * build without libcurl).
 */
int azblob_ctx_set_transport(azblob_ctx *ctx, enum azblob_transport transport,
			     azblob_error *err);

/**
 * azblob_ctx_set_device() - Use another device than /dev/azure_blob.
 * @ctx: The context.
 * @path: The device node.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_NOMEM.
 */
int azblob_ctx_set_device(azblob_ctx *ctx, const char *path,
			  azblob_error *err);

/**
 * azblob_ctx_set_driver_async() - Choose how the driver transport submits
 * requests; overrides the environment variable AZBLOB_DRIVER_ASYNC ("auto",
 * "0" or "1"). Takes effect when the transport opens (the first request, or
 * azblob_ctx_connect()).
 * @ctx: The context.
 * @mode: See &enum azblob_driver_async.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_INVAL.
 */
int azblob_ctx_set_driver_async(azblob_ctx *ctx,
				enum azblob_driver_async mode,
				azblob_error *err);

/**
 * azblob_ctx_set_ca_file() - Trust the CAs in @path for HTTPS (REST).
 * @ctx: The context.
 * @path: A PEM bundle; NULL for the system's.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_NOMEM.
 */
int azblob_ctx_set_ca_file(azblob_ctx *ctx, const char *path,
			   azblob_error *err);

/**
 * azblob_ctx_set_concurrency() - Requests in flight per transfer (and
 * worker threads); default 4, at most 64.
 * @ctx: The context.
 * @n: 1 to 64.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_INVAL.
 */
int azblob_ctx_set_concurrency(azblob_ctx *ctx, unsigned int n,
			       azblob_error *err);

/**
 * azblob_ctx_set_block_size() - Size of upload blocks; default 8 MiB.
 * @ctx: The context.
 * @bytes: 64 KiB to 4000 MiB. The library raises it for blobs that would
 *         need more than 50,000 blocks, and lowers it to what one driver
 *         request holds (32 MiB less a few pages) with the driver.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_INVAL.
 */
int azblob_ctx_set_block_size(azblob_ctx *ctx, size_t bytes,
			      azblob_error *err);

/**
 * azblob_ctx_set_chunk_size() - Size of ranged reads in downloads; default
 * 4 MiB (the largest range whose checksum the service returns).
 * @ctx: The context.
 * @bytes: 64 KiB to 256 MiB; lowered to one driver request with the driver.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_INVAL.
 */
int azblob_ctx_set_chunk_size(azblob_ctx *ctx, size_t bytes,
			      azblob_error *err);

/**
 * azblob_ctx_set_put_threshold() - Largest upload sent as one Put Blob;
 * larger ones go in blocks. Default 8 MiB.
 * @ctx: The context.
 * @bytes: 0 (always blocks) to 5000 MiB; a streamed upload uses at most
 *         its block size, the driver at most one driver request.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_INVAL.
 */
int azblob_ctx_set_put_threshold(azblob_ctx *ctx, size_t bytes,
				 azblob_error *err);

/**
 * azblob_ctx_set_checksum() - The default integrity check; see
 * &enum azblob_checksum.
 * @ctx: The context.
 * @checksum: The kind.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_INVAL.
 */
int azblob_ctx_set_checksum(azblob_ctx *ctx, enum azblob_checksum checksum,
			    azblob_error *err);

/**
 * azblob_ctx_set_retry() - The retry policy.
 * @ctx: The context.
 * @max_tries: Tries per request, 1 (no retry) to 100; default 5.
 * @base_ms: First backoff; default 200 ms. Each retry doubles it, up to
 *           @max_ms (default 30 s), and waits a random time between half
 *           of it and all of it (jitter), or at least what the service's
 *           Retry-After asked for.
 * @max_ms: The longest backoff.
 * @err: Details of a failure; may be NULL.
 *
 * Retried: HTTP 408, 429, 500, 502, 503, 504, dropped connections and
 * timeouts, and a busy driver (EBUSY, EAGAIN); only for requests that are
 * idempotent (all the library sends, except a create that must not
 * overwrite, which is retried only when it cannot have reached the
 * service).
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_INVAL.
 */
int azblob_ctx_set_retry(azblob_ctx *ctx, unsigned int max_tries,
			 unsigned int base_ms, unsigned int max_ms,
			 azblob_error *err);

/**
 * azblob_ctx_set_timeout() - The per-try timeout: @base_ms plus the time
 * the request's body takes at @min_kib_per_s. Defaults: 30 s and
 * 1024 KiB/s (a 32 MiB block gets 62 s).
 * @ctx: The context.
 * @base_ms: 100 ms or more.
 * @min_kib_per_s: 1 or more.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_INVAL.
 */
int azblob_ctx_set_timeout(azblob_ctx *ctx, unsigned int base_ms,
			   unsigned int min_kib_per_s, azblob_error *err);

/**
 * azblob_ctx_connect() - Resolve the transport now (open the device, set
 * up libcurl) rather than on the first operation.
 * @ctx: The context.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK; %AZBLOB_E_DRIVER when the driver transport was asked
 * for and the device does not open; %AZBLOB_E_CONFIG without endpoint.
 */
int azblob_ctx_connect(azblob_ctx *ctx, azblob_error *err);

/**
 * azblob_ctx_transport() - The transport in use.
 * @ctx: The context.
 *
 * Return: %AZBLOB_TRANSPORT_REST or %AZBLOB_TRANSPORT_DRIVER once
 * resolved (azblob_ctx_connect() or the first operation), else
 * %AZBLOB_TRANSPORT_AUTO.
 */
enum azblob_transport azblob_ctx_transport(azblob_ctx *ctx);

/**
 * azblob_ctx_account() - The account name.
 * @ctx: The context.
 *
 * Return: The name, or "" when unknown.
 */
const char *azblob_ctx_account(const azblob_ctx *ctx);

/* ---- Per-operation options ---- */

/**
 * typedef azblob_progress_fn - Progress of a transfer.
 * @arg: The caller's argument.
 * @done: Bytes transferred so far.
 * @total: Bytes in all, or UINT64_MAX when not known (a streamed upload).
 *
 * Called from the thread that called the operation, never concurrently
 * for one operation, at least once per block or chunk and once at the end.
 *
 * Return: 0 to go on; anything else cancels (%AZBLOB_E_CANCELLED).
 */
typedef int (*azblob_progress_fn)(void *arg, uint64_t done, uint64_t total);

/**
 * azblob_opts_new() - Allocate options with every value at its default.
 *
 * Return: The object, or NULL when out of memory.
 */
azblob_opts *azblob_opts_new(void);

/**
 * azblob_opts_free() - Free options. NULL is allowed.
 * @opts: The object.
 */
void azblob_opts_free(azblob_opts *opts);

/**
 * azblob_opts_set_content_type() - Content-Type of an uploaded blob.
 * @opts: The options.
 * @type: For example "image/jpeg"; NULL for none.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_INVAL or %AZBLOB_E_NOMEM (as the setters
 * below: %AZBLOB_E_INVAL for a value out of range).
 */
int azblob_opts_set_content_type(azblob_opts *opts, const char *type);

/**
 * azblob_opts_add_metadata() - Add a metadata pair to an uploaded blob.
 * @opts: The options.
 * @key: A C identifier (letters, digits, "_"), as Azure requires.
 * @value: Printable ASCII, without leading or trailing blanks.
 */
int azblob_opts_add_metadata(azblob_opts *opts, const char *key,
			     const char *value);

/**
 * azblob_opts_set_range() - Download only @length bytes from @offset
 * (UINT64_MAX: to the end; not 0).
 * @opts: The options.
 * @offset: The first byte.
 * @length: Bytes from @offset.
 */
int azblob_opts_set_range(azblob_opts *opts, uint64_t offset,
			  uint64_t length);

/**
 * azblob_opts_set_concurrency() - Override azblob_ctx_set_concurrency().
 * @opts: The options.
 * @n: 1 to 64.
 */
int azblob_opts_set_concurrency(azblob_opts *opts, unsigned int n);

/**
 * azblob_opts_set_block_size() - Override azblob_ctx_set_block_size() and
 * azblob_ctx_set_chunk_size() (same limits).
 * @opts: The options.
 * @bytes: The size.
 */
int azblob_opts_set_block_size(azblob_opts *opts, size_t bytes);

/**
 * azblob_opts_set_checksum() - Override azblob_ctx_set_checksum().
 * @opts: The options.
 * @checksum: The kind.
 */
int azblob_opts_set_checksum(azblob_opts *opts, enum azblob_checksum checksum);

/**
 * azblob_opts_set_size_hint() - The size of a streamed upload, when the
 * caller knows it, so that the block size is chosen from it at once.
 * Without one a stream's blocks double every 5,000 blocks so that 50,000
 * blocks are never exceeded.
 * @opts: The options.
 * @bytes: The expected size.
 */
int azblob_opts_set_size_hint(azblob_opts *opts, uint64_t bytes);

/**
 * azblob_opts_set_overwrite() - Whether an upload may replace a blob:
 * 1 (the default), or 0 to fail with %AZBLOB_E_EXISTS when it exists
 * (If-None-Match: *).
 * @opts: The options.
 * @allow: 1 or 0.
 */
int azblob_opts_set_overwrite(azblob_opts *opts, int allow);

/**
 * azblob_opts_set_progress() - Report progress (&azblob_progress_fn).
 * @opts: The options.
 * @fn: The callback; NULL for none.
 * @arg: Its argument.
 */
int azblob_opts_set_progress(azblob_opts *opts, azblob_progress_fn fn,
			     void *arg);

/* ---- Containers ---- */

/**
 * azblob_container_create() - Create a container.
 * @ctx: The context.
 * @container: 3 to 63 characters: lowercase letters, digits, single "-".
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_EXISTS, or another failure.
 */
int azblob_container_create(azblob_ctx *ctx, const char *container,
			    azblob_error *err);

/**
 * azblob_container_delete() - Delete a container and every blob in it.
 * @ctx: The context.
 * @container: The name.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_NOT_FOUND, or another failure.
 */
int azblob_container_delete(azblob_ctx *ctx, const char *container,
			    azblob_error *err);

/* ---- Listing ---- */

/**
 * azblob_list_containers() - Start listing the account's containers.
 * @ctx: The context.
 * @prefix: Only names that start with it; NULL for all.
 * @out: Receives the lister (nothing is requested yet).
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_INVAL or %AZBLOB_E_NOMEM.
 */
int azblob_list_containers(azblob_ctx *ctx, const char *prefix,
			   azblob_lister **out, azblob_error *err);

/**
 * azblob_list_blobs() - Start listing the blobs of a container.
 * @ctx: The context.
 * @container: The container.
 * @prefix: Only names that start with it; NULL for all.
 * @delimiter: With "/", names that continue past the next "/" after
 *             @prefix come as one "directory" item each
 *             (azblob_props_is_prefix()); NULL for a flat listing.
 * @out: Receives the lister.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_INVAL or %AZBLOB_E_NOMEM.
 */
int azblob_list_blobs(azblob_ctx *ctx, const char *container,
		      const char *prefix, const char *delimiter,
		      azblob_lister **out, azblob_error *err);

/**
 * azblob_lister_set_page_size() - Items per request (maxresults), before
 * the first azblob_lister_next(); default the service's (5000).
 * @lister: The lister.
 * @n: 1 to 5000.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_INVAL.
 */
int azblob_lister_set_page_size(azblob_lister *lister, unsigned int n);

/**
 * azblob_lister_set_include_metadata() - Ask for each item's metadata.
 * @lister: The lister.
 * @on: 1 to include.
 *
 * Return: %AZBLOB_OK.
 */
int azblob_lister_set_include_metadata(azblob_lister *lister, int on);

/**
 * azblob_lister_set_marker() - Resume a listing where an earlier one's
 * azblob_lister_marker() was, before the first azblob_lister_next().
 * @lister: The lister.
 * @marker: The marker.
 *
 * Return: %AZBLOB_OK or %AZBLOB_E_NOMEM.
 */
int azblob_lister_set_marker(azblob_lister *lister, const char *marker);

/**
 * azblob_lister_next() - The next item, requesting the next page (with the
 * service's NextMarker) when the current one is used up.
 * @lister: The lister.
 * @item: Receives the item, or NULL at the end. It stays valid until the
 *        next call or azblob_lister_free().
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK (also at the end), or the failure of a page request;
 * the lister may be called again to retry that page.
 */
int azblob_lister_next(azblob_lister *lister, const azblob_props **item,
		       azblob_error *err);

/**
 * azblob_lister_marker() - Where the next page starts: the NextMarker of
 * the last page requested.
 * @lister: The lister.
 *
 * Return: The marker, or NULL when the listing has no further page.
 */
const char *azblob_lister_marker(const azblob_lister *lister);

/**
 * azblob_lister_free() - Free a lister. NULL is allowed.
 * @lister: The lister.
 */
void azblob_lister_free(azblob_lister *lister);

/* ---- Properties and metadata ---- */

/**
 * azblob_get_properties() - A blob's properties and metadata (HEAD).
 * @ctx: The context.
 * @container: The container.
 * @blob: The blob's name.
 * @out: Receives the properties; free with azblob_props_free().
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_NOT_FOUND, or another failure.
 */
int azblob_get_properties(azblob_ctx *ctx, const char *container,
			  const char *blob, azblob_props **out,
			  azblob_error *err);

/**
 * azblob_set_metadata() - Replace a blob's metadata.
 * @ctx: The context.
 * @container: The container.
 * @blob: The blob's name.
 * @kv: Key and value pairs, then NULL: {"k1", "v1", "k2", "v2", NULL};
 *      NULL or {NULL} removes all metadata.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_INVAL, %AZBLOB_E_NOT_FOUND, or another
 * failure.
 */
int azblob_set_metadata(azblob_ctx *ctx, const char *container,
			const char *blob, const char *const *kv,
			azblob_error *err);

/** azblob_props_free() - Free properties from azblob_get_properties(). */
void azblob_props_free(azblob_props *props);
/** azblob_props_name() - The blob's or container's name (or the prefix). */
const char *azblob_props_name(const azblob_props *props);
/** azblob_props_is_prefix() - 1 for a "directory" item of a listing. */
int azblob_props_is_prefix(const azblob_props *props);
/** azblob_props_size() - The blob's size in bytes (0 for others). */
uint64_t azblob_props_size(const azblob_props *props);
/** azblob_props_etag() - The ETag, quotes included, or NULL. */
const char *azblob_props_etag(const azblob_props *props);
/** azblob_props_last_modified() - Last modification, or 0 when unknown. */
time_t azblob_props_last_modified(const azblob_props *props);
/** azblob_props_content_type() - The Content-Type, or NULL. */
const char *azblob_props_content_type(const azblob_props *props);
/** azblob_props_content_md5() - The stored Content-MD5 (base64), or NULL. */
const char *azblob_props_content_md5(const azblob_props *props);
/** azblob_props_blob_type() - "BlockBlob", "PageBlob", ..., or NULL. */
const char *azblob_props_blob_type(const azblob_props *props);
/** azblob_props_metadata_count() - Number of metadata pairs. */
size_t azblob_props_metadata_count(const azblob_props *props);
/** azblob_props_metadata_key() - Key of pair @i, or NULL past the end. */
const char *azblob_props_metadata_key(const azblob_props *props, size_t i);
/** azblob_props_metadata_value() - Value of pair @i, or NULL. */
const char *azblob_props_metadata_value(const azblob_props *props, size_t i);
/** azblob_props_metadata_get() - Value for @key (any case), or NULL. */
const char *azblob_props_metadata_get(const azblob_props *props,
				      const char *key);

/* ---- Blobs: upload, download, delete ---- */

/**
 * typedef azblob_read_fn - Supplies the bytes of a streamed upload.
 * @arg: The caller's argument.
 * @buf: Where to put them.
 * @len: Room in @buf (at least 1).
 *
 * Called from the operation's calling thread only, in order.
 *
 * Return: bytes written to @buf (1 to @len), 0 at the end, or -1 to fail
 * the upload (errno is reported in the error).
 */
typedef ssize_t (*azblob_read_fn)(void *arg, void *buf, size_t len);

/**
 * typedef azblob_write_fn - Receives the bytes of a streamed download.
 * @arg: The caller's argument.
 * @buf: The next bytes, in order.
 * @len: How many (at least 1).
 *
 * Called from the operation's calling thread only, in order.
 *
 * Return: 0, or -1 to fail the download (errno is reported in the error).
 */
typedef int (*azblob_write_fn)(void *arg, const void *buf, size_t len);

/**
 * azblob_upload_buffer() - Upload a blob from memory.
 * @ctx: The context.
 * @container: The container.
 * @blob: The blob's name (UTF-8, up to 1024 characters; "/" makes
 *        "directories").
 * @buf: The bytes; may be NULL when @len is 0.
 * @len: Their number.
 * @opts: Options (content type, metadata, overwrite, ...); may be NULL.
 * @err: Details of a failure; may be NULL.
 *
 * At most the put threshold is sent as one Put Blob; more goes as blocks
 * in parallel (Put Block, straight from @buf, then Put Block List). When
 * a block upload fails after blocks were staged, the library removes them
 * again (see azblob_upload_stream()).
 *
 * Return: %AZBLOB_OK or a failure.
 */
int azblob_upload_buffer(azblob_ctx *ctx, const char *container,
			 const char *blob, const void *buf, size_t len,
			 const azblob_opts *opts, azblob_error *err);

/**
 * azblob_upload_fd() - Upload a blob from a file descriptor, read in
 * order to its end (a file, a pipe, a socket).
 * @ctx: The context.
 * @container: The container.
 * @blob: The blob's name.
 * @fd: The descriptor; a regular file's size sets the block size.
 * @opts: Options; may be NULL.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or a failure.
 */
int azblob_upload_fd(azblob_ctx *ctx, const char *container, const char *blob,
		     int fd, const azblob_opts *opts, azblob_error *err);

/**
 * azblob_upload_stream() - Upload a blob from a read callback.
 * @ctx: The context.
 * @container: The container.
 * @blob: The blob's name.
 * @read_fn: Supplies the bytes (see &azblob_read_fn).
 * @arg: Its argument.
 * @opts: Options; may be NULL.
 * @err: Details of a failure; may be NULL.
 *
 * When the stream ends within the put threshold and one block, one Put
 * Blob sends it. Otherwise blocks of the block size are staged in parallel
 * and committed in one Put Block List; the library holds at most
 * concurrency + 1 blocks in memory.
 *
 * Uncommitted blocks: a failure after blocks were staged makes the library
 * discard them before it returns, so that none are left behind: when the
 * blob did not exist, it commits an empty block list (If-None-Match: *,
 * which discards every uncommitted block) and deletes the empty blob it
 * created (If-Match its ETag); when the blob existed and consists of
 * committed blocks, it commits that same list again with the blob's
 * properties and metadata (If-Match its ETag), which keeps the content and
 * discards the staged blocks. When that cannot be done (the service is
 * unreachable, the blob changed meanwhile, or the existing blob was
 * written in one Put Blob and has no blocks to commit again) the staged
 * blocks stay until the next commit to that blob or the service's
 * garbage collection after a week; the block ids of every upload start
 * with a random nonce, so they never end up in another upload's commit.
 *
 * Return: %AZBLOB_OK or a failure.
 */
int azblob_upload_stream(azblob_ctx *ctx, const char *container,
			 const char *blob, azblob_read_fn read_fn, void *arg,
			 const azblob_opts *opts, azblob_error *err);

/**
 * azblob_download_buffer() - Download a blob, or a range of it, to memory.
 * @ctx: The context.
 * @container: The container.
 * @blob: The blob's name.
 * @buf: Where to write.
 * @cap: Bytes of room at @buf.
 * @len: Receives the bytes written; with %AZBLOB_E_RANGE because @cap is
 *       too small, the bytes needed. May be NULL.
 * @opts: Options (range, concurrency, ...); may be NULL.
 * @err: Details of a failure; may be NULL.
 *
 * Chunks are read in parallel straight into @buf.
 *
 * Return: %AZBLOB_OK or a failure.
 */
int azblob_download_buffer(azblob_ctx *ctx, const char *container,
			   const char *blob, void *buf, size_t cap,
			   size_t *len, const azblob_opts *opts,
			   azblob_error *err);

/**
 * azblob_download_fd() - Download a blob, or a range of it, to a file
 * descriptor, written in order (a file, a pipe, a socket).
 * @ctx: The context.
 * @container: The container.
 * @blob: The blob's name.
 * @fd: The descriptor.
 * @opts: Options; may be NULL.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK or a failure.
 */
int azblob_download_fd(azblob_ctx *ctx, const char *container,
		       const char *blob, int fd, const azblob_opts *opts,
		       azblob_error *err);

/**
 * azblob_download_stream() - Download a blob, or a range of it, to a write
 * callback.
 * @ctx: The context.
 * @container: The container.
 * @blob: The blob's name.
 * @write_fn: Receives the bytes in order (see &azblob_write_fn).
 * @arg: Its argument.
 * @opts: Options; may be NULL.
 * @err: Details of a failure; may be NULL.
 *
 * Chunks are read in parallel and handed over in order; at most
 * concurrency + 2 chunks are held in memory. All chunks after the first
 * are read with If-Match: the first one's ETag, so a blob that changes
 * during the download fails it (%AZBLOB_E_CONDITION) rather than mixing
 * two versions.
 *
 * Return: %AZBLOB_OK or a failure.
 */
int azblob_download_stream(azblob_ctx *ctx, const char *container,
			   const char *blob, azblob_write_fn write_fn,
			   void *arg, const azblob_opts *opts,
			   azblob_error *err);

/**
 * azblob_delete() - Delete a blob (with its snapshots).
 * @ctx: The context.
 * @container: The container.
 * @blob: The blob's name.
 * @err: Details of a failure; may be NULL.
 *
 * Return: %AZBLOB_OK, %AZBLOB_E_NOT_FOUND, or another failure.
 */
int azblob_delete(azblob_ctx *ctx, const char *container, const char *blob,
		  azblob_error *err);

/* ---- Checksums ---- */

/**
 * azblob_crc64() - CRC-64/NVME, the CRC of Azure's x-ms-content-crc64.
 * @crc: 0 to start, or the result of the previous call to continue.
 * @buf: The bytes.
 * @len: Their number.
 *
 * Reflected polynomial 0x9A6C9329AC4BC9B5, initial value and final XOR all
 * ones: azblob_crc64(0, "123456789", 9) is 0xAE8B14860A799888. Uses
 * carry-less multiplication (PCLMULQDQ) when the CPU has it, slicing-by-8
 * tables otherwise.
 *
 * Return: The CRC.
 */
uint64_t azblob_crc64(uint64_t crc, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* AZBLOB_H */
