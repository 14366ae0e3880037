// SPDX-License-Identifier: GPL-2.0
/*
 * az_blob_host - the Azure Blob VSP outside a QEMU test guest.
 *
 * TEST-ONLY. It creates the guest's RAM file (QEMU maps it with
 * memory-backend-file,share=on), serves QEMU's ivshmem-doorbell device as
 * its ivshmem server, and executes the Blob requests that the guest's
 * relay (az_relay.h) forwards, on guest memory, by guest-physical address:
 * what a Hyper-V host does for the real driver. See README.md.
 *
 * Threads: the main thread runs the event loop (socket, doorbell, signals,
 * submission ring, deadlines); a pool of workers runs the services; one
 * thread beats the heartbeat.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "core.h"
#include "gpa.h"
#include "server.h"
#include "test_service.h"
#include "util.h"

#ifdef AZ_HOST_WITH_BLOB
#include "blob_service.h"
#endif

#define AZ_DEFAULT_THREADS	16
/* How long a shutdown waits for the services to let go of guest memory. */
#define AZ_SHUTDOWN_WAIT_MS	3000

struct az_opts {
	const char *ram_file;
	uint64_t ram_size;
	const char *socket;
	unsigned int threads;
	const char *blob_endpoint;
	const char *pidfile;
	bool force;
	bool no_test_service;
	int verbose;
};

struct az_app {
	struct az_opts o;
	struct az_ram ram;
	struct az_server srv;
	struct az_core *core;
	struct az_host_service test_svc;
	struct az_host_service blob_svc;
	bool blob_up;
	int sig_fd;
	bool attached;
	bool draining;
};

static void az_usage(FILE *f)
{
	fprintf(f,
"Usage: " AZ_PROG " --ram-file PATH --ram-size SIZE --socket PATH [OPTION]...\n"
"\n"
"The Azure Blob VSP for a QEMU test guest (TEST-ONLY): serves the guest's\n"
"ivshmem-doorbell device and executes the Blob requests its relay forwards\n"
"on the guest's RAM, by guest-physical address.\n"
"\n"
"  --ram-file PATH       create the guest RAM file (e.g. /dev/shm/NAME) that\n"
"                        QEMU maps with memory-backend-file,share=on; it is\n"
"                        removed at exit\n"
"  --ram-size SIZE       its size, as QEMU's -m and the backend's size=\n"
"                        (bytes, or with a K, M, G suffix)\n"
"  --force               replace an existing RAM file\n"
"  --socket PATH         the ivshmem server socket QEMU's chardev connects to\n"
"  --threads N           worker threads: requests served in parallel\n"
"                        (default %d)\n"
"  --blob-endpoint URL   serve Blob (\"HsReq001\") requests against URL\n"
"  --no-test-service     do not serve the test service (\"ABST\" requests)\n"
"  --pidfile PATH        write the pid there once the socket listens\n"
"  -v, --verbose         log every request served\n"
"  -h, --help            this help\n"
"\n"
"Once the socket listens it prints \"ready\" on stdout: start QEMU then.\n"
"SIGTERM or SIGINT: the host tells the guest it is gone, removes its files\n"
"and exits 0.\n", AZ_DEFAULT_THREADS);
}

