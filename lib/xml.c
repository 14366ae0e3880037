// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The service's XML bodies, parsed with expat: List Containers, List Blobs,
 * Get Block List and error bodies.
 *
 * The body comes from the network (or the host) and is untrusted: a
 * document type declaration or an entity declaration stops the parse (the
 * service sends neither), element nesting is bounded, every text node is
 * bounded, and so is the number of items of a page. Unknown elements are
 * ignored, so that a newer service version's additions do no harm.
 */
#include <errno.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>

#include "azb.h"

#define XML_MAX_DEPTH	16
#define XML_MAX_NAME	256
#define XML_MAX_TEXT	(64 * 1024)
#define XML_MAX_ITEMS	100000

enum xml_doc { DOC_LIST, DOC_ERROR, DOC_BLOCKS };

struct xp {
	XML_Parser p;
	enum xml_doc doc;
	enum azb_list_kind kind;
	int depth;			/* elements open */
	char names[XML_MAX_DEPTH][XML_MAX_NAME + 1];
	struct azb_buf text;
	bool text_over;
	bool encoded;			/* <Name Encoded="true"> */
	const char *fail;		/* why the parse stopped, or NULL */
	/* DOC_LIST */
	struct azb_list_page *page;
	struct azblob_props cur;
	bool in_item;
	/* DOC_ERROR */
	char *code, *message;
	/* DOC_BLOCKS */
	struct azb_block *blocks;
	size_t nblocks, cap, uncommitted;
	struct azb_block bcur;
	bool committed;
};

static void stop(struct xp *x, const char *why)
{
	if (!x->fail)
		x->fail = why;
	XML_StopParser(x->p, XML_FALSE);
}

/* Is the open element at depth @d (1 = root) named @name? */
static bool at(const struct xp *x, int d, const char *name)
{
	return x->depth >= d && !strcmp(x->names[d - 1], name);
}

static bool text_is(const struct xp *x, const char *name)
{
	return !strcmp(x->names[x->depth - 1], name);
}

static char *take_text(struct xp *x)
{
	if (x->encoded)
		return azb_pct_decode(x->text.p ? x->text.p : "",
				      x->text.len);
	return azb_strndup(x->text.p ? x->text.p : "", x->text.len);
}

