// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency and callers that go away: threads mixing random requests
 * on shared and private fds, a caller killed while the host holds its
 * request, the per-user bound, a waiter frozen by the cgroup freezer, and
 * the queue of senders in front of a full ring.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* ------------------------------------------------------------------ */
/* Tests: concurrency and callers that go away                         */
/* ------------------------------------------------------------------ */

#define MIX_MAX		(256U << 10)
#define MIX_AREA	(MIX_MAX + 3 * PG)	/* guard page + offset + tail */
#define MIX_GUARD	64
#define MIX_FILL	0xe7

struct worker {
	pthread_t th;
	int fd;
	unsigned int iters;
	uint64_t rng;
	uint8_t *mem;		/* 3 areas: request, response, data */
	unsigned int n[3];
	unsigned int done;
	char err[256];
};

static void guard_set(uint8_t *base, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < MIX_GUARD; i++) {
		p[-1 - (long)i] = canary((size_t)(p - 1 - i - base));
		p[len + i] = canary((size_t)(p + len + i - base));
	}
}

static int guard_bad(uint8_t *base, uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < MIX_GUARD; i++)
		if (p[-1 - (long)i] != canary((size_t)(p - 1 - i - base)) ||
		    p[len + i] != canary((size_t)(p + len + i - base)))
			return 1;
	return 0;
}

