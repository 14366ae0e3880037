// SPDX-License-Identifier: GPL-2.0
/*
 * Strict JSON parsing and writing for the Blob service (see json.h).
 *
 * The parser is recursive descent; recursion depth is bounded by
 * az_json_limits.max_depth, checked before descending. Decoded strings go
 * to one block of input length + 1 bytes (a string's decoded form plus its
 * NUL never exceeds its quoted form), nodes to blocks of 64.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define NODES_PER_BLOCK	64

struct az_json_node_block {
	struct az_json_node_block *next;
	unsigned int used;
	struct az_json nodes[NODES_PER_BLOCK];
};

static const char ERR_VALUES[] = "too many values";
static const char ERR_DEPTH[] = "nested too deeply";
static const char ERR_STRING[] = "string too long";

struct parser {
	const unsigned char *p;
	const unsigned char *start;
	const unsigned char *end;
	const struct az_json_limits *lim;
	struct az_json_doc *doc;
};

static int fail(struct parser *ps, const char *why)
{
	if (!ps->doc->error) {
		ps->doc->limit = why == ERR_VALUES || why == ERR_DEPTH ||
				 why == ERR_STRING;
		ps->doc->error = why;
		ps->doc->error_offset = (size_t)(ps->p - ps->start);
	}
	return -1;
}

static struct az_json *new_node(struct parser *ps, enum az_json_type type)
{
	struct az_json_doc *doc = ps->doc;
	struct az_json_node_block *b = doc->blocks;
	struct az_json *n;

	if (doc->values >= ps->lim->max_values) {
		fail(ps, ERR_VALUES);
		return NULL;
	}
	if (!b || b->used == NODES_PER_BLOCK) {
		b = calloc(1, sizeof(*b));
		if (!b) {
			fail(ps, "out of memory");
			return NULL;
		}
		b->next = doc->blocks;
		doc->blocks = b;
	}
	n = &b->nodes[b->used++];
	doc->values++;
	n->type = type;
	return n;
}

static void skip_ws(struct parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
				   *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

static int hex4(struct parser *ps, unsigned int *v)
{
	*v = 0;
	if (ps->end - ps->p < 4)
		return fail(ps, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		unsigned char c = *ps->p;

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return fail(ps, "bad hex digit in \\u escape");
		ps->p++;
	}
	return 0;
}

static size_t put_utf8(char *out, unsigned int cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * One raw UTF-8 sequence starting at ps->p (first byte >= 0x80): its
 * length, or -1 if it is not the shortest well-formed encoding of a scalar
 * value (RFC 3629, section 4).
 */
static int utf8_seq(struct parser *ps)
{
	const unsigned char *s = ps->p;
	size_t avail = (size_t)(ps->end - s);
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xbf;
	int n;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (c == 0xed)
			hi = 0x9f;	/* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;	/* overlong */
		else if (c == 0xf4)
			hi = 0x8f;	/* above U+10FFFF */
	} else {
		return -1;
	}
	if (avail < (size_t)n)
		return -1;
	if (s[1] < lo || s[1] > hi)
		return -1;
	for (int i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return -1;
	return n;
}

