// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * azblob: az:// arguments, errors and exit codes, the progress bar.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

bool is_az(const char *s)
{
	return !strncmp(s, "az://", 5);
}

int parse_az(const char *s, struct azpath *out)
{
	const char *c = s + 5, *slash;

	memset(out, 0, sizeof(*out));
	if (!is_az(s) || !*c || *c == '/')
		return -1;
	slash = strchr(c, '/');
	out->container = slash ? strndup(c, (size_t)(slash - c)) : strdup(c);
	out->path = strdup(slash ? slash + 1 : "");
	if (!out->container || !out->path) {
		azpath_free(out);
		return -1;
	}
	return 0;
}

void azpath_free(struct azpath *p)
{
	free(p->container);
	free(p->path);
	memset(p, 0, sizeof(*p));
}

int exit_code(int status)
{
	switch (status) {
	case AZBLOB_OK:			return EX_OK;
	case AZBLOB_E_INVAL:		return EX_USAGE;
	case AZBLOB_E_NOT_FOUND:	return EX_NOTFOUND;
	case AZBLOB_E_EXISTS:
	case AZBLOB_E_CONDITION:	return EX_EXISTS;
	case AZBLOB_E_AUTH:		return EX_AUTH;
	case AZBLOB_E_NETWORK:
	case AZBLOB_E_TIMEOUT:		return EX_NETWORK;
	case AZBLOB_E_DRIVER:
	case AZBLOB_E_HOST:		return EX_DRIVER;
	case AZBLOB_E_IO:		return EX_LOCAL;
	case AZBLOB_E_INTEGRITY:
	case AZBLOB_E_PROTOCOL:		return EX_INTEGRITY;
	case AZBLOB_E_CONFIG:		return EX_CONFIG;
	case AZBLOB_E_CANCELLED:	return EX_CANCELLED;
	default:			return EX_FAIL;
	}
}

int fail(struct cli *c, int status, const char *what)
{
	const char *msg = azblob_error_message(c->err);

	if (!*msg)
		msg = azblob_strstatus(status);
	if (what)
		fprintf(stderr, "azblob: %s: %s\n", what, msg);
	else
		fprintf(stderr, "azblob: %s\n", msg);
	return exit_code(status);
}

int fail_local(const char *what, int err)
{
	fprintf(stderr, "azblob: %s: %s\n", what, strerror(err));
	return EX_LOCAL;
}

/* The progress bar. */

struct progress {
	struct cli *c;
	char label[64];
	bool on;
	bool drawn;
	uint64_t t0, last;
	uint64_t done, total;
};

static uint64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void human(uint64_t b, char *out, size_t n)
{
	static const char *const u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(out, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void draw(struct progress *p, bool final)
{
	struct winsize ws;
	int cols = 80, barw;
	double secs = (double)(ms() - p->t0) / 1000;
	double rate = secs > 0 ? (double)p->done / secs : 0;
	char done[24], total[24], line[512], eta[32] = "";
	bool known = p->total != UINT64_MAX;
	int pct = known && p->total ? (int)(p->done * 100 / p->total) :
				      known ? 100 : 0;

	if (!ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) && ws.ws_col >= 40)
		cols = ws.ws_col < 500 ? ws.ws_col : 500;
	human(p->done, done, sizeof(done));
	human(known ? p->total : p->done, total, sizeof(total));
	if (known && rate > 0 && !final) {
		uint64_t left = (uint64_t)((double)(p->total - p->done) / rate);

		snprintf(eta, sizeof(eta), "ETA %" PRIu64 ":%02" PRIu64,
			 left / 60, left % 60);
	} else if (final) {
		snprintf(eta, sizeof(eta), "%.1f s", secs);
	}
	/* "label  [#####     ] 100%  12.3 MiB / 300.0 MiB  45.6 MB/s  ETA 0:05" */
	barw = cols - 24 - 58;
	if (barw > 40)
		barw = 40;
	{
		char bar[48];
		int fill = barw > 0 && known ? pct * barw / 100 : 0;

		if (barw < 0)
			barw = 0;
		for (int i = 0; i < barw; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[barw] = '\0';
		snprintf(line, sizeof(line),
			 "%-22.22s %s%s%s %3d%% %10s / %-10s %7.1f MB/s  %s",
			 p->label, barw ? "[" : "", bar, barw ? "]" : "", pct,
			 done, known ? total : "?", rate / 1e6, eta);
	}
	fprintf(stderr, "\r%-*.*s", cols - 1, cols - 1, line);
	if (final)
		fputc('\n', stderr);
	fflush(stderr);
	p->drawn = true;
}

struct progress *progress_new(struct cli *c, const char *label)
{
	struct progress *p = calloc(1, sizeof(*p));
	const char *base;

	if (!p)
		return NULL;
	p->c = c;
	p->on = c->progress == 1 ||
		(c->progress == -1 && isatty(STDERR_FILENO));
	base = strlen(label) > 22 ? label + strlen(label) - 22 : label;
	snprintf(p->label, sizeof(p->label), "%s", base);
	p->t0 = ms();
	p->total = UINT64_MAX;
	return p;
}

int progress_cb(void *arg, uint64_t done, uint64_t total)
{
	struct progress *p = arg;
	uint64_t now;

	if (*p->c->interrupted)
		return 1;
	p->done = done;
	p->total = total;
	if (!p->on)
		return 0;
	now = ms();
	if (now - p->last >= 100) {
		p->last = now;
		draw(p, false);
	}
	return 0;
}

void progress_done(struct progress *p, bool ok)
{
	if (!p)
		return;
	if (p->on && ok) {
		if (p->total == UINT64_MAX)
			p->total = p->done;
		draw(p, true);
	} else if (p->drawn) {
		fputs("\n", stderr);
	}
	free(p);
}

azblob_opts *opts_for(struct cli *c, struct progress *p)
{
	azblob_opts *o = azblob_opts_new();

	(void)c;
	if (o && p)
		azblob_opts_set_progress(o, progress_cb, p);
	return o;
}
