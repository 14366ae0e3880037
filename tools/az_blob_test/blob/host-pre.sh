#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# host-pre.sh ENDPOINT CONTAINER MANIFEST [PROPS]: before the guest runs, upload
# fixture blobs with the Azure SDK (sdk-pattern.js) into CONTAINER, and
# write MANIFEST ("CONTAINER/BLOB SIZE SEED" lines) for the guest, whose
# "az_blob_blob verify" then reads them through the driver: the SDK -> driver
# direction of the cross-check. Sizes: empty, one byte, one page less one,
# one Put Blob of 4 MiB + 5, SDK blocks (9 MiB + 5: 4 MiB Put Blocks), and
# 33 MiB + 3 (more than one of the guest's ranged GETs). Each gets a content
# type, its MD5 and metadata. With PROPS, also what each blob is (size,
# SHA-256, MD5, content type, metadata: "sdkblob ..." lines, sdk-pattern.js
# props), checked with the SDK first, for libazblob's functional suite in
# the guest (AZBLOB_TEST_SDK_FIXTURES): the SDK -> library direction.
# TEST-ONLY.
#
# Prints "ok NAME" / "FAIL NAME: WHY" lines; exit 0 when all went up.
set -u -o pipefail

[ $# = 3 ] || [ $# = 4 ] ||
	{ echo "usage: $0 ENDPOINT CONTAINER MANIFEST [PROPS]" >&2; exit 2; }
endpoint=$1 container=$2 manifest=$3 props=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
MIB=$((1 << 20))

{
	echo "# SDK fixtures, written by host-pre.sh"
	seed=100
	for size in 0 1 4095 $((4 * MIB + 5)) $((9 * MIB + 5)) $((33 * MIB + 3)); do
		echo "$container/sdk/$size $size $seed"
		seed=$((seed + 1))
	done
} >"$manifest" || exit 1
node "$here/sdk-pattern.js" selftest &&
	node "$here/sdk-pattern.js" "$endpoint" put "$manifest" || exit 1
[ -z "$props" ] || node "$here/sdk-pattern.js" "$endpoint" props "$manifest" "$props"