/* A string at ps->p (the opening quote); decoded into the string block. */
static int parse_string(struct parser *ps, const char **out, size_t *out_len)
{
	struct az_json_doc *doc = ps->doc;
	char *dst = doc->strings + doc->strings_used;
	size_t n = 0;

	ps->p++;	/* the quote */
	for (;;) {
		unsigned char c;

		if (ps->p >= ps->end)
			return fail(ps, "unterminated string");
		if (n > ps->lim->max_string)
			return fail(ps, ERR_STRING);
		c = *ps->p;
		if (c == '"') {
			ps->p++;
			break;
		}
		if (c < 0x20)
			return fail(ps, "control character in string");
		if (c == '\\') {
			unsigned int cp;

			if (ps->end - ps->p < 2)
				return fail(ps, "truncated escape");
			ps->p++;
			c = *ps->p++;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				dst[n++] = (char)c;
				continue;
			case 'b':
				dst[n++] = '\b';
				continue;
			case 'f':
				dst[n++] = '\f';
				continue;
			case 'n':
				dst[n++] = '\n';
				continue;
			case 'r':
				dst[n++] = '\r';
				continue;
			case 't':
				dst[n++] = '\t';
				continue;
			case 'u':
				break;
			default:
				ps->p--;
				return fail(ps, "unknown escape");
			}
			if (hex4(ps, &cp))
				return -1;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return fail(ps, "lone low surrogate");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				unsigned int lo;

				if (ps->end - ps->p < 2 || ps->p[0] != '\\' ||
				    ps->p[1] != 'u')
					return fail(ps, "lone high surrogate");
				ps->p += 2;
				if (hex4(ps, &lo))
					return -1;
				if (lo < 0xdc00 || lo > 0xdfff)
					return fail(ps, "bad low surrogate");
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
			}
			/*
			 * Fits: an escape of 6 (or 12) input bytes decodes to
			 * at most 3 (or 4) bytes.
			 */
			n += put_utf8(dst + n, cp);
			continue;
		}
		if (c < 0x80) {
			dst[n++] = (char)c;
			ps->p++;
			continue;
		}
		{
			int k = utf8_seq(ps);

			if (k < 0)
				return fail(ps, "invalid UTF-8");
			memcpy(dst + n, ps->p, (size_t)k);
			n += (size_t)k;
			ps->p += k;
		}
	}
	if (n > ps->lim->max_string)
		return fail(ps, ERR_STRING);
	dst[n] = '\0';
	doc->strings_used += n + 1;
	*out = dst;
	*out_len = n;
	return 0;
}

static int parse_number(struct parser *ps, struct az_json *v)
{
	const unsigned char *s = ps->p;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end)
		return fail(ps, "truncated number");
	if (*ps->p == '0') {
		ps->p++;
	} else if (*ps->p >= '1' && *ps->p <= '9') {
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	} else {
		return fail(ps, "bad number");
	}
	if (ps->p < ps->end && *ps->p == '.') {
		ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad fraction");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
			return fail(ps, "bad exponent");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if ((size_t)(ps->p - s) > ps->lim->max_string)
		return fail(ps, ERR_STRING);
	/* The text, NUL-terminated, in the string block (it fits: see top). */
	{
		struct az_json_doc *doc = ps->doc;
		char *dst = doc->strings + doc->strings_used;
		size_t n = (size_t)(ps->p - s);

		memcpy(dst, s, n);
		dst[n] = '\0';
		doc->strings_used += n + 1;
		v->str = dst;
		v->len = n;
	}
	return 0;
}

static int literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
		return fail(ps, "unexpected character");
	ps->p += n;
	return 0;
}

static struct az_json *parse_value(struct parser *ps, unsigned int depth);

static int parse_array(struct parser *ps, struct az_json *arr,
		       unsigned int depth)
{
	struct az_json **tail = &arr->child;

	ps->p++;	/* [ */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == ']') {
		ps->p++;
		return 0;
	}
	for (;;) {
		struct az_json *item = parse_value(ps, depth);

		if (!item)
			return -1;
		*tail = item;
		tail = &item->next;
		arr->len++;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return fail(ps, "unterminated array");
		if (*ps->p == ']') {
			ps->p++;
			return 0;
		}
		if (*ps->p != ',')
			return fail(ps, "expected , or ]");
		ps->p++;
	}
}