static int mix_one(struct worker *w, char *err, size_t errlen)
{
	uint8_t *rq = w->mem + PG + rnd32(&w->rng) % PG;
	uint8_t *rs = w->mem + MIX_AREA + PG + rnd32(&w->rng) % PG;
	uint8_t *dt = w->mem + 2 * MIX_AREA + PG + rnd32(&w->rng) % PG;
	unsigned int op = rnd32(&w->rng) % 3;
	size_t rl = 32, sl = 8 + rnd32(&w->rng) % 57, dl = 0, dv = 0, i, n = 8;
	uint32_t seed = rnd32(&w->rng);
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint64_t want = 0;
	int e;

	if (op == 0) {
		rl = 32 + rnd32(&w->rng) % (MIX_MAX - 31);
		sl = 1 + rnd32(&w->rng) % MIX_MAX;
		n = min_sz(rl, sl);
		sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
		fill_payload(rq, rl, seed);
	} else if (op == 1) {
		dl = 1 + rnd32(&w->rng) % MIX_MAX;
		want = dl;
		sim_hdr(&h, AZ_SIM_OP_FILL, AZ_SIM_FAULT_NONE, 0, 0, seed, 0);
	} else {
		dl = 1 + rnd32(&w->rng) % MIX_MAX;
		dv = rnd32(&w->rng) % (dl + 1);
		for (i = 0; i < dl; i++)
			dt[i] = (uint8_t)(i * 7 + seed + (i >> 9));
		want = az_sim_fnv1a(AZ_SIM_FNV1A_INIT, dt, dv);
		sim_hdr(&h, AZ_SIM_OP_SUM, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	}
	memcpy(rq, &h, sizeof(h));
	memset(rs, MIX_FILL, sl);
	guard_set(w->mem, rq, rl);
	guard_set(w->mem, rs, sl);
	if (dl)
		guard_set(w->mem, dt, dl);
	rq_init(&r, rq, rl, rs, sl, dl ? dt : NULL, dl, dv);

	e = blob_ioctl(w->fd, &r);
	if (e || r.response.status || r.response.response_len != n) {
		snprintf(err, errlen, "op %u (req %zu, resp %zu, data %zu/%zu): %s, status 0x%08x, response_len %u (expected %zu)",
			 h.op, rl, sl, dv, dl, errname(e), r.response.status,
			 r.response.response_len, n);
		return -1;
	}
	if (op == 0 && memcmp(rs, rq, n)) {
		snprintf(err, errlen, "echo of %zu bytes: wrong response bytes", n);
		return -1;
	}
	if (op && get_u64(rs) != want) {
		snprintf(err, errlen, "op %u on %zu/%zu bytes: expected 0x%" PRIx64 ", got 0x%" PRIx64,
			 h.op, dv, dl, want, get_u64(rs));
		return -1;
	}
	for (i = n; i < sl; i++) {
		if (rs[i] != MIX_FILL) {
			snprintf(err, errlen, "response byte %zu beyond response_len %zu changed",
				 i, n);
			return -1;
		}
	}
	if (op == 1) {
		for (i = 0; i < dl; i++) {
			if (dt[i] != az_sim_pattern(seed, i)) {
				snprintf(err, errlen, "fill of %zu bytes: byte %zu wrong",
					 dl, i);
				return -1;
			}
		}
	}
	if (guard_bad(w->mem, rq, rl) || guard_bad(w->mem, rs, sl) ||
	    (dl && guard_bad(w->mem, dt, dl))) {
		snprintf(err, errlen, "op %u: guard bytes changed", h.op);
		return -1;
	}
	w->n[op]++;
	return 0;
}

static void *mix_main(void *arg)
{
	struct worker *w = arg;

	while (w->done < w->iters) {
		if (mix_one(w, w->err, sizeof(w->err)))
			break;
		w->done++;
	}
	return NULL;
}

int t_threads_mixed(void)
{
	unsigned int nt = run.threads, i, total = 0, n[3] = { 0, 0, 0 };
	struct worker *w;
	struct dstats b;
	int shared = dev_open(), ret = 0;
	int64_t t0;

	if (shared < 0 || dstats_get(run.name, &b))
		return TEST_FAIL;
	w = xmalloc(nt * sizeof(*w));
	memset(w, 0, nt * sizeof(*w));
	for (i = 0; i < nt; i++) {
		/* Even threads share one fd, odd threads have their own. */
		w[i].fd = (i & 1) ? dev_open() : shared;
		w[i].mem = map_pages(3 * MIX_AREA / PG, PROT_READ | PROT_WRITE);
		if (w[i].fd < 0 || !w[i].mem) {
			nt = i;
			ret = TEST_FAIL;
			break;
		}
		w[i].iters = run.iters;
		w[i].rng = rnd64(&run.seed) | 1;
	}
	t0 = now_ms();
	for (i = 0; i < nt; i++) {
		if (pthread_create(&w[i].th, NULL, mix_main, &w[i])) {
			nt = i;
			ret = fail("pthread_create failed");
			break;
		}
	}
	for (i = 0; i < nt; i++)
		pthread_join(w[i].th, NULL);
	for (i = 0; i < nt; i++) {
		total += w[i].done;
		n[0] += w[i].n[0];
		n[1] += w[i].n[1];
		n[2] += w[i].n[2];
		if (w[i].err[0])
			ret = fail("thread %u, request %u: %s", i, w[i].done,
				   w[i].err);
	}
	printf("# threads_mixed: %u requests (%u echo, %u fill, %u sum) on %u threads in %.1f s\n",
	       total, n[0], n[1], n[2], nt, (double)(now_ms() - t0) / 1000);
	free(w);
	if (ret)
		return ret;
	return check_deltas(run.name, &b, total, total, 0, 0, 0);
}

/*
 * Is the device relayed to the host VSP outside the guest (sim/relay.c,
 * "host az_blob_relay" ends its channel line)? That host has no "release":
 * it holds a request for its delay_ms instead.
 */
static int sim_relayed(void)
{
	static const char tail[] = " host az_blob_relay";
	char buf[16384], *p, *save;
	size_t n;
	int idx;

	if (run.sim <= 0 || read_text(SIM_DIR "/channel", buf, sizeof(buf)))
		return 0;
	for (p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		n = strlen(p);
		if (sscanf(p, "%d ", &idx) == 1 && idx == run.sim_idx)
			return n >= sizeof(tail) - 1 &&
			       !strcmp(p + n - (sizeof(tail) - 1), tail);
	}
	return 0;
}

int t_killed_caller(void)
{
	const int relayed = sim_relayed();
	const int use_never = run.sim > 0 && !relayed;
	const uint32_t delay = relayed ? 5000 : 3000;
	struct dstats b, s;
	int status, ret = 0, reaped = 0;
	int64_t end, t0;
	pid_t pid;

	if (dstats_get(run.name, &b))
		return TEST_FAIL;
	if (b.v[DS_OUTSTANDING])
		return fail("outstanding %ld before the test", b.v[DS_OUTSTANDING]);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid)
		child_submit(run.dev, use_never ? AZ_SIM_FAULT_NEVER : 0,
			     use_never ? 0 : delay);

	for (end = now_ms() + 5000; ; sleep_ms(10)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			ret = fail("child's request returned before the kill (exit status %d)",
				   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			goto out;
		}
		if (drv_stat("outstanding") == 1)
			break;
		if (now_ms() > end) {
			ret = fail("outstanding did not reach 1 (got %ld)",
				   drv_stat("outstanding"));
			goto out;
		}
	}
	t0 = now_ms();
	kill(pid, SIGKILL);
	if (reap(pid, &status, 1000)) {
		ret = fail("child still not reaped 1 s after SIGKILL");
		goto out;
	}
	reaped = 1;
	vlog("child reaped %" PRId64 " ms after SIGKILL", now_ms() - t0);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
		ret = fail("child: expected killed by SIGKILL, got status 0x%x",
			   status);
		goto out;
	}
	if (dstats_get(run.name, &s)) {
		ret = TEST_FAIL;
		goto out;
	}
	if ((use_never || relayed) &&
	    (s.v[DS_OUTSTANDING] != 1 || s.v[DS_PINNED] != 6)) {
		ret = fail("after the kill: expected outstanding 1, pinned_pages 6 (the host owns them); got %ld, %ld",
			   s.v[DS_OUTSTANDING], s.v[DS_PINNED]);
		goto out;
	}
	if (check_deltas(run.name, &b, 1, ANY, 1, 0, 0)) {
		ret = TEST_FAIL;
		goto out;
	}
	if (use_never && sim_ctl_ok("release")) {
		ret = TEST_FAIL;
		goto out;
	}
	if (wait_idle(run.name, 0, 0, use_never ? 2000 : delay + 2000)) {
		ret = TEST_FAIL;
		goto out;
	}
	ret = check_deltas(run.name, &b, 1, ANY, 1, 0, 0);
