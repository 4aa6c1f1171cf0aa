/* test_imap_ext - session extensions in one process against a real node
 * over socketpairs: COMPRESS=DEFLATE (RFC 4978; zlib on the client side,
 * compressed input pipelined behind the command), modified UTF-7 mailbox
 * names for IMAP4rev1 and UTF-8 after ENABLE UTF8=ACCEPT or IMAP4rev2
 * (RFC 3501 5.1.3, RFC 6855 3), and non-synchronising literals (RFC 7888). */
#include "gateway/imap/imap_session_testutil.h"

/* Starts the client's zlib streams (raw deflate, RFC 4978). */
static void client_deflate(struct client *c)
{
	if (inflateInit2(&c->zin, -15) != Z_OK ||
	    deflateInit2(&c->zout, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		abort();
	c->deflate = 1;
}

static void test_compress(void)
{
	struct client c;
	char line[256], *l;
	unsigned char z[256];
	static const char msg[] = "Subject: squeeze\r\n\r\nzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\r\n";
	size_t zn;

	greet(&c);
	send_line(&c, "a LOGIN amy@acme.test secret");
	EXPECT(&c, "a ", "a OK");
	send_line(&c, "b COMPRESS GZIP");
	EXPECT(&c, "b ", "b BAD");
	/* the command and compressed input right behind it, in one write */
	client_deflate(&c);
	c.zout.next_in = (unsigned char *)"d NOOP\r\n";
	c.zout.avail_in = 8;
	c.zout.next_out = z;
	c.zout.avail_out = sizeof z;
	deflate(&c.zout, Z_SYNC_FLUSH);
	zn = sizeof z - c.zout.avail_out;
	c.deflate = 0;
	memcpy(line, "c COMPRESS DEFLATE\r\n", 20);
	memcpy(line + 20, z, zn);
	send_raw(&c, line, 20 + zn);
	EXPECT(&c, "c ", "c OK DEFLATE active");
	/* what came after the OK line is compressed already */
	l = xstrndup(c.in.data, c.in.len);
	zn = c.in.len;
	c.in.len = 0;
	c.in.data[0] = '\0';
	c.deflate = 1;
	take(&c, l, zn);
	free(l);
	EXPECT(&c, "d ", "d OK");
	send_line(&c, "e COMPRESS DEFLATE");
	EXPECT(&c, "e ", "e NO [COMPRESSIONACTIVE]");
	snprintf(line, sizeof line, "f APPEND INBOX {%zu+}", strlen(msg));
	send_line(&c, line);
	send_line(&c, msg);
	EXPECT(&c, "f ", "f OK [APPENDUID");
	send_line(&c, "g SELECT INBOX");
	EXPECT(&c, "g ", "g OK");
	send_line(&c, "h FETCH 1:* BODY.PEEK[]");
	l = until_line(&c, "zzzz");
	CHECK(HAS(l, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"));
	free(l);
	EXPECT(&c, "h ", "h OK");
	send_line(&c, "i LOGOUT");
	EXPECT(&c, "* ", "* BYE");
	EXPECT(&c, "i ", "i OK");
	client_close(&c);
}

/* RFC 3501 5.1.3 names for IMAP4rev1, UTF-8 after ENABLE UTF8=ACCEPT
 * (RFC 6855 3) or IMAP4rev2. */
static void test_utf8_names(void)
{
	struct client c, d;

	greet(&c);
	send_line(&c, "a LOGIN amy@acme.test secret");
	EXPECT(&c, "a ", "a OK");
	send_line(&c, "b CREATE Entw&APw-rfe/&AMk-t&AOk-");
	EXPECT(&c, "b ", "b OK");
	send_line(&c, "c LIST \"\" Entw&APw-rfe*");
	EXPECT(&c, "* LIST (\\HasNoChildren)", "\"Entw&APw-rfe/&AMk-t&AOk-\"");
	EXPECT(&c, "c ", "c OK");
	send_line(&c, "d STATUS Entw&APw-rfe/&AMk-t&AOk- (MESSAGES)");
	EXPECT(&c, "* STATUS", "* STATUS \"Entw&APw-rfe/&AMk-t&AOk-\" (MESSAGES 0)");
	EXPECT(&c, "d ", "d OK");
	send_line(&c, "e CREATE \"Caf\xc3\xa9\"");             /* 8-bit before UTF8=ACCEPT */
	EXPECT(&c, "e ", "e BAD");
	send_line(&c, "e2 APPEND INBOX UTF8 (~{9+}\r\nSubject:\n)");   /* needs UTF8=ACCEPT */
	EXPECT(&c, "e2 ", "e2 BAD");
	send_line(&c, "f CREATE Bad&AOQ");                        /* unterminated */
	EXPECT(&c, "f ", "f BAD");
	send_line(&c, "g SELECT Entw&APw-rfe/&AMk-t&AOk-");
	EXPECT(&c, "g ", "g OK");
	send_line(&c, "h CREATE A&-B");
	EXPECT(&c, "h ", "h OK");
	send_line(&c, "h2 LSUB \"\" *");
	EXPECT(&c, "h2 ", "h2 OK");
	send_line(&c, "i ENABLE UTF8=ACCEPT");
	EXPECT(&c, "* ENABLED", "* ENABLED UTF8=ACCEPT");
	EXPECT(&c, "i ", "i OK");
	send_line(&c, "j LIST \"\" \"Entw\xc3\xbcrfe*\"");
	EXPECT(&c, "* LIST (\\HasNoChildren)", "\"Entw\xc3\xbcrfe/\xc3\x89t\xc3\xa9\"");
	EXPECT(&c, "j ", "j OK");
	send_line(&c, "k CREATE \"Caf\xc3\xa9\"");
	EXPECT(&c, "k ", "k OK");
	/* RFC 6855 4: the UTF8 data item of APPEND */
	send_line(&c, "m APPEND INBOX UTF8 (~{24+}\r\nSubject: caf\xc3\xa9\r\n\r\nbody\r\n)");
	EXPECT(&c, "m ", "m OK [APPENDUID");
	send_line(&c, "l LIST \"\" A&B*");
	EXPECT(&c, "* LIST", "\"A&B\"");
	EXPECT(&c, "l ", "l OK");
	greet(&d);
	send_line(&d, "a LOGIN amy@acme.test secret");
	EXPECT(&d, "a ", "a OK");
	send_line(&d, "b LIST \"\" Caf*");
	EXPECT(&d, "* LIST", "\"Caf&AOk-\"");
	EXPECT(&d, "b ", "b OK");
	send_line(&d, "c RENAME Caf&AOk- Tea");
	EXPECT(&d, "c ", "c OK");
	send_line(&d, "d ENABLE IMAP4rev2");
	EXPECT(&d, "d ", "d OK");
	send_line(&d, "e DELETE \"Entw\xc3\xbcrfe/\xc3\x89t\xc3\xa9\"");
	EXPECT(&d, "e ", "e OK");
	client_close(&d);
	client_close(&c);
}

/* RFC 7888: before authentication LITERAL- (non-synchronising literals of
 * at most 4096 octets; a bigger one is BAD [TOOBIG] and the connection
 * ends, section 4), after it LITERAL+ (any size up to APPENDLIMIT). */
static void test_literal_plus(void)
{
	struct client c;
	char *big = xmalloc(9001), line[64], *l;

	memset(big, 'x', 9000);
	big[9000] = '\0';
	client_open(&c);
	l = until_line(&c, "* OK");
	CHECK(HAS(l, " LITERAL- ") && !HAS(l, "LITERAL+"));
	free(l);
	send_raw(&c, "a LOGIN {4096+}\r\n", 17);
	send_raw(&c, big, 4096);
	send_line(&c, " secret");
	EXPECT(&c, "a ", "a NO [AUTHENTICATIONFAILED]");
	send_raw(&c, "b LOGIN {4097+}\r\n", 17);
	send_raw(&c, big, 4097);
	send_line(&c, " secret");
	EXPECT(&c, "b ", "b BAD [TOOBIG]");
	EXPECT(&c, "* ", "* BYE");
	free(until_line(&c, "never"));   /* until EOF */
	CHECK(c.closed);
	client_close(&c);

	greet(&c);
	send_line(&c, "b LOGIN {13+}\r\namy@acme.test {6+}\r\nsecret");
	l = until_line(&c, "b ");
	CHECK(HAS(l, "b OK [CAPABILITY ") && HAS(l, " LITERAL+ ") && !HAS(l, "LITERAL-"));
	free(l);
	send_line(&c, "c ENABLE IMAP4rev2");
	EXPECT(&c, "c ", "c OK");
	memcpy(big, "Subject: big\r\n\r\n", 16);
	memcpy(big + 8998, "\r\n", 2);
	snprintf(line, sizeof line, "d APPEND INBOX {%zu+}", strlen(big));
	send_line(&c, line);
	send_line(&c, big);
	EXPECT(&c, "d ", "d OK [APPENDUID");
	client_close(&c);
	free(big);
}

int main(void)
{
	setup("imap-ext-node");
	test_run("COMPRESS=DEFLATE", test_compress);
	test_run("UTF8=ACCEPT, modified UTF-7 names", test_utf8_names);
	test_run("LITERAL- before login, LITERAL+ after", test_literal_plus);
	teardown();
	return test_done();
}
