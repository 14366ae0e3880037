// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * azblob: copy, list and remove Azure blobs from the shell, through the
 * Hyper-V host's fast path (/dev/azure_blob) or over REST.
 *
 *   azblob [OPTIONS] ls|cp|cat|rm|stat|mb|rb ARGS...
 *
 * See azblob.1 (man -l tools/azblob/azblob.1).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static void usage(FILE *f)
{
	fputs("usage: azblob [OPTIONS] COMMAND ARGS...\n"
	      "\n"
	      "commands:\n"
	      "  ls [-l] [-r] [az://CONTAINER[/PREFIX]]  list containers, or blobs\n"
	      "  cp [-r] SRC DST                         copy: a local file, - (stdin or\n"
	      "                                          stdout), or az://CONTAINER/BLOB;\n"
	      "                                          -r: a directory tree\n"
	      "  cat az://CONTAINER/BLOB...              write blobs to stdout\n"
	      "  rm [-r] az://CONTAINER/BLOB...          delete blobs (-r: all under a prefix)\n"
	      "  stat az://CONTAINER/BLOB...             properties and metadata\n"
	      "  mb az://CONTAINER                       make a container\n"
	      "  rb az://CONTAINER                       remove a container and its blobs\n"
	      "\n"
	      "options:\n"
	      "  -t, --transport=auto|rest|driver  how to reach the service (AZBLOB_TRANSPORT)\n"
	      "  -j, --concurrency=N               requests in flight per transfer (4)\n"
	      "  -b, --block-size=SIZE             block and chunk size, e.g. 8M (8M up, 4M down)\n"
	      "  -r, --recursive                   cp, rm, ls: whole trees\n"
	      "  -l, --long                        ls: size, date and name\n"
	      "  -p, --progress / -q, --quiet      force the progress bar on / everything off\n"
	      "      --connection-string=CS        instead of the environment\n"
	      "  -h, --help                        this text\n"
	      "  -V, --version                     the version\n"
	      "\n"
	      "credentials: AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with\n"
	      "AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN (AZBLOB_ENDPOINT, AZBLOB_BEARER_TOKEN).\n"
	      "exit status: 0 ok, 2 usage, 3 not found, 4 exists, 5 not authorized,\n"
	      "6 network, 7 driver or host, 8 local file, 9 integrity, 10 configuration,\n"
	      "130 interrupted, 1 anything else.\n", f);
}

static int parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	}
	if (*end == 'i' && end[-1] != 'i')
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		return -1;
	*out = (size_t)v;
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
} commands[] = {
	{ "ls", cmd_ls }, { "cp", cmd_cp }, { "cat", cmd_cat },
	{ "rm", cmd_rm }, { "stat", cmd_stat }, { "mb", cmd_mb },
	{ "rb", cmd_rb },
};

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "concurrency", required_argument, NULL, 'j' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "recursive", no_argument, NULL, 'r' },
		{ "long", no_argument, NULL, 'l' },
		{ "progress", no_argument, NULL, 'p' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "connection-string", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli c = { .prog = "azblob", .progress = -1,
			 .interrupted = &interrupted };
	const char *transport = NULL, *cs = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	int opt, rc;

	/* GNU getopt permutes: options may come after the command too. */
	while ((opt = getopt_long(argc, argv, "t:j:b:rlpqhV", lopts,
				  NULL)) != -1) {
		switch (opt) {
		case 't':
			transport = optarg;
			break;
		case 'j': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (*end || v < 1 || v > 64) {
				fprintf(stderr, "azblob: --concurrency: 1 to 64\n");
				return EX_USAGE;
			}
			c.concurrency = (unsigned int)v;
			break;
		}
		case 'b':
			if (parse_size(optarg, &c.block_size)) {
				fprintf(stderr, "azblob: --block-size: a size such as 8M\n");
				return EX_USAGE;
			}
			break;
		case 'r':
			c.recursive = true;
			break;
		case 'l':
			c.long_list = true;
			break;
		case 'p':
			c.progress = 1;
			break;
		case 'q':
			c.quiet = true;
			c.progress = 0;
			break;
		case 'C':
			cs = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("azblob %d.%d.%d\n", AZBLOB_VERSION_MAJOR,
			       AZBLOB_VERSION_MINOR, AZBLOB_VERSION_PATCH);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 2) {
		usage(stderr);
		return EX_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		if (strcmp(argv[1], commands[i].name))
			continue;
		c.err = azblob_error_new();
		if (!c.err)
			return EX_FAIL;
		rc = cs ? azblob_ctx_new_from_connection_string(&c.ctx, cs, c.err) :
			  azblob_ctx_new_from_env(&c.ctx, c.err);
		if (!rc && transport) {
			enum azblob_transport t;

			if (!strcasecmp(transport, "auto"))
				t = AZBLOB_TRANSPORT_AUTO;
			else if (!strcasecmp(transport, "rest"))
				t = AZBLOB_TRANSPORT_REST;
			else if (!strcasecmp(transport, "driver"))
				t = AZBLOB_TRANSPORT_DRIVER;
			else {
				fprintf(stderr, "azblob: --transport: auto, rest or driver\n");
				return EX_USAGE;
			}
			rc = azblob_ctx_set_transport(c.ctx, t, c.err);
		}
		if (!rc && c.concurrency)
			rc = azblob_ctx_set_concurrency(c.ctx, c.concurrency,
							c.err);
		if (!rc && c.block_size) {
			rc = azblob_ctx_set_block_size(c.ctx, c.block_size,
						       c.err);
			if (!rc)
				rc = azblob_ctx_set_chunk_size(c.ctx,
							       c.block_size,
							       c.err);
			if (!rc)
				rc = azblob_ctx_set_put_threshold(c.ctx,
								  c.block_size,
								  c.err);
		}
		if (rc) {
			rc = fail(&c, rc, NULL);
			goto out;
		}
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		rc = commands[i].fn(&c, argc - 2, argv + 2);
		if (interrupted && rc)
			rc = EX_CANCELLED;
out:
		azblob_ctx_free(c.ctx);
		azblob_error_free(c.err);
		return rc;
	}
	fprintf(stderr, "azblob: unknown command \"%s\" (azblob --help)\n",
		argv[1]);
	return EX_USAGE;
}
