/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * azblob: the command-line tool over libazblob. Shared declarations.
 */
#ifndef AZBLOB_CLI_H
#define AZBLOB_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <inttypes.h>

#include "azblob.h"

/* Exit codes, by class of failure (azblob.1, EXIT STATUS). */
enum {
	EX_OK = 0,
	EX_FAIL = 1,		/* anything not below */
	EX_USAGE = 2,
	EX_NOTFOUND = 3,
	EX_EXISTS = 4,		/* exists, conflict, condition not met */
	EX_AUTH = 5,
	EX_NETWORK = 6,		/* network, timeout, host connection */
	EX_DRIVER = 7,		/* the driver or the host refused */
	EX_LOCAL = 8,		/* a local file */
	EX_INTEGRITY = 9,	/* checksum or protocol */
	EX_CONFIG = 10,		/* credentials, endpoint */
	EX_CANCELLED = 130,
};

struct cli {
	azblob_ctx *ctx;
	azblob_error *err;
	const char *prog;
	bool recursive;
	bool long_list;
	bool quiet;
	int progress;		/* -1 auto (a terminal), 0 off, 1 on */
	unsigned int concurrency;
	size_t block_size;
	volatile sig_atomic_t *interrupted;
};

/* An az://container/path argument. */
struct azpath {
	char *container;
	char *path;		/* "" when only the container */
};

bool is_az(const char *s);
int parse_az(const char *s, struct azpath *out);
void azpath_free(struct azpath *p);

/* Map a library status to an exit code; print "azblob: WHAT: message". */
int fail(struct cli *c, int status, const char *what);
int fail_local(const char *what, int err);
int exit_code(int status);

/* Progress: a bar on a terminal, nothing otherwise. */
struct progress;
struct progress *progress_new(struct cli *c, const char *label);
void progress_done(struct progress *p, bool ok);
int progress_cb(void *arg, uint64_t done, uint64_t total);
azblob_opts *opts_for(struct cli *c, struct progress *p);

int cmd_ls(struct cli *c, int argc, char **argv);
int cmd_stat(struct cli *c, int argc, char **argv);
int cmd_mb(struct cli *c, int argc, char **argv);
int cmd_rb(struct cli *c, int argc, char **argv);
int cmd_rm(struct cli *c, int argc, char **argv);
int cmd_cat(struct cli *c, int argc, char **argv);
int cmd_cp(struct cli *c, int argc, char **argv);

#endif
