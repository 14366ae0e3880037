#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TEST-ONLY: libazblob's functional suite against the pinned Azurite
# (tools/az_blob_host/node), started on a free port for this run:
#
#   1. REST transport, every blob cross-checked with @azure/storage-blob;
#   2. the driver transport, its requests carried by the host VSP's own Blob
#      service in-process (functional-loopback), cross-checked the same way;
#   3. REST over HTTPS (a second Azurite with a self-signed certificate and
#      OAuth), the sizes and the authorization cases.
#
#   run-functional.sh OUTDIR [FILTER]
#
# Without node the suite cannot run here (it needs Azurite): it says so and
# exits 0. $AZBLOB_TEST_CONNECTION_STRING with $AZBLOB_TEST_SDK_ENDPOINT
# names an endpoint already running instead.

set -uo pipefail

out=$1
filter=${2:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node_dir=$(cd "$here/../../tools/az_blob_host/node" && pwd)
state=$out/azurite
started=

tls_pid=
stop() {
	[ -n "$started" ] && AZURITE_DIR=$state "$node_dir/azurite.sh" stop
	[ -n "$tls_pid" ] && kill "$tls_pid" 2> /dev/null
}
trap stop EXIT
trap 'exit 130' INT TERM

if [ -z "${AZBLOB_TEST_CONNECTION_STRING:-}" ]; then
	if ! command -v node > /dev/null; then
		echo "# node not found: the functional suite needs Azurite; skipped"
		exit 0
	fi
	mkdir -p "$state"
	url=$(AZURITE_DIR=$state "$node_dir/azurite.sh" start |
		sed -n 's/^AZURITE_URL=//p') || exit 1
	started=1
	export AZBLOB_TEST_CONNECTION_STRING="UseDevelopmentStorage=true;BlobEndpoint=$url/devstoreaccount1"
	export AZBLOB_TEST_SDK_ENDPOINT=$url
	echo "# Azurite 3.35.0 at $url (log: $state/azurite.log)"
fi
export AZBLOB_TEST_SDK=$node_dir
export AZBLOB_TEST_DIR=$here
url=${AZBLOB_TEST_SDK_ENDPOINT}

rc=0
AZBLOB_TRANSPORT=rest "$out/san/functional" $filter || rc=1
AZBLOB_TRANSPORT=driver AZBLOB_TEST_LOOPBACK=$url \
	"$out/san/functional-loopback" $filter || rc=1

# HTTPS: an Azurite of our own with a certificate for 127.0.0.1.
[ -n "$started" ] || exit $rc
tls=$out/azurite-tls
mkdir -p "$tls/workspace"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$tls/key.pem" \
	-out "$tls/cert.pem" 2> /dev/null || exit 1
port=$(node -e 'const s = require("net").createServer();
	s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });')
(cd "$tls/workspace" && exec setsid "$node_dir/node_modules/.bin/azurite-blob" \
	--blobHost 127.0.0.1 --blobPort "$port" --inMemoryPersistence \
	--disableTelemetry --loose --skipApiVersionCheck \
	--cert "$tls/cert.pem" --key "$tls/key.pem" --oauth basic \
	< /dev/null > "$tls/azurite.log" 2>&1) &
tls_pid=$!
for _ in $(seq 300); do
	(exec 9<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null && break
	sleep 0.1
done
echo "# Azurite over HTTPS at https://127.0.0.1:$port (--oauth basic)"
# A token Azurite's "basic" OAuth accepts: issuer, audience and times are
# checked, the signature is not.
bearer=$(node -e '
	const b = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
	const now = Math.floor(Date.now() / 1000);
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
	console.log(b({ alg: "RS256", typ: "JWT" }) + "." + b({
		aud: "https://storage.azure.com",
		iss: `https://sts.windows.net/${tid}/`, tid, oid: tid,
		iat: now - 60, nbf: now - 60, exp: now + 3600,
	}) + ".c2lnbmF0dXJl");')
AZBLOB_TRANSPORT=rest AZBLOB_CA_FILE=$tls/cert.pem AZBLOB_TEST_BEARER=$bearer \
	NODE_EXTRA_CA_CERTS=$tls/cert.pem \
	AZBLOB_TEST_SDK_ENDPOINT=https://127.0.0.1:$port \
	AZBLOB_TEST_CONNECTION_STRING="UseDevelopmentStorage=true;BlobEndpoint=https://127.0.0.1:$port/devstoreaccount1" \
	"$out/san/functional" "${filter:-sizes from memory|auth:}" || rc=1
exit $rc
