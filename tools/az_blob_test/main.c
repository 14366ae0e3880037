// SPDX-License-Identifier: GPL-2.0
/*
 * az_blob_test - tests for /dev/azure_blob (hv_azure_blob) against the
 * simulated Blob VSP (az_blob_sim.ko).
 *
 * Every request buffer starts with a struct az_sim_req (az_blob_sim.h) that
 * tells the simulated host what to do, so that every outcome is known in
 * advance: the status, the response bytes, the data bytes, the errno and the
 * driver's debugfs counters. Each test prints one line, "ok <name>",
 * "FAIL <name>: <reason>" or "skip <name>: <reason>", and the last line is
 * "N passed, M failed[, K skipped]". After every test the runner checks that
 * the driver holds no request and no pinned page, that the kernel logged no
 * warning, and, with the simulator's control interface, that the host saw
 * no protocol violation, no misuse of the VMBus core and no write to a page
 * the driver had unpinned.
 *
 *   az_blob_test              run every test
 *   az_blob_test echo_ 'fill*' run the tests matching a prefix or a glob
 *   az_blob_test demo         a few readable requests, for newcomers
 *   az_blob_test fuzz         random ioctls, errnos and guard bytes checked
 *   az_blob_test lifecycle    kill, close, munmap, fork, unbind, rescind,
 *                             unload and suspend with requests in flight
 *   az_blob_test failinject   failslab/fail_page_alloc on the submit path
 *
 * The sources are split like tools/testing/selftests: harness.h/harness.c
 * hold what the suites share (reporting, arenas, requests, the driver's and
 * the simulator's state, misc devices, the runner); each suite has a file of
 * its own (functional.c, validation.c, concurrency.c, hostfaults.c,
 * device.c, demo.c, fuzz.c, lifecycle.c, failinject.c) whose tests or entry
 * point suites.h declares; this file parses the options, holds the table of
 * tests and dispatches the subcommands.
 *
 * Build: make -C tools/az_blob_test [O=DIR]   static DIR/az_blob_test and
 *        DIR/az_blob_test32 (default DIR: tools/az_blob_test)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

static int g_iters_set;			/* -n given */
static int g_slow;			/* -S */

/* ------------------------------------------------------------------ */
/* The tests                                                           */
/* ------------------------------------------------------------------ */

