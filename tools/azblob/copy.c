// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * azblob cp: files and directory trees to and from blobs.
 *
 *   cp FILE az://C/BLOB      cp FILE az://C/DIR/  (keeps FILE's name)
 *   cp - az://C/BLOB         stdin
 *   cp az://C/BLOB FILE|DIR|-
 *   cp -r DIR az://C/PREFIX  DIR/REL becomes PREFIX/REL
 *   cp -r az://C/PREFIX DIR  PREFIX/REL becomes DIR/REL
 *
 * A download goes to a temporary file next to the target that is renamed
 * over it only when complete. Blob names that would escape the target
 * directory ("..", absolute, empty segments) are refused. Empty
 * directories have no blob and are not copied.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static char *join(const char *a, const char *b)
{
	char *r;
	size_t la = strlen(a);

	if (asprintf(&r, "%s%s%s", a, la && a[la - 1] != '/' && *b ? "/" : "",
		     b) < 0)
		return NULL;
	return r;
}

static int mkdir_p(const char *path)
{
	char *p = strdup(path);
	int rc = 0;

	if (!p)
		return -1;
	for (char *s = p + 1; ; s++) {
		if (*s != '/' && *s)
			continue;
		char keep = *s;

		*s = '\0';
		if (mkdir(p, 0777) && errno != EEXIST) {
			rc = -1;
			break;
		}
		*s = keep;
		if (!keep)
			break;
	}
	free(p);
	return rc;
}

/* Reads and writes that stop on SIGINT (the library then cleans up). */
struct io {
	int fd;
	struct cli *c;
};

