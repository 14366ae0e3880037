#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# TEST-ONLY: run the Blob service's tests (blob_test) against a real Blob
# service: the pinned Azurite of ../node, started on a free port for this
# run and stopped afterwards, unless $AZ_BLOB_ENDPOINT names one already.
#
#   blob_check.sh BLOB_TEST_BINARY STATE_DIR [blob_test options...]

set -euo pipefail

bin=$1
state=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node=$here/../node
started=

stop() {
	if [ -n "$started" ]; then
		AZURITE_DIR=$state "$node/azurite.sh" stop || true
	fi
}
trap stop EXIT
trap 'exit 130' INT TERM

if [ -z "${AZ_BLOB_ENDPOINT:-}" ] && ! command -v node > /dev/null; then
	echo "# node not found: the cases that need Azurite are skipped"
	exec "$bin" --node "$node" "$@"
fi
if [ -z "${AZ_BLOB_ENDPOINT:-}" ]; then
	mkdir -p "$state"
	out=$(AZURITE_DIR=$state "$node/azurite.sh" start)
	started=1
	AZ_BLOB_ENDPOINT=$(sed -n 's/^AZURITE_URL=//p' <<< "$out")
	echo "# Azurite 3.35.0 at $AZ_BLOB_ENDPOINT (log: $state/azurite.log)"
fi
export AZ_BLOB_ENDPOINT
"$bin" --node "$node" "$@"
