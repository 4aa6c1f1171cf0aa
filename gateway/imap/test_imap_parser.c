/* test_imap_parser - valid IMAP commands (every RFC 9051 command, with the
 * extensions clients send) parse into the expected trees, identically when
 * fed whole, one octet at a time and in random splits; pipelining and the
 * synchronising-literal (CONTINUE) protocol. Errors are in
 * test_imap_parser_errors.c, sequence sets in test_imap_parser_seqset.c. */
#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_parser_transcript.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Chunks of *ctx octets. */
static size_t transcript_seven(void *ctx)
{
	return *(const size_t *)ctx;
}

struct valid_case {
	const char *in;
	size_t len;          /* 0: strlen(in) */
	const char *want;
};

#define L(s) s, sizeof(s) - 1

static const struct valid_case valid[] = {
	/* Any state (RFC 9051 6.1) */
	{ "a1 CAPABILITY\r\n", 0, "C a1 CAPABILITY\n" },
	{ "a2 noop\r\n", 0, "C a2 NOOP\n" },
	{ "A3 Logout\r\n", 0, "C A3 LOGOUT\n" },
	/* Not authenticated (6.2) */
	{ "a STARTTLS\r\n", 0, "C a STARTTLS\n" },
	{ "a AUTHENTICATE PLAIN AHVzZXIAcGFzcw==\r\n", 0, "C a AUTHENTICATE PLAIN AHVzZXIAcGFzcw==\n" },
	{ "a AUTHENTICATE PLAIN =\r\n", 0, "C a AUTHENTICATE PLAIN =\n" },
	{ "a AUTHENTICATE SCRAM-SHA-256\r\n", 0, "C a AUTHENTICATE SCRAM-SHA-256\n" },
	{ "a LOGIN joe secret\r\n", 0, "C a LOGIN joe secret\n" },
	{ "a LOGIN \"joe@example.com\" \"pa\\\"ss\\\\w d\"\r\n", 0,
	  "C a LOGIN \"joe@example.com\" \"pa\\\"ss\\\\w d\"\n" },
	{ "a LOGIN {3}\r\njoe {6}\r\np\x01 ss\"\r\n", 0,
	  "+ a\n+ a\nC a LOGIN {3}\"joe\" {6}\"p\\x01 ss\\\"\"\n" },
	{ "a LOGIN {3+}\r\njoe {0}\r\n\r\n", 0, "+ a\nC a LOGIN {3}\"joe\" {0}\"\"\n" },
	{ "a LOGIN \"\" {0+}\r\n\r\n", 0, "C a LOGIN \"\" {0}\"\"\n" },
	/* Authenticated (6.3) */
	{ "a ENABLE IMAP4rev2 CONDSTORE QRESYNC UTF8=ACCEPT\r\n", 0,
	  "C a ENABLE IMAP4rev2 CONDSTORE QRESYNC UTF8=ACCEPT\n" },
	{ "a SELECT \"INBOX\" (CONDSTORE)\r\n", 0, "C a SELECT \"INBOX\" (CONDSTORE)\n" },
	{ "a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n", 0,
	  "C a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\n" },
	{ "a EXAMINE blurdybloop\r\n", 0, "C a EXAMINE blurdybloop\n" },
	{ "a CREATE owatagusiam/\r\n", 0, "C a CREATE owatagusiam/\n" },
	{ "a CREATE \"Archive\" (USE (\\Archive))\r\n", 0, "C a CREATE \"Archive\" (USE (\\Archive))\n" },
	{ "a CREATE \"Entw\xC3\xBCrfe\"\r\n", 0, "C a CREATE \"Entw\\xC3\\xBCrfe\"\n" },
	{ "a DELETE blurdybloop\r\n", 0, "C a DELETE blurdybloop\n" },
	{ "a RENAME \"old box\" {7+}\r\nnew box\r\n", 0, "C a RENAME \"old box\" {7}\"new box\"\n" },
	{ "a SUBSCRIBE #news.comp.mail.mime\r\n", 0, "C a SUBSCRIBE #news.comp.mail.mime\n" },
	{ "a UNSUBSCRIBE #news.comp.mail.mime\r\n", 0, "C a UNSUBSCRIBE #news.comp.mail.mime\n" },
	{ "a LIST \"\" \"%\" RETURN (SPECIAL-USE STATUS (MESSAGES))\r\n", 0,
	  "C a LIST \"\" \"%\" RETURN (SPECIAL-USE STATUS (MESSAGES))\n" },
	{ "a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX %/* \"Sent Items\")\r\n", 0,
	  "C a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX %/* \"Sent Items\")\n" },
	{ "a LIST ~/Mail/ %\r\n", 0, "C a LIST ~/Mail/ %\n" },
	{ "a LSUB \"#news.\" \"comp.mail.*\"\r\n", 0, "C a LSUB \"#news.\" \"comp.mail.*\"\n" },
	{ "a NAMESPACE\r\n", 0, "C a NAMESPACE\n" },
	{ "a STATUS blurdybloop (UIDNEXT MESSAGES HIGHESTMODSEQ SIZE)\r\n", 0,
	  "C a STATUS blurdybloop (UIDNEXT MESSAGES HIGHESTMODSEQ SIZE)\n" },
	{ "a APPEND saved-messages (\\Seen \\Draft) \"05-Jan-2024 10:00:00 +0100\" {13}\r\n"
	  "Subject: hi\r\n\r\n", 0,
	  "+ a\nC a APPEND saved-messages (\\Seen \\Draft) \"05-Jan-2024 10:00:00 +0100\" "
	  "{13}\"Subject: hi\\x0D\\x0A\"\n" },
	{ "a APPEND INBOX {5+}\r\nhello\r\n", 0, "C a APPEND INBOX {5}\"hello\"\n" },
	{ L("a APPEND INBOX () ~{7}\r\nab\0c\r\n\0\r\n"), "+ a\nC a APPEND INBOX () ~{7}\"ab\\x00c\\x0D\\x0A\\x00\"\n" },
	{ L("a APPEND INBOX ~{3+}\r\n\0\0\0\r\n"), "C a APPEND INBOX ~{3}\"\\x00\\x00\\x00\"\n" },
	{ "a APPEND INBOX {1+}\r\nx (\\Seen) {1+}\r\ny\r\n", 0,
	  "C a APPEND INBOX {1}\"x\" (\\Seen) {1}\"y\"\n" },
	{ "a APPEND Drafts (\\Draft) UTF8 (~{2+}\r\nhi)\r\n", 0,
	  "C a APPEND Drafts (\\Draft) UTF8 (~{2}\"hi\")\n" },
	{ "a IDLE\r\n", 0, "C a IDLE\n" },
	{ "a ID (\"name\" \"mbsync\" \"version\" NIL)\r\n", 0, "C a ID (\"name\" \"mbsync\" \"version\" NIL)\n" },
	{ "a ID nil\r\n", 0, "C a ID NIL\n" },
	{ "a GETQUOTAROOT INBOX\r\n", 0, "C a GETQUOTAROOT INBOX\n" },
	{ "a SETMETADATA INBOX (/private/comment {3+}\r\nfoo /shared/x NIL)\r\n", 0,
	  "C a SETMETADATA INBOX (/private/comment {3}\"foo\" /shared/x NIL)\n" },
	/* Selected (6.4) */
	{ "a CHECK\r\n", 0, "C a CHECK\n" },
	{ "a CLOSE\r\n", 0, "C a CLOSE\n" },
	{ "a UNSELECT\r\n", 0, "C a UNSELECT\n" },
	{ "a EXPUNGE\r\n", 0, "C a EXPUNGE\n" },
	{ "a UID EXPUNGE 3000:3002\r\n", 0, "C a UID EXPUNGE 3000:3002\n" },
	{ "a SEARCH CHARSET UTF-8 OR SUBJECT \"x\" FROM {3}\r\nabc\r\n", 0,
	  "+ a\nC a SEARCH CHARSET UTF-8 OR SUBJECT \"x\" FROM {3}\"abc\"\n" },
	{ "a UID SEARCH RETURN (MIN MAX SAVE) 1:* NOT DELETED SINCE 1-Feb-1994 (OR SEEN FLAGGED)\r\n", 0,
	  "C a UID SEARCH RETURN (MIN MAX SAVE) 1:* NOT DELETED SINCE 1-Feb-1994 (OR SEEN FLAGGED)\n" },
	{ "a SEARCH $ KEYWORD $Junk MODSEQ \"/flags/\\\\draft\" all 620162338\r\n", 0,
	  "C a SEARCH $ KEYWORD $Junk MODSEQ \"/flags/\\\\draft\" all 620162338\n" },
	{ "a FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\r\n", 0,
	  "C a FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])\n" },
	{ "a UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.1024> BINARY[1] MODSEQ) (CHANGEDSINCE 12)\r\n", 0,
	  "C a UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.1024> BINARY[1] MODSEQ) (CHANGEDSINCE 12)\n" },
	{ "a FETCH 1 BODY[]\r\n", 0, "C a FETCH 1 BODY[]\n" },
	{ "a FETCH 1 (BODY.PEEK[1.2.MIME] BINARY.SIZE[1] BODY[HEADER.FIELDS.NOT (\"X-Spam\" Received)])\r\n", 0,
	  "C a FETCH 1 (BODY.PEEK[1.2.MIME] BINARY.SIZE[1] BODY[HEADER.FIELDS.NOT (\"X-Spam\" Received)])\n" },
	{ "a FETCH 1:3,7 ALL\r\n", 0, "C a FETCH 1:3,7 ALL\n" },
	{ "a UID FETCH 1:* FLAGS (CHANGEDSINCE 12345 VANISHED)\r\n", 0,
	  "C a UID FETCH 1:* FLAGS (CHANGEDSINCE 12345 VANISHED)\n" },
	{ "a STORE 2:4 +FLAGS.SILENT (\\Seen \\Deleted)\r\n", 0, "C a STORE 2:4 +FLAGS.SILENT (\\Seen \\Deleted)\n" },
	{ "a UID STORE 1 (UNCHANGEDSINCE 320162338) FLAGS ($Junk \\Flagged)\r\n", 0,
	  "C a UID STORE 1 (UNCHANGEDSINCE 320162338) FLAGS ($Junk \\Flagged)\n" },
	{ "a STORE 1 -FLAGS ()\r\n", 0, "C a STORE 1 -FLAGS ()\n" },
	{ "a COPY 2:4 MEETING\r\n", 0, "C a COPY 2:4 MEETING\n" },
	{ "a UID COPY 1,3 \"Archive 2024\"\r\n", 0, "C a UID COPY 1,3 \"Archive 2024\"\n" },
	{ "a MOVE 1:* Trash\r\n", 0, "C a MOVE 1:* Trash\n" },
	{ "a uid move 42:69 foo\r\n", 0, "C a UID MOVE 42:69 foo\n" },
	/* Lexical corner cases */
	{ "a1  NOOP  \r\n", 0, "C a1 NOOP\n" },
	{ "a1 NOOP\n", 0, "C a1 NOOP\n" },
	{ "a]1 NOOP\r\n", 0, "C a]1 NOOP\n" },
	{ "a LOGIN us]er p~w\r\n", 0, "C a LOGIN us]er p~w\n" },
	{ "a X ~ ~x NIL nil Nil NILx \"NIL\"\r\n", 0, "C a X ~ ~x NIL NIL NIL NILx \"NIL\"\n" },
	{ "a X (((a)) ()) (b)\r\n", 0, "C a X (((a)) ()) (b)\n" },
	{ "a X BODY[HEADER.FIELDS (\"a\\\"]b\")]\r\n", 0, "C a X BODY[HEADER.FIELDS (\"a\\\"]b\")]\n" },
	{ "a X \"\xFF\x01\"\r\n", 0, "C a X \"\\xFF\\x01\"\n" },
	/* '[' is an ATOM-CHAR and ']' an ASTRING-CHAR (RFC 9051 9): a '['
	 * left open by the line end or by a second '[' was no section. */
	{ "a SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\n", 0,
	  "C a SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\n" },
	{ "a LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\r\n", 0,
	  "C a LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\n" },
	{ "a SELECT a]b[\n", 0, "C a SELECT a]b[\n" },
	{ "a RENAME x[y x[z]\r\n", 0, "C a RENAME x[y x[z]\n" },
	{ "a X a[b c (d \"e f\") g\r\n", 0, "C a X a[b c (d \"e f\") g\n" },
	{ "a X a[b c[d e\r\n", 0, "C a X a[b c[d e\n" },
	{ "a X a[b (c[d] e[f) g\r\n", 0, "C a X a[b (c[d] e[f) g\n" },
	{ "a X a[b c[ d[\r\n", 0, "C a X a[b c[ d[\n" },
	{ "a X [ [\r\n", 0, "C a X [ [\n" },
	/* Pipelining: several commands in one buffer */
	{ "a NOOP\r\nb LOGIN {1+}\r\nx y\r\nc FETCH 1 (FLAGS)\r\nd UID FETCH 1 BODY[]\n", 0,
	  "C a NOOP\nC b LOGIN {1}\"x\" y\nC c FETCH 1 (FLAGS)\nC d UID FETCH 1 BODY[]\n" },
};