static int parse_object(struct parser *ps, struct az_json *obj,
			unsigned int depth)
{
	struct az_json **tail = &obj->child;

	ps->p++;	/* { */
	skip_ws(ps);
	if (ps->p < ps->end && *ps->p == '}') {
		ps->p++;
		return 0;
	}
	for (;;) {
		const unsigned char *key_at;
		const char *key;
		size_t key_len;
		struct az_json *m;

		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != '"')
			return fail(ps, "expected member name");
		key_at = ps->p;
		if (parse_string(ps, &key, &key_len))
			return -1;
		for (m = obj->child; m; m = m->next) {
			if (m->key_len == key_len &&
			    !memcmp(m->key, key, key_len)) {
				ps->p = key_at;
				return fail(ps, "duplicate member name");
			}
		}
		skip_ws(ps);
		if (ps->p >= ps->end || *ps->p != ':')
			return fail(ps, "expected :");
		ps->p++;
		m = parse_value(ps, depth);
		if (!m)
			return -1;
		m->key = key;
		m->key_len = key_len;
		*tail = m;
		tail = &m->next;
		obj->len++;
		skip_ws(ps);
		if (ps->p >= ps->end)
			return fail(ps, "unterminated object");
		if (*ps->p == '}') {
			ps->p++;
			return 0;
		}
		if (*ps->p != ',')
			return fail(ps, "expected , or }");
		ps->p++;
	}
}

/*
 * A value at ps->p (after whitespace); @depth counts the containers around
 * it. A container's items are inside depth + 1 containers.
 */
static struct az_json *parse_value(struct parser *ps, unsigned int depth)
{
	struct az_json *v;
	int ret = 0;

	skip_ws(ps);
	if (ps->p >= ps->end) {
		fail(ps, "expected a value");
		return NULL;
	}
	switch (*ps->p) {
	case '{':
	case '[':
		if (depth + 1 > ps->lim->max_depth) {
			fail(ps, ERR_DEPTH);
			return NULL;
		}
		v = new_node(ps, *ps->p == '{' ? AZ_JSON_OBJECT : AZ_JSON_ARRAY);
		if (!v)
			return NULL;
		if (v->type == AZ_JSON_OBJECT)
			ret = parse_object(ps, v, depth + 1);
		else
			ret = parse_array(ps, v, depth + 1);
		break;
	case '"':
		v = new_node(ps, AZ_JSON_STRING);
		if (!v)
			return NULL;
		ret = parse_string(ps, &v->str, &v->len);
		break;
	case 't':
		v = new_node(ps, AZ_JSON_TRUE);
		if (!v)
			return NULL;
		ret = literal(ps, "true");
		break;
	case 'f':
		v = new_node(ps, AZ_JSON_FALSE);
		if (!v)
			return NULL;
		ret = literal(ps, "false");
		break;
	case 'n':
		v = new_node(ps, AZ_JSON_NULL);
		if (!v)
			return NULL;
		ret = literal(ps, "null");
		break;
	default:
		if (*ps->p != '-' && (*ps->p < '0' || *ps->p > '9')) {
			fail(ps, "unexpected character");
			return NULL;
		}
		v = new_node(ps, AZ_JSON_NUMBER);
		if (!v)
			return NULL;
		ret = parse_number(ps, v);
		break;
	}
	return ret ? NULL : v;
}

int az_json_parse(const char *text, size_t len,
		  const struct az_json_limits *lim, struct az_json_doc *doc)
{
	struct parser ps = {
		.p = (const unsigned char *)text,
		.start = (const unsigned char *)text,
		.end = (const unsigned char *)text + len,
		.lim = lim,
		.doc = doc,
	};

	memset(doc, 0, sizeof(*doc));
	doc->strings = malloc(len + 1);
	if (!doc->strings)
		return fail(&ps, "out of memory");
	doc->root = parse_value(&ps, 0);
	if (!doc->root)
		return -1;
	skip_ws(&ps);
	if (ps.p != ps.end) {
		doc->root = NULL;
		return fail(&ps, "data after the JSON text");
	}
	return 0;
}

void az_json_free(struct az_json_doc *doc)
{
	struct az_json_node_block *b = doc->blocks;

	while (b) {
		struct az_json_node_block *next = b->next;

		free(b);
		b = next;
	}
	free(doc->strings);
	doc->blocks = NULL;
	doc->strings = NULL;
	doc->root = NULL;
}

