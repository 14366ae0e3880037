#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// TEST-ONLY: the SDK checks a guest could not run. functional-guest (and
// blob-smoke.sh's azblob group) write "sha256 CONTAINER BLOB SIZE HEX"
// lines to a manifest instead of running node; this reads every such blob
// back with @azure/storage-blob and compares size and SHA-256; an
// "absent CONTAINER BLOB" line (a blob deleted afterwards) wants the SDK to
// find no such blob:
//
//   check-manifest.js ENDPOINT MANIFEST      ("-": standard input)
//
// ENDPOINT as sdk.js takes it (http://127.0.0.1:PORT, the account is
// added; $AZURE_STORAGE_ACCOUNT / $AZURE_STORAGE_KEY, else the emulator's).
// The SDK comes from $AZBLOB_TEST_SDK, else tools/az_blob_host/node.
// Prints "ok sdk: C/B (SIZE bytes)" or "FAIL sdk: C/B: WHY" per blob (the
// last line for a blob named twice wins: the suite may write it again),
// then "# check-manifest: P passed, F failed". Exit 0 only if all passed
// and there was at least one.

"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const sdkDir = process.env.AZBLOB_TEST_SDK ||
	path.join(__dirname, "..", "..", "tools", "az_blob_host", "node");
const { BlobServiceClient, StorageSharedKeyCredential } =
	require(path.join(sdkDir, "node_modules", "@azure", "storage-blob"));

const ACCOUNT = process.env.AZURE_STORAGE_ACCOUNT || "devstoreaccount1";
const KEY = process.env.AZURE_STORAGE_KEY ||
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

async function check(svc, e) {
	if (e.absent) {
		const there = await svc.getContainerClient(e.container)
			.getBlobClient(e.blob).exists();
		return there ? "there, the guest deleted it" : null;
	}
	const res = await svc.getContainerClient(e.container)
		.getBlobClient(e.blob).download();
	const h = crypto.createHash("sha256");
	let size = 0;
	for await (const p of res.readableStreamBody) {
		h.update(p);
		size += p.length;
	}
	const hex = h.digest("hex");
	if (size !== e.size)
		return `${size} bytes, the guest wrote ${e.size}`;
	if (hex !== e.hex)
		return `sha256 ${hex}, the guest wrote ${e.hex}`;
	return null;
}

async function main([endpoint, file]) {
	if (!endpoint || !file) {
		process.stderr.write("usage: check-manifest.js ENDPOINT MANIFEST\n");
		process.exit(2);
	}
	const text = fs.readFileSync(file === "-" ? 0 : file, "utf8");
	const want = new Map();
	let bad = 0;
	for (const line of text.split("\n")) {
		const f = line.trim().split(/\s+/);
		if (f[0] === "" || f[0].startsWith("#"))
			continue;
		if (f[0] === "absent" && f.length === 3) {
			want.set(`${f[1]}/${f[2]}`, { container: f[1],
				blob: f[2], absent: true });
			continue;
		}
		if (f[0] !== "sha256" || f.length !== 5 ||
		    !/^[0-9]+$/.test(f[3]) || !/^[0-9a-f]{64}$/.test(f[4])) {
			console.log(`FAIL sdk: manifest line: ${line}`);
			bad++;
			continue;
		}
		want.set(`${f[1]}/${f[2]}`, { container: f[1], blob: f[2],
			size: Number(f[3]), hex: f[4] });
	}
	const svc = new BlobServiceClient(
		endpoint.replace(/\/$/, "") + "/" + ACCOUNT,
		new StorageSharedKeyCredential(ACCOUNT, KEY),
		{ retryOptions: { maxTries: 2 } });
	let ok = 0;
	for (const [name, e] of want) {
		let why;
		try {
			why = await check(svc, e);
		} catch (err) {
			why = err.code || err.message;
		}
		if (why) {
			console.log(`FAIL sdk: ${name}: ${why}`);
			bad++;
		} else {
			console.log(e.absent ? `ok sdk: ${name} absent` :
				`ok sdk: ${name} (${e.size} bytes)`);
			ok++;
		}
	}
	if (!want.size) {
		console.log("FAIL sdk: the manifest names no blob");
		bad++;
	}
	console.log(`# check-manifest: ${ok} passed, ${bad} failed`);
	process.exit(bad || !ok ? 1 : 0);
}

main(process.argv.slice(2)).catch((e) => {
	console.log(`FAIL sdk: ${e.code || e.message}`);
	process.exit(1);
});
