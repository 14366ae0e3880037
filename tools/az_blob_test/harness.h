/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The harness the az_blob_test suites share: reporting, the resources a test
 * leaves behind, arenas with guard bytes, building and sending requests, the
 * driver's and the simulator's debugfs state, misc devices, requests on
 * background threads and the runner. Each suite (functional.c, validation.c,
 * ...) includes this after its own system headers; its tests are declared
 * in suites.h. harness.c has the run's state, reporting, small helpers,
 * resources, callers that go away and the runner; harness_req.c arenas,
 * requests and background requests; harness_dev.c the driver's and the
 * simulator's state and the misc devices.
 */
#ifndef AZ_BLOB_TEST_HARNESS_H
#define AZ_BLOB_TEST_HARNESS_H

#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include <misc/hv_azure_blob.h>
#include "az_blob_sim.h"

/* The driver counts 4 KiB pages whatever the CPU's page size. */
#define PG			4096UL
/*
 * Default timeout of a request, which the host enforces: long enough for
 * TCG. The driver keeps no timer, so a completion that never comes keeps
 * the caller waiting: tests whose ioctl might not return run it on a
 * thread with a deadline (bg_wait()) and end it (release, rescind).
 */
#define DEF_TIMEOUT_MS		30000U
/* How long a test waits for a request that should come back at once. */
#define STUCK_MS		10000
#ifndef MISC_DIR			/* overridable for a mock run */
#define MISC_DIR		"/sys/class/misc"
#define DRV_DBG_DIR		"/sys/kernel/debug/hyperv"
#define SIM_DIR			"/sys/kernel/debug/az_blob_sim"
#endif
#define SIM_HOST_ERROR		0xC0000001U
#define MAX_DEVS		32
#define NAME_LEN		64

enum { TEST_OK = 0, TEST_FAIL = -1, TEST_SKIP = 1 };

/* Test flags. */
#define NEEDS_SIM		0x1	/* needs the simulator's control file */
#define SLOW			0x2	/* runs only with -S */

/* What the whole run shares: set up by main(), read and updated by tests. */
struct run_state {
	char dev[PATH_MAX];		/* the device node under test */
	char name[NAME_LEN];		/* misc name of dev */
	char prefix[NAME_LEN];		/* name without its index */
	int sim;			/* control interface usable */
	int sim_idx;			/* simulator index of dev */
	unsigned int threads;		/* -t */
	unsigned int iters;		/* -n */
	int verbose;			/* -v */
	uint64_t seed;			/* -r, or from the clock */
	char reason[512];		/* why the current test failed/skipped */
	int npass, nfail, nskip;	/* the checks a suite reported */
	/*
	 * The simulator's referenced_writes (pages written that the driver
	 * only referenced, see sim/README.md) the current test expects: any
	 * other change fails its post-check. Reset before each test.
	 */
	long referenced_ok;
};

extern struct run_state run;

/* Reporting */

int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vlog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *errname(int e);

/* Small helpers */

int64_t now_ms(void);
void sleep_ms(unsigned int ms);