static const struct test tests[] = {
	{ "echo_small", t_echo_small, 0, "64-byte echo" },
	{ "released_on_return", t_released_on_return, 0, "nothing pinned the moment a call returns (200 calls)" },
	{ "echo_unaligned", t_echo_unaligned, 0, "echo, buffers at odd offsets across pages" },
	{ "echo_shared_page", t_echo_shared_page, 0, "request and response in one page" },
	{ "echo_truncated", t_echo_truncated, 0, "response shorter than the request" },
	{ "info_layout", t_info_layout, 0, "the 56-byte packet and GPA range, field by field" },
	{ "info_nodata", t_info_nodata, 0, "packet without a data buffer" },
	{ "fill_data", t_fill_data, 0, "host writes 1 MiB at an odd offset" },
	{ "sum_data", t_sum_data, 0, "host reads data_valid < data_len bytes" },
	{ "fill_max", t_fill_max, 0, "exactly 8192 pages in total" },
	{ "data_overlaps_request", t_data_overlaps_request, 0, "data buffer containing the request" },
	{ "status_passthrough", t_status_passthrough, 0, "host status reaches response.status" },
	{ "host_timeout", t_host_timeout, 0, "the host cancels at the timeout, answers before it" },
	{ "upload_readonly_data", t_upload_readonly_data, 0, "AZ_BLOB_DATA_HOST_READS: read-only and file-backed data" },
	{ "flags_nonzero", t_flags_nonzero, 0, "EINVAL for any bit but AZ_BLOB_DATA_HOST_READS" },
	{ "request_len_zero", t_request_len_zero, 0, "EINVAL" },
	{ "response_len_zero", t_response_len_zero, 0, "EINVAL" },
	{ "data_valid_gt_len", t_data_valid_gt_len, 0, "EINVAL" },
	{ "null_request", t_null_request, 0, "EINVAL" },
	{ "null_response", t_null_response, 0, "EINVAL" },
	{ "null_data", t_null_data, 0, "EINVAL" },
	{ "len_too_big", t_len_too_big, 0, "E2BIG for each length" },
	{ "pages_too_many", t_pages_too_many, 0, "E2BIG at 8193 pages" },
	{ "unmapped_buffer", t_unmapped_buffer, 0, "EFAULT" },
	{ "partly_mapped", t_partly_mapped, 0, "EFAULT, nothing left pinned" },
	{ "readonly_response", t_readonly_response, 0, "EFAULT" },
	{ "readonly_data", t_readonly_data, 0, "EFAULT" },
	{ "readonly_request_ok", t_readonly_request_ok, 0, "read-only request works" },
	{ "bad_struct_ptr", t_bad_struct_ptr, 0, "EFAULT" },
	{ "bad_ioctl", t_bad_ioctl, 0, "ENOTTY" },
	{ "kernel_address", t_kernel_address, 0, "EFAULT" },
	{ "threads_mixed", t_threads_mixed, 0, "-t threads x -n random requests" },
	{ "killed_caller", t_killed_caller, 0, "SIGKILL while the host holds the request" },
	{ "user_bound", t_user_bound, NEEDS_SIM, "a user's 257th request waits, other users' do not" },
	{ "freezable_wait", t_freezable_wait, NEEDS_SIM, "a caller waiting for the host can be frozen" },
	{ "unknown_id", t_unknown_id, NEEDS_SIM, "completion for an id never sent" },
	{ "id_zero", t_id_zero, NEEDS_SIM, "completion with id 0" },
	{ "duplicate", t_duplicate, NEEDS_SIM, "the same completion twice" },
	{ "short_completion", t_short_completion, NEEDS_SIM, "EIO" },
	{ "long_completion", t_long_completion, NEEDS_SIM, "up to 64 KiB accepted, extra bytes ignored, nothing cut" },
	{ "long_completion_next", t_long_completion_next, NEEDS_SIM, "a long completion right before another" },
	{ "resplen_over", t_resplen_over, NEEDS_SIM, "EIO" },
	{ "resplen_equal", t_resplen_equal, NEEDS_SIM, "response_len = buffer length" },
	{ "bad_type", t_bad_type, NEEDS_SIM, "an in-band packet is dropped, the request stays the host's" },
	{ "inband_live_id", t_inband_live_id, NEEDS_SIM, "an in-band packet with a live id leaves it alone" },
	{ "reused_id_duplicate", t_reused_id_duplicate, NEEDS_SIM, "a stale completion for a reused id is unknown" },
	{ "never_timeout", t_never_timeout, NEEDS_SIM, "the host holds past the timeout: the caller waits" },
	{ "channel_params", t_channel_params, NEEDS_SIM, "ring sizes, max_pkt_size, no core requestor" },
	{ "suspend_resume", t_suspend_resume, NEEDS_SIM, "suspend and resume while idle" },
	{ "resume_failure", t_resume_failure, NEEDS_SIM, "a failed resume leaves the device gone (ENODEV)" },
	{ "second_device", t_second_device, NEEDS_SIM, "a second device next to the first" },
	{ "unbind_bind", t_unbind_bind, 0, "unbind and bind through sysfs" },
	{ "hang_burst_rescind", t_hang_burst_rescind, NEEDS_SIM, "rescind with 8 requests held" },
	{ "rescind_after_commit", t_rescind_after_commit, NEEDS_SIM, "rescind between commit and send's end" },
	{ "suspend_busy", t_suspend_busy, NEEDS_SIM | SLOW, "suspend waits for a request the host answers" },
	{ "suspend_drains_then_fails", t_suspend_drains_then_fails, NEEDS_SIM | SLOW, "suspend fails what the host keeps past 10 s" },
	{ "late_answer_after_timeout", t_late_answer_after_timeout, NEEDS_SIM | SLOW, "the host answers 6 s after the timeout" },
	{ "ring_full_fifo", t_ring_full_fifo, NEEDS_SIM | SLOW, "senders queue in order, EBUSY after 5 s stalled" },
	{ "ring_room_without_completion", t_ring_room_without_completion, NEEDS_SIM, "a waiting sender goes in when the host takes packets off, answered or not" },
	{ "shmem_file_mapping", t_shmem_file_mapping, 0, "download into and upload from a shared tmpfs file mapping" },
	{ "longterm_file_mapping", t_longterm_file_mapping, 0, "a shared ext2 file mapping: no writable long-term pin from 6.5 (EFAULT), uploads work" },
	{ "uring_round_trips", t_uring_round_trips, 0, "io_uring: echo, FILL 1 B to 8190 pages, SUM; CQE as the ioctl" },
	{ "uring_status", t_uring_status, 0, "io_uring: host status and host timeout in big_cqe[0]" },
	{ "uring_validation", t_uring_validation, 0, "io_uring: every ioctl validation case, same errno in res" },
	{ "uring_timeout_range", t_uring_timeout_range, 0, "io_uring: timeout 0 or above the maximum EINVAL; 1 and the maximum work" },
	{ "uring_ring_shape", t_uring_ring_shape, 0, "io_uring: no SQE128 or no CQE32 EOPNOTSUPP; unknown uring_cmd_flags EINVAL" },
	{ "uring_iopoll_ring", t_uring_iopoll_ring, 0, "io_uring: an IOPOLL ring EOPNOTSUPP" },
	{ "uring_not_ioctl", t_uring_not_ioctl, 0, "ioctl(AZ_BLOB_URING_CMD_REQUEST) ENOTTY" },
	{ "uring_sqe_copied_once", t_uring_sqe_copied_once, 0, "io_uring: the SQE overwritten after submission changes nothing" },
	{ "uring_inflight_64", t_uring_inflight_64, 0, "io_uring: 64 commands in flight from one thread, data checked" },
	{ "uring_async", t_uring_async, 0, "io_uring: IOSQE_ASYNC (io-wq), 64 in flight" },
	{ "uring_queue_full", t_uring_queue_full, NEEDS_SIM, "io_uring: 300 commands, the host holding: 256 reach it (inline, IOSQE_ASYNC)" },
	{ "uring_ring_closed", t_uring_ring_closed, NEEDS_SIM, "io_uring: ring closed with 8 held; pages kept until the host answers" },
	{ "uring_killed", t_uring_killed, NEEDS_SIM, "io_uring: submitter and its ring killed with 4 held (6.12+: cancelled at once)" },
	{ "uring_killed_shared", t_uring_killed_shared, NEEDS_SIM, "io_uring: submitter killed, its parent keeps the ring: CQEs when the host answers" },
	{ "uring_exec", t_uring_exec, NEEDS_SIM, "io_uring: submitter execs with 4 held (6.12+: ECANCELED; 6.1: exec waits)" },
	{ "uring_exit_host_timeout", t_uring_exit_host_timeout, NEEDS_SIM, "io_uring: submitter exits, the host answers only at its 2 s timeout" },
	{ "uring_driver_deadline", t_uring_driver_deadline, NEEDS_SIM | SLOW, "io_uring: a host ignoring the timeout: ETIMEDOUT, EAGAIN, channel reset" },
	{ "uring_removal", t_uring_removal, NEEDS_SIM, "io_uring: rescind with 8 held: ENODEV CQEs" },
	{ "uring_fixed", t_uring_fixed, NEEDS_SIM, "io_uring: registered buffer: echo, FILL, SUM, nothing pinned per request" },
	{ "uring_fixed_bad", t_uring_fixed_bad, 0, "io_uring: FIXED outside the buffer or bad buf_index EFAULT; read-only request works" },
	{ "uring_unregister_held", t_uring_unregister_held, NEEDS_SIM, "io_uring: buffers unregistered while the host holds a FIXED request" },
	{ "uring_fixed_cancelled", t_uring_fixed_cancelled, NEEDS_SIM, "io_uring: FIXED request cancelled at exit, the host answers later" },
	{ "uring_fuzz_short", t_uring_fuzz_short, 0, "io_uring: 3000 random SQEs (uring_fuzz subcommand for more)" },
};

