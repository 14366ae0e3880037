// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TEST-ONLY: the XML bodies: listings as Azure and Azurite write them,
 * error bodies, block lists, and hostile or malformed input (entities, a
 * DOCTYPE, deep nesting, long text, truncation, random mutations).
 */
#include <stdlib.h>

#include "unit.h"

static const char blobs_xml[] =
	"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	"<EnumerationResults ServiceEndpoint=\"http://127.0.0.1:10000/devstoreaccount1\" ContainerName=\"c\">"
	"<Prefix>dir/</Prefix><MaxResults>3</MaxResults><Delimiter>/</Delimiter>"
	"<Blobs>"
	"<Blob><Name>dir/a.txt</Name><Properties>"
	"<Creation-Time>Thu, 26 Nov 2026 10:00:00 GMT</Creation-Time>"
	"<Last-Modified>Thu, 26 Nov 2026 10:00:01 GMT</Last-Modified>"
	"<Etag>0x8DC1</Etag><Content-Length>12345678901</Content-Length>"
	"<Content-Type>text/plain</Content-Type><Content-Encoding />"
	"<Content-MD5>1B2M2Y8AsgTpgAmY7PhCfg==</Content-MD5>"
	"<BlobType>BlockBlob</BlobType><LeaseStatus>unlocked</LeaseStatus>"
	"</Properties><Metadata><k1>v1</k1><foo_bar>x &amp; y</foo_bar></Metadata></Blob>"
	"<BlobPrefix><Name>dir/sub/</Name></BlobPrefix>"
	"<Blob><Name Encoded=\"true\">dir/%EF%BF%BEodd</Name><Properties>"
	"<Content-Length>0</Content-Length></Properties><Future><X>1</X></Future></Blob>"
	"</Blobs><NextMarker>dir/zzz</NextMarker></EnumerationResults>";

static void list_blobs(void)
{
	struct azb_list_page pg;
	azblob_error e = { 0 };
	const struct azblob_props *p;

	CHECK(!azb_xml_parse_list(blobs_xml, strlen(blobs_xml),
				  AZB_LIST_BLOBS, &pg, &e));
	CHECK(pg.n == 3);
	if (pg.n != 3)
		goto out;
	p = &pg.items[0];
	CHECK_STR(p->name, "dir/a.txt");
	CHECK(!p->is_prefix);
	CHECK_U64(p->size, 12345678901ULL);
	CHECK_STR(p->etag, "0x8DC1");
	CHECK_STR(p->content_type, "text/plain");
	CHECK(!p->content_encoding);
	CHECK_STR(p->content_md5, "1B2M2Y8AsgTpgAmY7PhCfg==");
	CHECK_STR(p->blob_type, "BlockBlob");
	CHECK(p->last_modified == 1795687201);
	CHECK(p->nmeta == 2);
	CHECK_STR(azblob_props_metadata_get(p, "FOO_BAR"), "x & y");
	CHECK_STR(pg.items[1].name, "dir/sub/");
	CHECK(pg.items[1].is_prefix);
	CHECK_STR(pg.items[2].name, "dir/\xef\xbf\xbeodd");
	CHECK_STR(pg.next_marker, "dir/zzz");
out:
	azb_list_page_free(&pg);
}