static void test_valid_commands(void)
{
	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		const struct valid_case *vc = &valid[i];
		size_t len = vc->len != 0 ? vc->len : strlen(vc->in);
		char *got = transcript(vc->in, len, NULL, NULL, NULL);
		char *bytewise = transcript(vc->in, len, transcript_one_octet, NULL, NULL);
		bool ok = transcript_same("whole", i, got, vc->want) && transcript_same("bytewise", i, bytewise, vc->want);

		for (unsigned seed = 1; ok && seed <= 40; seed++) {
			struct rand_chunks rc = { seed * 7919u + (unsigned)i, seed % 5 == 0 ? 64 : 6 };
			char *split = transcript(vc->in, len, transcript_random_chunk, &rc, NULL);

			ok = transcript_same("random", i, split, vc->want);
			free(split);
		}
		free(got);
		free(bytewise);
		CHECK(ok);
	}
}

/* All valid cases in one stream: the parser carries no state between commands. */
static void test_valid_stream(void)
{
	struct buf in = BUF_INIT, want = BUF_INIT;

	for (size_t i = 0; i < sizeof valid / sizeof valid[0]; i++) {
		buf_append(&in, valid[i].in, valid[i].len != 0 ? valid[i].len : strlen(valid[i].in));
		buf_puts(&want, valid[i].want);
	}
	for (unsigned seed = 0; seed <= 20; seed++) {
		struct rand_chunks rc = { seed, seed == 0 ? 1 : seed * 13 };
		char *got = transcript(in.data, in.len, transcript_random_chunk, &rc, NULL);
		bool ok = transcript_same("stream", seed, got, want.data);

		free(got);
		CHECK(ok);
	}
	buf_free(&in);
	buf_free(&want);
}

