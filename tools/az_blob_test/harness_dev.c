// SPDX-License-Identifier: GPL-2.0
/*
 * The harness's devices (harness.h): the driver's and the simulator's
 * debugfs state, the simulator's control file and channels, misc devices
 * and their nodes, unbind/bind and rescind/offer of the device under test.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "harness.h"

/* ------------------------------------------------------------------ */
/* Driver and simulator state                                          */
/* ------------------------------------------------------------------ */

/* Value of "key value" in @buf, or -1. */
static long kv_get(const char *buf, const char *key)
{
	size_t klen = strlen(key);
	const char *p = buf;
	char *end;
	long v;

	while (p && *p) {
		if (!strncmp(p, key, klen) && (p[klen] == ' ' || p[klen] == '\t')) {
			v = strtol(p + klen + 1, &end, 0);
			return end == p + klen + 1 ? -1 : v;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* The rest of the line after @prefix in @buf into @out, or "". */
static void kv_text(const char *buf, const char *prefix, char *out, size_t n)
{
	const char *p = strstr(buf, prefix);

	out[0] = 0;
	if (p) {
		p += strlen(prefix);
		snprintf(out, n, "%.*s", (int)strcspn(p, "\n"), p);
	}
}

static const char *const ds_keys[DS_N] = {
	"outstanding", "pinned_pages", "submitted", "completed", "abandoned",
	"unknown_id", "bad_packet", "failed", "not_completion", "ring_full",
};

/* VMBus device name behind misc device @misc. */
int misc_vmname(const char *misc, char *out, size_t n)
{
	char path[PATH_MAX], link[PATH_MAX];
	const char *base;
	ssize_t len;

	snprintf(path, sizeof(path), MISC_DIR "/%s/device", misc);
	len = readlink(path, link, sizeof(link) - 1);
	if (len < 0)
		return errno;
	link[len] = 0;
	base = strrchr(link, '/');
	copy_str(out, n, base ? base + 1 : link);
	return 0;
}

static int vm_stats(const char *vm, struct dstats *s)
{
	char path[PATH_MAX], buf[4096];
	int i, err;

	snprintf(path, sizeof(path), DRV_DBG_DIR "/%s/stats", vm);
	err = read_text(path, buf, sizeof(buf));
	if (err)
		return err;
	for (i = 0; i < DS_N; i++) {
		s->v[i] = kv_get(buf, ds_keys[i]);
		/* The newer counters may be missing (an older driver). */
		if (s->v[i] < 0 && i < DS_FAILED)
			return ENOENT;
	}
	return 0;
}

/* The driver names its debugfs directory after the misc device. */
static int dstats_read(const char *misc, struct dstats *s)
{
	return vm_stats(misc, s);
}

/* Read @misc's counters or fail the test. */
int dstats_get(const char *misc, struct dstats *s)
{
	int err = dstats_read(misc, s);

	if (err)
		return fail("cannot read driver stats of %s: %s", misc,
			    strerror(err));
	return 0;
}

/* One counter of the device under test, or -1. */
long drv_stat(const char *key)
{
	struct dstats s;
	int i;

	if (dstats_read(run.name, &s))
		return -1;
	for (i = 0; i < DS_N; i++)
		if (!strcmp(key, ds_keys[i]))
			return s.v[i];
	return -1;
}

/*
 * Wait up to 2 s until the counters of @misc moved by @want[i] since @b
 * (ANY: not checked), then compare. Completions may be counted just after
 * the ioctl returned (a duplicate comes after the right one).
 */
int check_want(const char *misc, const struct dstats *b, const long *want)
{
	int64_t end = now_ms() + 2000;
	struct dstats s;
	int i;

	for (i = 0; i < DS_N; i++)
		if (want[i] != ANY && b->v[i] < 0)
			return fail("counter %s: not in the driver's stats",
				    ds_keys[i]);
	for (;;) {
		int match = 1;

		if (dstats_get(misc, &s))
			return TEST_FAIL;
		for (i = 0; i < DS_N; i++)
			if (want[i] != ANY && s.v[i] - b->v[i] != want[i])
				match = 0;
		if (match)
			return 0;
		if (now_ms() > end)
			break;
		sleep_ms(20);
	}
	for (i = 0; i < DS_N; i++)
		if (want[i] != ANY && s.v[i] - b->v[i] != want[i])
			return fail("counter %s: expected +%ld, got %+ld",
				    ds_keys[i], want[i], s.v[i] - b->v[i]);
	return 0;
}

int check_deltas(const char *misc, const struct dstats *b, long sub,
		 long comp, long aband, long unk, long bad)
{
	const long want[DS_N] = { ANY, ANY, sub, comp, aband, unk, bad,
				  ANY, ANY, ANY };

	return check_want(misc, b, want);
}

/* The counters of the reworked driver: failed, not_completion, ring_full. */
int check_deltas2(const char *misc, const struct dstats *b, long failed,
		  long not_comp, long ring_full)
{
	const long want[DS_N] = { ANY, ANY, ANY, ANY, ANY, ANY, ANY,
				  failed, not_comp, ring_full };

	return check_want(misc, b, want);
}

/* Wait up to @ms for outstanding == @out and pinned_pages == @pin. */
int wait_idle(const char *misc, long out, long pin, int ms)
{
	int64_t end = now_ms() + ms;
	struct dstats s;

	for (;;) {
		if (dstats_get(misc, &s))
			return TEST_FAIL;
		if (s.v[DS_OUTSTANDING] == out && s.v[DS_PINNED] == pin)
			return 0;
		if (now_ms() > end)
			return fail("expected outstanding %ld, pinned_pages %ld; got %ld, %ld",
				    out, pin, s.v[DS_OUTSTANDING],
				    s.v[DS_PINNED]);
		sleep_ms(20);
	}
}

const char *const ss_keys[SS_N] = {
	"requests", "completions", "violations", "bad_requests", "held",
	"ring_full", "open_channels", "devices", "misuse", "unpinned_writes",
	"late_answers", "late_writes", "late_unpinned", "dups_armed",
	"dups_sent", "rescind_after_commit", "race_consumed", "race_deferred",
	"open_failures", "cut", "dropped", "ring_errors", "rqstor_full",
	"referenced_writes",
};

int sstats_read(struct sstats *s)
{
	char buf[4096];
	int i, err;

	err = read_text(SIM_DIR "/stats", buf, sizeof(buf));
	if (err)
		return err;
	for (i = 0; i < SS_N; i++) {
		s->v[i] = kv_get(buf, ss_keys[i]);
		if (s->v[i] < 0)
			return ENOENT;
	}
	kv_text(buf, "last_violation ", s->last_violation,
		sizeof(s->last_violation));
	kv_text(buf, "last_misuse ", s->last_misuse, sizeof(s->last_misuse));
	return 0;
}

int sstats_get(struct sstats *s)
{
	int err = sstats_read(s);

	if (err)
		return fail("cannot read " SIM_DIR "/stats: %s", strerror(err));
	return 0;
}

int wait_sim(int key, long val, int ms)
{
	int64_t end = now_ms() + ms;
	struct sstats s;

	for (;;) {
		if (sstats_get(&s))
			return TEST_FAIL;
		if (s.v[key] == val)
			return 0;
		if (now_ms() > end)
			return fail("simulator %s: expected %ld, got %ld",
				    ss_keys[key], val, s.v[key]);
		sleep_ms(20);
	}
}

/* Write a command to the simulator. Returns 0 or the write's errno. */
int sim_ctl(const char *fmt, ...)
{
	char cmd[64];
	va_list ap;
	int err;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	err = write_text(SIM_DIR "/control", cmd);
	vlog("sim control '%s': %s", cmd, errname(err));
	return err;
}

int sim_ctl_ok(const char *cmd)
{
	int err = sim_ctl("%s", cmd);

	if (err)
		return fail("writing '%s' to " SIM_DIR "/control: %s", cmd,
			    errname(err));
	return 0;
}

int sim_channels(struct chan *c, int max)
{
	char buf[16384], *p;
	int n = 0, err;

	err = read_text(SIM_DIR "/channel", buf, sizeof(buf));
	if (err)
		return -err;
	for (p = buf; *p && n < max; ) {
		if (sscanf(p, "%d %63s open %d send_ring %ld recv_ring %ld userdatalen %ld rqstor_size %ld max_pkt_size %ld rescind %d",
			   &c[n].idx, c[n].guid, &c[n].open, &c[n].send_ring,
			   &c[n].recv_ring, &c[n].userdatalen,
			   &c[n].rqstor_size, &c[n].max_pkt_size,
			   &c[n].rescind) == 9)
			n++;
		p = strchr(p, '\n');
		if (!p)
			break;
		p++;
	}
	return n;
}

/* The channel line of simulator device @idx. */
int sim_chan_of(int idx, struct chan *out)
{
	struct chan ch[MAX_DEVS];
	int n, i;

	n = sim_channels(ch, MAX_DEVS);
	if (n < 0)
		return fail("reading " SIM_DIR "/channel: %s", strerror(-n));
	for (i = 0; i < n; i++) {
		if (ch[i].idx == idx) {
			*out = ch[i];
			return 0;
		}
	}
	return fail("no channel line for simulator device %d", idx);
}

static void guid_norm(const char *in, char *out, size_t n)
{
	size_t j = 0;

	for (; *in && j + 1 < n; in++) {
		if (*in == '{' || *in == '}' || *in == '\n' || *in == ' ')
			continue;
		out[j++] = (char)((*in >= 'A' && *in <= 'Z') ? *in + 32 : *in);
	}
	out[j] = 0;
}

/* Simulator index of misc device @misc by instance GUID, or -1. */
int sim_idx_of(const char *misc)
{
	char vm[NAME_LEN * 2], path[PATH_MAX], buf[128], a[NAME_LEN];
	char b[NAME_LEN], c[NAME_LEN];
	struct chan ch[MAX_DEVS];
	int n, i;

	if (misc_vmname(misc, vm, sizeof(vm)))
		return -1;
	guid_norm(vm, a, sizeof(a));
	snprintf(path, sizeof(path), MISC_DIR "/%s/device/device_id", misc);
	if (read_text(path, buf, sizeof(buf)))
		buf[0] = 0;
	guid_norm(buf, b, sizeof(b));
	n = sim_channels(ch, MAX_DEVS);
	for (i = 0; i < n; i++) {
		guid_norm(ch[i].guid, c, sizeof(c));
		if (!ch[i].rescind && (!strcmp(a, c) || !strcmp(b, c)))
			return ch[i].idx;
	}
	return -1;
}

int cur_sim_idx(void)
{
	int idx = sim_idx_of(run.name);

	return idx >= 0 ? idx : run.sim_idx;
}

/* ------------------------------------------------------------------ */
/* Misc devices and their nodes                                        */
/* ------------------------------------------------------------------ */

void set_device(const char *name)
{
	snprintf(run.name, sizeof(run.name), "%s", name);
	snprintf(run.dev, sizeof(run.dev), "/dev/%s", name);
}

int misc_exists(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), MISC_DIR "/%s", name);
	return !access(path, F_OK);
}

/* Misc devices named run.prefix or run.prefix<digits>. */
int misc_list(char names[][NAME_LEN], int max)
{
	size_t plen = strlen(run.prefix);
	struct dirent *de;
	int n = 0;
	DIR *d;

	d = opendir(MISC_DIR);
	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		const char *p = de->d_name + plen;

		if (strncmp(de->d_name, run.prefix, plen))
			continue;
		while (*p >= '0' && *p <= '9')
			p++;
		if (*p)
			continue;
		copy_str(names[n++], NAME_LEN, de->d_name);
	}
	closedir(d);
	return n;
}

