#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# tcp-check.sh AZ_BLOB_BLOB: the guest client's checks that need no guest
# (make check). A pinned Azurite (tools/az_blob_host/node/azurite.sh, its
# own state directory) and, on this machine, "az_blob_blob --tcp" against
# it: the suite (the driver's own cases skip), then the cross-check in both
# directions with the SDK (host-pre.sh, verify; put, host-post.sh). Without
# node it says "skip" and exits 0. TEST-ONLY.
set -u -o pipefail

bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
azurite=$top/tools/az_blob_host/node/azurite.sh
export AZURITE_DIR=${AZURITE_DIR:-$top/.cache/az_blob_blob-check/azurite}
work=$(dirname "$AZURITE_DIR")
failed=0

command -v node >/dev/null || { echo "skip tcp-check: no node"; exit 0; }
port=$("$azurite" start | sed -n 's/^AZURITE_PORT=//p') || exit 1
trap '"$azurite" stop' EXIT
ep=http://127.0.0.1:$port
# Count FAIL lines of a command's output, passing it through.
run() { "$@" | tee "$work/out"; ! grep -q '^FAIL' "$work/out" || failed=$((failed + 1)); }

run "$bin" --tcp "127.0.0.1:$port" suite
run "$here/host-pre.sh" "$ep" tcpcheck-fixtures "$work/fixtures"
printf '%s\n' "tcpcheck-up/a 0 1" "tcpcheck-up/b 4097 2" \
	"tcpcheck-up/c $((32 << 20)) 3" >"$work/uploads"
run "$bin" --tcp "127.0.0.1:$port" mkcontainer tcpcheck-up
while read -r cb size seed; do
	case "$cb" in "#"*) continue ;; esac
	run "$bin" --tcp "127.0.0.1:$port" verify "$cb" "$size" "$seed"
done <"$work/fixtures"
while read -r cb size seed; do
	run "$bin" --tcp "127.0.0.1:$port" put "$cb" "$size" "$seed"
done <"$work/uploads"
run "$here/host-post.sh" "$ep" "$work/uploads"
[ "$failed" = 0 ] && echo "tcp-check: all passed" || echo "tcp-check: $failed commands failed"
[ "$failed" = 0 ]
