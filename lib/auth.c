// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * SharedKey authorization of Azure Storage (version 2015-02-21 and later):
 * https://learn.microsoft.com/rest/api/storageservices/authorize-with-shared-key
 *
 * The one trap is the order of the canonicalized x-ms-* headers: Azure
 * sorts them with .NET's culture-aware string comparison, not by code
 * point, so "x-ms-meta-foo_bar" comes before "x-ms-meta-foo2_bar" ("_"
 * sorts before digits) and "-" is ignored at the first level. The weights
 * below are those the Azure SDK for JavaScript uses for ASCII
 * (SharedKeyComparator), with the same three-level walk.
 */
#include <ctype.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azb.h"

static const unsigned short lv0[128] = {
	[33] = 0x71c, [35] = 0x71f, [36] = 0x721, [37] = 0x723, [38] = 0x725,
	[42] = 0x72d, [43] = 0x803, [46] = 0x733, [48] = 0xd03, [49] = 0xd1a,
	[50] = 0xd1c, [51] = 0xd1e, [52] = 0xd20, [53] = 0xd22, [54] = 0xd24,
	[55] = 0xd26, [56] = 0xd28, [57] = 0xd2a, [65] = 0xe02, [66] = 0xe09,
	[67] = 0xe0a, [68] = 0xe1a, [69] = 0xe21, [70] = 0xe23, [71] = 0xe25,
	[72] = 0xe2c, [73] = 0xe32, [74] = 0xe35, [75] = 0xe36, [76] = 0xe48,
	[77] = 0xe51, [78] = 0xe70, [79] = 0xe7c, [80] = 0xe7e, [81] = 0xe89,
	[82] = 0xe8a, [83] = 0xe91, [84] = 0xe99, [85] = 0xe9f, [86] = 0xea2,
	[87] = 0xea4, [88] = 0xea6, [89] = 0xea7, [90] = 0xea9, [94] = 0x743,
	[95] = 0x744, [96] = 0x748, [97] = 0xe02, [98] = 0xe09, [99] = 0xe0a,
	[100] = 0xe1a, [101] = 0xe21, [102] = 0xe23, [103] = 0xe25,
	[104] = 0xe2c, [105] = 0xe32, [106] = 0xe35, [107] = 0xe36,
	[108] = 0xe48, [109] = 0xe51, [110] = 0xe70, [111] = 0xe7c,
	[112] = 0xe7e, [113] = 0xe89, [114] = 0xe8a, [115] = 0xe91,
	[116] = 0xe99, [117] = 0xe9f, [118] = 0xea2, [119] = 0xea4,
	[120] = 0xea6, [121] = 0xea7, [122] = 0xea9, [124] = 0x74c,
	[126] = 0x750,
};
static const unsigned short lv2[128] = {
	[65] = 0x12, [66] = 0x12, [67] = 0x12, [68] = 0x12, [69] = 0x12,
	[70] = 0x12, [71] = 0x12, [72] = 0x12, [73] = 0x12, [74] = 0x12,
	[75] = 0x12, [76] = 0x12, [77] = 0x12, [78] = 0x12, [79] = 0x12,
	[80] = 0x12, [81] = 0x12, [82] = 0x12, [83] = 0x12, [84] = 0x12,
	[85] = 0x12, [86] = 0x12, [87] = 0x12, [88] = 0x12, [89] = 0x12,
	[90] = 0x12,
};
static const unsigned short lv4[128] = { [39] = 0x8012, [45] = 0x8212 };

static bool azure_less(const char *l, const char *r)
{
	const unsigned short *tables[3] = { lv0, lv2, lv4 };
	size_t ll = strlen(l), rl = strlen(r), i = 0, j = 0;
	int level = 0;

	while (level < 3) {
		unsigned int w1, w2;

		if (level == 2 && i != j)
			return i > j;
		w1 = i < ll ? tables[level][(unsigned char)l[i] & 0x7f] : 1;
		w2 = j < rl ? tables[level][(unsigned char)r[j] & 0x7f] : 1;
		if (w1 == 1 && w2 == 1) {
			i = 0;
			j = 0;
			level++;
		} else if (w1 == w2) {
			i++;
			j++;
		} else if (w1 == 0) {
			i++;
		} else if (w2 == 0) {
			j++;
		} else {
			return w1 < w2;
		}
	}
	return false;
}

int azb_azure_cmp(const char *a, const char *b)
{
	if (azure_less(a, b))
		return -1;
	if (azure_less(b, a))
		return 1;
	return strcmp(a, b);	/* equal weights: any stable order */
}