static inline uint64_t rnd64(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

static inline uint32_t rnd32(uint64_t *s)
{
	return (uint32_t)(rnd64(s) >> 32);
}

static inline uint64_t ptr2u64(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* 4 KiB pages spanned by a buffer; 0 for an empty one. */
static inline uint32_t span_pages(uint64_t addr, uint64_t len)
{
	if (!len)
		return 0;
	return (uint32_t)(((addr % PG) + len + PG - 1) / PG);
}

static inline uint64_t get_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

void copy_str(char *dst, size_t n, const char *src);
void *xmalloc(size_t n);
int read_text(const char *path, char *buf, size_t size);
int write_text(const char *path, const char *s);

/* Resources a test leaves behind are released by the runner */

enum { RES_FD, RES_MAP, RES_ARENA };

void track(int kind, int fd, void *p, size_t len);
void res_release_all(void);
void *map_pages(size_t pages, int prot);
int dev_open_path(const char *path);
int dev_open(void);

/* Arenas: buffers surrounded by canary bytes */

#define ARENA_MAX_PUT	8

/*
 * An arena is an anonymous mapping filled with canary bytes. Tests place
 * their buffers inside it; whatever the test writes goes through
 * arena_put(), which remembers it. arena_check() then verifies that every
 * byte outside the spans the host may write still holds what the test left
 * there: the canary, or the bytes put.
 */
struct arena {
	uint8_t *base;
	size_t len;
	int nput;
	struct {
		size_t off, len;
		uint8_t *copy;
	} put[ARENA_MAX_PUT];
};

struct span {
	const void *p;
	size_t len;
};

static inline uint8_t canary(size_t i)
{
	return (uint8_t)(0xa5 ^ (i * 0x3b) ^ (i >> 8) ^ (i >> 16));
}

static inline uint8_t *at(struct arena *a, size_t off)
{
	return a->base + off;
}

struct arena *arena_alloc(size_t pages);
void arena_free(struct arena *a);
struct arena *arena_new(size_t pages);
void arena_put(struct arena *a, void *dst, const void *src, size_t len);
int arena_check(struct arena *a, const struct span *allowed, int n);
int cmp_bytes(const char *what, const uint8_t *got, const uint8_t *exp,
	      size_t n);

/* Requests */

void sim_hdr(struct az_sim_req *h, uint32_t op, uint32_t fault,
	     uint32_t delay, uint32_t status, uint32_t seed, uint32_t arg);
void fill_payload(uint8_t *p, size_t len, uint32_t seed);
uint8_t *put_req(struct arena *a, size_t off, size_t len,
		 const struct az_sim_req *h);
void rq_init(struct az_blob_request_sync *r, const void *req,
	     size_t req_len, void *resp, size_t resp_len,
	     void *data, size_t data_len, size_t data_valid);
int blob_ioctl(int fd, struct az_blob_request_sync *r);
int expect_ok(int err, const struct az_blob_request_sync *r,
	      uint32_t status, uint32_t rlen);

/* Driver and simulator state */

enum {
	DS_OUTSTANDING, DS_PINNED, DS_SUBMITTED, DS_COMPLETED, DS_ABANDONED,
	DS_UNKNOWN_ID, DS_BAD_PACKET,
	/* Newer counters: -1 when the driver does not show them. */
	DS_FAILED, DS_NOT_COMPLETION, DS_RING_FULL, DS_N
};

struct dstats {
	long v[DS_N];
};

#define ANY	LONG_MIN

int misc_vmname(const char *misc, char *out, size_t n);
int dstats_get(const char *misc, struct dstats *s);
long drv_stat(const char *key);
int check_deltas(const char *misc, const struct dstats *b, long sub,
		 long comp, long aband, long unk, long bad);
int check_deltas2(const char *misc, const struct dstats *b, long failed,
		  long not_comp, long ring_full);
int check_want(const char *misc, const struct dstats *b, const long *want);
int wait_idle(const char *misc, long out, long pin, int ms);

enum {
	SS_REQUESTS, SS_COMPLETIONS, SS_VIOLATIONS, SS_BAD_REQUESTS, SS_HELD,
	SS_RING_FULL, SS_OPEN_CHANNELS, SS_DEVICES, SS_MISUSE,
	SS_UNPINNED_WRITES, SS_LATE_ANSWERS, SS_LATE_WRITES, SS_LATE_UNPINNED,
	SS_DUPS_ARMED, SS_DUPS_SENT, SS_RESCIND_AFTER_COMMIT,
	SS_RACE_CONSUMED, SS_RACE_DEFERRED, SS_OPEN_FAILURES, SS_CUT,
	SS_DROPPED, SS_RING_ERRORS, SS_RQSTOR_FULL, SS_REFERENCED_WRITES, SS_N
};

struct sstats {
	long v[SS_N];
	char last_violation[160];
	char last_misuse[160];
};

extern const char *const ss_keys[SS_N];

int sstats_read(struct sstats *s);
int sstats_get(struct sstats *s);
int wait_sim(int key, long val, int ms);
int sim_ctl(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int sim_ctl_ok(const char *cmd);

struct chan {
	int idx;
	char guid[NAME_LEN];
	int open;
	long send_ring, recv_ring, userdatalen, rqstor_size, max_pkt_size;
	int rescind;
};

int sim_channels(struct chan *c, int max);
int sim_chan_of(int idx, struct chan *out);
int sim_idx_of(const char *misc);
int cur_sim_idx(void);

/* Misc devices and their nodes */

void set_device(const char *name);
int misc_exists(const char *name);
int misc_list(char names[][NAME_LEN], int max);
int wait_new_misc(char old[][NAME_LEN], int nold, char *out, int ms);
int wait_misc_gone(const char *name, int ms);
int ensure_node(const char *name, int *created);
int offer_device(char *name, int *idx, int *created);
int adopt_new_device(void);
int device_driver(char *vm, size_t vmlen, char *drv, size_t drvlen);
int device_unbind(const char *vm, const char *drv);
int device_bind(const char *vm, const char *drv);
int device_rebind(void);
int device_rescind_reoffer(void);

/* Common request patterns */

int echo_at(int fd, const char *misc, struct arena *a, size_t roff,
	    size_t req_len, size_t soff, size_t resp_len, uint32_t status);
int echo_simple(const char *path, const char *misc);

/*
 * The base of every validation case: an echo with a 2-page data buffer
 * that succeeds as is. Each case changes one thing.
 */
struct vbase {
	int fd;
	struct arena *a;
	uint8_t *req, *resp, *data;
	struct az_blob_request_sync r;
};

int vbase_init(struct vbase *v);

/* A request in the background on another thread. */
struct bg {
	pthread_t th;
	int fd;
	int cpu;			/* run on this CPU; -1: anywhere */
	struct arena *a;
	struct az_blob_request_sync r;
	uint8_t *req, *resp;
	size_t req_len;
	int err;
	int done;			/* the ioctl returned (atomic) */
	int joined;			/* the thread was joined */
	int64_t t_start, t_end;		/* now_ms() around the ioctl */
	int64_t ms;
};

struct bg *bg_start(int fd, uint32_t fault, uint32_t delay, uint32_t timeout);
struct bg *bg_run(int fd, const struct az_blob_request_sync *r);
struct bg *bg_run_cpu(int fd, const struct az_blob_request_sync *r, int cpu);
int bg_done(const struct bg *b);
int bg_join(struct bg *b, int64_t deadline);
int bg_wait(struct bg *b, int ms, const char *what);
void bg_free(struct bg *b);
int ioctl_bounded(int fd, struct az_blob_request_sync *r, int ms,
		  const char *what, int *err);

/* Callers that go away */

void child_submit(const char *dev, uint32_t fault, uint32_t delay);
int reap(pid_t pid, int *status, int ms);

/* The runner */

struct test {
	const char *name;
	int (*fn)(void);
	unsigned int flags;
	const char *desc;
};

int post_check(const struct sstats *s0);
void sim_cleanup(void);
int kmsg_open(void);
int kmsg_check(int fd);
int run_test(const struct test *t);
int selected(const char *name, int argc, char **argv);
void report(const char *name, int rc);
int summary(void);

#endif /* AZ_BLOB_TEST_HARNESS_H */
