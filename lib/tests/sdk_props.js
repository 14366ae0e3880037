#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// TEST-ONLY: a blob's properties as the Azure SDK for JavaScript reads
// them, for libazblob's functional suite:
//
//   sdk_props.js ENDPOINT CONTAINER BLOB
//
// prints "type CONTENT-TYPE" and "meta k=v;k=v" (keys sorted). The SDK
// comes from $AZBLOB_TEST_SDK (tools/az_blob_host/node, pinned there).

"use strict";

const path = require("path");
const sdkDir = process.env.AZBLOB_TEST_SDK;
const { BlobServiceClient, StorageSharedKeyCredential } =
	require(path.join(sdkDir, "node_modules", "@azure", "storage-blob"));

const ACCOUNT = process.env.AZURE_STORAGE_ACCOUNT || "devstoreaccount1";
const KEY = process.env.AZURE_STORAGE_KEY ||
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

async function main([endpoint, container, blob]) {
	const svc = new BlobServiceClient(
		endpoint.replace(/\/$/, "") + "/" + ACCOUNT,
		new StorageSharedKeyCredential(ACCOUNT, KEY),
		{ retryOptions: { maxTries: 1 } });
	const p = await svc.getContainerClient(container)
		.getBlobClient(blob).getProperties();
	const meta = Object.keys(p.metadata || {}).sort()
		.map((k) => `${k}=${p.metadata[k]}`).join(";");
	process.stdout.write(`type ${p.contentType || ""}\nmeta ${meta}\n`);
}

main(process.argv.slice(2)).catch((e) => {
	process.stderr.write(`sdk_props.js: ${e.code || e.message}\n`);
	process.exit(1);
});