out:
	if (!reaped) {
		kill(pid, SIGKILL);
		if (use_never)
			sim_ctl("release");
		if (reap(pid, &status, 10000))
			fprintf(stderr, "az_blob_test: child %d not reaped\n",
				(int)pid);
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* The per-user bound                                                  */
/* ------------------------------------------------------------------ */

#define UB_N		256	/* AZ_BLOB_USER_MAX_REQUESTS */
#define UB_UID		1000

/* Shared by the test and its uid-1000 child. */
struct ub_shared {
	int ready;			/* child: set its uid, fd open */
	int fail;			/* child: why it gave up (exit code) */
	int go;				/* test: submit request UB_N now */
	int res[UB_N + 1];		/* errno + 1 once returned; 0 waiting */
	uint32_t status[UB_N + 1], rlen[UB_N + 1];
	int bad[UB_N + 1];		/* wrong response bytes */
	int64_t t_start, t_end;		/* request UB_N */
};

struct ub_thread {
	pthread_t th;
	int fd, i;
	uint8_t *mem;
	struct ub_shared *sh;
};

static void *ub_main(void *arg)
{
	struct ub_thread *t = arg;
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t *req = t->mem, *resp = t->mem + PG;
	int e;

	sim_hdr(&h, AZ_SIM_OP_ECHO,
		t->i < UB_N ? AZ_SIM_FAULT_NEVER : AZ_SIM_FAULT_NONE, 0, 0, 0,
		0);
	memset(req, 0, PG);
	memcpy(req, &h, sizeof(h));
	fill_payload(req + sizeof(h), 64 - sizeof(h), (uint32_t)t->i);
	memset(resp, 0, PG);
	rq_init(&r, req, 64, resp, 64, NULL, 0, 0);
	r.timeout = 0;
	if (t->i == UB_N)
		t->sh->t_start = now_ms();
	e = blob_ioctl(t->fd, &r);
	if (t->i == UB_N)
		t->sh->t_end = now_ms();
	t->sh->status[t->i] = r.response.status;
	t->sh->rlen[t->i] = r.response.response_len;
	t->sh->bad[t->i] = !e && memcmp(req, resp, 64);
	__atomic_store_n(&t->sh->res[t->i], e + 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The child: uid 1000, UB_N held requests on threads, then one more. */
static void ub_child(struct ub_shared *sh)
{
	struct ub_thread *t;
	pthread_attr_t attr;
	uint8_t *mem;
	int fd, i;

	fd = open(run.dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		_exit(120);
	if (setresuid(UB_UID, UB_UID, UB_UID)) {
		sh->fail = errno;
		_exit(121);
	}
	mem = mmap(NULL, (UB_N + 1) * 2 * PG, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	t = calloc(UB_N + 1, sizeof(*t));
	if (mem == MAP_FAILED || !t)
		_exit(122);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	__atomic_store_n(&sh->ready, 1, __ATOMIC_RELEASE);
	for (i = 0; i <= UB_N; i++) {
		if (i == UB_N)
			while (!__atomic_load_n(&sh->go, __ATOMIC_ACQUIRE))
				sleep_ms(5);
		t[i].fd = fd;
		t[i].i = i;
		t[i].mem = mem + (size_t)i * 2 * PG;
		t[i].sh = sh;
		if (pthread_create(&t[i].th, &attr, ub_main, &t[i]))
			_exit(123);
	}
	for (i = 0; i <= UB_N; i++)
		pthread_join(t[i].th, NULL);
	_exit(0);
}

/*
 * One user (uid) may have AZ_BLOB_USER_MAX_REQUESTS (256) requests in
 * flight on a device: a uid-1000 process with 256 requests the host holds
 * sees its 257th wait (still after 2 s), while root's request goes through
 * at once. When the host answers (release), everything completes.
 */
int t_user_bound(void)
{
	struct ub_shared *sh;
	struct arena *a = arena_new(4);
	int fd = dev_open(), ret = 0, status, reaped = 0, i, n;
	int64_t end, t0, ms;
	pid_t pid;

	if (!a || fd < 0)
		return TEST_FAIL;
	if (drv_stat("outstanding"))
		return fail("outstanding %ld before the test",
			    drv_stat("outstanding"));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return fail("mmap: %s", strerror(errno));
	track(RES_MAP, -1, sh, sizeof(*sh));
	memset(sh, 0, sizeof(*sh));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	if (!pid)
		ub_child(sh);

	/* The 256 held requests of uid 1000. */
	for (end = now_ms() + 30000;; sleep_ms(20)) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = 1;
			ret = fail("the uid-%d child exited early (status 0x%x, errno %d)",
				   UB_UID, status, sh->fail);
			goto out;
		}
		if (drv_stat("outstanding") == UB_N)
			break;
		if (now_ms() > end) {
			ret = fail("outstanding reached %ld, not %d, within 30 s",
				   drv_stat("outstanding"), UB_N);
			goto out;
		}
	}
	if (wait_sim(SS_HELD, UB_N, 5000)) {
		ret = TEST_FAIL;
		goto out;
	}
	for (i = n = 0; i < UB_N; i++)
		n += !!__atomic_load_n(&sh->res[i], __ATOMIC_ACQUIRE);
	if (n) {
		ret = fail("%d of the %d held requests returned", n, UB_N);
		goto out;
	}

	/* The 257th of uid 1000 waits for one of its own. */
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	sleep_ms(2000);
	if (__atomic_load_n(&sh->res[UB_N], __ATOMIC_ACQUIRE)) {
		ret = fail("request %d of uid %d returned %s %" PRId64 " ms after it was made; expected it to wait while %d of the user's were in flight",
			   UB_N + 1, UB_UID,
			   errname(sh->res[UB_N] - 1),
			   sh->t_end - sh->t_start, UB_N);
		goto out;
	}
	if (drv_stat("outstanding") != UB_N) {
		ret = fail("outstanding %ld with request %d of uid %d waiting; expected %d",
			   drv_stat("outstanding"), UB_N + 1, UB_UID, UB_N);
		goto out;
	}

	/* Another user is not affected. */
	t0 = now_ms();
	ret = echo_at(fd, NULL, a, PG + 8, 64, 2 * PG + 8, 64, 0);
	ms = now_ms() - t0;
	if (!ret && ms > 1500)
		ret = fail("root's request took %" PRId64 " ms while uid %d was at its bound",
			   ms, UB_UID);
	if (ret)
		goto out;

	/* The host answers: the 256, then the 257th, complete. */
	if (sim_ctl_ok("release")) {
		ret = TEST_FAIL;
		goto out;
	}
	if (reap(pid, &status, 30000)) {
		ret = fail("the uid-%d child still runs 30 s after release",
			   UB_UID);
		goto out;
	}
	reaped = 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		ret = fail("the uid-%d child: status 0x%x", UB_UID, status);
		goto out;
	}
	for (i = 0; i <= UB_N; i++) {
		if (sh->res[i] != 1 || sh->status[i] || sh->rlen[i] != 64 ||
		    sh->bad[i]) {
			ret = fail("request %d of uid %d: %s, status 0x%08x, response_len %u%s",
				   i + 1, UB_UID,
				   sh->res[i] ? errname(sh->res[i] - 1) : "never returned",
				   sh->status[i], sh->rlen[i],
				   sh->bad[i] ? ", wrong bytes" : "");
			goto out;
		}
	}
	vlog("request %d of uid %d waited %" PRId64 " ms", UB_N + 1, UB_UID,
	     sh->t_end - sh->t_start);
	ret = wait_idle(run.name, 0, 0, 5000);
out:
	if (!reaped) {
		kill(pid, SIGKILL);
		sim_ctl("release");
		if (reap(pid, &status, 10000))
			fprintf(stderr, "az_blob_test: child %d not reaped\n",
				(int)pid);
	}
	return ret;
}

/* ------------------------------------------------------------------ */
/* The freezer                                                         */
/* ------------------------------------------------------------------ */

#define FZ_ROOT		"/sys/fs/cgroup"
#define FZ_DIR		FZ_ROOT "/freezer"
#define FZ_GROUP	FZ_DIR "/az_blob_test"

static int fz_state(char *buf, size_t n)
{
	int err = read_text(FZ_GROUP "/freezer.state", buf, n);

	buf[strcspn(buf, "\n")] = 0;
	return err;
}

/*
 * A caller waiting for the host can be frozen where it waits: a child
 * blocked in the ioctl (the host holds its request) in a cgroup v1 freezer
 * group reaches FROZEN within 5 s. While it is frozen the host answers and
 * the driver gives the request back; thawed, the child returns 0.
 */
int t_freezable_wait(void)
{
	int mounted_root = 0, mounted_fz = 0, made = 0, reaped = 0, ret = 0;
	int status;
	char buf[64], pidbuf[32];
	int64_t end;
	pid_t pid = -1;

	if (access(FZ_DIR "/freezer.state", F_OK)) {
		if (access(FZ_ROOT, F_OK)) {
			fail("no " FZ_ROOT " (a kernel without cgroups)");
			return TEST_SKIP;
		}
		if (mkdir(FZ_DIR, 0755) && errno != EEXIST) {
			if (mount("az_blob_test", FZ_ROOT, "tmpfs", 0,
				  "mode=755")) {
				fail("cannot mount a tmpfs on " FZ_ROOT ": %s",
				     strerror(errno));
				return TEST_SKIP;
			}
			mounted_root = 1;
			if (mkdir(FZ_DIR, 0755) && errno != EEXIST) {
				ret = fail("mkdir " FZ_DIR ": %s",
					   strerror(errno));
				goto unmount;
			}
		}
		if (mount("az_blob_test", FZ_DIR, "cgroup", 0, "freezer")) {
			fail("no cgroup v1 freezer in this kernel (mount -t cgroup -o freezer: %s)",
			     strerror(errno));
			ret = TEST_SKIP;
			goto unmount;
		}
		mounted_fz = 1;
	}
	if (mkdir(FZ_GROUP, 0755) && errno != EEXIST) {
		ret = fail("mkdir " FZ_GROUP ": %s", strerror(errno));
		goto unmount;
	}
	made = 1;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		ret = fail("fork: %s", strerror(errno));
		goto out;
	}
	if (!pid)
		child_submit(run.dev, AZ_SIM_FAULT_NEVER, 0);
	if (wait_idle(run.name, 1, 6, 5000) || wait_sim(SS_HELD, 1, 2000)) {
		ret = TEST_FAIL;
		goto out;
	}
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)pid);
	if (write_text(FZ_GROUP "/tasks", pidbuf) ||
	    write_text(FZ_GROUP "/freezer.state", "FROZEN")) {
		ret = fail("moving the child into " FZ_GROUP " and freezing it: %s",
			   strerror(errno));
		goto out;
	}
	for (end = now_ms() + 5000;; sleep_ms(20)) {
		if (fz_state(buf, sizeof(buf))) {
			ret = fail("reading " FZ_GROUP "/freezer.state failed");
			goto out;
		}
		if (!strcmp(buf, "FROZEN"))
			break;
		if (now_ms() > end) {
			ret = fail("freezer.state still %s 5 s after FROZEN was written: the task waiting for the host cannot be frozen",
				   buf);
			goto out;
		}
	}
	vlog("frozen in the ioctl after %" PRId64 " ms",
	     now_ms() - end + 5000);

	/*
	 * The host answers while the caller is frozen: the request is given
	 * back (the waiter then owns its pages, unpinned when it runs).
	 */
	if (sim_ctl_ok("release") || wait_idle(run.name, 0, 6, 5000)) {
		ret = TEST_FAIL;
		goto out;
	}
	if (waitpid(pid, &status, WNOHANG) == pid) {
		reaped = 1;
		ret = fail("the frozen child exited (status 0x%x)", status);
		goto out;
	}
	if (write_text(FZ_GROUP "/freezer.state", "THAWED")) {
		ret = fail("thawing: %s", strerror(errno));
		goto out;
	}
	if (reap(pid, &status, 5000)) {
		ret = fail("the child did not return within 5 s of the thaw");
		goto out;
	}
	reaped = 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		ret = fail("the thawed child: expected exit 0 (the ioctl succeeded), got status 0x%x",
			   status);
	else
		ret = wait_idle(run.name, 0, 0, 2000);