/* The argument tree itself (types, flags, lengths), not just its text. */
static void test_tree(void)
{
	static const char in[] = "t1 UID fetch 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.1024>) NIL \"q\" ~{2+}\r\n\0x\r\n";
	struct imap_parser *p = imap_parser_new(NULL);
	struct imap_command *cmd;
	const char *err;
	size_t used;

	CHECK_EQ_INT(imap_parser_feed(p, in, sizeof in - 1, &used, &cmd, &err), IMAP_PARSE_COMMAND);
	CHECK_EQ_INT(used, sizeof in - 1);
	CHECK(err == NULL);
	CHECK_EQ_STR(cmd->tag, "t1");
	CHECK_EQ_STR(cmd->name, "FETCH");
	CHECK(cmd->uid);
	CHECK_EQ_INT(cmd->nargs, 5);
	CHECK_EQ_INT(cmd->args[0].type, IMAP_ARG_ATOM);
	CHECK_EQ_STR(cmd->args[0].str, "1:*");
	CHECK_EQ_INT(cmd->args[1].type, IMAP_ARG_LIST);
	CHECK_EQ_INT(cmd->args[1].count, 2);
	CHECK_EQ_STR(cmd->args[1].list[1].str, "BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.1024>");
	CHECK_EQ_INT(cmd->args[1].list[1].len, strlen("BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.1024>"));
	CHECK_EQ_INT(cmd->args[2].type, IMAP_ARG_NIL);
	CHECK_EQ_INT(cmd->args[3].type, IMAP_ARG_STRING);
	CHECK(!cmd->args[3].literal);
	CHECK_EQ_INT(cmd->args[4].type, IMAP_ARG_STRING);
	CHECK(cmd->args[4].literal && cmd->args[4].literal8);
	CHECK_EQ_INT(cmd->args[4].len, 2);
	CHECK(memcmp(cmd->args[4].str, "\0x", 3) == 0);
	imap_parser_free(&p);
	CHECK(p == NULL);
	imap_parser_free(&p);   /* NULL-safe */
}

