// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Strings, base64, percent-encoding, HTTP dates, randomness and clocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "azb.h"

int azb_buf_reserve(struct azb_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->oom)
		return -1;
	if (extra > SIZE_MAX - b->len - 1)
		goto oom;
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(b->p, cap);
	if (!p)
		goto oom;
	b->p = p;
	b->cap = cap;
	b->p[b->len] = '\0';
	return 0;
oom:
	b->oom = true;
	return -1;
}

void azb_buf_add(struct azb_buf *b, const void *p, size_t n)
{
	if (azb_buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void azb_buf_adds(struct azb_buf *b, const char *s)
{
	azb_buf_add(b, s, strlen(s));
}

void azb_buf_addf(struct azb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || azb_buf_reserve(b, (size_t)n)) {
		b->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void azb_buf_free(struct azb_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

char *azb_buf_steal(struct azb_buf *b)
{
	char *p;

	if (b->oom) {
		azb_buf_free(b);
		return NULL;
	}
	if (!b->p && azb_buf_reserve(b, 0))
		return NULL;
	p = b->p;
	memset(b, 0, sizeof(*b));
	return p;
}

char *azb_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

char *azb_strndup(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int azb_strcasecmp_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int d = lower((unsigned char)a[i]) - lower((unsigned char)b[i]);

		if (d || !a[i])
			return d;
	}
	return 0;
}

static const char b64_chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t azb_base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

void azb_base64_encode(const void *src, size_t n, char *dst)
{
	const unsigned char *s = src;
	size_t i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 |
			     s[i + 2];

		*dst++ = b64_chars[v >> 18];
		*dst++ = b64_chars[(v >> 12) & 63];
		*dst++ = b64_chars[(v >> 6) & 63];
		*dst++ = b64_chars[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;

		*dst++ = b64_chars[v >> 18];
		*dst++ = b64_chars[(v >> 12) & 63];
		*dst++ = '=';
		*dst++ = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;

		*dst++ = b64_chars[v >> 18];
		*dst++ = b64_chars[(v >> 12) & 63];
		*dst++ = b64_chars[(v >> 6) & 63];
		*dst++ = '=';
	}
	*dst = '\0';
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long azb_base64_decode(const char *src, size_t n, unsigned char *dst)
{
	size_t o = 0;

	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		int v[4];
		int pad = 0;

		for (int j = 0; j < 4; j++) {
			if (src[i + j] == '=' && last && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad)	/* "=" then a character */
				return -1;
			v[j] = b64_val((unsigned char)src[i + j]);
			if (v[j] < 0)
				return -1;
		}
		dst[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			dst[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			dst[o++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	return (long)o;
}

void azb_crc64_base64(uint64_t crc, char out[16])
{
	unsigned char le[8];

	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(crc >> (8 * i));
	azb_base64_encode(le, 8, out);
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

void azb_pct_encode(struct azb_buf *b, const char *s, size_t n,
		    bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (unreserved(c) || (keep_slash && c == '/')) {
			azb_buf_add(b, &s[i], 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };

			azb_buf_add(b, e, 3);
		}
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *azb_pct_decode(const char *s, size_t n)
{
	char *o = malloc(n + 1);
	size_t k = 0;

	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;

			if (n - i < 3) {
				free(o);
				return NULL;
			}
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0) {
				free(o);
				return NULL;
			}
			o[k++] = (char)(h << 4 | l);
			i += 2;
		} else {
			o[k++] = s[i];
		}
	}
	o[k] = '\0';
	return o;
}

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				     "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May",
				      "Jun", "Jul", "Aug", "Sep", "Oct",
				      "Nov", "Dec" };

void azb_http_date(time_t t, char out[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%s, %02d %s %04d %02d:%02d:%02d GMT",
		 wdays[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int azb_parse_http_date(const char *s, time_t *out)
{
	char wd[4], mon[4], tz[4];
	int d, y, h, mi, se, n = 0;
	struct tm tm = { 0 };

	if (sscanf(s, "%3s, %d %3s %d %d:%d:%d %3s%n", wd, &d, mon, &y, &h,
		   &mi, &se, tz, &n) != 8 || s[n] != '\0' ||
	    strcmp(tz, "GMT"))
		return -1;
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (!strcmp(mon, months[i]))
			tm.tm_mon = i;
	if (tm.tm_mon < 0 || d < 1 || d > 31 || y < 1970 || y > 9999 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	tm.tm_mday = d;
	tm.tm_year = y - 1900;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	*out = timegm(&tm);
	return 0;
}

int azb_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

void azb_random(void *p, size_t n)
{
	unsigned char *c = p;

	while (n) {
		ssize_t k = getrandom(c, n, 0);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			/* No getrandom(): the clock and address, mixed. */
			uint64_t s = azb_now_ms() ^ (uint64_t)(uintptr_t)p ^
				     (uint64_t)getpid() << 32;

			while (n--) {
				s = s * 6364136223846793005ULL +
				    1442695040888963407ULL;
				*c++ = (unsigned char)(s >> 56);
			}
			return;
		}
		c += k;
		n -= (size_t)k;
	}
}

uint64_t azb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void azb_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
