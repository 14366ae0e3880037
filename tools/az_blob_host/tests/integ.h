/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Integration tests of az_blob_host without QEMU: the runner starts the
 * host (the sanitizer build), the cases talk to it through the fake guest.
 */
#ifndef AZ_BLOB_HOST_INTEG_H
#define AZ_BLOB_HOST_INTEG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define INTEG_RAM_SIZE		(64ULL << 20)
#define INTEG_THREADS		16

/**
 * struct ihost - One az_blob_host process and its files.
 */
struct ihost {
	pid_t pid;
	char sock[256];
	char ram[256];
	char pidfile[256];
	char log[256];
	uint64_t ram_size;
};

/**
 * struct ictx - What a case gets.
 * @bin: The host binary.
 * @dir: A private temporary directory.
 * @host: The shared host (started with %INTEG_THREADS workers).
 * @nhosts: Hosts started so far (names their files).
 * @failures: Failed checks of the current case.
 */
struct ictx {
	const char *bin;
	char dir[128];
	struct ihost host;
	unsigned int nhosts;
	unsigned int failures;
};

void ic_fail(struct ictx *c, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define IC(c, cond)							\
	do {								\
		if (!(cond))						\
			ic_fail(c, __FILE__, __LINE__, "%s", #cond);	\
	} while (0)

#define IC_EQ(c, got, want)						\
	do {								\
		unsigned long long g_ = (unsigned long long)(got);	\
		unsigned long long w_ = (unsigned long long)(want);	\
		if (g_ != w_)						\
			ic_fail(c, __FILE__, __LINE__,			\
				"%s: got %llu (%#llx), want %llu (%#llx)", \
				#got " == " #want, g_, g_, w_, w_);	\
	} while (0)

/*
 * Start a host with @threads workers and @extra arguments (NULL-ended, may
 * be NULL); waits for its "ready". 0, or -1 (case failed).
 */
int ihost_start(struct ictx *c, struct ihost *h, unsigned int threads,
		const char *const *extra);
/*
 * Send @sig and wait up to @ms for the exit. Returns the wait status, or
 * -1 if it did not exit (then it is killed).
 */
int ihost_stop(struct ictx *c, struct ihost *h, int sig, int ms);
/* Run the host with @argv (after the binary) to its exit: wait status. */
int ihost_run(struct ictx *c, const char *const *argv, char *out,
	      size_t outlen);
/* Print the last lines of a host's log (after a failure). */
void ihost_dump_log(const struct ihost *h);

void ic_sleep_ms(unsigned int ms);
uint64_t ic_ms_since(uint64_t t0_ns);

struct icase {
	const char *name;
	void (*fn)(struct ictx *c);
};

extern const struct icase integ_cases[];

#endif /* AZ_BLOB_HOST_INTEG_H */