out:
	if (made)
		write_text(FZ_GROUP "/freezer.state", "THAWED");
	if (pid > 0 && !reaped) {
		kill(pid, SIGKILL);
		sim_ctl("release");
		if (reap(pid, &status, 10000))
			fprintf(stderr, "az_blob_test: child %d not reaped\n",
				(int)pid);
	}
	if (made && rmdir(FZ_GROUP) && !ret)
		ret = fail("rmdir " FZ_GROUP ": %s", strerror(errno));
unmount:
	if (mounted_fz)
		umount(FZ_DIR);
	if (mounted_root)
		umount(FZ_ROOT);
	return ret;
}

/* ------------------------------------------------------------------ */
/* A full ring                                                         */
/* ------------------------------------------------------------------ */

#define RF_SMALL	8	/* small requests behind the large one */
#define RF_LARGE	3	/* large requests behind the large one */

/*
 * An echo of 64 bytes; with @data, a data buffer of 8190 pages too, so the
 * packet lists 8192 pages (65632 bytes in the ring: two never fit in its
 * 126976). Request and response pages @k of @io.
 */
static struct bg *rf_start(int fd, uint8_t *io, int k, uint8_t *data)
{
	struct az_blob_request_sync r;
	struct az_sim_req h;
	uint8_t *req = io + (size_t)k * 2 * PG, *resp = req + PG;

	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NONE, 0, 0, 0, 0);
	memcpy(req, &h, sizeof(h));
	fill_payload(req + sizeof(h), 64 - sizeof(h), (uint32_t)k);
	memset(resp, 0, 64);
	rq_init(&r, req, 64, resp, 64, data,
		data ? (AZ_BLOB_MAX_PAGES - 2) * PG : 0, 0);
	return bg_run(fd, &r);
}