/* {n}: CONTINUE right after the announcement's CRLF, then the octets. */
static void test_continue_protocol(void)
{
	static const char in[] = "a LOGIN {3}\r\njoe {4}\r\npass\r\nb NOOP\r\n";
	struct imap_parser *p = imap_parser_new(NULL);
	struct imap_command *cmd;
	const char *err;
	size_t used;

	CHECK_EQ_INT(imap_parser_feed(p, in, 5, &used, &cmd, &err), IMAP_PARSE_NEED_MORE);
	CHECK_EQ_INT(used, 5);
	CHECK(cmd == NULL && err == NULL);
	CHECK_EQ_INT(imap_parser_feed(p, in + 5, sizeof in - 1 - 5, &used, &cmd, &err), IMAP_PARSE_CONTINUE);
	CHECK_EQ_INT(used, strlen("IN {3}\r\n"));
	CHECK_EQ_STR(cmd->tag, "a");
	CHECK_EQ_STR(cmd->name, "LOGIN");
	CHECK_EQ_INT(imap_parser_literal_remaining(p), 3);
	CHECK_EQ_INT(imap_parser_feed(p, "jo", 2, &used, &cmd, &err), IMAP_PARSE_NEED_MORE);
	CHECK_EQ_INT(imap_parser_literal_remaining(p), 1);
	CHECK_EQ_INT(imap_parser_feed(p, "e {4}\r\npass\r\n", 13, &used, &cmd, &err), IMAP_PARSE_CONTINUE);
	CHECK_EQ_INT(used, 7);
	CHECK_EQ_INT(imap_parser_literal_remaining(p), 4);
	CHECK_EQ_INT(imap_parser_feed(p, "pass\r\nb NOOP\r\n", 14, &used, &cmd, &err), IMAP_PARSE_COMMAND);
	CHECK_EQ_INT(used, 6);
	CHECK_EQ_INT(imap_parser_literal_remaining(p), 0);
	CHECK_EQ_INT(cmd->nargs, 2);
	CHECK_EQ_STR(cmd->args[0].str, "joe");
	CHECK_EQ_STR(cmd->args[1].str, "pass");
	CHECK_EQ_INT(imap_parser_feed(p, "b NOOP\r\n", 8, &used, &cmd, &err), IMAP_PARSE_COMMAND);
	CHECK_EQ_STR(cmd->tag, "b");
	CHECK_EQ_INT(cmd->nargs, 0);
	CHECK(cmd->args == NULL);
	/* An empty feed needs more and consumes nothing. */
	CHECK_EQ_INT(imap_parser_feed(p, "", 0, &used, &cmd, &err), IMAP_PARSE_NEED_MORE);
	CHECK_EQ_INT(used, 0);
	imap_parser_free(&p);
}

