/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What each suite file offers main.c: the tests of its table, or the entry
 * point of a subcommand. Every test returns TEST_OK, TEST_FAIL (with a
 * reason from fail()) or TEST_SKIP.
 */
#ifndef AZ_BLOB_TEST_SUITES_H
#define AZ_BLOB_TEST_SUITES_H

/* functional.c: round trips */
int t_echo_small(void);
int t_released_on_return(void);
int t_echo_unaligned(void);
int t_echo_shared_page(void);
int t_echo_truncated(void);
int t_info_layout(void);
int t_info_nodata(void);
int t_fill_data(void);
int t_fill_max(void);
int t_sum_data(void);
int t_data_overlaps_request(void);
int t_status_passthrough(void);
int t_host_timeout(void);
int t_upload_readonly_data(void);

/* validation.c: every rule with its errno */
int t_flags_nonzero(void);
int t_request_len_zero(void);
int t_response_len_zero(void);
int t_data_valid_gt_len(void);
int t_null_request(void);
int t_null_response(void);
int t_null_data(void);
int t_len_too_big(void);
int t_pages_too_many(void);
int t_unmapped_buffer(void);
int t_partly_mapped(void);
int t_readonly_response(void);
int t_readonly_data(void);
int t_readonly_request_ok(void);
int t_bad_struct_ptr(void);
int t_bad_ioctl(void);
int t_kernel_address(void);

/* concurrency.c: threads, callers that go away, users, the freezer, the
 * queue for the ring
 */
int t_threads_mixed(void);
int t_killed_caller(void);
int t_user_bound(void);
int t_freezable_wait(void);
int t_ring_full_fifo(void);
int t_ring_room_without_completion(void);
int t_shmem_file_mapping(void);
int t_longterm_file_mapping(void);

/* hostfaults.c: a misbehaving host */
int t_unknown_id(void);
int t_id_zero(void);
int t_duplicate(void);
int t_short_completion(void);
int t_long_completion(void);
int t_resplen_over(void);
int t_resplen_equal(void);
int t_bad_type(void);
int t_never_timeout(void);
int t_long_completion_next(void);
int t_inband_live_id(void);
int t_reused_id_duplicate(void);
int t_late_answer_after_timeout(void);

/* device.c: the channel and the device's life */
int t_channel_params(void);
int t_suspend_resume(void);
int t_suspend_busy(void);
int t_second_device(void);
int t_unbind_bind(void);
int t_hang_burst_rescind(void);
int t_rescind_after_commit(void);
int t_resume_failure(void);
int t_suspend_drains_then_fails(void);

/* uring_suite.c: requests through io_uring (IORING_OP_URING_CMD) */
int t_uring_round_trips(void);
int t_uring_status(void);
int t_uring_validation(void);
int t_uring_timeout_range(void);
int t_uring_ring_shape(void);
int t_uring_iopoll_ring(void);
int t_uring_not_ioctl(void);
int t_uring_sqe_copied_once(void);
int t_uring_inflight_64(void);
int t_uring_async(void);
int t_uring_queue_full(void);
int t_uring_fixed(void);
int t_uring_fixed_bad(void);
int t_uring_unregister_held(void);
/* uring_life.c: io_uring commands whose ring, task or device goes away */
int t_uring_ring_closed(void);
int t_uring_killed(void);
int t_uring_killed_shared(void);
int t_uring_exec(void);
int t_uring_exit_host_timeout(void);
int t_uring_driver_deadline(void);
int t_uring_removal(void);
int t_uring_fixed_cancelled(void);
/* uring_fuzz.c */
int t_uring_fuzz_short(void);

/* Subcommands: each returns the exit status. */
int demo(void);					/* demo.c */
int fuzz(unsigned int calls);			/* fuzz.c */
int lifecycle(unsigned int iters, int argc, char **argv); /* lifecycle.c */
int failinject(unsigned int iters);		/* failinject.c */
int uring_fuzz(unsigned int calls);		/* uring_fuzz.c */

#endif /* AZ_BLOB_TEST_SUITES_H */
