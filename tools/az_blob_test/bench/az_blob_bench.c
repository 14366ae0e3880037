// SPDX-License-Identifier: GPL-2.0
/*
 * az_blob_bench - throughput and latency of /dev/azure_blob.
 *
 * TEST-ONLY: the requests are the simulated host's NULL op (az_blob_sim.h),
 * which a real host does not know. Modes:
 *
 *   ioctl  the driver's request ioctl, AZ_SIM_OP_NULL, a data buffer of
 *          --size bytes (the host reads it, AZ_BLOB_DATA_HOST_READS)
 *   noop   an ioctl number the driver does not know (ENOTTY): the cost of
 *          the system call and the driver's dispatch, nothing else
 *   wake   a futex ping-pong between two threads: the cost of one sleep and
 *          one wake-up each way, what every request pays at least once
 *
 * Each run prints one machine-readable line (key=value), and a table of
 * every run follows at the end.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <misc/hv_azure_blob.h>
#include "az_blob_sim.h"

/* Not the driver's: same magic and size, another number. */
#define BENCH_BAD_IOCTL \
	_IOWR(AZ_BLOB_MAGIC_NUMBER, 0xf1, struct az_blob_request_sync)

#define MAX_LIST	16
#define MAX_RUNS	256
#define REQ_AREA	4096	/* request at 0, response at RESP_OFF */
#define RESP_OFF	2048
#define RESP_LEN	64

enum mode { MODE_IOCTL, MODE_NOOP, MODE_WAKE, NR_MODES };
static const char *const mode_name[NR_MODES] = { "ioctl", "noop", "wake" };

enum phase { PH_WARMUP, PH_MEASURE, PH_STOP };

/*
 * Latency histogram: exact below 64 ns, then 64 buckets per power of two
 * (under 1.6 % relative error), up to 2^63 ns.
 */
#define HIST_SUB_BITS	6
#define HIST_SUB	(1U << HIST_SUB_BITS)
#define HIST_BUCKETS	(HIST_SUB + (64 - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t n[HIST_BUCKETS];
	uint64_t count;
	uint64_t max;
};