/* reset() forgets a half-read command. */
static void test_reset(void)
{
	struct imap_parser *p = imap_parser_new(NULL);
	struct imap_command *cmd;
	const char *err;
	size_t used;

	CHECK_EQ_INT(imap_parser_feed(p, "a APPEND x {10}\r\n", 17, &used, &cmd, &err), IMAP_PARSE_CONTINUE);
	CHECK_EQ_INT(imap_parser_literal_remaining(p), 10);
	imap_parser_reset(p);
	CHECK_EQ_INT(imap_parser_literal_remaining(p), 0);
	CHECK_EQ_INT(imap_parser_feed(p, "b NOOP\r\n", 8, &used, &cmd, &err), IMAP_PARSE_COMMAND);
	CHECK_EQ_STR(cmd->tag, "b");
	CHECK_EQ_STR(cmd->name, "NOOP");
	imap_parser_free(&p);
}

/* A big literal (bigger than the copy threshold) arrives intact. */
static void test_big_literal(void)
{
	size_t n = 300000;
	struct buf in = BUF_INIT;
	struct imap_parser *p = imap_parser_new(NULL);
	struct imap_command *cmd = NULL;
	const char *err;
	size_t off = 0, used;
	enum imap_parse_result r = IMAP_PARSE_NEED_MORE;

	buf_printf(&in, "a APPEND INBOX {%zu+}\r\n", n);
	for (size_t i = 0; i < n; i++)
		buf_append(&in, &"0123456789abcdef\r\n"[i % 18], 1);
	buf_puts(&in, "\r\n");
	while (off < in.len) {
		size_t chunk = in.len - off < 4096 ? in.len - off : 4096;

		r = imap_parser_feed(p, in.data + off, chunk, &used, &cmd, &err);
		off += used;
		if (r != IMAP_PARSE_NEED_MORE)
			break;
	}
	CHECK_EQ_INT(r, IMAP_PARSE_COMMAND);
	CHECK_EQ_INT(off, in.len);
	CHECK_EQ_INT(cmd->nargs, 2);
	CHECK_EQ_INT(cmd->args[1].len, n);
	CHECK(memcmp(cmd->args[1].str, in.data + in.len - 2 - n, n) == 0);
	buf_free(&in);
	imap_parser_free(&p);
}

