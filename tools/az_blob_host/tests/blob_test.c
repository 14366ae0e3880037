// SPDX-License-Identifier: GPL-2.0
/*
 * TEST-ONLY: the tests of the host VSP's Blob service (blob_service.c,
 * http.c, json.c, and the library's crc64.c it builds in). One line per
 * case and a total, as the kernel's selftests print them.
 *
 *   blob_test [--endpoint URL] [--node DIR] [--only SUBSTRING]
 *   blob_test --bench MIB --endpoint URL
 *
 * Without an endpoint ($AZ_BLOB_ENDPOINT, e.g. a local Azurite) the cases
 * that need a real Blob service are skipped; with one, data that went
 * through the service is checked with the Azure SDK (DIR/sdk.js, node) and
 * the reverse. blob_check.sh starts a pinned Azurite and runs all of it.
 *
 * This file is the harness (each case in a child process) and the list of
 * cases; they live in blob_test_format.c (CRC-64, JSON, framing),
 * blob_test_http.c (a scripted HTTP server) and blob_test_azurite.c.
 */
#include "blob_test.h"

const char *endpoint;
const char *node_dir = "node";
char container[64];
struct az_host_service svc;	/* the endpoint's */
struct az_host_service svc_dead;	/* nobody listens there */
static char why[512];
static int n_pass, n_fail, n_skip, n_case;