static unsigned int hist_bucket(uint64_t ns)
{
	unsigned int e;

	if (ns < HIST_SUB)
		return ns;
	e = 63 - __builtin_clzll(ns);
	return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB +
	       ((ns >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

/* The middle of a bucket. */
static double hist_value(unsigned int b)
{
	unsigned int e, sub;
	double lo, width;

	if (b < HIST_SUB)
		return b;
	e = (b - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
	sub = (b - HIST_SUB) % HIST_SUB;
	width = (double)(1ULL << (e - HIST_SUB_BITS));
	lo = (HIST_SUB + sub) * width;
	return lo + width / 2;
}

static void hist_add(struct hist *h, uint64_t ns)
{
	h->n[hist_bucket(ns)]++;
	h->count++;
	if (ns > h->max)
		h->max = ns;
}

static void hist_merge(struct hist *to, const struct hist *from)
{
	unsigned int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		to->n[i] += from->n[i];
	to->count += from->count;
	if (from->max > to->max)
		to->max = from->max;
}

/* Percentile @p (0..100) in microseconds; 0 without samples. */
static double hist_pct_us(const struct hist *h, double p)
{
	uint64_t want, seen = 0;
	unsigned int i;

	if (!h->count)
		return 0;
	want = (uint64_t)(p / 100.0 * (double)h->count);
	if (want >= h->count)
		want = h->count - 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->n[i];
		if (seen > want)
			return hist_value(i) / 1000.0;
	}
	return h->max / 1000.0;
}

struct config {
	enum mode mode;
	unsigned int threads;
	uint64_t size;
	double seconds;
	double warmup;
	uint64_t requests;	/* total; 0: run for @seconds */
	const char *device;
};

struct result {
	struct config cfg;
	double elapsed;
	uint64_t ops;
	uint64_t errors;
	double cpu_busy_pct;	/* all CPUs together, 100 = all busy */
	double cpu_us_per_op;	/* every CPU's busy time, the host's too */
	double p50, p90, p99, max;
};

/* One futex ping-pong pair (MODE_WAKE). */
struct pair {
	_Atomic uint32_t turn;	/* 1: the partner's turn */
	_Atomic bool stop;
	pthread_t partner;
};

struct worker {
	const struct config *cfg;
	pthread_t thread;
	int fd;
	uint8_t *area;		/* request and response (MODE_IOCTL) */
	uint8_t *data;		/* cfg->size bytes (MODE_IOCTL) */
	struct pair pair;	/* MODE_WAKE */
	uint64_t quota;		/* ops to measure; 0: until PH_STOP */
	uint64_t ops;
	uint64_t errors;
	char why[160];
	struct hist hist;
};

static _Atomic int phase;
static pthread_barrier_t start_barrier;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("az_blob_bench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)uaddr, op, val, NULL, NULL, 0);
}

/* Block while *@w is @val. */
static void futex_wait_while(_Atomic uint32_t *w, uint32_t val)
{
	while (atomic_load(w) == val)
		futex(w, FUTEX_WAIT_PRIVATE, val);
}

static void *partner_main(void *arg)
{
	struct pair *p = arg;

	for (;;) {
		futex_wait_while(&p->turn, 0);
		if (atomic_load(&p->stop))
			return NULL;
		atomic_store(&p->turn, 0);
		futex(&p->turn, FUTEX_WAKE_PRIVATE, 1);
	}
}

/* One operation; false with w->why set on failure. */
static bool do_op(struct worker *w, struct az_blob_request_sync *r)
{
	const struct config *cfg = w->cfg;

	switch (cfg->mode) {
	case MODE_IOCTL:
		r->response.status = ~0U;
		r->response.response_len = ~0U;
		if (ioctl(w->fd, IOCTL_AZ_BLOB_DRIVER_USER_REQUEST, r)) {
			snprintf(w->why, sizeof(w->why), "request ioctl: %s",
				 strerror(errno));
			return false;
		}
		if (r->response.status == AZ_SIM_STATUS_BAD_REQUEST) {
			snprintf(w->why, sizeof(w->why),
				 "the host does not know AZ_SIM_OP_NULL (an az_blob_sim.ko older than this tool?)");
			return false;
		}
		if (r->response.status || r->response.response_len) {
			snprintf(w->why, sizeof(w->why),
				 "status 0x%08x, response_len %u; want 0, 0",
				 r->response.status, r->response.response_len);
			return false;
		}
		return true;
	case MODE_NOOP:
		if (ioctl(w->fd, BENCH_BAD_IOCTL, r) != -1 || errno != ENOTTY) {
			snprintf(w->why, sizeof(w->why),
				 "unknown ioctl did not fail with ENOTTY: %s",
				 strerror(errno));
			return false;
		}
		return true;
	case MODE_WAKE:
		atomic_store(&w->pair.turn, 1);
		futex(&w->pair.turn, FUTEX_WAKE_PRIVATE, 1);
		futex_wait_while(&w->pair.turn, 1);
		return true;
	default:
		return false;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct az_blob_request_sync r;
	struct az_sim_req *s;
	uint64_t t0, t1;
	int ph;

	memset(&r, 0, sizeof(r));
	if (w->cfg->mode == MODE_IOCTL) {
		s = (struct az_sim_req *)w->area;
		memset(s, 0, sizeof(*s));
		s->magic = AZ_SIM_MAGIC;	/* the guests are little-endian */
		s->op = AZ_SIM_OP_NULL;
		r.request_len = sizeof(*s);
		r.request_buffer = (uintptr_t)w->area;
		r.response_len = RESP_LEN;
		r.response_buffer = (uintptr_t)(w->area + RESP_OFF);
		r.data_len = w->cfg->size;
		r.data_valid = w->cfg->size;
		r.data_buffer = w->cfg->size ? (uintptr_t)w->data : 0;
		r.flags = AZ_BLOB_DATA_HOST_READS;
	}

	pthread_barrier_wait(&start_barrier);
	for (;;) {
		ph = atomic_load(&phase);
		if (ph == PH_STOP || (w->quota && w->ops >= w->quota))
			break;
		t0 = now_ns();
		if (!do_op(w, &r)) {
			w->errors++;
			atomic_store(&phase, PH_STOP);
			break;
		}
		t1 = now_ns();
		/* Counted if it started in the window, however it ends. */
		if (ph == PH_MEASURE) {
			hist_add(&w->hist, t1 - t0);
			w->ops++;
		}
	}

	if (w->cfg->mode == MODE_WAKE) {
		atomic_store(&w->pair.stop, true);
		atomic_store(&w->pair.turn, 1);
		futex(&w->pair.turn, FUTEX_WAKE_PRIVATE, 1);
		pthread_join(w->pair.partner, NULL);
	}
	return NULL;
}

/* Busy and total jiffies of all CPUs, from /proc/stat. */
static bool cpu_sample(uint64_t *busy, uint64_t *total)
{
	unsigned long long v[10] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n, i;

	if (!f)
		return false;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7],
		   &v[8], &v[9]);
	fclose(f);
	if (n < 5)
		return false;
	*total = 0;
	/* guest and guest_nice are already in user and nice */
	for (i = 0; i < 8; i++)
		*total += v[i];
	*busy = *total - v[3] - v[4];	/* idle, iowait */
	return true;
}

/* Sleep @s seconds, or less if a failed op stopped the run. */
static void sleep_s(double s)
{
	uint64_t end = now_ns() + (uint64_t)(s * 1e9), t;
	struct timespec ts;

	while (atomic_load(&phase) != PH_STOP && (t = now_ns()) < end) {
		t = end - t < 100000000ULL ? end - t : 100000000ULL;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)t;
		nanosleep(&ts, NULL);
	}
}

static void *map_area(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu bytes: %s", len, strerror(errno));
	/* Real pages, not the zero page. */
	memset(p, 0xa5, len);
	return p;
}

static int run(const struct config *cfg, struct result *res)
{
	uint64_t busy0 = 0, total0 = 0, busy1 = 0, total1 = 0, t0, t1 = 0;
	struct worker *ws;
	struct hist *all;
	bool have_cpu;
	unsigned int i;
	int fd = -1, ret = 0;

	if (cfg->mode != MODE_WAKE) {
		fd = open(cfg->device, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			die("%s: %s", cfg->device, strerror(errno));
	}
	ws = calloc(cfg->threads, sizeof(*ws));
	all = calloc(1, sizeof(*all));
	if (!ws || !all)
		die("out of memory");

	atomic_store(&phase, cfg->requests ? PH_MEASURE : PH_WARMUP);
	if (pthread_barrier_init(&start_barrier, NULL, cfg->threads + 1))
		die("pthread_barrier_init failed");
	for (i = 0; i < cfg->threads; i++) {
		struct worker *w = &ws[i];

		w->cfg = cfg;
		w->fd = fd;
		if (cfg->requests)
			w->quota = cfg->requests / cfg->threads +
				   (i < cfg->requests % cfg->threads);
		if (cfg->mode == MODE_IOCTL) {
			w->area = map_area(REQ_AREA);
			if (cfg->size)
				w->data = map_area(cfg->size);
		}
		if (cfg->mode == MODE_WAKE &&
		    pthread_create(&w->pair.partner, NULL, partner_main,
				   &w->pair))
			die("pthread_create failed");
		if (pthread_create(&w->thread, NULL, worker_main, w))
			die("pthread_create failed");
	}

	pthread_barrier_wait(&start_barrier);
	if (!cfg->requests && cfg->warmup > 0)
		sleep_s(cfg->warmup);
	have_cpu = cpu_sample(&busy0, &total0);
	t0 = now_ns();
	if (!cfg->requests) {
		/* Unless a failed op stopped the run already. */
		int expect = PH_WARMUP;

		atomic_compare_exchange_strong(&phase, &expect, PH_MEASURE);
		sleep_s(cfg->seconds);
		t1 = now_ns();
		have_cpu = cpu_sample(&busy1, &total1) && have_cpu;
		atomic_store(&phase, PH_STOP);
	}
	for (i = 0; i < cfg->threads; i++)
		pthread_join(ws[i].thread, NULL);
	if (cfg->requests) {
		t1 = now_ns();
		have_cpu = cpu_sample(&busy1, &total1) && have_cpu;
	}

	memset(res, 0, sizeof(*res));
	res->cfg = *cfg;
	res->elapsed = (double)(t1 - t0) / 1e9;
	for (i = 0; i < cfg->threads; i++) {
		struct worker *w = &ws[i];

		hist_merge(all, &w->hist);
		res->ops += w->ops;
		res->errors += w->errors;
		if (w->errors && !ret) {
			fprintf(stderr, "az_blob_bench: %s: thread %u: %s\n",
				mode_name[cfg->mode], i, w->why);
			ret = 1;
		}
		if (w->area)
			munmap(w->area, REQ_AREA);
		if (w->data)
			munmap(w->data, cfg->size);
	}
	if (have_cpu && total1 > total0) {
		res->cpu_busy_pct = 100.0 * (double)(busy1 - busy0) /
				    (double)(total1 - total0);
		if (res->ops)
			res->cpu_us_per_op = (double)(busy1 - busy0) * 1e6 /
					     (double)sysconf(_SC_CLK_TCK) /
					     (double)res->ops;
	}
	res->p50 = hist_pct_us(all, 50);
	res->p90 = hist_pct_us(all, 90);
	res->p99 = hist_pct_us(all, 99);
	res->max = all->max / 1000.0;

	pthread_barrier_destroy(&start_barrier);
	free(all);
	free(ws);
	if (fd >= 0)
		close(fd);
	return ret;
}

static double ops_per_s(const struct result *r)
{
	return r->elapsed > 0 ? (double)r->ops / r->elapsed : 0;
}

static double mb_per_s(const struct result *r)
{
	return r->cfg.mode == MODE_IOCTL ?
		ops_per_s(r) * (double)r->cfg.size / 1e6 : 0;
}

static void print_line(const struct result *r)
{
	printf("az_blob_bench mode=%s threads=%u size=%llu seconds=%.3f ops=%llu errors=%llu ops_per_s=%.1f mb_per_s=%.2f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f cpu_busy_pct=%.1f cpu_us_per_op=%.1f\n",
	       mode_name[r->cfg.mode], r->cfg.threads,
	       r->cfg.mode == MODE_IOCTL ? (unsigned long long)r->cfg.size : 0ULL,
	       r->elapsed, (unsigned long long)r->ops,
	       (unsigned long long)r->errors, ops_per_s(r), mb_per_s(r),
	       r->p50, r->p90, r->p99, r->max, r->cpu_busy_pct,
	       r->cpu_us_per_op);
	fflush(stdout);
}

static void print_table(const struct result *rs, unsigned int n)
{
	unsigned int i;
	char size[24];

	printf("\n%-6s %7s %9s %10s %9s %9s %9s %9s %9s %6s %9s\n",
	       "mode", "threads", "size", "ops/s", "MB/s", "p50 us",
	       "p90 us", "p99 us", "max us", "cpu%", "cpu us/op");
	for (i = 0; i < n; i++) {
		const struct result *r = &rs[i];

		if (r->cfg.mode == MODE_IOCTL)
			snprintf(size, sizeof(size), "%llu",
				 (unsigned long long)r->cfg.size);
		else
			snprintf(size, sizeof(size), "-");
		printf("%-6s %7u %9s %10.1f %9.2f %9.1f %9.1f %9.1f %9.1f %6.1f %9.1f%s\n",
		       mode_name[r->cfg.mode], r->cfg.threads, size,
		       ops_per_s(r), mb_per_s(r), r->p50, r->p90, r->p99,
		       r->max, r->cpu_busy_pct, r->cpu_us_per_op,
		       r->errors ? "  ERRORS" : "");
	}
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
"Usage: az_blob_bench [OPTION]... [MODE]...\n"
"Throughput and latency of /dev/azure_blob against the simulated Blob host\n"
"(az_blob_sim.ko, AZ_SIM_OP_NULL). TEST-ONLY: a real host does not know\n"
"the request this sends.\n"
"\n"
"Modes (default: ioctl):\n"
"  ioctl   the request ioctl: the host reads the data buffer (--size bytes,\n"
"          AZ_BLOB_DATA_HOST_READS) and answers status 0, response_len 0\n"
"  noop    an ioctl number the driver does not know (fails with ENOTTY)\n"
"  wake    futex ping-pong between two threads (--threads pairs); one op is\n"
"          a round trip\n"
"\n"
"Options (LIST: comma-separated values; every combination is run):\n"
"  -t, --threads=LIST   concurrent threads (default 1)\n"
"  -s, --size=LIST      data buffer bytes for ioctl, K/M suffix (default 4K;\n"
"                       0: no data buffer)\n"
"  -d, --seconds=S      measured time per run (default 5)\n"
"  -w, --warmup=S       unmeasured time before it (default 1)\n"
"  -n, --requests=N     measure N ops per run (split over the threads)\n"
"                       instead of a time, without warm-up\n"
"  -r, --repeat=N       run every combination N times (default 1)\n"
"  -D, --device=PATH    the device (default /dev/azure_blob)\n"
"  -h, --help           this text\n"
"\n"
"Output: per run one line \"az_blob_bench mode=... threads=... size=...\n"
"seconds=... ops=... errors=... ops_per_s=... mb_per_s=... p50_us=...\n"
"p90_us=... p99_us=... max_us=... cpu_busy_pct=... cpu_us_per_op=...\", then a\n"
"table of all runs. Latency is per op, from the caller (a wake op is a\n"
"round trip). MB/s counts data buffer bytes (10^6). cpu_busy_pct is the\n"
"busy time of all CPUs (/proc/stat) over the run, 100 = every CPU busy;\n"
"cpu_us_per_op divides that busy time, the simulated host's included, by\n"
"the ops. Exit status: 0, 1 if an op failed, 2 on a usage or setup error.\n");
}

static uint64_t parse_num(const char *s, const char *what, bool suffix)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		die("bad %s '%s'", what, s);
	if (suffix && (*end == 'K' || *end == 'k')) {
		v <<= 10;
		end++;
	} else if (suffix && (*end == 'M' || *end == 'm')) {
		v <<= 20;
		end++;
	}
	if (*end)
		die("bad %s '%s'", what, s);
	return v;
}