static int in_list(const char *name, char list[][NAME_LEN], int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(name, list[i]))
			return 1;
	return 0;
}

/* Wait up to @ms for a misc device not in @old; its name into @out. */
int wait_new_misc(char old[][NAME_LEN], int nold, char *out, int ms)
{
	char now[MAX_DEVS][NAME_LEN];
	int64_t end = now_ms() + ms;
	int n, i;

	for (;;) {
		n = misc_list(now, MAX_DEVS);
		for (i = 0; i < n; i++) {
			if (!in_list(now[i], old, nold)) {
				copy_str(out, NAME_LEN, now[i]);
				return 0;
			}
		}
		if (now_ms() > end)
			return fail("no new %s* misc device within %d ms",
				    run.prefix, ms);
		sleep_ms(50);
	}
}

int wait_misc_gone(const char *name, int ms)
{
	int64_t end = now_ms() + ms;

	while (misc_exists(name)) {
		if (now_ms() > end)
			return fail(MISC_DIR "/%s still present after %d ms",
				    name, ms);
		sleep_ms(50);
	}
	return 0;
}

/*
 * Make sure /dev/<name> is the node of misc device @name: wait for devtmpfs
 * or mdev a moment, then mknod it. *@created tells whether we made it.
 */
int ensure_node(const char *name, int *created)
{
	char path[PATH_MAX], buf[64];
	unsigned int maj, min;
	struct stat st;
	int64_t end;
	dev_t want;
	int err;

	*created = 0;
	snprintf(path, sizeof(path), MISC_DIR "/%s/dev", name);
	/* The class link appears before the device's dev attribute. */
	for (end = now_ms() + 2000;; sleep_ms(20)) {
		err = read_text(path, buf, sizeof(buf));
		if (err != ENOENT || now_ms() > end)
			break;
	}
	if (err)
		return fail("reading %s: %s", path, strerror(err));
	if (sscanf(buf, "%u:%u", &maj, &min) != 2)
		return fail("%s: bad content '%s'", path, buf);
	want = makedev(maj, min);
	snprintf(path, sizeof(path), "/dev/%s", name);
	for (end = now_ms() + 1000; now_ms() < end; sleep_ms(50))
		if (!stat(path, &st) && S_ISCHR(st.st_mode) &&
		    st.st_rdev == want)
			return 0;
	unlink(path);
	if (mknod(path, S_IFCHR | 0600, want))
		return fail("mknod %s: %s", path, strerror(errno));
	vlog("created %s (%u:%u)", path, maj, min);
	*created = 1;
	return 0;
}

