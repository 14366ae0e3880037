// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-operation options and the properties object's accessors.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "azb.h"

AZB_EXPORT azblob_opts *azblob_opts_new(void)
{
	azblob_opts *o = calloc(1, sizeof(*o));

	if (o)
		o->checksum = -1;
	return o;
}

AZB_EXPORT void azblob_opts_free(azblob_opts *o)
{
	if (!o)
		return;
	free(o->content_type);
	for (size_t i = 0; i < o->nmeta; i++) {
		free(o->meta[i].key);
		free(o->meta[i].value);
	}
	free(o->meta);
	free(o);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

AZB_EXPORT int azblob_opts_set_content_type(azblob_opts *o, const char *type)
{
	char *t = NULL;

	if (!o || (type && (!printable(type) || strlen(type) > 1024)))
		return AZBLOB_E_INVAL;
	if (type && !(t = strdup(type)))
		return AZBLOB_E_NOMEM;
	free(o->content_type);
	o->content_type = t;
	return AZBLOB_OK;
}

static bool meta_key_ok(const char *k)
{
	if (!*k || (*k >= '0' && *k <= '9') || strlen(k) > 256)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') ||
		      (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

/* Azure trims the value; a value with leading or trailing blanks or a
 * control character would not come back as given. */
bool azb_meta_ok(const char *k, const char *v)
{
	size_t n = strlen(v);

	return meta_key_ok(k) && printable(v) && n <= 8192 &&
	       (!n || (v[0] != ' ' && v[n - 1] != ' '));
}

AZB_EXPORT int azblob_opts_add_metadata(azblob_opts *o, const char *key,
					const char *value)
{
	struct azb_meta *m;

	if (!o || !key || !value || !azb_meta_ok(key, value))
		return AZBLOB_E_INVAL;
	if (o->nmeta == o->meta_cap) {
		size_t cap = o->meta_cap ? o->meta_cap * 2 : 8;

		m = realloc(o->meta, cap * sizeof(*m));
		if (!m)
			return AZBLOB_E_NOMEM;
		o->meta = m;
		o->meta_cap = cap;
	}
	m = &o->meta[o->nmeta];
	m->key = strdup(key);
	m->value = strdup(value);
	if (!m->key || !m->value) {
		free(m->key);
		free(m->value);
		return AZBLOB_E_NOMEM;
	}
	o->nmeta++;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_opts_set_range(azblob_opts *o, uint64_t offset,
				     uint64_t length)
{
	if (!o || !length || (length != UINT64_MAX &&
			      offset > UINT64_MAX - length))
		return AZBLOB_E_INVAL;
	o->have_range = true;
	o->range_off = offset;
	o->range_len = length;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_opts_set_concurrency(azblob_opts *o, unsigned int n)
{
	if (!o || n < 1 || n > AZB_MAX_CONCURRENCY)
		return AZBLOB_E_INVAL;
	o->concurrency = n;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_opts_set_block_size(azblob_opts *o, size_t bytes)
{
	if (!o || bytes < 64 * AZB_KIB || bytes > AZB_MAX_BLOCK_SIZE)
		return AZBLOB_E_INVAL;
	o->block_size = bytes;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_opts_set_checksum(azblob_opts *o,
					enum azblob_checksum checksum)
{
	if (!o || (unsigned int)checksum > AZBLOB_CHECKSUM_MD5)
		return AZBLOB_E_INVAL;
	o->checksum = (int)checksum;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_opts_set_size_hint(azblob_opts *o, uint64_t bytes)
{
	if (!o)
		return AZBLOB_E_INVAL;
	o->size_hint = bytes;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_opts_set_overwrite(azblob_opts *o, int allow)
{
	if (!o)
		return AZBLOB_E_INVAL;
	o->no_overwrite = !allow;
	return AZBLOB_OK;
}

AZB_EXPORT int azblob_opts_set_progress(azblob_opts *o, azblob_progress_fn fn,
					void *arg)
{
	if (!o)
		return AZBLOB_E_INVAL;
	o->progress = fn;
	o->progress_arg = arg;
	return AZBLOB_OK;
}

unsigned int azb_opt_concurrency(const struct azblob_ctx *ctx,
				 const azblob_opts *o)
{
	return o && o->concurrency ? o->concurrency : ctx->concurrency;
}

enum azblob_checksum azb_opt_checksum(const struct azblob_ctx *ctx,
				      const azblob_opts *o)
{
	return o && o->checksum >= 0 ? (enum azblob_checksum)o->checksum :
				       ctx->checksum;
}

/* Properties. */

void azb_props_clear(struct azblob_props *p)
{
	free(p->name);
	free(p->etag);
	free(p->content_type);
	free(p->content_md5);
	free(p->content_encoding);
	free(p->content_language);
	free(p->content_disposition);
	free(p->cache_control);
	free(p->blob_type);
	for (size_t i = 0; i < p->nmeta; i++) {
		free(p->meta[i].key);
		free(p->meta[i].value);
	}
	free(p->meta);
	memset(p, 0, sizeof(*p));
}

int azb_props_add_meta(struct azblob_props *p, const char *k, size_t kl,
		       const char *v, size_t vl)
{
	struct azb_meta *m;

	if (p->nmeta == p->meta_cap) {
		size_t cap = p->meta_cap ? p->meta_cap * 2 : 8;

		m = realloc(p->meta, cap * sizeof(*m));
		if (!m)
			return -1;
		p->meta = m;
		p->meta_cap = cap;
	}
	m = &p->meta[p->nmeta];
	m->key = azb_strndup(k, kl);
	m->value = azb_strndup(v, vl);
	if (!m->key || !m->value) {
		free(m->key);
		free(m->value);
		return -1;
	}
	p->nmeta++;
	return 0;
}

AZB_EXPORT void azblob_props_free(azblob_props *p)
{
	if (!p)
		return;
	azb_props_clear(p);
	free(p);
}

AZB_EXPORT const char *azblob_props_name(const azblob_props *p)
{
	return p->name;
}

AZB_EXPORT int azblob_props_is_prefix(const azblob_props *p)
{
	return p->is_prefix;
}

AZB_EXPORT uint64_t azblob_props_size(const azblob_props *p)
{
	return p->size;
}

AZB_EXPORT const char *azblob_props_etag(const azblob_props *p)
{
	return p->etag;
}

AZB_EXPORT time_t azblob_props_last_modified(const azblob_props *p)
{
	return p->last_modified;
}

AZB_EXPORT const char *azblob_props_content_type(const azblob_props *p)
{
	return p->content_type;
}

AZB_EXPORT const char *azblob_props_content_md5(const azblob_props *p)
{
	return p->content_md5;
}

AZB_EXPORT const char *azblob_props_blob_type(const azblob_props *p)
{
	return p->blob_type;
}

AZB_EXPORT size_t azblob_props_metadata_count(const azblob_props *p)
{
	return p->nmeta;
}

AZB_EXPORT const char *azblob_props_metadata_key(const azblob_props *p,
						 size_t i)
{
	return i < p->nmeta ? p->meta[i].key : NULL;
}

AZB_EXPORT const char *azblob_props_metadata_value(const azblob_props *p,
						   size_t i)
{
	return i < p->nmeta ? p->meta[i].value : NULL;
}

AZB_EXPORT const char *azblob_props_metadata_get(const azblob_props *p,
						 const char *key)
{
	for (size_t i = 0; i < p->nmeta; i++)
		if (!strcasecmp(p->meta[i].key, key))
			return p->meta[i].value;
	return NULL;
}
