#!/usr/bin/env node
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// TEST-ONLY: an account SAS for the emulator's account, made by the Azure
// SDK for JavaScript, for libazblob's functional suite:
//
//   sdk_sas.js            prints the SAS token (no "?"), valid for an hour

"use strict";

const path = require("path");
const sdk = require(path.join(process.env.AZBLOB_TEST_SDK, "node_modules",
	"@azure", "storage-blob"));

const ACCOUNT = process.env.AZURE_STORAGE_ACCOUNT || "devstoreaccount1";
const KEY = process.env.AZURE_STORAGE_KEY ||
	"Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const sas = sdk.generateAccountSASQueryParameters({
	expiresOn: new Date(Date.now() + 3600 * 1000),
	startsOn: new Date(Date.now() - 300 * 1000),
	permissions: sdk.AccountSASPermissions.parse("rwdlacup"),
	services: sdk.AccountSASServices.parse("b").toString(),
	resourceTypes: sdk.AccountSASResourceTypes.parse("sco").toString(),
	protocol: sdk.SASProtocol.HttpsAndHttp,
}, new sdk.StorageSharedKeyCredential(ACCOUNT, KEY));
process.stdout.write(sas.toString() + "\n");