/* Bring a new device up with "offer"; its misc name and sim index out. */
int offer_device(char *name, int *idx, int *created)
{
	char old[MAX_DEVS][NAME_LEN];
	struct chan before[MAX_DEVS], after[MAX_DEVS];
	int nold, nb, na, i, j;

	*idx = -1;
	nold = misc_list(old, MAX_DEVS);
	nb = sim_channels(before, MAX_DEVS);
	if (nb < 0)
		return fail("reading " SIM_DIR "/channel: %s", strerror(-nb));
	if (sim_ctl_ok("offer"))
		return TEST_FAIL;
	if (wait_new_misc(old, nold, name, 5000))
		return TEST_FAIL;
	na = sim_channels(after, MAX_DEVS);
	for (i = 0; i < na; i++) {
		int seen = 0;

		for (j = 0; j < nb; j++)
			if (before[j].idx == after[i].idx)
				seen = 1;
		if (!seen)
			*idx = after[i].idx;
	}
	if (*idx < 0)
		return fail("no new line in " SIM_DIR "/channel after offer");
	vlog("offer: misc %s, simulator device %d", name, *idx);
	return ensure_node(name, created);
}

/* The VMBus device behind the device under test and its driver's dir. */
int device_driver(char *vm, size_t vmlen, char *drv, size_t drvlen)
{
	char path[PATH_MAX], real[PATH_MAX];
	int err;

	err = misc_vmname(run.name, vm, vmlen);
	if (err)
		return fail("device link of %s: %s", run.name, strerror(err));
	snprintf(path, sizeof(path), MISC_DIR "/%s/device/driver", run.name);
	if (!realpath(path, real))
		return fail("realpath %s: %s", path, strerror(errno));
	copy_str(drv, drvlen, real);
	return 0;
}