static ssize_t io_read(void *arg, void *buf, size_t len)
{
	struct io *io = arg;

	for (;;) {
		ssize_t n;

		if (*io->c->interrupted) {
			errno = ECANCELED;
			return -1;
		}
		n = read(io->fd, buf, len);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

static int io_write(void *arg, const void *buf, size_t len)
{
	struct io *io = arg;
	const char *p = buf;

	while (len) {
		ssize_t n;

		if (*io->c->interrupted) {
			errno = ECANCELED;
			return -1;
		}
		n = write(io->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int upload_file(struct cli *c, const char *container, const char *blob,
		       const char *path)
{
	bool stdin_src = !strcmp(path, "-");
	struct io io = { .c = c };
	struct progress *pg;
	struct stat st;
	azblob_opts *o;
	char what[4200];
	int rc;

	io.fd = stdin_src ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (io.fd < 0)
		return fail_local(path, errno);
	pg = progress_new(c, stdin_src ? blob : path);
	o = opts_for(c, pg);
	/* A file's size picks the block size at once. */
	if (o && !fstat(io.fd, &st) && S_ISREG(st.st_mode))
		azblob_opts_set_size_hint(o, (uint64_t)st.st_size);
	rc = azblob_upload_stream(c->ctx, container, blob, io_read, &io, o,
				  c->err);
	progress_done(pg, !rc);
	azblob_opts_free(o);
	if (!stdin_src)
		close(io.fd);
	snprintf(what, sizeof(what), "%s -> az://%s/%s", path, container,
		 blob);
	return rc ? fail(c, rc, what) : EX_OK;
}

static int download_file(struct cli *c, const char *container,
			 const char *blob, const char *path)
{
	struct io io = { .c = c };
	struct progress *pg;
	azblob_opts *o;
	char *tmp = NULL, what[4200];
	int rc;

	snprintf(what, sizeof(what), "az://%s/%s", container, blob);
	if (!strcmp(path, "-")) {
		if (c->progress == -1)
			c->progress = 0;
		io.fd = STDOUT_FILENO;
	} else {
		unsigned int r = (unsigned int)getpid() ^ (unsigned int)time(NULL);

		for (int i = 0; i < 100; i++, r = r * 1103515245u + 12345u) {
			free(tmp);
			if (asprintf(&tmp, "%s.azblob-%06x", path, r & 0xffffff) < 0)
				return fail_local(path, ENOMEM);
			io.fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
				     0666);
			if (io.fd >= 0 || errno != EEXIST)
				break;
		}
		if (io.fd < 0) {
			rc = fail_local(path, errno);
			free(tmp);
			return rc;
		}
	}
	pg = progress_new(c, blob);
	o = opts_for(c, pg);
	rc = azblob_download_stream(c->ctx, container, blob, io_write, &io, o,
				    c->err);
	progress_done(pg, !rc);
	azblob_opts_free(o);
	if (tmp) {
		if (close(io.fd) && !rc) {
			rc = -1;
			fail_local(path, errno);
		} else if (!rc && rename(tmp, path)) {
			rc = -1;
			fail_local(path, errno);
		}
		if (rc)
			unlink(tmp);
		free(tmp);
		if (rc == -1)
			return EX_LOCAL;
	}
	return rc ? fail(c, rc, what) : EX_OK;
}

/* DIR/REL to PREFIX/REL, depth first, in name order. */
static int upload_tree(struct cli *c, const char *dir, const char *container,
		       const char *prefix)
{
	struct dirent **ents;
	int n = scandir(dir, &ents, NULL, alphasort), rc = EX_OK;

	if (n < 0)
		return fail_local(dir, errno);
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		char *full = NULL, *blob = NULL;
		struct stat st;

		if (rc || !strcmp(name, ".") || !strcmp(name, "..") ||
		    *c->interrupted)
			goto next;
		full = join(dir, name);
		blob = *prefix ? join(prefix, name) : strdup(name);
		if (!full || !blob) {
			rc = fail_local(dir, ENOMEM);
			goto next;
		}
		if (lstat(full, &st)) {
			rc = fail_local(full, errno);
			goto next;
		}
		if (S_ISLNK(st.st_mode) && (stat(full, &st) ||
					    !S_ISREG(st.st_mode))) {
			fprintf(stderr, "azblob: %s: skipped (a link, not to a file)\n",
				full);
			goto next;
		}
		if (S_ISDIR(st.st_mode))
			rc = upload_tree(c, full, container, blob);
		else if (S_ISREG(st.st_mode))
			rc = upload_file(c, container, blob, full);
		else
			fprintf(stderr, "azblob: %s: skipped (not a file)\n", full);
next:
		free(full);
		free(blob);
		free(ents[i]);
	}
	free(ents);
	if (!rc && *c->interrupted)
		rc = EX_CANCELLED;
	return rc;
}

/* A relative path that stays inside its directory. */
static bool safe_rel(const char *rel)
{
	const char *s = rel;

	if (!*rel || *rel == '/')
		return false;
	while (*s) {
		size_t k = strcspn(s, "/");

		if (!k || (k == 1 && s[0] == '.') ||
		    (k == 2 && s[0] == '.' && s[1] == '.'))
			return false;
		s += k;
		if (*s == '/')
			s++;
	}
	return true;
}

static int download_tree(struct cli *c, const char *container,
			 const char *path, const char *dir)
{
	azblob_lister *l = NULL;
	const azblob_props *it;
	char *prefix, **names = NULL;
	size_t n = 0, cap = 0, plen;
	int rc, ex = EX_OK;

	if (asprintf(&prefix, "%s%s", path, *path &&
		     path[strlen(path) - 1] != '/' ? "/" : "") < 0)
		return fail_local(dir, ENOMEM);
	plen = strlen(prefix);
	rc = azblob_list_blobs(c->ctx, container, prefix, NULL, &l, c->err);
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
		if (!(names[n++] = strdup(azblob_props_name(it))))
			rc = AZBLOB_E_NOMEM;
	}
	azblob_lister_free(l);
	if (rc) {
		ex = fail(c, rc, prefix);
		goto out;
	}
	if (!n) {
		fprintf(stderr, "azblob: az://%s/%s: no blobs\n", container,
			prefix);
		ex = EX_NOTFOUND;
		goto out;
	}
	if (mkdir_p(dir)) {
		ex = fail_local(dir, errno);
		goto out;
	}
	for (size_t i = 0; i < n && !ex; i++) {
		const char *rel = names[i] + plen;
		char *target, *slash;

		if (*c->interrupted) {
			ex = EX_CANCELLED;
			break;
		}
		if (*rel && rel[strlen(rel) - 1] == '/')
			continue;	/* a "directory" marker */
		if (!safe_rel(rel)) {
			fprintf(stderr, "azblob: az://%s/%s: skipped (leaves %s)\n",
				container, names[i], dir);
			continue;
		}
		target = join(dir, rel);
		if (!target) {
			ex = fail_local(dir, ENOMEM);
			break;
		}
		slash = strrchr(target, '/');
		if (slash && slash != target) {
			*slash = '\0';
			if (mkdir_p(target))
				ex = fail_local(target, errno);
			*slash = '/';
		}
		if (!ex)
			ex = download_file(c, container, names[i], target);
		free(target);
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(prefix);
	return ex;
}

int cmd_cp(struct cli *c, int argc, char **argv)
{
	struct azpath p;
	struct stat st;
	const char *src, *dst;
	char *blob;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "azblob cp: [-r] SRC DST (one of them az://...)\n");
		return EX_USAGE;
	}
	src = argv[0];
	dst = argv[1];
	if (is_az(src) == is_az(dst)) {
		fprintf(stderr, "azblob cp: %s\n", is_az(src) ?
			"copying from blob to blob is not supported" :
			"one side must be az://CONTAINER/...");
		return EX_USAGE;
	}
	if (parse_az(is_az(src) ? src : dst, &p)) {
		fprintf(stderr, "azblob cp: %s: not az://CONTAINER[/PATH]\n",
			is_az(src) ? src : dst);
		return EX_USAGE;
	}
	if (!is_az(src)) {
		bool is_dir = strcmp(src, "-") && !stat(src, &st) &&
			      S_ISDIR(st.st_mode);

		if (is_dir && !c->recursive) {
			fprintf(stderr, "azblob cp: %s is a directory (use -r)\n",
				src);
			rc = EX_USAGE;
		} else if (is_dir) {
			char *pre = strdup(p.path);
			size_t k = pre ? strlen(pre) : 0;

			while (k && pre[k - 1] == '/')
				pre[--k] = '\0';
			rc = pre ? upload_tree(c, src, p.container, pre) :
				   fail_local(src, ENOMEM);
			free(pre);
		} else {
			if (!*p.path || p.path[strlen(p.path) - 1] == '/') {
				if (!strcmp(src, "-")) {
					fprintf(stderr, "azblob cp: -: name the blob\n");
					azpath_free(&p);
					return EX_USAGE;
				}
				blob = join(p.path, base_name(src));
			} else {
				blob = strdup(p.path);
			}
			rc = blob ? upload_file(c, p.container, blob, src) :
				    fail_local(src, ENOMEM);
			free(blob);
		}
	} else if (c->recursive) {
		rc = download_tree(c, p.container, p.path, dst);
	} else if (!*p.path) {
		fprintf(stderr, "azblob cp: %s: no blob name (use -r for all)\n",
			src);
		rc = EX_USAGE;
	} else if (strcmp(dst, "-") && !stat(dst, &st) && S_ISDIR(st.st_mode)) {
		char *target = join(dst, base_name(p.path));

		rc = target ? download_file(c, p.container, p.path, target) :
			      fail_local(dst, ENOMEM);
		free(target);
	} else {
		rc = download_file(c, p.container, p.path, dst);
	}
	azpath_free(&p);
	return rc;
}