static int cmp_azure(const void *a, const void *b)
{
	return azb_azure_cmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_param(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const char *method_name(enum azb_method m)
{
	switch (m) {
	case AZB_GET:		return "GET";
	case AZB_PUT:		return "PUT";
	case AZB_HEAD:		return "HEAD";
	case AZB_DELETE:	return "DELETE";
	case AZB_POST:		return "POST";
	}
	return "";
}

/* A header value as canonicalized: trimmed. */
static void add_trimmed(struct azb_buf *b, const char *v)
{
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	azb_buf_add(b, v, n);
}

/* "\nname:v1,v2" per query parameter, names lowercased and sorted. */
static int add_query(struct azb_buf *b, const char *query)
{
	size_t np = 0, cap = 0;
	char **params = NULL;
	const char *p = query;
	int rc = -1;

	while (*p) {
		size_t seg = strcspn(p, "&");
		const char *eq = memchr(p, '=', seg);
		size_t kl = eq ? (size_t)(eq - p) : seg;
		char *k = azb_pct_decode(p, kl);
		char *v = eq ? azb_pct_decode(eq + 1, seg - kl - 1) :
			       strdup("");
		char *line = NULL;

		if (k && v && asprintf(&line, "%s:%s", k, v) < 0)
			line = NULL;
		free(k);
		free(v);
		if (!line)
			goto out;
		for (char *c = line; *c != ':'; c++)
			*c = (char)tolower((unsigned char)*c);
		if (np == cap) {
			char **np2;

			cap = cap ? cap * 2 : 16;
			np2 = realloc(params, cap * sizeof(*params));
			if (!np2) {
				free(line);
				goto out;
			}
			params = np2;
		}
		params[np++] = line;
		p += seg + (p[seg] == '&');
	}
	qsort(params, np, sizeof(*params), cmp_param);
	for (size_t i = 0; i < np; i++) {
		size_t kl = strcspn(params[i], ":");

		/* Repeated names: one line, values joined by ",". */
		if (i && !strncmp(params[i - 1], params[i], kl + 1)) {
			azb_buf_adds(b, ",");
			azb_buf_adds(b, params[i] + kl + 1);
			continue;
		}
		azb_buf_adds(b, "\n");
		azb_buf_adds(b, params[i]);
	}
	rc = 0;
out:
	for (size_t i = 0; i < np; i++)
		free(params[i]);
	free(params);
	return rc;
}

char *azb_string_to_sign(const struct azb_req *req, const char *account)
{
	static const char *const fields[] = {
		"Content-Encoding", "Content-Language", NULL /* length */,
		"Content-MD5", "Content-Type", "Date", "If-Modified-Since",
		"If-Match", "If-None-Match", "If-Unmodified-Since", "Range",
	};
	struct azb_buf b = { 0 };
	char **names = NULL;
	size_t n = 0;

	azb_buf_adds(&b, method_name(req->method));
	azb_buf_adds(&b, "\n");
	for (size_t i = 0; i < AZB_ARRAY_SIZE(fields); i++) {
		if (!fields[i]) {
			/* Content-Length 0 is signed as empty. */
			if (req->body_len)
				azb_buf_addf(&b, "%zu", req->body_len);
		} else {
			const char *v = azb_hdrs_get(&req->hdrs, fields[i]);

			if (v)
				add_trimmed(&b, v);
		}
		azb_buf_adds(&b, "\n");
	}
	if (req->hdrs.n) {
		names = calloc(req->hdrs.n, sizeof(*names));
		if (!names)
			goto oom;
	}
	for (size_t i = 0; i < req->hdrs.n; i++) {
		char *nm;

		if (strncasecmp(req->hdrs.v[i].name, "x-ms-", 5))
			continue;
		nm = strdup(req->hdrs.v[i].name);
		if (!nm)
			goto oom;
		for (char *c = nm; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		names[n++] = nm;
	}
	qsort(names, n, sizeof(*names), cmp_azure);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(names[i], names[i - 1]))
			continue;	/* azb_hdrs_get() gives the first */
		azb_buf_adds(&b, names[i]);
		azb_buf_adds(&b, ":");
		add_trimmed(&b, azb_hdrs_get(&req->hdrs, names[i]));
		azb_buf_adds(&b, "\n");
	}
	azb_buf_addf(&b, "/%s%s", account, req->path);
	if (req->query && *req->query && add_query(&b, req->query))
		goto oom;
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return azb_buf_steal(&b);
oom:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	azb_buf_free(&b);
	return NULL;
}

int azb_sign_shared_key(const struct azb_req *req, const char *account,
			const unsigned char *key, size_t key_len,
			struct azb_buf *out)
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char b64[EVP_MAX_MD_SIZE * 2];
	char *sts = azb_string_to_sign(req, account);

	if (!sts)
		return -1;
	if (!HMAC(EVP_sha256(), key, (int)key_len, (unsigned char *)sts,
		  strlen(sts), mac, &maclen)) {
		free(sts);
		return -1;
	}
	free(sts);
	azb_base64_encode(mac, maclen, b64);
	azb_buf_addf(out, "SharedKey %s:%s", account, b64);
	return out->oom ? -1 : 0;
}
