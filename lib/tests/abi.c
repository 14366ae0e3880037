// SPDX-License-Identifier: LGPL-2.1-or-later
/* TEST-ONLY: links against the shared library by its public header only. */
#include <azblob.h>
#include <stdio.h>

int main(void)
{
	azblob_ctx *c = NULL;
	azblob_error *e = azblob_error_new();
	int rc = azblob_ctx_new_from_connection_string(&c,
			"UseDevelopmentStorage=true", e);

	if (rc || azblob_crc64(0, "123456789", 9) != 0xAE8B14860A799888ULL) {
		fprintf(stderr, "abi: %s\n", azblob_error_message(e));
		return 1;
	}
	azblob_ctx_free(c);
	azblob_error_free(e);
	return 0;
}
