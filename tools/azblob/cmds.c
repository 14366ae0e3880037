// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * azblob: ls, stat, mb, rb, rm, cat.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static int one_az(struct cli *c, int argc, char **argv, struct azpath *p,
		  const char *cmd, bool want_blob)
{
	if (argc != 1 || parse_az(argv[0], p)) {
		fprintf(stderr, "azblob %s: one az://CONTAINER%s argument\n",
			cmd, want_blob ? "/BLOB" : "");
		return EX_USAGE;
	}
	if (want_blob != !!*p->path) {
		fprintf(stderr, "azblob %s: %s: %s\n", cmd, argv[0],
			want_blob ? "no blob name" :
				    "a container only (no path)");
		azpath_free(p);
		return EX_USAGE;
	}
	(void)c;
	return EX_OK;
}

static void date(time_t t, char *out, size_t n)
{
	struct tm tm;

	if (!t) {
		snprintf(out, n, "-");
		return;
	}
	gmtime_r(&t, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M", &tm);
}

int cmd_ls(struct cli *c, int argc, char **argv)
{
	struct azpath p = { 0 };
	azblob_lister *l = NULL;
	const azblob_props *it;
	int rc;

	if (argc > 1 || (argc == 1 && parse_az(argv[0], &p))) {
		fprintf(stderr, "azblob ls: [az://CONTAINER[/PREFIX]]\n");
		return EX_USAGE;
	}
	rc = argc ? azblob_list_blobs(c->ctx, p.container, p.path,
				      c->recursive ? NULL : "/", &l, c->err) :
		    azblob_list_containers(c->ctx, NULL, &l, c->err);
	while (!rc && !(rc = azblob_lister_next(l, &it, c->err)) && it) {
		char d[32];

		if (!c->long_list) {
			printf("%s\n", azblob_props_name(it));
			continue;
		}
		date(azblob_props_last_modified(it), d, sizeof(d));
		if (azblob_props_is_prefix(it))
			printf("%14s  %-16s  %s\n", "DIR", "",
			       azblob_props_name(it));
		else if (!argc)
			printf("%14s  %-16s  %s\n", "", d, azblob_props_name(it));
		else
			printf("%14" PRIu64 "  %-16s  %s\n",
			       azblob_props_size(it), d, azblob_props_name(it));
	}
	azblob_lister_free(l);
	if (fflush(stdout) && !rc)
		return fail_local("stdout", errno);
	rc = rc ? fail(c, rc, argc ? argv[0] : NULL) : EX_OK;
	azpath_free(&p);
	return rc;
}

int cmd_stat(struct cli *c, int argc, char **argv)
{
	int worst = EX_OK;

	if (!argc) {
		fprintf(stderr, "azblob stat: az://CONTAINER/BLOB...\n");
		return EX_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		struct azpath p;
		azblob_props *pr = NULL;
		char d[32];
		int rc = one_az(c, 1, argv + i, &p, "stat", true);

		if (rc)
			return rc;
		rc = azblob_get_properties(c->ctx, p.container, p.path, &pr,
					   c->err);
		if (rc) {
			worst = fail(c, rc, argv[i]);
			azpath_free(&p);
			continue;
		}
		date(azblob_props_last_modified(pr), d, sizeof(d));
		printf("name:          %s/%s\n", p.container, p.path);
		printf("size:          %" PRIu64 "\n", azblob_props_size(pr));
		printf("last-modified: %s UTC\n", d);
		printf("etag:          %s\n", azblob_props_etag(pr) ?
		       azblob_props_etag(pr) : "-");
		printf("content-type:  %s\n", azblob_props_content_type(pr) ?
		       azblob_props_content_type(pr) : "-");
		printf("content-md5:   %s\n", azblob_props_content_md5(pr) ?
		       azblob_props_content_md5(pr) : "-");
		printf("blob-type:     %s\n", azblob_props_blob_type(pr) ?
		       azblob_props_blob_type(pr) : "-");
		for (size_t k = 0; k < azblob_props_metadata_count(pr); k++)
			printf("metadata:      %s=%s\n",
			       azblob_props_metadata_key(pr, k),
			       azblob_props_metadata_value(pr, k));
		azblob_props_free(pr);
		azpath_free(&p);
	}
	return worst;
}

int cmd_mb(struct cli *c, int argc, char **argv)
{
	struct azpath p;
	int rc = one_az(c, argc, argv, &p, "mb", false);

	if (rc)
		return rc;
	rc = azblob_container_create(c->ctx, p.container, c->err);
	azpath_free(&p);
	return rc ? fail(c, rc, argv[0]) : EX_OK;
}

int cmd_rb(struct cli *c, int argc, char **argv)
{
	struct azpath p;
	int rc = one_az(c, argc, argv, &p, "rb", false);

	if (rc)
		return rc;
	rc = azblob_container_delete(c->ctx, p.container, c->err);
	azpath_free(&p);
	return rc ? fail(c, rc, argv[0]) : EX_OK;
}

/* Every blob under @prefix, deleted one by one. */
static int rm_tree(struct cli *c, struct azpath *p, const char *arg)
{
	azblob_lister *l = NULL;
	const azblob_props *it;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc;

	rc = azblob_list_blobs(c->ctx, p->container, p->path, NULL, &l, c->err);
	while (!rc && !(rc = azblob_lister_next(l, &it, c->err)) && it) {
		if (n == cap) {
			char **nn;

			cap = cap ? cap * 2 : 64;
			nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				rc = AZBLOB_E_NOMEM;
				break;
			}
			names = nn;
		}
		names[n] = strdup(azblob_props_name(it));
		if (!names[n]) {
			rc = AZBLOB_E_NOMEM;
			break;
		}
		n++;
	}
	azblob_lister_free(l);
	for (size_t i = 0; !rc && i < n; i++) {
		if (*c->interrupted)
			rc = AZBLOB_E_CANCELLED;
		else
			rc = azblob_delete(c->ctx, p->container, names[i],
					   c->err);
		if (!rc && !c->quiet && isatty(STDOUT_FILENO))
			printf("removed az://%s/%s\n", p->container, names[i]);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc ? fail(c, rc, arg) : EX_OK;
}

int cmd_rm(struct cli *c, int argc, char **argv)
{
	if (!argc) {
		fprintf(stderr, "azblob rm: [-r] az://CONTAINER/BLOB...\n");
		return EX_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		struct azpath p;
		int rc;

		if (parse_az(argv[i], &p) || (!*p.path && !c->recursive)) {
			fprintf(stderr, "azblob rm: %s: not az://CONTAINER/BLOB\n",
				argv[i]);
			return EX_USAGE;
		}
		if (c->recursive)
			rc = rm_tree(c, &p, argv[i]);
		else if ((rc = azblob_delete(c->ctx, p.container, p.path,
					     c->err)))
			rc = fail(c, rc, argv[i]);
		azpath_free(&p);
		if (rc)
			return rc;
	}
	return EX_OK;
}

int cmd_cat(struct cli *c, int argc, char **argv)
{
	if (!argc) {
		fprintf(stderr, "azblob cat: az://CONTAINER/BLOB...\n");
		return EX_USAGE;
	}
	for (int i = 0; i < argc; i++) {
		struct azpath p;
		struct progress *pg;
		azblob_opts *o;
		int rc = one_az(c, 1, argv + i, &p, "cat", true);

		if (rc)
			return rc;
		/* The bar only when asked: stdout may be the terminal. */
		if (c->progress == -1)
			c->progress = 0;
		pg = progress_new(c, p.path);
		o = opts_for(c, pg);
		rc = azblob_download_fd(c->ctx, p.container, p.path,
					STDOUT_FILENO, o, c->err);
		progress_done(pg, !rc);
		azblob_opts_free(o);
		azpath_free(&p);
		if (rc)
			return fail(c, rc, argv[i]);
	}
	return EX_OK;
}