/* Unbind VMBus device @vm from driver dir @drv; its misc device goes. */
int device_unbind(const char *vm, const char *drv)
{
	char path[PATH_MAX + 16];
	int err;

	snprintf(path, sizeof(path), "%s/unbind", drv);
	err = write_text(path, vm);
	if (err)
		return fail("writing %s to %s: %s", vm, path, errname(err));
	return wait_misc_gone(run.name, 5000);
}

/* Bind @vm again and make its new misc device the one under test. */
int device_bind(const char *vm, const char *drv)
{
	char path[PATH_MAX + 16], old[MAX_DEVS][NAME_LEN], name[NAME_LEN];
	int err, nold, created;

	nold = misc_list(old, MAX_DEVS);
	snprintf(path, sizeof(path), "%s/bind", drv);
	err = write_text(path, vm);
	if (err)
		return fail("writing %s to %s: %s", vm, path, errname(err));
	if (wait_new_misc(old, nold, name, 5000) || ensure_node(name, &created))
		return TEST_FAIL;
	if (strcmp(name, run.name))
		printf("# device is now /dev/%s\n", name);
	set_device(name);
	if (run.sim > 0)
		run.sim_idx = cur_sim_idx();
	return 0;
}

/* Unbind and bind the device under test through sysfs. */
int device_rebind(void)
{
	char vm[NAME_LEN * 2], drv[PATH_MAX];

	if (device_driver(vm, sizeof(vm), drv, sizeof(drv)) ||
	    device_unbind(vm, drv))
		return TEST_FAIL;
	return device_bind(vm, drv);
}

/*
 * Rescind the device under test (its requests end with ENODEV at once,
 * the host holds nothing after a rescind), offer a new one and make it
 * the device under test.
 */
int device_rescind_reoffer(void)
{
	int idx = cur_sim_idx(), err;

	err = sim_ctl("rescind %d", idx);
	if (err && err != ENODEV)
		return fail("rescind %d: %s", idx, errname(err));
	if (wait_misc_gone(run.name, 5000))
		return TEST_FAIL;
	return adopt_new_device();
}

/* Offer a new device and make it the device under test. */
int adopt_new_device(void)
{
	char name[NAME_LEN];
	int idx, created;

	if (offer_device(name, &idx, &created))
		return TEST_FAIL;
	if (strcmp(name, run.name))
		printf("# device is now /dev/%s (simulator device %d)\n", name,
		       idx);
	set_device(name);
	run.sim_idx = idx;
	return 0;
}