static int rf_ok(struct bg *b, const char *what)
{
	const uint8_t *req = (const uint8_t *)(uintptr_t)b->r.request_buffer;
	const uint8_t *resp = (const uint8_t *)(uintptr_t)b->r.response_buffer;

	if (b->err)
		return fail("%s: expected success, got %s", what,
			    errname(b->err));
	if (expect_ok(0, &b->r, 0, 64) || cmp_bytes("response", resp, req, 64)) {
		snprintf(run.reason + strlen(run.reason),
			 sizeof(run.reason) - strlen(run.reason), " (%s)", what);
		return TEST_FAIL;
	}
	return 0;
}

/* Wait until the simulator's ring_full passed @v: a sender found no room. */
static int rf_wait_full(long v, const char *what)
{
	int64_t end = now_ms() + 10000;
	struct sstats s;

	for (;;) {
		if (sstats_get(&s))
			return TEST_FAIL;
		if (s.v[SS_RING_FULL] > v)
			return 0;
		if (now_ms() > end)
			return fail("%s never found the ring full", what);
		sleep_ms(5);
	}
}

/*
 * Senders queue in arrival order in front of a full ring. With the host
 * stalled, a 32 MiB request A fills the ring so that a second one, B,
 * cannot go in; small requests made after B must queue behind it, not
 * overtake it (outstanding stays 1), and once the host takes A off they
 * all complete, B first in the queue. Then, the host kept stalled, B and
 * large requests queued behind it give up with EBUSY after 5 s without
 * progress; A still completes when the host comes back.
 */