/* Record why the case fails (first reason wins) and return -1. */
int failf(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (why[0])
		return -1;
	n = snprintf(why, sizeof(why), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(why + n, sizeof(why) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A case may take this long (the 33 MiB round trips under ASan). */
#define CASE_TIMEOUT_S	600

/*
 * Each case runs in a child process with its own service instance: a case
 * that fails half-way (leaving threads, sockets, memory behind) or crashes
 * cannot disturb the next, and LeakSanitizer checks each passing case
 * alone at its exit. A failing case leaves with _exit(), without the leak
 * check: what it left behind is expected.
 */
static void run_case(const char *name, int (*fn)(void), bool needs_service,
		     const char *only)
{
	uint64_t t0;
	int pfd[2], status = 0;
	pid_t pid;
	size_t n = 0;

	if (only && !strstr(name, only))
		return;
	n_case++;
	if (needs_service && !endpoint) {
		printf("ok %d %s # SKIP no Blob endpoint\n", n_case, name);
		n_skip++;
		fflush(stdout);
		return;
	}
	why[0] = '\0';
	t0 = now_ms();
	fflush(stdout);
	if (pipe(pfd))
		abort();
	pid = fork();
	if (pid == 0) {
		int rc;

		close(pfd[0]);
		if (endpoint && az_blob_service_init(&svc, endpoint, 0))
			_exit(3);
		alarm(CASE_TIMEOUT_S);
		rc = fn();
		if (write(pfd[1], why, strlen(why)) < 0)
			_exit(4);
		close(pfd[1]);
		if (rc)
			_exit(1);
		if (endpoint)
			az_blob_service_fini(&svc);
		exit(0);
	}
	close(pfd[1]);
	for (;;) {
		ssize_t k = read(pfd[0], why + n, sizeof(why) - 1 - n);

		if (k <= 0)
			break;
		n += (size_t)k;
	}
	why[n] = '\0';
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		printf("ok %d %s (%llu ms)\n", n_case, name,
		       (unsigned long long)(now_ms() - t0));
		n_pass++;
	} else {
		if (!why[0]) {
			if (WIFSIGNALED(status))
				snprintf(why, sizeof(why), "killed by signal %d%s",
					 WTERMSIG(status),
					 WTERMSIG(status) == SIGALRM ?
					 " (timeout)" : "");
			else
				snprintf(why, sizeof(why),
					 "exit %d (a sanitizer report above?)",
					 WEXITSTATUS(status));
		}
		printf("not ok %d %s: %s\n", n_case, name, why);
		n_fail++;
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "node", required_argument, NULL, 'n' },
		{ "only", required_argument, NULL, 'o' },
		{ "bench", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 },
	};
	const char *only = NULL;
	size_t bench_mib = 0;
	char dead[64];
	int c;

	signal(SIGPIPE, SIG_IGN);	/* the fake server's writes */
	endpoint = getenv("AZ_BLOB_ENDPOINT");
	if (endpoint && !*endpoint)
		endpoint = NULL;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'e':
			endpoint = optarg;
			break;
		case 'n':
			node_dir = optarg;
			break;
		case 'o':
			only = optarg;
			break;
		case 'b':
			bench_mib = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: %s [--endpoint URL] [--node DIR] [--only NAME] [--bench MIB]\n",
				argv[0]);
			return 2;
		}
	}
	snprintf(container, sizeof(container), "hostsvc%d%ld", getpid(),
		 (long)time(NULL) % 100000);
	if (endpoint) {
		/* Checked here; each case makes its own instance. */
		if (az_blob_service_init(&svc, endpoint, 0)) {
			fprintf(stderr, "blob_test: bad endpoint %s\n", endpoint);
			return 2;
		}
		if (!bench_mib)
			az_blob_service_fini(&svc);
	}
	if (bench_mib) {
		if (!endpoint || sdk(NULL, 0, "mkcontainer %s", container)) {
			fprintf(stderr, "blob_test: --bench needs a working --endpoint\n");
			return 2;
		}
		return bench(bench_mib);
	}
	snprintf(dead, sizeof(dead), "http://127.0.0.1:%d", fake_dead_port());
	if (az_blob_service_init(&svc_dead, dead, 0))
		return 2;

	run_case("crc64_nvme", t_crc64, false, only);
	run_case("json_valid", t_json_valid, false, only);
	run_case("json_malformed", t_json_malformed, false, only);
	run_case("json_limits", t_json_limits, false, only);
	run_case("json_escapes", t_json_escapes, false, only);
	run_case("json_duplicates", t_json_duplicates, false, only);
	run_case("json_writer", t_json_writer, false, only);
	run_case("frame_header", t_frame_header, false, only);
	run_case("frame_crc", t_frame_crc, false, only);
	run_case("frame_truncated", t_frame_truncated, false, only);
	run_case("frame_schema", t_frame_schema, false, only);
	run_case("frame_refused", t_frame_refused, false, only);
	run_case("http_chunked", t_http_chunked, false, only);
	run_case("http_truncated", t_http_truncated, false, only);
	run_case("http_framings", t_http_framings, false, only);
	run_case("http_malformed", t_http_malformed, false, only);
	run_case("http_keepalive_stale", t_http_keepalive_stale, false, only);
	run_case("http_retry_before_send_only", t_http_retry, false, only);
	run_case("http_early_answer", t_http_early_answer, false, only);
	run_case("deadline_no_answer", t_deadline_no_answer, false, only);
	run_case("deadline_mid_upload", t_deadline_mid_upload, false, only);
	run_case("cancel", t_cancel, false, only);
	run_case("connection_refused", t_refused, false, only);
	run_case("azurite_container_201_409", t_container, true, only);
	run_case("azurite_put_get_sizes", t_put_get_sizes, true, only);
	run_case("azurite_head", t_head, true, only);
	run_case("azurite_list", t_list, true, only);
	run_case("azurite_delete_404", t_delete_404, true, only);
	run_case("azurite_403", t_403, true, only);
	run_case("azurite_sharedkey_order", t_sharedkey_order, true, only);
	run_case("azurite_inline_body", t_inline_body, true, only);
	run_case("azurite_truncated_get", t_truncated_get, true, only);
	run_case("azurite_insufficient_buffer", t_insufficient_buffer, true, only);
	run_case("azurite_keepalive_reuse", t_keepalive_reuse, true, only);
	run_case("azurite_threads", t_threads, true, only);
	run_case("azurite_sdk_reverse", t_sdk_reverse, true, only);
	run_case("azurite_encoded_names", t_encoded_names, true, only);
	run_case("azurite_content_crc64", t_content_crc64, true, only);
	run_case("azurite_cleanup", t_cleanup, true, only);

	printf("# %d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
	az_blob_service_fini(&svc_dead);
	return n_fail ? 1 : 0;
}