static int az_parse_opts(int argc, char **argv, struct az_opts *o)
{
	enum {
		OPT_RAM_FILE = 256, OPT_RAM_SIZE, OPT_SOCKET, OPT_THREADS,
		OPT_BLOB, OPT_PIDFILE, OPT_FORCE, OPT_NO_TEST,
	};
	static const struct option longopts[] = {
		{ "ram-file", required_argument, NULL, OPT_RAM_FILE },
		{ "ram-size", required_argument, NULL, OPT_RAM_SIZE },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "blob-endpoint", required_argument, NULL, OPT_BLOB },
		{ "pidfile", required_argument, NULL, OPT_PIDFILE },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "no-test-service", no_argument, NULL, OPT_NO_TEST },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long n;
	int c;

	memset(o, 0, sizeof(*o));
	o->threads = AZ_DEFAULT_THREADS;
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_RAM_FILE:
			o->ram_file = optarg;
			break;
		case OPT_RAM_SIZE:
			if (az_parse_size(optarg, &o->ram_size) ||
			    !o->ram_size || o->ram_size % AZ_HV_PAGE_SIZE) {
				az_log("--ram-size: '%s' is not a positive size in whole 4 KiB pages",
				       optarg);
				return -1;
			}
			break;
		case OPT_SOCKET:
			o->socket = optarg;
			break;
		case OPT_THREADS:
			if (az_parse_uint(optarg, 1, AZ_CORE_MAX_THREADS, &n)) {
				az_log("--threads: '%s' is not a number from 1 to %d",
				       optarg, AZ_CORE_MAX_THREADS);
				return -1;
			}
			o->threads = (unsigned int)n;
			break;
		case OPT_BLOB:
			o->blob_endpoint = optarg;
			break;
		case OPT_PIDFILE:
			o->pidfile = optarg;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_NO_TEST:
			o->no_test_service = true;
			break;
		case 'v':
			o->verbose++;
			break;
		case 'h':
			az_usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "Try '" AZ_PROG " --help'.\n");
			return -1;
		}
	}
	if (optind < argc) {
		az_log("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (!o->ram_file || !o->ram_size || !o->socket) {
		az_log("--ram-file, --ram-size and --socket are required (see --help)");
		return -1;
	}
#ifndef AZ_HOST_WITH_BLOB
	if (o->blob_endpoint) {
		az_log("--blob-endpoint: built without the Blob service");
		return -1;
	}
#endif
	return 0;
}

static int az_write_pidfile(const char *path)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -1;
	f = fopen(tmp, "w");
	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)getpid());
	if (fclose(f)) {
		unlink(tmp);
		return -1;
	}
	/* Whole or absent: a harness never reads half a pid. */
	if (rename(tmp, path)) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int az_block_signals(int *sig_fd)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	sigset_t set;

	/* Writes to a vanished QEMU or Blob endpoint fail with EPIPE instead. */
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Before any thread exists: they all inherit the mask. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL))
		return -1;
	*sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return *sig_fd < 0 ? -1 : 0;
}

static int az_setup(struct az_app *a)
{
	struct az_core_cfg cfg = {
		.threads = a->o.threads,
		.verbose = a->o.verbose,
	};
	char err[512];

	if (az_ram_create(&a->ram, a->o.ram_file, a->o.ram_size, a->o.force,
			  err, sizeof(err))) {
		az_log("%s", err);
		return -1;
	}
	a->core = az_core_new(&cfg, &a->ram.layout);
	if (!a->core) {
		az_log("cannot set up: %s", strerror(errno));
		return -1;
	}
	if (!a->o.no_test_service) {
		az_test_service_init(&a->test_svc);
		az_core_add_service(a->core, &a->test_svc);
	}
#ifdef AZ_HOST_WITH_BLOB
	if (a->o.blob_endpoint) {
		if (az_blob_service_init(&a->blob_svc, a->o.blob_endpoint,
					 a->o.verbose)) {
			az_log("the Blob service refused endpoint %s",
			       a->o.blob_endpoint);
			return -1;
		}
		a->blob_up = true;
		if (az_core_add_service(a->core, &a->blob_svc)) {
			az_log("too many services");
			return -1;
		}
	}
#endif
	if (az_core_start(a->core)) {
		az_log("cannot start threads: %s", strerror(errno));
		return -1;
	}
	if (az_server_open(&a->srv, a->o.socket, a->o.verbose, err,
			   sizeof(err))) {
		az_log("%s", err);
		return -1;
	}
	if (a->o.pidfile && az_write_pidfile(a->o.pidfile)) {
		az_log("%s: %s", a->o.pidfile, strerror(errno));
		return -1;
	}
	printf("ready\n");
	fflush(stdout);
	if (a->o.verbose)
		az_log("listening on %s; guest RAM %s (%llu bytes, %llu low)",
		       a->o.socket, a->o.ram_file,
		       (unsigned long long)a->ram.layout.size,
		       (unsigned long long)a->ram.layout.low);
	return 0;
}