static void list_containers(void)
{
	static const char xml[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults>"
		"<Containers><Container><Name>alpha</Name><Properties>"
		"<Etag>\"e\"</Etag></Properties></Container>"
		"<Container><Name>beta</Name></Container></Containers>"
		"<NextMarker /></EnumerationResults>";
	struct azb_list_page pg;

	CHECK(!azb_xml_parse_list(xml, strlen(xml), AZB_LIST_CONTAINERS, &pg,
				  NULL));
	CHECK(pg.n == 2);
	CHECK(pg.n == 2 && !strcmp(pg.items[1].name, "beta"));
	CHECK(pg.n == 2 && !strcmp(pg.items[0].etag, "\"e\""));
	CHECK(!pg.next_marker);		/* empty: the last page */
	azb_list_page_free(&pg);
}

static void error_body(void)
{
	static const char xml[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error>"
		"<Code>ContainerNotFound</Code>"
		"<Message>The specified container does not exist.\n"
		"RequestId:1\nTime:2026</Message></Error>";
	char *code = NULL, *msg = NULL;

	CHECK(!azb_xml_parse_error(xml, strlen(xml), &code, &msg));
	CHECK_STR(code, "ContainerNotFound");
	CHECK(msg && !strncmp(msg, "The specified container does not exist.",
			      39));
	free(code);
	free(msg);
	CHECK(azb_xml_parse_error("<Error><Code>", 13, &code, &msg));
}

static void block_list(void)
{
	static const char xml[] =
		"<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
		"<CommittedBlocks><Block><Name>QUFB</Name><Size>10</Size></Block>"
		"<Block><Name>QkJC</Name><Size>5</Size></Block></CommittedBlocks>"
		"<UncommittedBlocks><Block><Name>Q0ND</Name><Size>1</Size></Block>"
		"</UncommittedBlocks></BlockList>";
	struct azb_block *b = NULL;
	size_t n = 0, nu = 0;

	CHECK(!azb_xml_parse_block_list(xml, strlen(xml), &b, &n, &nu, NULL));
	CHECK(n == 2 && nu == 1);
	CHECK(n == 2 && !strcmp(b[1].id, "QkJC") && b[0].size == 10);
	for (size_t i = 0; i < n; i++)
		free(b[i].id);
	free(b);
}

static int parse(const char *xml, size_t n)
{
	struct azb_list_page pg;
	azblob_error e = { 0 };
	int rc = azb_xml_parse_list(xml, n, AZB_LIST_BLOBS, &pg, &e);

	if (!rc)
		azb_list_page_free(&pg);
	else
		CHECK(e.status == AZBLOB_E_PROTOCOL && e.message);
	azb_err_reset(&e);
	return rc;
}

static void hostile(void)
{
	static const char *const bad[] = {
		/* billion laughs */
		"<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaaaa\">"
		"<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
		"<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
		"<EnumerationResults><Blobs><Blob><Name>&c;</Name></Blob></Blobs></EnumerationResults>",
		/* external entity */
		"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
		"<EnumerationResults><Blobs><Blob><Name>&e;</Name></Blob></Blobs></EnumerationResults>",
		/* a DOCTYPE alone */
		"<!DOCTYPE EnumerationResults><EnumerationResults/>",
		/* truncated */
		"<EnumerationResults><Blobs><Blob><Name>a</Name>",
		/* not XML */
		"HTTP/1.1 200 OK",
		/* an item without a name */
		"<EnumerationResults><Blobs><Blob><Properties/></Blob></Blobs></EnumerationResults>",
		/* a size that is not a number */
		"<EnumerationResults><Blobs><Blob><Name>a</Name><Properties>"
		"<Content-Length>-1</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
		"<EnumerationResults><Blobs><Blob><Name>a</Name><Properties>"
		"<Content-Length>99999999999999999999999</Content-Length></Properties></Blob></Blobs></EnumerationResults>",
		/* a bad percent-encoded name */
		"<EnumerationResults><Blobs><Blob><Name Encoded=\"true\">%zz</Name></Blob></Blobs></EnumerationResults>",
		/* two roots */
		"<EnumerationResults/><EnumerationResults/>",
		"",
	};
	struct azb_buf b = { 0 };

	for (size_t i = 0; i < AZB_ARRAY_SIZE(bad); i++)
		CHECK(parse(bad[i], strlen(bad[i])) != 0);
	/* Nesting deeper than the bound. */
	for (int i = 0; i < 40; i++)
		azb_buf_adds(&b, "<a>");
	CHECK(parse(b.p, b.len) != 0);
	/* A text node over 64 KiB. */
	b.len = 0;
	azb_buf_adds(&b, "<EnumerationResults><Blobs><Blob><Name>");
	for (int i = 0; i < 70000; i++)
		azb_buf_adds(&b, "x");
	azb_buf_adds(&b, "</Name></Blob></Blobs></EnumerationResults>");
	CHECK(parse(b.p, b.len) != 0);
	/* An embedded NUL. */
	CHECK(parse("<EnumerationResults>\0</EnumerationResults>", 41) != 0);
	azb_buf_free(&b);
}

/* Random mutations of a valid listing: no crash, no leak (ASan). */
static void mutations(void)
{
	size_t n = strlen(blobs_xml);
	char *m = malloc(n);
	uint64_t s = 12345;
	int ok = 0;

	for (int round = 0; round < 3000; round++) {
		memcpy(m, blobs_xml, n);
		for (int k = 0; k < 1 + round % 8; k++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			m[(s >> 33) % n] = (char)(s >> 13);
		}
		s = s * 6364136223846793005ULL + 1;
		if (!parse(m, round % 2 ? n : (s >> 40) % (n + 1)))
			ok++;
	}
	printf("# %d of 3000 mutated listings still parsed\n", ok);
	free(m);
}

void unit_xml(void)
{
	t_run("xml: List Blobs (props, metadata, prefixes, Encoded, marker)",
	      list_blobs);
	t_run("xml: List Containers, empty NextMarker", list_containers);
	t_run("xml: error body", error_body);
	t_run("xml: block list", block_list);
	t_run("xml: hostile and malformed input refused", hostile);
	t_run("xml: 3000 random mutations", mutations);
}