int t_ring_full_fifo(void)
{
	struct bg *bl[2 + RF_SMALL] = { NULL }, *l2[2 + RF_LARGE] = { NULL };
	uint8_t *data, *io;
	struct sstats s;
	struct dstats d0;
	int fd = dev_open(), idx = cur_sim_idx(), ret = 0, i, stalled = 0;
	int64_t tb;
	long rf0;

	if (fd < 0 || dstats_get(run.name, &d0))
		return TEST_FAIL;
	data = map_pages(AZ_BLOB_MAX_PAGES - 2, PROT_READ | PROT_WRITE);
	io = map_pages(2 * (2 + RF_SMALL + 2 + RF_LARGE), PROT_READ | PROT_WRITE);
	if (!data || !io)
		return TEST_FAIL;

	/* 1. FIFO: small requests do not overtake a large one. */
	if (sim_ctl("stall %d 1", idx))
		return fail("stall %d 1 refused", idx);
	stalled = 1;
	bl[0] = rf_start(fd, io, 0, data);
	if (!bl[0] || wait_idle(run.name, 1, AZ_BLOB_MAX_PAGES, 10000)) {
		ret = TEST_FAIL;
		goto out;
	}
	if (sstats_get(&s)) {
		ret = TEST_FAIL;
		goto out;
	}
	rf0 = s.v[SS_RING_FULL];
	bl[1] = rf_start(fd, io, 1, data);
	if (!bl[1] || rf_wait_full(rf0, "the second 32 MiB request")) {
		ret = TEST_FAIL;
		goto out;
	}
	for (i = 0; i < RF_SMALL; i++) {
		bl[2 + i] = rf_start(fd, io, 2 + i, NULL);
		if (!bl[2 + i]) {
			ret = TEST_FAIL;
			goto out;
		}
	}
	sleep_ms(700);
	for (i = 0; i < 2 + RF_SMALL; i++) {
		if (bg_done(bl[i])) {
			ret = fail("request %d of the queue returned %s while the host was stalled",
				   i, errname(bl[i]->err));
			goto out;
		}
	}
	if (drv_stat("outstanding") != 1) {
		ret = fail("while a 32 MiB request waited for room, outstanding %ld: small requests made after it overtook it; expected 1",
			   drv_stat("outstanding"));
		goto out;
	}
	if (sim_ctl("stall %d 0", idx)) {
		ret = fail("stall %d 0 refused", idx);
		goto out;
	}
	stalled = 0;
	for (i = 0; i < 2 + RF_SMALL; i++) {
		if (bg_wait(bl[i], STUCK_MS, "a queued request after the host came back")) {
			ret = TEST_FAIL;
			goto out;
		}
		if (rf_ok(bl[i], i == 1 ? "the second 32 MiB request" :
			  i ? "a small request queued behind it" :
			  "the first 32 MiB request")) {
			ret = TEST_FAIL;
			goto out;
		}
	}

	/* 2. EBUSY for the first waiter and all queued behind it. */
	if (sim_ctl("stall %d 1", idx)) {
		ret = fail("stall %d 1 refused", idx);
		goto out;
	}
	stalled = 1;
	l2[0] = rf_start(fd, io, 2 + RF_SMALL, data);
	if (!l2[0] || wait_idle(run.name, 1, AZ_BLOB_MAX_PAGES, 10000) ||
	    sstats_get(&s)) {
		ret = TEST_FAIL;
		goto out;
	}
	rf0 = s.v[SS_RING_FULL];
	l2[1] = rf_start(fd, io, 3 + RF_SMALL, data);
	if (!l2[1] || rf_wait_full(rf0, "the second 32 MiB request")) {
		ret = TEST_FAIL;
		goto out;
	}
	tb = now_ms();
	for (i = 0; i < RF_LARGE; i++) {
		l2[2 + i] = rf_start(fd, io, 4 + RF_SMALL + i, data);
		if (!l2[2 + i]) {
			ret = TEST_FAIL;
			goto out;
		}
	}
	if (bg_join(l2[1], tb + 10000)) {
		ret = fail("the request waiting for room in a stalled ring has not given up after 10 s");
		goto out;
	}
	if (l2[1]->err != EBUSY || l2[1]->t_end - tb < 4500 ||
	    l2[1]->t_end - tb > 8000) {
		ret = fail("the request waiting for room in a stalled ring: expected EBUSY after 5 s, got %s after %" PRId64 " ms",
			   errname(l2[1]->err), l2[1]->t_end - tb);
		goto out;
	}
	for (i = 2; i < 2 + RF_LARGE; i++) {
		if (bg_join(l2[i], l2[1]->t_end + 2000)) {
			ret = fail("a request queued behind the one that gave up still waits 2 s later");
			goto out;
		}
		if (l2[i]->err != EBUSY) {
			ret = fail("a request queued behind the one that gave up: expected EBUSY, got %s",
				   errname(l2[i]->err));
			goto out;
		}
	}
	if (drv_stat("outstanding") != 1) {
		ret = fail("outstanding %ld after the queue gave up; expected 1",
			   drv_stat("outstanding"));
		goto out;
	}
	if (sim_ctl("stall %d 0", idx)) {
		ret = fail("stall %d 0 refused", idx);
		goto out;
	}
	stalled = 0;
	if (bg_wait(l2[0], STUCK_MS, "the request in the ring after the stall") ||
	    rf_ok(l2[0], "the 32 MiB request in the stalled ring")) {
		ret = TEST_FAIL;
		goto out;
	}
	/* No polling: a bounded number of tries per sender. */
	ret = check_deltas2(run.name, &d0, 0, 0, ANY);
	if (!ret) {
		long rf = drv_stat("ring_full") - d0.v[DS_RING_FULL];

		/*
		 * A sender that finds the ring full asks the host to signal
		 * room and looks once more: two each, not one per tick.
		 */
		if (rf < 2 || rf > 2 * (3 + RF_LARGE))
			ret = fail("driver ring_full %+ld; expected at most two per sender that found the ring full (2 to %d)",
				   rf, 2 * (3 + RF_LARGE));
	}
out:
	if (stalled)
		sim_ctl("stall %d 0", idx);
	for (i = 0; i < 2 + RF_SMALL; i++) {
		if (!bl[i])
			continue;
		if (!bg_done(bl[i]) && bg_wait(bl[i], STUCK_MS, "cleanup"))
			ret = TEST_FAIL;
		if (bg_done(bl[i]))
			bg_free(bl[i]);
	}
	for (i = 0; i < 2 + RF_LARGE; i++) {
		if (!l2[i])
			continue;
		if (!bg_done(l2[i]) && bg_wait(l2[i], STUCK_MS, "cleanup"))
			ret = TEST_FAIL;
		if (bg_done(l2[i]))
			bg_free(l2[i]);
	}
	return ret;
}