/* The event loop; returns when a termination signal arrives. */
static void az_loop(struct az_app *a)
{
	for (;;) {
		struct pollfd p[5];
		int timeout = -1, n, np = 0;
		int i_sig, i_listen, i_wake, i_client = -1, i_bell = -1;

		if (a->attached && !a->draining)
			timeout = az_core_run(a->core);
		else if (a->draining)
			timeout = AZ_CORE_TICK_MS;

		i_sig = np;
		p[np++] = (struct pollfd){ .fd = a->sig_fd, .events = POLLIN };
		i_listen = np;
		p[np++] = (struct pollfd){ .fd = a->srv.listen_fd,
					   .events = POLLIN };
		i_wake = np;
		p[np++] = (struct pollfd){ .fd = az_core_wake_fd(a->core),
					   .events = POLLIN };
		if (a->srv.client_fd >= 0) {
			i_client = np;
			p[np++] = (struct pollfd){ .fd = a->srv.client_fd,
						   .events = POLLIN };
		}
		if (a->attached && !a->draining) {
			i_bell = np;
			p[np++] = (struct pollfd){ .fd = a->srv.cur.host_efd,
						   .events = POLLIN };
		}

		n = poll(p, (nfds_t)np, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			az_log("poll: %s", strerror(errno));
			return;
		}
		if (p[i_sig].revents)
			return;
		if (p[i_wake].revents)
			az_eventfd_drain(az_core_wake_fd(a->core));
		if (i_bell >= 0 && p[i_bell].revents)
			az_eventfd_drain(a->srv.cur.host_efd);
		if (i_client >= 0 && p[i_client].revents && !a->draining &&
		    az_server_client_gone(&a->srv)) {
			az_core_detach_begin(a->core);
			a->draining = true;
		}
		if (a->draining && az_core_idle(a->core)) {
			az_core_detach(a->core);
			az_server_end_session(&a->srv);
			a->attached = false;
			a->draining = false;
		}
		if (p[i_listen].revents && az_server_accept(&a->srv) == 1) {
			az_core_attach(a->core, a->srv.cur.shm,
				       a->srv.cur.guest_efd);
			a->attached = true;
		}
	}
}

static void az_print_stats(struct az_core *c)
{
	struct az_core_stats st;

	az_core_get_stats(c, &st);
	az_log("packets %llu, completions %llu, refused %llu, no service %llu, timeouts %llu, cancelled %llu, closes %llu",
	       (unsigned long long)st.packets,
	       (unsigned long long)st.completed,
	       (unsigned long long)st.invalid,
	       (unsigned long long)st.unserved,
	       (unsigned long long)st.timeouts,
	       (unsigned long long)st.cancelled,
	       (unsigned long long)st.closes);
}

/*
 * SIGTERM/SIGINT: let go of guest memory, tell the guest the host is gone,
 * remove the files. Returns the exit status.
 */
static int az_shutdown(struct az_app *a)
{
	bool idle = true;

	if (a->core) {
		idle = az_core_shutdown(a->core, AZ_SHUTDOWN_WAIT_MS);
		if (!idle) {
			/* A service ignores its cancel: cut it off the guest. */
			az_log("a service did not stop in %d ms: revoking guest RAM",
			       AZ_SHUTDOWN_WAIT_MS);
			if (az_ram_revoke(&a->ram))
				az_log("cannot revoke guest RAM: %s",
				       strerror(errno));
		}
		az_core_set_gone(a->core);
		if (a->o.verbose)
			az_print_stats(a->core);
		if (idle) {
			az_core_detach(a->core);
			az_core_free(a->core);
			a->core = NULL;
		}
	}
#ifdef AZ_HOST_WITH_BLOB
	if (a->blob_up && idle)
		az_blob_service_fini(&a->blob_svc);
#endif
	az_server_close(&a->srv);
	if (idle) {
		az_ram_destroy(&a->ram);
	} else if (a->ram.path) {
		/* Threads may still run on the (revoked) mapping: keep it. */
		unlink(a->ram.path);
	}
	if (a->o.pidfile)
		unlink(a->o.pidfile);
	if (a->sig_fd >= 0)
		close(a->sig_fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct az_app a;

	memset(&a, 0, sizeof(a));
	a.sig_fd = -1;
	a.ram.fd = -1;
	az_server_init(&a.srv);
	if (az_parse_opts(argc, argv, &a.o))
		return 2;
	if (az_block_signals(&a.sig_fd)) {
		az_log("cannot set up signals: %s", strerror(errno));
		return 1;
	}
	if (az_setup(&a)) {
		az_shutdown(&a);
		return 1;
	}
	az_loop(&a);
	return az_shutdown(&a);
}