static void XMLCALL on_start(void *ud, const XML_Char *name,
			     const XML_Char **attrs)
{
	struct xp *x = ud;
	size_t n = strlen(name);

	if (x->depth == XML_MAX_DEPTH || n > XML_MAX_NAME) {
		stop(x, "XML nested too deep or name too long");
		return;
	}
	memcpy(x->names[x->depth], name, n + 1);
	x->depth++;
	x->text.len = 0;
	if (x->text.p)
		x->text.p[0] = '\0';
	x->text_over = false;
	x->encoded = false;
	for (int i = 0; attrs[i]; i += 2)
		if (!strcmp(attrs[i], "Encoded") &&
		    !strcmp(attrs[i + 1], "true"))
			x->encoded = true;
	if (x->doc == DOC_LIST && x->depth == 3 &&
	    at(x, 2, x->kind == AZB_LIST_BLOBS ? "Blobs" : "Containers")) {
		const char *item = x->kind == AZB_LIST_BLOBS ? "Blob" :
							      "Container";

		azb_props_clear(&x->cur);
		x->in_item = !strcmp(name, item) ||
			     (x->kind == AZB_LIST_BLOBS &&
			      !strcmp(name, "BlobPrefix"));
		x->cur.is_prefix = !strcmp(name, "BlobPrefix");
	}
	if (x->doc == DOC_BLOCKS && x->depth == 2)
		x->committed = !strcmp(name, "CommittedBlocks");
	if (x->doc == DOC_BLOCKS && x->depth == 3) {
		free(x->bcur.id);
		memset(&x->bcur, 0, sizeof(x->bcur));
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xp *x = ud;

	if (x->text.len + (size_t)len > XML_MAX_TEXT) {
		x->text_over = true;
		return;
	}
	azb_buf_add(&x->text, s, (size_t)len);
	if (x->text.oom)
		stop(x, "out of memory");
}

static int set_str(struct xp *x, char **slot)
{
	char *v = take_text(x);

	if (!v) {
		stop(x, "malformed encoded name");
		return -1;
	}
	free(*slot);
	*slot = v;
	return 0;
}

static void end_list(struct xp *x)
{
	struct azblob_props *c = &x->cur;
	const char *t = x->text.p ? x->text.p : "";

	if (x->depth == 2 && at(x, 1, "EnumerationResults") &&
	    text_is(x, "NextMarker")) {
		if (x->text.len)
			set_str(x, &x->page->next_marker);
		return;
	}
	if (!x->in_item)
		return;
	if (x->depth == 4 && text_is(x, "Name")) {
		set_str(x, &c->name);
	} else if (x->depth == 5 && at(x, 4, "Properties")) {
		if (text_is(x, "Content-Length")) {
			if (azb_parse_u64(t, &c->size))
				stop(x, "bad Content-Length in a listing");
		} else if (text_is(x, "Etag")) {
			set_str(x, &c->etag);
		} else if (text_is(x, "Last-Modified")) {
			azb_parse_http_date(t, &c->last_modified);
		} else if (text_is(x, "Content-Type")) {
			if (x->text.len)
				set_str(x, &c->content_type);
		} else if (text_is(x, "Content-MD5")) {
			if (x->text.len)
				set_str(x, &c->content_md5);
		} else if (text_is(x, "Content-Encoding")) {
			if (x->text.len)
				set_str(x, &c->content_encoding);
		} else if (text_is(x, "BlobType")) {
			set_str(x, &c->blob_type);
		}
	} else if (x->depth == 5 && at(x, 4, "Metadata")) {
		const char *k = x->names[4];

		if (strcmp(k, "x-ms-invalid-name") &&
		    azb_props_add_meta(c, k, strlen(k), t, x->text.len))
			stop(x, "out of memory");
	} else if (x->depth == 3) {
		struct azb_list_page *pg = x->page;

		x->in_item = false;
		if (!c->name) {
			stop(x, "a listed item without a name");
			return;
		}
		if (pg->n == XML_MAX_ITEMS) {
			stop(x, "too many items in a listing page");
			return;
		}
		if (pg->n == pg->cap) {
			size_t cap = pg->cap ? pg->cap * 2 : 64;
			struct azblob_props *it;

			it = realloc(pg->items, cap * sizeof(*it));
			if (!it) {
				stop(x, "out of memory");
				return;
			}
			pg->items = it;
			pg->cap = cap;
		}
		pg->items[pg->n++] = *c;
		memset(c, 0, sizeof(*c));
	}
}

static void end_blocks(struct xp *x)
{
	if (x->depth == 4 && at(x, 3, "Block")) {
		if (text_is(x, "Name"))
			set_str(x, &x->bcur.id);
		else if (text_is(x, "Size") &&
			 azb_parse_u64(x->text.p ? x->text.p : "",
				       &x->bcur.size))
			stop(x, "bad block size");
	} else if (x->depth == 3 && at(x, 3, "Block")) {
		if (!x->bcur.id) {
			stop(x, "a block without a name");
			return;
		}
		if (!x->committed) {
			x->uncommitted++;
			return;
		}
		if (x->nblocks == AZB_MAX_BLOCKS) {
			stop(x, "more blocks than a blob can have");
			return;
		}
		if (x->nblocks == x->cap) {
			size_t cap = x->cap ? x->cap * 2 : 64;
			struct azb_block *b;

			b = realloc(x->blocks, cap * sizeof(*b));
			if (!b) {
				stop(x, "out of memory");
				return;
			}
			x->blocks = b;
			x->cap = cap;
		}
		x->blocks[x->nblocks++] = x->bcur;
		memset(&x->bcur, 0, sizeof(x->bcur));
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct xp *x = ud;

	(void)name;
	if (x->text_over) {
		stop(x, "XML text too long");
		return;
	}
	if (x->doc == DOC_LIST)
		end_list(x);
	else if (x->doc == DOC_BLOCKS)
		end_blocks(x);
	else if (x->depth == 2 && at(x, 1, "Error") && text_is(x, "Code"))
		set_str(x, &x->code);
	else if (x->depth == 2 && at(x, 1, "Error") && text_is(x, "Message"))
		set_str(x, &x->message);
	x->depth--;
	x->text.len = 0;
	if (x->text.p)
		x->text.p[0] = '\0';
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name,
			       const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	stop(ud, "XML with a document type declaration");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param,
			      const XML_Char *value, int value_len,
			      const XML_Char *base, const XML_Char *sysid,
			      const XML_Char *pubid, const XML_Char *notation)
{
	(void)name;
	(void)is_param;
	(void)value;
	(void)value_len;
	(void)base;
	(void)sysid;
	(void)pubid;
	(void)notation;
	stop(ud, "XML with an entity declaration");
}

/* Parse @xml into @x; NULL on success, else why not. */
static const char *run(struct xp *x, const char *xml, size_t len)
{
	const char *why = NULL;

	if (len > INT32_MAX)
		return "XML body too long";
	x->p = XML_ParserCreate("UTF-8");
	if (!x->p)
		return "out of memory";
	XML_SetUserData(x->p, x);
	XML_SetElementHandler(x->p, on_start, on_end);
	XML_SetCharacterDataHandler(x->p, on_text);
	XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
	XML_SetEntityDeclHandler(x->p, on_entity);
	if (XML_Parse(x->p, xml, (int)len, XML_TRUE) != XML_STATUS_OK)
		why = x->fail ? x->fail : XML_ErrorString(XML_GetErrorCode(x->p));
	else if (x->fail)
		why = x->fail;
	XML_ParserFree(x->p);
	azb_buf_free(&x->text);
	return why;
}

void azb_list_page_free(struct azb_list_page *pg)
{
	for (size_t i = 0; i < pg->n; i++)
		azb_props_clear(&pg->items[i]);
	free(pg->items);
	free(pg->next_marker);
	memset(pg, 0, sizeof(*pg));
}

int azb_xml_parse_list(const char *xml, size_t len, enum azb_list_kind kind,
		       struct azb_list_page *page, azblob_error *err)
{
	struct xp x = { .doc = DOC_LIST, .kind = kind, .page = page };
	const char *why;

	memset(page, 0, sizeof(*page));
	why = run(&x, xml, len);
	azb_props_clear(&x.cur);
	if (!why && page->next_marker && !*page->next_marker) {
		free(page->next_marker);
		page->next_marker = NULL;
	}
	if (why) {
		azb_list_page_free(page);
		return azb_fail(err, AZBLOB_E_PROTOCOL, 0,
				"malformed listing: %s", why);
	}
	return AZBLOB_OK;
}

int azb_xml_parse_error(const char *xml, size_t len, char **code,
			char **message)
{
	struct xp x = { .doc = DOC_ERROR };
	const char *why = run(&x, xml, len);

	if (why) {
		free(x.code);
		free(x.message);
		return -1;
	}
	*code = x.code;
	*message = x.message;
	return 0;
}

int azb_xml_parse_block_list(const char *xml, size_t len,
			     struct azb_block **blocks, size_t *n,
			     size_t *n_uncommitted, azblob_error *err)
{
	struct xp x = { .doc = DOC_BLOCKS };
	const char *why = run(&x, xml, len);

	free(x.bcur.id);
	if (why) {
		for (size_t i = 0; i < x.nblocks; i++)
			free(x.blocks[i].id);
		free(x.blocks);
		return azb_fail(err, AZBLOB_E_PROTOCOL, 0,
				"malformed block list: %s", why);
	}
	*blocks = x.blocks;
	*n = x.nblocks;
	*n_uncommitted = x.uncommitted;
	return AZBLOB_OK;
}
