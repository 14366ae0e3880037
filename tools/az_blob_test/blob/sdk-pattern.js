#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0
//
// TEST-ONLY: the Azure SDK for JavaScript (tools/az_blob_host/node's pinned
// @azure/storage-blob) as the independent side of az_blob_blob's cross-check.
// Blobs hold az_sim_pattern(SEED, i) of tools/az_blob_test/az_blob_sim.h:
//
//   x = ((i + SEED) * 0x9E3779B97F4A7C15) mod 2^64, byte i = x >> 56
//
// regenerated here, so that nothing is shared with the guest's C code.
//
//   sdk-pattern.js ENDPOINT put MANIFEST      upload every blob of MANIFEST
//   sdk-pattern.js ENDPOINT verify MANIFEST   download and compare each one,
//                                             check its size (properties and
//                                             listing)
//   sdk-pattern.js ENDPOINT props MANIFEST OUT  what each uploaded blob is,
//                                             for a reader in a guest that
//                                             has no node (libazblob's
//                                             functional-guest): checks with
//                                             the SDK that the service holds
//                                             the properties put set, writes
//                                             "sdkblob CONTAINER BLOB SIZE
//                                             SHA256 CONTENT_MD5 CONTENT_TYPE
//                                             METADATA" lines to OUT (SHA256
//                                             hex and MD5 base64 of the
//                                             pattern, METADATA "k=v;k=v")
//   sdk-pattern.js selftest                   the pattern against known bytes
//
// MANIFEST: one "CONTAINER/BLOB SIZE SEED" a line ("#" lines ignored).
// Uploads make the container if needed and go as one Put Blob up to 8 MiB,
// as 4 MiB Put Blocks + Put Block List above, with a content type, the
// blob's MD5 and metadata of their own (props()). Prints "ok NAME" or
// "FAIL NAME: WHY" per blob; exit 0 when nothing failed.

"use strict";

const crypto = require("crypto");
const fs = require("fs");
const path = require("path");

// The SDK from tools/az_blob_host/node (its package-lock pins it).
const NODE_DIR = process.env.AZ_BLOB_NODE_DIR ||
	path.join(__dirname, "..", "..", "az_blob_host", "node");
const {
	BlobServiceClient,
	StorageSharedKeyCredential,
} = require(path.join(NODE_DIR, "node_modules", "@azure", "storage-blob"));

const ACCOUNT = process.env.AZURE_STORAGE_ACCOUNT || "devstoreaccount1";
const KEY = process.env.AZURE_STORAGE_KEY ||
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const MASK = (1n << 64n) - 1n;
const K = 0x9E3779B97F4A7C15n;
const K_HI = Number(K >> 32n);
const K_LO = Number(K & 0xFFFFFFFFn);

// Bytes [off, off + len) of the pattern of seed.
function pattern(seed, len, off = 0) {
	const out = Buffer.allocUnsafe(len);
	const x = ((BigInt(off) + BigInt(seed)) * K) & MASK;
	let hi = Number(x >> 32n);
	let lo = Number(x & 0xFFFFFFFFn);

	for (let i = 0; i < len; i++) {
		out[i] = hi >>> 24;
		// x += K in two 32-bit halves.
		const l = lo + K_LO;
		lo = l >>> 0;
		hi = (hi + K_HI + (l > 0xFFFFFFFF ? 1 : 0)) >>> 0;
	}
	return out;
}

function selftest() {
	// Straight from the definition, with BigInt, at a few places.
	const seeds = [0, 1, 7, 0xFFFFFFFF];
	for (const seed of seeds) {
		const off = 4093;
		const got = pattern(seed, 70000, off);
		for (const i of [0, 1, 2, 3, 4095, 65535, 69999]) {
			const x = ((BigInt(off + i) + BigInt(seed)) * K) & MASK;
			const want = Number(x >> 56n);
			if (got[i] !== want) {
				console.log(`FAIL pattern selftest: seed ${seed} byte ${off + i}: ${got[i]}, not ${want}`);
				return 1;
			}
		}
	}
	// The same first bytes as az_sim_pattern(7, 0..3) in C.
	console.log(`ok pattern selftest (seed 7: ${pattern(7, 4).toString("hex")})`);
	return 0;
}

function readManifest(file) {
	return fs.readFileSync(file, "utf8").split("\n")
		.map((l) => l.trim())
		.filter((l) => l && !l.startsWith("#"))
		.map((l) => {
			const [cb, size, seed] = l.split(/\s+/);
			const slash = cb.indexOf("/");
			if (slash < 1 || size === undefined || seed === undefined)
				throw new Error(`bad manifest line: ${l}`);
			return {
				name: cb, container: cb.slice(0, slash),
				blob: cb.slice(slash + 1), size: Number(size),
				seed: Number(seed),
			};
		});
}

function mbps(bytes, ms) {
	return ms > 0 ? (bytes / ms / 1000).toFixed(1) : "-";
}

// The properties put() gives a blob: a content type and metadata naming the
// seed, the MD5 of the whole pattern.
function blobProps(it, data) {
	return {
		contentType: `application/x-az-pattern;seed=${it.seed}`,
		md5: crypto.createHash("md5").update(data).digest(),
		metadata: { writer: "sdk", seed: String(it.seed) },
	};
}