/* RFC 2971 3.3: an ID of 30 pairs at the maximal sizes (field 30 octets,
 * value 1024) fits the session's pre-authentication limits (a 32 KiB line,
 * 100 arguments, imap_session_private.h), whole, by octet and by 7
 * octets; one more octet of line does not. */
static void test_id_preauth_limits(void)
{
	const struct imap_parser_limits preauth = { .max_line = 32768, .max_literal = 8192,
						    .max_args = 100, .max_depth = 4 };
	const size_t seven = 7;
	struct buf in = BUF_INIT, want = BUF_INIT, big = BUF_INIT;
	char value[1025], *got;

	memset(value, 'v', 1024);
	value[1024] = '\0';
	buf_puts(&in, "a ID (");
	buf_puts(&want, "C a ID (");
	for (int i = 0; i < 30; i++) {
		buf_printf(&in, "%s\"f%02dxxxxxxxxxxxxxxxxxxxxxxxxxxx\" \"%s\"", i > 0 ? " " : "", i, value);
		buf_printf(&want, "%s\"f%02dxxxxxxxxxxxxxxxxxxxxxxxxxxx\" \"%s\"", i > 0 ? " " : "", i, value);
	}
	buf_puts(&in, ")\r\n");
	buf_puts(&want, ")\n");
	got = transcript(in.data, in.len, NULL, NULL, &preauth);
	CHECK(transcript_same("whole", 0, got, want.data));
	free(got);
	got = transcript(in.data, in.len, transcript_one_octet, NULL, &preauth);
	CHECK(transcript_same("bytewise", 0, got, want.data));
	free(got);
	got = transcript(in.data, in.len, transcript_seven, (void *)&seven, &preauth);
	CHECK(transcript_same("seven", 0, got, want.data));
	free(got);
	/* Padding the line to max_line + 1 octets of text. */
	buf_append(&big, in.data, in.len - 3);
	while (big.len < 32768 + 1 - 2)   /* then "x)": 32769 octets of text */
		buf_puts(&big, " ");
	buf_puts(&big, "x)\r\n");
	got = transcript(big.data, big.len, transcript_one_octet, NULL, &preauth);
	CHECK_EQ_STR(got, "E a Command line too long\n");
	free(got);
	buf_free(&in);
	buf_free(&want);
	buf_free(&big);
}

int main(void)
{
	test_run("valid commands: whole, bytewise, random splits", test_valid_commands);
	test_run("valid commands as one stream", test_valid_stream);
	test_run("argument tree", test_tree);
	test_run("CONTINUE protocol for {n}", test_continue_protocol);
	test_run("reset", test_reset);
	test_run("big literal", test_big_literal);
	test_run("ID of 30 maximal pairs under the pre-auth limits", test_id_preauth_limits);
	return test_done();
}