const struct az_json *az_json_get(const struct az_json *obj, const char *key)
{
	size_t n = strlen(key);

	if (!obj || obj->type != AZ_JSON_OBJECT)
		return NULL;
	for (const struct az_json *m = obj->child; m; m = m->next)
		if (m->key_len == n && !memcmp(m->key, key, n))
			return m;
	return NULL;
}

int az_json_u64(const struct az_json *num, uint64_t *v)
{
	uint64_t x = 0;

	if (!num || num->type != AZ_JSON_NUMBER || num->len == 0)
		return -1;
	for (size_t i = 0; i < num->len; i++) {
		unsigned int d = (unsigned char)num->str[i] - '0';

		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}

/* The writer. */

void az_jw_init(struct az_jw *w, size_t max)
{
	memset(w, 0, sizeof(*w));
	w->max = max;
	w->first[0] = true;
}

void az_jw_free(struct az_jw *w)
{
	free(w->buf);
	w->buf = NULL;
}

static void put(struct az_jw *w, const void *s, size_t n)
{
	if (w->err)
		return;
	if (n > w->max - w->len) {
		w->err = -1;
		return;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 256;
		char *nb;

		while (cap < w->len + n)
			cap *= 2;
		if (cap > w->max)
			cap = w->max;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->err = -1;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

/* Before a value or key: the comma, unless first or right after a key. */
static void sep(struct az_jw *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->first[w->depth])
		put(w, ",", 1);
	w->first[w->depth] = false;
}

static void jw_open(struct az_jw *w, char c)
{
	sep(w);
	put(w, &c, 1);
	if (w->depth + 1 >= AZ_JW_MAX_DEPTH) {
		w->err = -1;
		return;
	}
	w->first[++w->depth] = true;
}

static void jw_close(struct az_jw *w, char c)
{
	put(w, &c, 1);
	if (w->depth)
		w->depth--;
}

void az_jw_begin_object(struct az_jw *w)
{
	jw_open(w, '{');
}

void az_jw_end_object(struct az_jw *w)
{
	jw_close(w, '}');
}

void az_jw_begin_array(struct az_jw *w)
{
	jw_open(w, '[');
}

void az_jw_end_array(struct az_jw *w)
{
	jw_close(w, ']');
}

void az_jw_key(struct az_jw *w, const char *key)
{
	sep(w);
	put(w, "\"", 1);
	put(w, key, strlen(key));
	put(w, "\":", 2);
	w->after_key = true;
}

void az_jw_latin1(struct az_jw *w, const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t run = 0;

	sep(w);
	put(w, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = p[i];
		char esc[8];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
			run++;
			continue;
		}
		put(w, p + i - run, run);
		run = 0;
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(w, esc, 2);
		} else {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(w, esc, 6);
		}
	}
	put(w, p + len - run, run);
	put(w, "\"", 1);
}

void az_jw_base64(struct az_jw *w, const void *s, size_t len)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = s;
	char out[256];
	size_t o = 0, i;

	sep(w);
	put(w, "\"", 1);
	for (i = 0; i + 3 <= len; i += 3) {
		unsigned int v = p[i] << 16 | p[i + 1] << 8 | p[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
		if (o == sizeof(out)) {
			put(w, out, o);
			o = 0;
		}
	}
	if (len - i == 1) {
		unsigned int v = p[i] << 16;

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (len - i == 2) {
		unsigned int v = p[i] << 16 | p[i + 1] << 8;

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = '=';
	}
	put(w, out, o);
	put(w, "\"", 1);
}

void az_jw_u64(struct az_jw *w, uint64_t v)
{
	char num[24];
	int n = snprintf(num, sizeof(num), "%llu", (unsigned long long)v);

	sep(w);
	put(w, num, (size_t)n);
}

void az_jw_bool(struct az_jw *w, bool v)
{
	sep(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void az_jw_null(struct az_jw *w)
{
	sep(w);
	put(w, "null", 4);
}