static unsigned int parse_list(char *arg, uint64_t *out, const char *what,
			       bool suffix)
{
	unsigned int n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(arg, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_LIST)
			die("more than %d %s values", MAX_LIST, what);
		out[n++] = parse_num(tok, what, suffix);
	}
	if (!n)
		die("no %s given", what);
	return n;
}

static double parse_seconds(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > 1e6)
		die("bad %s '%s'", what, s);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "threads", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "seconds", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "requests", required_argument, NULL, 'n' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "device", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t threads[MAX_LIST] = { 1 }, sizes[MAX_LIST] = { 4096 };
	unsigned int nthreads = 1, nsizes = 1, nmodes = 0, repeat = 1;
	enum mode modes[MAX_LIST];
	struct config base = {
		.seconds = 5,
		.warmup = 1,
		.device = "/dev/azure_blob",
	};
	static struct result results[MAX_RUNS];
	unsigned int nres = 0, m, t, s, k;
	int c, ret = 0;

	while ((c = getopt_long(argc, argv, "t:s:d:w:n:r:D:h", opts,
				NULL)) != -1) {
		switch (c) {
		case 't':
			nthreads = parse_list(optarg, threads, "thread count",
					      false);
			break;
		case 's':
			nsizes = parse_list(optarg, sizes, "size", true);
			break;
		case 'd':
			base.seconds = parse_seconds(optarg, "seconds");
			break;
		case 'w':
			base.warmup = parse_seconds(optarg, "warm-up");
			break;
		case 'n':
			base.requests = parse_num(optarg, "request count",
						  false);
			break;
		case 'r':
			repeat = parse_num(optarg, "repeat count", false);
			break;
		case 'D':
			base.device = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	for (; optind < argc; optind++) {
		for (m = 0; m < NR_MODES; m++)
			if (!strcmp(argv[optind], mode_name[m]))
				break;
		if (m == NR_MODES)
			die("unknown mode '%s' (see --help)", argv[optind]);
		if (nmodes == MAX_LIST)
			die("more than %d modes", MAX_LIST);
		modes[nmodes++] = m;
	}
	if (!nmodes)
		modes[nmodes++] = MODE_IOCTL;
	if (!repeat || repeat > MAX_RUNS)
		die("repeat count must be 1..%d", MAX_RUNS);
	if (!base.requests && base.seconds <= 0)
		die("--seconds must be above 0");
	for (t = 0; t < nthreads; t++)
		if (!threads[t] || threads[t] > 1024)
			die("thread count must be 1..1024");
	for (s = 0; s < nsizes; s++)
		if (sizes[s] > AZ_BLOB_MAX_LEN)
			die("size above AZ_BLOB_MAX_LEN (%u)", AZ_BLOB_MAX_LEN);

	for (m = 0; m < nmodes; m++) {
		/* Only ioctl has a size; the others run once per thread count. */
		unsigned int ns = modes[m] == MODE_IOCTL ? nsizes : 1;

		for (s = 0; s < ns; s++) {
			for (t = 0; t < nthreads; t++) {
				for (k = 0; k < repeat; k++) {
					struct config cfg = base;

					if (nres == MAX_RUNS)
						die("more than %d runs", MAX_RUNS);
					cfg.mode = modes[m];
					cfg.threads = threads[t];
					cfg.size = sizes[s];
					if (cfg.requests &&
					    cfg.requests < cfg.threads)
						die("--requests below the thread count");
					if (run(&cfg, &results[nres]))
						ret = 1;
					print_line(&results[nres]);
					nres++;
				}
			}
		}
	}
	print_table(results, nres);
	return ret;
}
