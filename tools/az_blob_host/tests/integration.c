// SPDX-License-Identifier: GPL-2.0
/*
 * Integration tests of az_blob_host without QEMU (see integ_cases.c).
 *
 *   integration HOST_BINARY [CASE-SUBSTRING]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../util.h"
#include "integ.h"

void ic_fail(struct ictx *c, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	c->failures++;
	printf("#   %s:%d: ", file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void ic_sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

uint64_t ic_ms_since(uint64_t t0_ns)
{
	return (az_now_ns() - t0_ns) / AZ_NSEC_PER_MSEC;
}

void ihost_dump_log(const struct ihost *h)
{
	char line[512];
	FILE *f = fopen(h->log, "r");
	long lines = 0, skip;

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		lines++;
	rewind(f);
	skip = lines > 40 ? lines - 40 : 0;
	printf("#   --- %s (last %ld lines) ---\n", h->log, lines - skip);
	while (fgets(line, sizeof(line), f))
		if (skip-- <= 0)
			printf("#   | %s", line);
	fclose(f);
}

/* Fork/exec the host with stdout on a pipe and stderr into @log. */
static pid_t ihost_spawn(struct ictx *c, const char *const *argv,
			 const char *log, int *out_fd)
{
	const char *args[32];
	int p[2], fd, n = 0;
	pid_t pid;

	args[n++] = c->bin;
	while (*argv && n < 31)
		args[n++] = *argv++;
	args[n] = NULL;
	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(p[1], 1);
		if (fd >= 0)
			dup2(fd, 2);
		execv(c->bin, (char *const *)args);
		_exit(127);
	}
	close(p[1]);
	*out_fd = p[0];
	return pid;
}

int ihost_start(struct ictx *c, struct ihost *h, unsigned int threads,
		const char *const *extra)
{
	char size[32], thr[16], buf[64];
	const char *argv[32];
	struct pollfd pf;
	size_t got = 0;
	int fd, n = 0;
	ssize_t r;

	c->nhosts++;
	h->ram_size = INTEG_RAM_SIZE;
	snprintf(h->sock, sizeof(h->sock), "%s/ivshmem-%u.sock", c->dir,
		 c->nhosts);
	snprintf(h->ram, sizeof(h->ram), "/dev/shm/az_blob_host_test.%d.%u",
		 (int)getpid(), c->nhosts);
	snprintf(h->pidfile, sizeof(h->pidfile), "%s/host-%u.pid", c->dir,
		 c->nhosts);
	snprintf(h->log, sizeof(h->log), "%s/host-%u.log", c->dir,
		 c->nhosts);
	snprintf(size, sizeof(size), "%lluM",
		 (unsigned long long)(h->ram_size >> 20));
	snprintf(thr, sizeof(thr), "%u", threads);
	argv[n++] = "--ram-file";
	argv[n++] = h->ram;
	argv[n++] = "--ram-size";
	argv[n++] = size;
	argv[n++] = "--socket";
	argv[n++] = h->sock;
	argv[n++] = "--pidfile";
	argv[n++] = h->pidfile;
	argv[n++] = "--threads";
	argv[n++] = thr;
	argv[n++] = "-v";
	while (extra && *extra && n < 31)
		argv[n++] = *extra++;
	argv[n] = NULL;

	h->pid = ihost_spawn(c, argv, h->log, &fd);
	if (h->pid < 0) {
		ic_fail(c, __FILE__, __LINE__, "cannot start %s", c->bin);
		return -1;
	}
	/* "ready\n" once the socket listens (ASan start-up is slow). */
	pf = (struct pollfd){ .fd = fd, .events = POLLIN };
	while (got < 6 && poll(&pf, 1, 20000) == 1) {
		r = read(fd, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	buf[got] = '\0';
	if (strcmp(buf, "ready\n")) {
		ic_fail(c, __FILE__, __LINE__, "host said '%s', not ready",
			buf);
		ihost_dump_log(h);
		ihost_stop(c, h, SIGKILL, 2000);
		return -1;
	}
	return 0;
}

int ihost_stop(struct ictx *c, struct ihost *h, int sig, int ms)
{
	uint64_t t0 = az_now_ns();
	int status;
	pid_t r;

	(void)c;
	if (h->pid <= 0)
		return -1;
	kill(h->pid, sig);
	for (;;) {
		r = waitpid(h->pid, &status, WNOHANG);
		if (r == h->pid) {
			h->pid = 0;
			return status;
		}
		if (ic_ms_since(t0) > (uint64_t)ms)
			break;
		ic_sleep_ms(10);
	}
	kill(h->pid, SIGKILL);
	waitpid(h->pid, &status, 0);
	h->pid = 0;
	return -1;
}

int ihost_run(struct ictx *c, const char *const *argv, char *out,
	      size_t outlen)
{
	char log[256];
	FILE *f;
	int fd, status;
	size_t n;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/run-%u.log", c->dir, ++c->nhosts);
	pid = ihost_spawn(c, argv, log, &fd);
	if (pid < 0)
		return -1;
	close(fd);
	waitpid(pid, &status, 0);
	out[0] = '\0';
	f = fopen(log, "r");
	if (f) {
		n = fread(out, 1, outlen - 1, f);
		out[n] = '\0';
		fclose(f);
	}
	return status;
}

int main(int argc, char **argv)
{
	struct ictx c = { 0 };
	unsigned int n = 0, failed = 0;
	const struct icase *t;
	char cmd[256];
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: %s HOST_BINARY [CASE]\n", argv[0]);
		return 2;
	}
	c.bin = argv[1];
	signal(SIGPIPE, SIG_IGN);
	snprintf(c.dir, sizeof(c.dir), "/tmp/az_blob_host_test.XXXXXX");
	if (!mkdtemp(c.dir)) {
		perror("mkdtemp");
		return 1;
	}
	if (ihost_start(&c, &c.host, INTEG_THREADS, NULL)) {
		printf("not ok 1 start_shared_host\n");
		return 1;
	}
	for (t = integ_cases; t->name; t++) {
		if (argc > 2 && !strstr(t->name, argv[2]))
			continue;
		c.failures = 0;
		t->fn(&c);
		n++;
		if (c.failures) {
			failed++;
			if (c.host.pid > 0)
				ihost_dump_log(&c.host);
		}
		printf("%s %u %s\n", c.failures ? "not ok" : "ok", n, t->name);
		fflush(stdout);
	}

	/* Last: the shared host ends cleanly and leaves nothing behind. */
	c.failures = 0;
	status = ihost_stop(&c, &c.host, SIGTERM, 10000);
	IC(&c, status >= 0 && WIFEXITED(status));
	IC_EQ(&c, WEXITSTATUS(status), 0);
	IC(&c, access(c.host.ram, F_OK) < 0);
	IC(&c, access(c.host.sock, F_OK) < 0);
	IC(&c, access(c.host.pidfile, F_OK) < 0);
	n++;
	if (c.failures) {
		failed++;
		ihost_dump_log(&c.host);
	}
	printf("%s %u shared_host_sigterm_clean_exit\n",
	       c.failures ? "not ok" : "ok", n);
	printf("# integration: %u cases, %u passed, %u failed\n", n,
	       n - failed, failed);
	if (failed) {
		printf("# host logs in %s\n", c.dir);
		return 1;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c.dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", c.dir);
	return 0;
}
