#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0
//
// TEST-ONLY: the independent client. The Azure SDK for JavaScript
// (@azure/storage-blob, pinned in package.json) against the same Blob
// endpoint as the host VSP's Blob service, so that what goes through the
// service is checked by code that shares nothing with it.
//
//   sdk.js ENDPOINT mkcontainer CONTAINER
//   sdk.js ENDPOINT put CONTAINER BLOB FILE       upload FILE ("-": stdin)
//   sdk.js ENDPOINT get CONTAINER BLOB FILE       download to FILE ("-": stdout)
//   sdk.js ENDPOINT sha256 CONTAINER BLOB         print "SIZE SHA256HEX"
//   sdk.js ENDPOINT list CONTAINER [PREFIX]       print "SIZE NAME" per blob
//   sdk.js ENDPOINT delete CONTAINER BLOB
//   sdk.js ENDPOINT rmcontainer CONTAINER
//
// ENDPOINT is the account's URL with path-style addressing, e.g.
// http://127.0.0.1:10000 (the account is added). Account and key default
// to the emulator's published devstoreaccount1 ones ($AZURE_STORAGE_ACCOUNT,
// $AZURE_STORAGE_KEY). Exit 0 on success; 1 with the service's error code
// on stderr otherwise (404 prints "NotFound").

"use strict";

const crypto = require("crypto");
const fs = require("fs");
const {
	BlobServiceClient,
	StorageSharedKeyCredential,
} = require("@azure/storage-blob");

const ACCOUNT = process.env.AZURE_STORAGE_ACCOUNT || "devstoreaccount1";
const KEY = process.env.AZURE_STORAGE_KEY ||
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

function usage() {
	process.stderr.write("usage: sdk.js ENDPOINT " +
		"mkcontainer|put|get|sha256|list|delete|rmcontainer ARGS...\n");
	process.exit(2);
}

async function readAll(stream) {
	const parts = [];
	for await (const p of stream)
		parts.push(p);
	return Buffer.concat(parts);
}

async function main(argv) {
	if (argv.length < 2)
		usage();
	const [endpoint, cmd, ...args] = argv;
	const url = endpoint.replace(/\/$/, "") + "/" + ACCOUNT;
	const svc = new BlobServiceClient(url,
		new StorageSharedKeyCredential(ACCOUNT, KEY), {
			retryOptions: { maxTries: 1 },
		});
	const container = args[0] ? svc.getContainerClient(args[0]) : null;
	const blob = args[1] ? container.getBlockBlobClient(args[1]) : null;

	switch (cmd) {
	case "mkcontainer":
		await container.createIfNotExists();
		break;
	case "rmcontainer":
		await container.deleteIfExists();
		break;
	case "put": {
		const data = args[2] === "-" ? await readAll(process.stdin) :
			fs.readFileSync(args[2]);
		await blob.uploadData(data, {
			blockSize: 4 * 1024 * 1024,
			maxSingleShotSize: 256 * 1024 * 1024,
		});
		break;
	}
	case "get": {
		const data = await blob.downloadToBuffer();
		if (args[2] === "-")
			process.stdout.write(data);
		else
			fs.writeFileSync(args[2], data);
		break;
	}
	case "sha256": {
		const res = await blob.download();
		const h = crypto.createHash("sha256");
		let size = 0;
		for await (const p of res.readableStreamBody) {
			h.update(p);
			size += p.length;
		}
		process.stdout.write(`${size} ${h.digest("hex")}\n`);
		break;
	}
	case "list": {
		const opts = args[1] ? { prefix: args[1] } : {};
		for await (const b of container.listBlobsFlat(opts))
			process.stdout.write(
				`${b.properties.contentLength} ${b.name}\n`);
		break;
	}
	case "delete":
		await blob.delete();
		break;
	default:
		usage();
	}
}

main(process.argv.slice(2)).catch((e) => {
	const code = e.statusCode === 404 ? "NotFound" :
		(e.code || e.message);
	process.stderr.write(`sdk.js: ${code}\n`);
	process.exit(1);
});