/*
 * A sender waiting for room must get in when the host takes packets off
 * the ring, even if the host answers none of them yet: the channel
 * callback then runs on the host's room signal (pending_send_sz), not on
 * a completion. A, 32 MiB, sits in the stalled ring and the host keeps it
 * once taken (NEVER); B, 32 MiB, waits; when the host takes A, B must go
 * in and complete well before the 5 s after which it would give up.
 */
int t_ring_room_without_completion(void)
{
	struct az_blob_request_sync r;
	struct bg *a = NULL, *b = NULL;
	struct az_sim_req h;
	uint8_t *data, *io, *req, *resp;
	struct sstats s;
	int fd = dev_open(), idx = cur_sim_idx(), ret = 0, stalled = 0;
	int64_t t0;

	if (fd < 0)
		return TEST_FAIL;
	data = map_pages(AZ_BLOB_MAX_PAGES - 2, PROT_READ | PROT_WRITE);
	io = map_pages(4, PROT_READ | PROT_WRITE);
	if (!data || !io)
		return TEST_FAIL;
	if (sim_ctl("stall %d 1", idx))
		return fail("stall %d 1 refused", idx);
	stalled = 1;

	req = io;
	resp = io + PG;
	sim_hdr(&h, AZ_SIM_OP_ECHO, AZ_SIM_FAULT_NEVER, 0, 0, 0, 0);
	memcpy(req, &h, sizeof(h));
	rq_init(&r, req, 64, resp, 64, data, (AZ_BLOB_MAX_PAGES - 2) * PG, 0);
	a = bg_run(fd, &r);
	if (!a || wait_idle(run.name, 1, AZ_BLOB_MAX_PAGES, 10000) ||
	    sstats_get(&s)) {
		ret = TEST_FAIL;
		goto out;
	}
	b = rf_start(fd, io + 2 * PG, 0, data);
	if (!b || rf_wait_full(s.v[SS_RING_FULL], "the second 32 MiB request")) {
		ret = TEST_FAIL;
		goto out;
	}
	/* The host takes A off the ring and keeps it. */
	t0 = now_ms();
	if (sim_ctl("stall %d 0", idx)) {
		ret = fail("stall %d 0 refused", idx);
		goto out;
	}
	stalled = 0;
	if (bg_join(b, t0 + 3000)) {
		ret = fail("B still waits 3 s after the host emptied the ring (A taken, not answered)");
		goto out;
	}
	if (rf_ok(b, "B, sent once the host took A")) {
		ret = TEST_FAIL;
		goto out;
	}
	if (sim_ctl_ok("release") ||
	    bg_wait(a, STUCK_MS, "A after release")) {
		ret = TEST_FAIL;
		goto out;
	}
	if (a->err)
		ret = fail("A after release: expected success, got %s",
			   errname(a->err));
out:
	if (stalled)
		sim_ctl("stall %d 0", idx);
	if (a && !bg_done(a)) {
		sim_ctl("release");
		if (bg_wait(a, STUCK_MS, "cleanup"))
			ret = TEST_FAIL;
	}
	if (b && !bg_done(b) && bg_wait(b, STUCK_MS, "cleanup"))
		ret = TEST_FAIL;
	if (a && bg_done(a))
		bg_free(a);
	if (b && bg_done(b))
		bg_free(b);
	return ret;
}
