/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small strict JSON (RFC 8259) parser for the Blob service's request
 * bodies, and a writer for its response bodies.
 *
 * The parser takes untrusted input: it accepts exactly the RFC's grammar
 * (no comments, no trailing commas, no byte order mark, no leading zeros,
 * no bare control characters in strings), requires valid UTF-8 (no
 * overlong forms, no surrogates, nothing above U+10FFFF), decodes \u
 * escapes including surrogate pairs (a lone surrogate is an error), refuses
 * duplicate member names, and stays within the caller's limits on nesting,
 * number of values and string length. Its memory is bounded by the input:
 * one block for the strings (never longer than the input) and the nodes.
 */
#ifndef AZ_BLOB_HOST_JSON_H
#define AZ_BLOB_HOST_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum az_json_type {
	AZ_JSON_NULL,
	AZ_JSON_FALSE,
	AZ_JSON_TRUE,
	AZ_JSON_NUMBER,
	AZ_JSON_STRING,
	AZ_JSON_ARRAY,
	AZ_JSON_OBJECT,
};

/**
 * struct az_json - One value of a parsed document.
 * @type: What it is.
 * @key: Its member name when it is a member of an object (decoded,
 *       NUL-terminated, may contain NUL); NULL otherwise.
 * @key_len: Bytes of @key.
 * @str: A string's decoded bytes (UTF-8, NUL-terminated, may contain NUL
 *       from \u0000), or a number's text as written; NULL otherwise.
 * @len: Bytes of @str, or the number of items (array) or members (object).
 * @child: The first item or member of an array or object.
 * @next: The next item or member of the enclosing array or object.
 */
struct az_json {
	enum az_json_type type;
	const char *key;
	size_t key_len;
	const char *str;
	size_t len;
	struct az_json *child;
	struct az_json *next;
};

/**
 * struct az_json_limits - What a parse may take.
 * @max_depth: Arrays and objects nested deeper than this are refused (the
 *             top level is depth 1).
 * @max_values: Values in the whole document, members included.
 * @max_string: Decoded bytes of one string or member name.
 */
struct az_json_limits {
	unsigned int max_depth;
	size_t max_values;
	size_t max_string;
};

struct az_json_node_block;

/**
 * struct az_json_doc - A parsed document; free with az_json_free().
 * @root: The top-level value.
 * @error: Why the parse failed (a constant string), or NULL.
 * @error_offset: Byte offset of the input where it failed.
 * @limit: The parse failed on one of the caller's limits, not the grammar.
 */
struct az_json_doc {
	struct az_json *root;
	const char *error;
	size_t error_offset;
	bool limit;
	/* private */
	char *strings;
	size_t strings_used;
	struct az_json_node_block *blocks;
	size_t values;
};

/*
 * Parse @len bytes at @text as one JSON text (whitespace around it
 * allowed). Returns 0 with @doc->root set, or -1 with @doc->error and
 * @doc->error_offset set (and -ENOMEM-like "out of memory" as the error
 * when an allocation failed). Call az_json_free() in both cases.
 */
int az_json_parse(const char *text, size_t len,
		  const struct az_json_limits *lim, struct az_json_doc *doc);
void az_json_free(struct az_json_doc *doc);

/* The member of @obj named @key (NUL-free), or NULL. */
const struct az_json *az_json_get(const struct az_json *obj, const char *key);
/* A number that is an integer in [0, UINT64_MAX]: 0 and *@v, else -1. */
int az_json_u64(const struct az_json *num, uint64_t *v);

/*
 * The writer: appends to a buffer it grows up to @max bytes. On overflow
 * or allocation failure it sets @err and ignores further calls, so a caller
 * checks once at the end. Commas between items and members are its job.
 */
#define AZ_JW_MAX_DEPTH	16

struct az_jw {
	char *buf;
	size_t len;
	size_t cap;
	size_t max;
	int err;		/* 0, or -1: would exceed @max or out of memory */
	unsigned int depth;
	bool first[AZ_JW_MAX_DEPTH];
	bool after_key;
};

void az_jw_init(struct az_jw *w, size_t max);
void az_jw_free(struct az_jw *w);
void az_jw_begin_object(struct az_jw *w);
void az_jw_end_object(struct az_jw *w);
void az_jw_begin_array(struct az_jw *w);
void az_jw_end_array(struct az_jw *w);
/* A member name (ASCII, no escapes needed); the value comes next. */
void az_jw_key(struct az_jw *w, const char *key);
/*
 * A string of bytes taken as ISO-8859-1, one code point per byte: what an
 * HTTP field value is (RFC 9110, 5.5). The output is ASCII: bytes below
 * 0x20, 0x7f and above escape as \u00XX.
 */
void az_jw_latin1(struct az_jw *w, const void *s, size_t len);
/* A string holding the base64 (RFC 4648, padded) of @len bytes. */
void az_jw_base64(struct az_jw *w, const void *s, size_t len);
void az_jw_u64(struct az_jw *w, uint64_t v);
void az_jw_bool(struct az_jw *w, bool v);
void az_jw_null(struct az_jw *w);

#endif /* AZ_BLOB_HOST_JSON_H */