#define NTESTS	(sizeof(tests) / sizeof(tests[0]))

/* ------------------------------------------------------------------ */
/* main                                                                */
/* ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: az_blob_test [options] [TEST...]\n"
"       az_blob_test [-d PATH] demo\n"
"       az_blob_test [-d PATH] [-n CALLS] [-t THREADS] [-r SEED] fuzz\n"
"       az_blob_test [-d PATH] [-n ITER] [-t THREADS] lifecycle [CASE...]\n"
"       az_blob_test [-d PATH] [-n ITER] failinject\n"
"       az_blob_test [-d PATH] [-n CALLS] [-r SEED] uring_fuzz\n"
"\n"
"Tests the Azure Blob VMBus driver (hv_azure_blob) through /dev/azure_blob\n"
"against the simulated host az_blob_sim.ko. Each test prints 'ok NAME',\n"
"'FAIL NAME: reason' or 'skip NAME: reason'; the last line is\n"
"'N passed, M failed[, K skipped]'. The exit status is 0 when none failed.\n"
"TEST is a name, a prefix or a glob (quote it: 'fill*'); none means all.\n"
"\n"
"Options:\n"
"  -d PATH   device node (default /dev/azure_blob)\n"
"  -l        list the tests and exit\n"
"  -t N      threads for threads_mixed, fuzz, lifecycle (default 4)\n"
"  -n N      requests per thread for threads_mixed (default 200); calls\n"
"            or iterations of a subcommand\n"
"  -s        run the tests that need the simulator's control interface\n"
"            (default: when " SIM_DIR " exists)\n"
"  -S        also run slow tests (suspend_busy, suspend_drains_then_fails,\n"
"            late_answer_after_timeout, ring_full_fifo: about 40 s)\n"
"  -r SEED   random seed (default: from the clock; printed with -v)\n"
"  -v        verbose: what each test does, simulator commands\n"
"  -h, --help  this text\n"
"\n"
"demo        a few requests explained step by step (echo, fill 1 MiB,\n"
"            checksum, host status, host timeout): start here\n"
"\n"
"Suites run as subcommands; each prints 'ok NAME' / 'FAIL NAME: why' /\n"
"'skip NAME: why' per check, '#' lines with figures, and the same last line:\n"
"\n"
"fuzz [-n CALLS] [-t THREADS] [-r SEED]\n"
"            random ioctls (default 1000000 calls on 4 threads): every field\n"
"            random or at a boundary, buffers valid, NULL, unmapped, partly\n"
"            mapped, read-only, kernel, wrapping or overlapping; wrong ioctl\n"
"            numbers and bad argument pointers; about 3%% reach the host.\n"
"            Each errno must be documented and the one the ABI specifies,\n"
"            answers exact, canary bytes intact; afterwards the device must\n"
"            serve, nothing be pinned, the host have seen no violation\n"
"lifecycle [-n ITER] [-t THREADS] [CASE...]\n"
"            each case ITER times (default 20): kill_under_load,\n"
"            close_fd_during_request, munmap_during_request,\n"
"            fork_during_request, unbind_bind_under_load,\n"
"            rescind_offer_under_load, unload_while_open,\n"
"            suspend_resume_under_load; after each the driver must be idle\n"
"uring_fuzz [-n CALLS] [-r SEED]\n"
"            random io_uring commands (default 100000, one thread, 32 in\n"
"            flight): cmd_op, uring_cmd_flags, buf_index, IOSQE_ASYNC and the\n"
"            payload random; every res 0 or documented, valid ones succeed,\n"
"            afterwards nothing in flight or pinned\n"
"failinject [-n ITER]\n"
"            ITER requests (default 2000, up to 1 MiB) with failslab and\n"
"            fail_page_alloc failing 20%% of the submitting thread's\n"
"            allocations: each must succeed exactly or fail with ENOMEM;\n"
"            skipped on a kernel without fault injection\n"
"\n"
"Needs root, debugfs at /sys/kernel/debug (driver counters under\n"
DRV_DBG_DIR "/<device>/stats). After every test the driver must hold\n"
"no request and no pinned page, the kernel must have logged no warning,\n"
"and the simulator must have seen no protocol violation, no misuse and no\n"
"write to an unpinned page. Tests that remove devices bring one back.\n");
}

static int parse_uint(const char *s, unsigned int *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v == 0 || v > 100000000UL)
		return -1;
	*out = (unsigned int)v;
	return 0;
}

/* The misc name of the node @path (via its dev_t), else its basename. */
static void resolve_name(const char *path)
{
	char link[PATH_MAX], sys[64];
	const char *base;
	struct stat st;
	ssize_t n;
	size_t len;

	base = strrchr(path, '/');
	copy_str(run.name, sizeof(run.name), base ? base + 1 : path);
	if (!stat(path, &st) && S_ISCHR(st.st_mode)) {
		snprintf(sys, sizeof(sys), "/sys/dev/char/%u:%u",
			 major(st.st_rdev), minor(st.st_rdev));
		n = readlink(sys, link, sizeof(link) - 1);
		if (n > 0) {
			link[n] = 0;
			base = strrchr(link, '/');
			copy_str(run.name, sizeof(run.name),
				 base ? base + 1 : link);
		}
	}
	len = strlen(run.name);
	while (len && run.name[len - 1] >= '0' && run.name[len - 1] <= '9')
		len--;
	snprintf(run.prefix, sizeof(run.prefix), "%.*s", (int)len, run.name);
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, passed = 0, failed = 0, skipped = 0, any = 0, idx;
	int seed_set = 0;
	size_t i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "d:lt:n:sSr:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			snprintf(run.dev, sizeof(run.dev), "%s", optarg);
			break;
		case 'l':
			for (i = 0; i < NTESTS; i++)
				printf("%-26s %s%s%s\n", tests[i].name,
				       tests[i].desc,
				       tests[i].flags & NEEDS_SIM ? " [sim]" : "",
				       tests[i].flags & SLOW ? " [slow]" : "");
			return 0;
		case 't':
			if (parse_uint(optarg, &run.threads) || run.threads > 256) {
				fprintf(stderr, "az_blob_test: bad -t '%s'\n", optarg);
				return 2;
			}
			break;
		case 'n':
			if (parse_uint(optarg, &run.iters)) {
				fprintf(stderr, "az_blob_test: bad -n '%s'\n", optarg);
				return 2;
			}
			g_iters_set = 1;
			break;
		case 's':
			run.sim = 1;
			break;
		case 'S':
			g_slow = 1;
			break;
		case 'r':
			run.seed = strtoull(optarg, NULL, 0);
			seed_set = 1;
			break;
		case 'v':
			run.verbose = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;

	if (!seed_set)
		run.seed = (uint64_t)time(NULL) * 0x9E3779B97F4A7C15ULL ^
			   (uint64_t)getpid();
	if (!run.seed)
		run.seed = 1;
	resolve_name(run.dev);
	if (run.sim < 0)
		run.sim = !access(SIM_DIR, F_OK);
	if (run.sim > 0) {
		idx = sim_idx_of(run.name);
		run.sim_idx = idx >= 0 ? idx : 0;
	}

	if (argc && !strcmp(argv[0], "demo"))
		return demo();
	if (argc && !strcmp(argv[0], "fuzz"))
		return fuzz(g_iters_set ? run.iters : 1000000);
	if (argc && !strcmp(argv[0], "lifecycle"))
		return lifecycle(g_iters_set ? run.iters : 20, argc - 1,
				 argv + 1);
	if (argc && !strcmp(argv[0], "uring_fuzz"))
		return uring_fuzz(g_iters_set ? run.iters : 100000);
	if (argc && !strcmp(argv[0], "failinject"))
		return failinject(g_iters_set ? run.iters : 2000);

	for (c = 0; c < argc; c++) {
		int hit = 0;

		for (i = 0; i < NTESTS; i++)
			hit |= selected(tests[i].name, 1, &argv[c]);
		if (!hit) {
			fprintf(stderr, "az_blob_test: no test matches '%s' (-l lists them)\n",
				argv[c]);
			return 2;
		}
	}
	vlog("device %s (misc %s), simulator control %s, sim device %d, seed %" PRIu64,
	     run.dev, run.name, run.sim > 0 ? "yes" : "no", run.sim_idx, run.seed);

	for (i = 0; i < NTESTS; i++) {
		const struct test *t = &tests[i];
		int rc;

		if (!selected(t->name, argc, argv))
			continue;
		any = 1;
		if ((t->flags & NEEDS_SIM) && run.sim <= 0) {
			printf("skip %s: needs the simulator's control interface (" SIM_DIR ", -s)\n",
			       t->name);
			skipped++;
			continue;
		}
		if ((t->flags & SLOW) && !g_slow) {
			printf("skip %s: slow, run with -S\n", t->name);
			skipped++;
			continue;
		}
		rc = run_test(t);
		if (rc == TEST_OK) {
			printf("ok %s\n", t->name);
			passed++;
		} else if (rc == TEST_SKIP) {
			printf("skip %s: %s\n", t->name, run.reason);
			skipped++;
		} else {
			printf("FAIL %s: %s\n", t->name, run.reason);
			failed++;
		}
	}
	if (!any)
		fprintf(stderr, "az_blob_test: no test selected\n");
	if (skipped)
		printf("%d passed, %d failed, %d skipped\n", passed, failed,
		       skipped);
	else
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