async function put(svc, items) {
	let failed = 0;
	const made = new Set();
	for (const it of items) {
		const container = svc.getContainerClient(it.container);
		try {
			if (!made.has(it.container)) {
				await container.createIfNotExists();
				made.add(it.container);
			}
			const data = pattern(it.seed, it.size);
			const p = blobProps(it, data);
			const t0 = Date.now();
			await container.getBlockBlobClient(it.blob).uploadData(data, {
				blockSize: 4 * 1024 * 1024,
				maxSingleShotSize: 8 * 1024 * 1024,
				blobHTTPHeaders: {
					blobContentType: p.contentType,
					blobContentMD5: p.md5,
				},
				metadata: p.metadata,
			});
			const ms = Date.now() - t0;
			console.log(`# sdk put ${it.name}: ${it.size} bytes in ${ms} ms, ${mbps(it.size, ms)} MB/s`);
			console.log(`ok sdk put ${it.name} (${it.size} bytes, seed ${it.seed})`);
		} catch (e) {
			console.log(`FAIL sdk put ${it.name}: ${e.code || e.message}`);
			failed++;
		}
	}
	return failed;
}

async function verify(svc, items) {
	let failed = 0;
	const listed = new Map();
	for (const it of items) {
		const container = svc.getContainerClient(it.container);
		const blob = container.getBlockBlobClient(it.blob);
		try {
			if (!listed.has(it.container)) {
				const m = new Map();
				for await (const b of container.listBlobsFlat())
					m.set(b.name, b.properties.contentLength);
				listed.set(it.container, m);
			}
			const inList = listed.get(it.container).get(it.blob);
			if (inList !== it.size)
				throw new Error(`listed with ${inList} bytes, not ${it.size}`);
			const props = await blob.getProperties();
			if (props.contentLength !== it.size)
				throw new Error(`properties say ${props.contentLength} bytes`);
			const t0 = Date.now();
			const data = it.size ? await blob.downloadToBuffer(0, undefined, {
				blockSize: 4 * 1024 * 1024, concurrency: 4,
			}) : Buffer.alloc(0);
			const ms = Date.now() - t0;
			if (data.length !== it.size)
				throw new Error(`downloaded ${data.length} bytes`);
			const want = pattern(it.seed, it.size);
			if (!data.equals(want)) {
				let i = 0;
				while (data[i] === want[i])
					i++;
				throw new Error(`byte ${i} is ${data[i]}, not ${want[i]}`);
			}
			console.log(`# sdk get ${it.name}: ${it.size} bytes in ${ms} ms, ${mbps(it.size, ms)} MB/s`);
			console.log(`ok sdk verify ${it.name} (${it.size} bytes, seed ${it.seed})`);
		} catch (e) {
			const why = e.statusCode === 404 ? "not found (404)" :
				(e.code || e.message);
			console.log(`FAIL sdk verify ${it.name}: ${why}`);
			failed++;
		}
	}
	return failed;
}

async function props(svc, items, out) {
	let failed = 0;
	const lines = [];
	for (const it of items) {
		try {
			const data = pattern(it.seed, it.size);
			const p = blobProps(it, data);
			const got = await svc.getContainerClient(it.container)
				.getBlockBlobClient(it.blob).getProperties();
			const md5 = p.md5.toString("base64");
			const meta = Object.entries(p.metadata)
				.map(([k, v]) => `${k}=${v}`).join(";");
			const gotMeta = Object.entries(got.metadata || {})
				.map(([k, v]) => `${k}=${v}`).sort().join(";");
			if (got.contentLength !== it.size)
				throw new Error(`${got.contentLength} bytes`);
			if (got.contentType !== p.contentType)
				throw new Error(`content type ${got.contentType}`);
			if (!got.contentMD5 ||
			    Buffer.from(got.contentMD5).toString("base64") !== md5)
				throw new Error("content MD5 not the pattern's");
			if (gotMeta !== meta.split(";").sort().join(";"))
				throw new Error(`metadata ${gotMeta}`);
			lines.push(["sdkblob", it.container, it.blob, it.size,
				crypto.createHash("sha256").update(data).digest("hex"),
				md5, p.contentType, meta].join(" "));
			console.log(`ok sdk props ${it.name} (type, MD5, metadata as put)`);
		} catch (e) {
			console.log(`FAIL sdk props ${it.name}: ${e.code || e.message}`);
			failed++;
		}
	}
	fs.writeFileSync(out, "# SDK-written blobs (sdk-pattern.js props)\n" +
		lines.map((l) => l + "\n").join(""));
	return failed;
}

async function main(argv) {
	if (argv[0] === "selftest")
		return selftest();
	if (!(argv.length === 3 && ["put", "verify"].includes(argv[1])) &&
	    !(argv.length === 4 && argv[1] === "props")) {
		process.stderr.write("usage: sdk-pattern.js ENDPOINT put|verify MANIFEST | ENDPOINT props MANIFEST OUT | selftest\n");
		return 2;
	}
	const [endpoint, cmd, manifest] = argv;
	const svc = new BlobServiceClient(
		endpoint.replace(/\/$/, "") + "/" + ACCOUNT,
		new StorageSharedKeyCredential(ACCOUNT, KEY),
		{ retryOptions: { maxTries: 1 } });
	const items = readManifest(manifest);
	const failed = cmd === "put" ? await put(svc, items) :
		cmd === "props" ? await props(svc, items, argv[3]) :
		await verify(svc, items);
	return failed ? 1 : 0;
}

main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => {
	console.log(`FAIL sdk-pattern.js: ${e.message}`);
	process.exit(1);
});
