#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# host-post.sh ENDPOINT MANIFEST: after the guest ran, check with the Azure
# SDK (sdk-pattern.js) every blob of MANIFEST ("CONTAINER/BLOB SIZE SEED"
# lines) that the guest uploaded through the driver (or over TCP): listed
# and with properties of that size, and holding az_sim_pattern(SEED, i)
# byte for byte, the pattern regenerated in JavaScript: the driver -> SDK
# direction of the cross-check. TEST-ONLY.
#
# Prints "ok NAME" / "FAIL NAME: WHY" lines; exit 0 when all match.
set -u -o pipefail

[ $# = 2 ] || { echo "usage: $0 ENDPOINT MANIFEST" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
node "$here/sdk-pattern.js" "$1" verify "$2"
