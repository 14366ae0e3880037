// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The error object: a class, a message for people, and the details the
 * failure had (HTTP status, the service's code and message, the request
 * id, an errno, the host's status).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "azb.h"

AZB_EXPORT azblob_error *azblob_error_new(void)
{
	return calloc(1, sizeof(azblob_error));
}

void azb_err_reset(azblob_error *err)
{
	if (!err)
		return;
	free(err->message);
	free(err->service_code);
	free(err->service_message);
	free(err->request_id);
	memset(err, 0, sizeof(*err));
}

AZB_EXPORT void azblob_error_free(azblob_error *err)
{
	azb_err_reset(err);
	free(err);
}

AZB_EXPORT void azblob_error_clear(azblob_error *err)
{
	azb_err_reset(err);
}

void azb_err_move(azblob_error *to, azblob_error *from)
{
	if (to == from)
		return;
	if (!to) {
		azb_err_reset(from);
		return;
	}
	azb_err_reset(to);
	*to = *from;
	memset(from, 0, sizeof(*from));
}

int azb_fail(azblob_error *err, enum azblob_status status, int sys_errno,
	     const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (!err)
		return status;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	azb_err_reset(err);
	err->status = status;
	err->sys_errno = sys_errno;
	err->message = msg;
	return status;
}

void azb_err_prefix(azblob_error *err, const char *what)
{
	char *msg;

	if (!err || !err->message || !what)
		return;
	if (asprintf(&msg, "%s: %s", what, err->message) < 0)
		return;
	free(err->message);
	err->message = msg;
}

AZB_EXPORT enum azblob_status azblob_error_status(const azblob_error *err)
{
	return err ? err->status : AZBLOB_OK;
}

AZB_EXPORT const char *azblob_error_message(const azblob_error *err)
{
	if (!err || err->status == AZBLOB_OK)
		return "";
	if (!err->message)
		return azblob_strstatus(err->status);
	return err->message;
}

AZB_EXPORT int azblob_error_http_status(const azblob_error *err)
{
	return err ? err->http_status : 0;
}

AZB_EXPORT const char *azblob_error_service_code(const azblob_error *err)
{
	return err && err->service_code ? err->service_code : "";
}

AZB_EXPORT const char *azblob_error_service_message(const azblob_error *err)
{
	return err && err->service_message ? err->service_message : "";
}

AZB_EXPORT const char *azblob_error_request_id(const azblob_error *err)
{
	return err && err->request_id ? err->request_id : "";
}

AZB_EXPORT int azblob_error_errno(const azblob_error *err)
{
	return err ? err->sys_errno : 0;
}

AZB_EXPORT uint32_t azblob_error_host_status(const azblob_error *err)
{
	return err ? err->host_status : 0;
}

AZB_EXPORT const char *azblob_strstatus(enum azblob_status status)
{
	switch (status) {
	case AZBLOB_OK:			return "success";
	case AZBLOB_E_INVAL:		return "invalid argument";
	case AZBLOB_E_NOMEM:		return "out of memory";
	case AZBLOB_E_CONFIG:		return "configuration";
	case AZBLOB_E_NOT_FOUND:	return "not found";
	case AZBLOB_E_EXISTS:		return "already exists";
	case AZBLOB_E_AUTH:		return "not authorized";
	case AZBLOB_E_CONDITION:	return "condition not met";
	case AZBLOB_E_RANGE:		return "out of range";
	case AZBLOB_E_SERVICE:		return "service error";
	case AZBLOB_E_NETWORK:		return "network";
	case AZBLOB_E_TIMEOUT:		return "timeout";
	case AZBLOB_E_DRIVER:		return "driver";
	case AZBLOB_E_HOST:		return "host";
	case AZBLOB_E_PROTOCOL:		return "protocol";
	case AZBLOB_E_INTEGRITY:	return "integrity";
	case AZBLOB_E_IO:		return "local I/O";
	case AZBLOB_E_CANCELLED:	return "cancelled";
	case AZBLOB_E_TOO_LARGE:	return "too large";
	case AZBLOB_E_UNSUPPORTED:	return "unsupported";
	}
	return "unknown";
}
