#!/usr/bin/env node
// SPDX-License-Identifier: GPL-2.0
//
// TEST-ONLY: tcp-forward.js LISTEN_ADDR PORT TARGET_ADDR TARGET_PORT
// Accept on LISTEN_ADDR:PORT and splice each connection to TARGET. For
// blob-smoke.sh with BLOB_NET=tap: the guest on a tap device in a network
// namespace reaches Azurite, which listens on that namespace's 127.0.0.1
// only. Prints "ready" once it listens.

"use strict";

const net = require("net");
const [addr, port, taddr, tport] = process.argv.slice(2);

if (!tport) {
	process.stderr.write("usage: tcp-forward.js LISTEN_ADDR PORT TARGET_ADDR TARGET_PORT\n");
	process.exit(2);
}
const server = net.createServer((c) => {
	const t = net.connect(Number(tport), taddr);
	c.setNoDelay(true);
	t.setNoDelay(true);
	c.pipe(t);
	t.pipe(c);
	c.on("error", () => t.destroy());
	t.on("error", () => c.destroy());
});
server.listen(Number(port), addr, () => console.log("ready"));
