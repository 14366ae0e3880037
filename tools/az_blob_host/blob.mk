# SPDX-License-Identifier: GPL-2.0
#
# The tests of the host VSP's Blob service (blob_service.c, http.c, json.c,
# and the library's lib/crc64*.c it builds in). Included by
# tools/az_blob_host/Makefile, or used alone:
#
#   make -C tools/az_blob_host -f blob.mk blob-check
#
#   blob-check   every test under AddressSanitizer + UBSan (LeakSanitizer
#                on): CRC-64, JSON, request framing, the HTTP client against
#                a scripted server, and round trips through a pinned Azurite
#                started for the run (node/azurite.sh; node 20 and npm, see
#                node/package.json), cross-checked with the Azure SDK
#                (node/sdk.js)
#   blob-unit    the same without Azurite (its cases are skipped)
#   blob-bench   put and get of BLOB_BENCH_MIB (64) MiB from memory in 4 KiB
#                pieces to a local Azurite, optimized build
#   blob-clean
#
# Included by the host's Makefile, it also adds a runner of blob-check to
# BLOB_CHECK (the host's "make check" runs it); without node the runner
# skips the Azurite cases and says so. Every variable here starts with
# BLOBT_ so as not to touch the host's BLOB_* ones. The service itself needs
# no library; only the tests sign requests (-lcrypto, libssl-dev).

BLOBT_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
# Included first or last, this file never becomes the default goal.
BLOBT_SAVED_GOAL := $(.DEFAULT_GOAL)

# Inside the host's Makefile: its check-build directory.
BLOBT_OUT ?= $(if $(CHK),$(CHK),$(BLOBT_DIR)/../../.cache/az_blob_host)
BLOB_BENCH_MIB ?= 64

BLOBT_TOP := $(BLOBT_DIR)/../..
# The CRC-64 is the library's, built as lib/Makefile builds it.
BLOBT_CRC_SRCS := $(BLOBT_TOP)/lib/crc64.c
BLOBT_CRC_CFLAGS :=
ifneq ($(findstring x86_64,$(shell $(CC) -dumpmachine)),)
BLOBT_CRC_SRCS += $(BLOBT_TOP)/lib/crc64_clmul.c
BLOBT_CRC_CFLAGS += -DAZB_HAVE_CLMUL
endif

BLOBT_SRCS := $(addprefix $(BLOBT_DIR)/,blob_service.c http.c json.c) \
	$(BLOBT_CRC_SRCS)
BLOBT_HDRS := $(addprefix $(BLOBT_DIR)/,blob_service.h http.h json.h \
	service.h) $(BLOBT_TOP)/lib/azb.h $(BLOBT_TOP)/include/azblob.h
# The guest library's side, a scripted server, the cases; and the core's
# buffer access (az_host_buf_*()).
BLOBT_TEST_SRCS := $(addprefix $(BLOBT_DIR)/tests/,blob_test.c \
	blob_test_format.c blob_test_http.c blob_test_azurite.c \
	blob_client.c blob_fakesrv.c) $(BLOBT_DIR)/buf.c
BLOBT_TEST_HDRS := $(addprefix $(BLOBT_DIR)/tests/,blob_test.h blob_client.h \
	blob_fakesrv.h)
BLOBT_DEPS := $(BLOBT_SRCS) $(BLOBT_HDRS) $(BLOBT_TEST_SRCS) $(BLOBT_TEST_HDRS)

BLOBT_CFLAGS := -std=gnu11 -g -pthread -I$(BLOBT_DIR) -I$(BLOBT_TOP)/include \
	$(BLOBT_CRC_CFLAGS) -Wall -Wextra -Wmissing-prototypes \
	-Wstrict-prototypes -Wshadow -Wformat=2 -Wundef -Wno-unused-parameter \
	-Werror
BLOBT_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
BLOBT_LIBS := -lcrypto -pthread
BLOBT_ENV := ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

$(BLOBT_OUT)/blob_test: $(BLOBT_DEPS)
	@mkdir -p $(BLOBT_OUT)
	$(CC) $(BLOBT_CFLAGS) -O1 $(BLOBT_SAN) $(BLOBT_SRCS) $(BLOBT_TEST_SRCS) \
		-o $@ $(BLOBT_LIBS)

$(BLOBT_OUT)/blob_bench: $(BLOBT_DEPS)
	@mkdir -p $(BLOBT_OUT)
	$(CC) $(BLOBT_CFLAGS) -O2 $(BLOBT_SRCS) $(BLOBT_TEST_SRCS) -o $@ \
		$(BLOBT_LIBS)

# A command for the host's BLOB_CHECK list: blob-check, from anywhere.
$(BLOBT_OUT)/blob_check_run: $(BLOBT_OUT)/blob_test
	printf '#!/bin/sh\nexec %s %s %s "$$@"\n' \
		'$(abspath $(BLOBT_DIR)/tests/blob_check.sh)' '$(abspath $<)' \
		'$(abspath $(BLOBT_OUT)/azurite)' > $@
	chmod +x $@

BLOB_CHECK += $(BLOBT_OUT)/blob_check_run

blob-check: $(BLOBT_OUT)/blob_test
	$(BLOBT_ENV) $(BLOBT_DIR)/tests/blob_check.sh $< $(BLOBT_OUT)/azurite

blob-unit: $(BLOBT_OUT)/blob_test
	$(BLOBT_ENV) AZ_BLOB_ENDPOINT= $< --node $(BLOBT_DIR)/node

blob-bench: $(BLOBT_OUT)/blob_bench
	$(BLOBT_DIR)/tests/blob_check.sh $< $(BLOBT_OUT)/azurite-bench \
		--bench $(BLOB_BENCH_MIB)

blob-clean:
	rm -f $(BLOBT_OUT)/blob_test $(BLOBT_OUT)/blob_bench \
		$(BLOBT_OUT)/blob_check_run

.PHONY: blob-check blob-unit blob-bench blob-clean

.DEFAULT_GOAL := $(BLOBT_SAVED_GOAL)
