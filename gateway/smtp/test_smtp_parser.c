/* test_smtp_parser - command lines fed all at once and one byte at a time
 * must give identical results. */
#include "gateway/smtp/smtp_parser.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

static void describe(struct buf *out, enum smtp_parse_status st, const struct smtp_command *cmd,
		     const char *reply)
{
	if (st == SMTP_PARSE_ERROR || st == SMTP_PARSE_FATAL) {
		buf_printf(out, "%s[%s]\n", st == SMTP_PARSE_FATAL ? "FATAL" : "ERR", reply);
		return;
	}
	buf_printf(out, "%s", cmd->name);
	if (cmd->verb == SMTP_MAIL || cmd->verb == SMTP_RCPT)
		buf_printf(out, " <%s>%s", cmd->path, cmd->path_8bit ? "8" : "");
	else if (cmd->verb == SMTP_BDAT)
		buf_printf(out, " %llu%s", (unsigned long long)cmd->bdat_size, cmd->bdat_last ? " LAST" : "");
	else if (cmd->arg[0] != '\0')
		buf_printf(out, " '%s'", cmd->arg);
	if (cmd->auth_ir != NULL)
		buf_printf(out, " ir='%s'", cmd->auth_ir);
	for (size_t i = 0; i < cmd->nparams; i++)
		buf_printf(out, " %s%s%s", cmd->params[i].name, cmd->params[i].value ? "=" : "",
			   cmd->params[i].value ? cmd->params[i].value : "");
	buf_puts(out, "\n");
}

/* Parses in with chunks of `step` bytes (0 = all at once); the transcript. */
static char *run(const char *in, size_t len, size_t step, size_t max_line, size_t *left_r)
{
	struct smtp_parser *p = smtp_parser_new(max_line);
	struct buf out = BUF_INIT;
	size_t off = 0;

	while (off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step, used;
		const struct smtp_command *cmd;
		const char *reply;
		enum smtp_parse_status st;

		st = smtp_parser_feed(p, (const unsigned char *)in + off, n, &used, &cmd, &reply);
		if (used > n)
			abort();
		off += used;
		if (st != SMTP_PARSE_MORE)
			describe(&out, st, cmd, reply);
	}
	*left_r = off;
	smtp_parser_free(&p);
	buf_puts(&out, "");
	return buf_steal(&out);
}

static void check_case(const char *in, size_t len, size_t max_line, const char *expect)
{
	size_t l1, l2, l3;
	char *all = run(in, len, 0, max_line, &l1);
	char *one = run(in, len, 1, max_line, &l2);
	char *seven = run(in, len, 7, max_line, &l3);
	int ok = strcmp(all, expect) == 0 && strcmp(one, all) == 0 && strcmp(seven, all) == 0;

	if (!ok)
		fprintf(stderr, "input: %.*s\nexpected:\n%s\nall:\n%s\nbytewise:\n%s\n", (int)len, in, expect, all, one);
	free(all);
	free(one);
	free(seven);
	CHECK(ok);
}

#define CASE(in, expect) check_case(in, sizeof(in) - 1, 512, expect)

static void test_basic_verbs(void)
{
	CASE("EHLO client.example\r\nHELO  x \r\nLHLO y\r\nNOOP\r\nNOOP hi there\r\nRSET\r\nQUIT\r\n"
	     "DATA\r\nHELP\r\nVRFY postmaster\r\nEXPN list\r\nSTARTTLS\r\nehlo lower\r\n",
	     "EHLO 'client.example'\nHELO 'x'\nLHLO 'y'\nNOOP\nNOOP 'hi there'\nRSET\nQUIT\n"
	     "DATA\nHELP\nVRFY 'postmaster'\nEXPN 'list'\nSTARTTLS\nEHLO 'lower'\n");
}

static void test_mail_rcpt(void)
{
	CASE("MAIL FROM:<a@b.example>\r\nmail from:<>\r\nMAIL FROM: <a@b.example> SIZE=1000 BODY=8BITMIME\r\n"
	     "MAIL FROM:<a@b.example> SMTPUTF8 RET=HDRS ENVID=QQ+2B1\r\n"
	     "RCPT TO:<x@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y.example\r\n"
	     "RCPT TO:<Postmaster>\r\nRCPT TO:<@relay.example,@r2.example:u@d.example>\r\n"
	     "RCPT TO:<\"a b>c\"@d.example>\r\nRCPT TO:<[1.2.3.4]@x.example>\r\n"
	     "RCPT TO:<u@[192.0.2.1]>\r\nMAIL FROM:<j\xc3\xb6rg@b\xc3\xa4r.example> SMTPUTF8\r\n"
	     "MAIL FROM:<a@b.example>   size=5  \r\n",
	     "MAIL <a@b.example>\nMAIL <>\nMAIL <a@b.example> SIZE=1000 BODY=8BITMIME\n"
	     "MAIL <a@b.example> SMTPUTF8 RET=HDRS ENVID=QQ+2B1\n"
	     "RCPT <x@y.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x+40y.example\n"
	     "RCPT <Postmaster>\nRCPT <u@d.example>\n"
	     "RCPT <\"a b>c\"@d.example>\nERR[501 5.1.3 Bad recipient address syntax]\n"
	     "RCPT <u@[192.0.2.1]>\nMAIL <j\xc3\xb6rg@b\xc3\xa4r.example>8 SMTPUTF8\n"
	     "MAIL <a@b.example> SIZE=5\n");
}

static void test_malformed(void)
{
	CASE("MAIL FROM:a@b.example\r\nMAIL TO:<a@b.example>\r\nMAIL\r\nRCPT TO:<>\r\nRCPT TO:<a>\r\n"
	     "MAIL FROM:<a@b.example\r\nMAIL FROM:<a@b.example>X=\r\nMAIL FROM:<a@b.example> =1\r\n"
	     "MAIL FROM:<a@b.example> A=b=c\r\nMAIL FROM:<a b@c.example>\r\nMAIL FROM:<a@b..example>\r\n"
	     "EHLO\r\nHELO   \r\nDATA x\r\nQUIT now\r\nFOO\r\nTURN\r\nGET / HTTP/1.1\r\n"
	     "BDAT\r\nBDAT x\r\nBDAT 10 FIRST\r\nBDAT 1234567890123456789\r\nBDAT 10 last\r\nBDAT 0\r\n"
	     "\r\n \r\nVRFY\r\n",
	     "ERR[501 5.1.7 Bad sender address syntax]\nERR[501 5.5.4 Syntax: MAIL FROM:<address> [parameters]]\n"
	     "ERR[501 5.5.4 Syntax: MAIL FROM:<address> [parameters]]\nERR[501 5.1.3 Bad recipient address syntax]\n"
	     "ERR[501 5.1.3 Bad recipient address syntax]\nERR[501 5.1.7 Bad sender address syntax]\n"
	     "ERR[501 5.5.4 Invalid parameter syntax]\nERR[501 5.5.4 Invalid parameter syntax]\n"
	     "ERR[501 5.5.4 Invalid parameter syntax]\nERR[501 5.1.7 Bad sender address syntax]\n"
	     "ERR[501 5.1.7 Bad sender address syntax]\n"
	     "ERR[501 5.5.4 Syntax: EHLO hostname]\nERR[501 5.5.4 Syntax: HELO hostname]\n"
	     "ERR[501 5.5.4 Syntax error: no parameters allowed]\nERR[501 5.5.4 Syntax error: no parameters allowed]\n"
	     "ERR[500 5.5.1 Command unrecognized]\nERR[502 5.5.1 Command not implemented]\n"
	     "FATAL[421 4.7.0 Non-SMTP command, closing connection]\n"
	     "ERR[501 5.5.4 Syntax: BDAT size [LAST]]\nERR[501 5.5.4 Syntax: BDAT size [LAST]]\n"
	     "ERR[501 5.5.4 Syntax: BDAT size [LAST]]\nERR[501 5.5.4 Syntax: BDAT size [LAST]]\n"
	     "BDAT 10 LAST\nBDAT 0\nERR[500 5.5.1 Command unrecognized]\nERR[500 5.5.1 Command unrecognized]\n"
	     "ERR[501 5.5.4 Syntax: VRFY/EXPN string]\n");
}

static void test_nul_cr_lf(void)
{
	CASE("NOOP\0x\r\nNO\rOP\r\nNOOP\nRSET\r\r\n\x01\xff\r\n",
	     "ERR[500 5.5.2 NUL character in command]\nERR[500 5.5.2 Bare CR in command (RFC 5321 2.3.8)]\n"
	     "NOOP\nERR[500 5.5.2 Bare CR in command (RFC 5321 2.3.8)]\nERR[500 5.5.1 Command unrecognized]\n");
}

static void test_too_many_params(void)
{
	CASE("MAIL FROM:<a@b.example> A B C D E F G H I J\r\nMAIL FROM:<a@b.example> A B C D E F G H I J K\r\n",
	     "MAIL <a@b.example> A B C D E F G H I J\nERR[501 5.5.4 Too many parameters]\n");
}

static void test_line_limit(void)
{
	struct buf in = BUF_INIT;
	size_t i;

	/* 512 octets with CRLF is accepted; 513 is not, and the rest of the
	 * long line is never taken for a command. */
	buf_puts(&in, "NOOP ");
	for (i = 0; i < 512 - 5 - 2; i++)
		buf_puts(&in, "x");
	buf_puts(&in, "\r\nNOOP ");
	for (i = 0; i < 512 - 5 - 1; i++)
		buf_puts(&in, "y");
	buf_puts(&in, "\r\nQUIT\r\n");
	{
		char *exp = NULL;
		size_t l;
		char *all = run(in.data, in.len, 0, 512, &l);
		if (asprintf(&exp, "NOOP '%.*s'\nERR[500 5.5.2 Line too long]\nQUIT\n", 505,
			     in.data + 5) < 0)
			abort();
		check_case(in.data, in.len, 512, exp);
		free(exp);
		free(all);
	}
	buf_truncate(&in, 0);
	/* A huge line without LF: consumed in bounded memory, one error. */
	for (i = 0; i < 100000; i++)
		buf_puts(&in, "RCPT TO:<");
	buf_puts(&in, "\nRSET\r\n");
	check_case(in.data, in.len, 1000, "ERR[500 5.5.2 Line too long]\nRSET\n");
	buf_free(&in);
}

/* The parser stops after one line: what follows stays with the caller. */
static void test_stops_after_line(void)
{
	struct smtp_parser *p = smtp_parser_new(512);
	const struct smtp_command *cmd;
	const char *reply;
	size_t used;
	const char *in = "DATA\r\nSubject: x\r\n.\r\n";

	CHECK_EQ_INT(smtp_parser_feed(p, (const unsigned char *)in, strlen(in), &used, &cmd, &reply), SMTP_PARSE_COMMAND);
	CHECK_EQ_INT(used, 6);
	CHECK_EQ_INT(cmd->verb, SMTP_DATA);
	CHECK_EQ_INT(smtp_parser_feed(p, (const unsigned char *)"NO", 2, &used, &cmd, &reply), SMTP_PARSE_MORE);
	smtp_parser_reset(p);
	CHECK_EQ_INT(smtp_parser_feed(p, (const unsigned char *)"RSET\r\n", 6, &used, &cmd, &reply), SMTP_PARSE_COMMAND);
	CHECK_EQ_INT(cmd->verb, SMTP_RSET);
	CHECK(smtp_command_param(cmd, "SIZE") == NULL);
	smtp_parser_free(&p);
	CHECK(p == NULL);
}

/* AUTH mechanism [initial-response] (RFC 4954 4). */
static void test_auth(void)
{
	CASE("AUTH PLAIN\r\nAUTH PLAIN dGVzdA==\r\nauth login  =\r\nAUTH\r\nAUTH A B C\r\n",
	     "AUTH 'PLAIN'\nAUTH 'PLAIN' ir='dGVzdA=='\nAUTH 'login' ir='='\n"
	     "ERR[501 5.5.4 Syntax: AUTH mechanism [initial-response]]\n"
	     "ERR[501 5.5.4 Syntax: AUTH mechanism [initial-response]]\n");
}

/* Response lines of an AUTH exchange: every step size gives the same lines. */
static char *run_lines(const char *in, size_t len, size_t step)
{
	struct smtp_parser *p = smtp_parser_new(512);
	struct buf out = BUF_INIT;
	size_t off = 0;

	while (off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step, used, llen;
		const char *line, *reply;
		enum smtp_parse_status st;

		st = smtp_parser_feed_line(p, (const unsigned char *)in + off, n, &used, &line, &llen, &reply);
		if (used > n || used == 0)
			abort();
		off += used;
		if (st == SMTP_PARSE_COMMAND)
			buf_printf(&out, "L[%.*s]%zu\n", (int)llen, line, llen);
		else if (st == SMTP_PARSE_ERROR)
			buf_printf(&out, "ERR[%s]\n", reply);
	}
	smtp_parser_free(&p);
	buf_puts(&out, "");
	return buf_steal(&out);
}

static void test_feed_line(void)
{
	struct buf in = BUF_INIT;
	const char *expect = "L[dGVzdA==]8\nL[*]1\nL[]0\nL[MAIL FROM:<x>]13\n"
			     "ERR[500 5.5.6 Authentication exchange line is too long]\nL[after]5\n";

	buf_puts(&in, "dGVzdA==\r\n*\r\n\r\nMAIL FROM:<x>\n");
	for (int i = 0; i < 600; i++)
		buf_puts(&in, "A");
	buf_puts(&in, "\r\nafter\r\n");
	for (size_t step = 0; step <= 7; step++) {
		char *got;
		if (step != 0 && step != 1 && step != 7)
			continue;
		got = run_lines(in.data, in.len, step);
		if (strcmp(got, expect) != 0)
			fprintf(stderr, "step %zu got:\n%s", step, got);
		CHECK(strcmp(got, expect) == 0);
		free(got);
	}
	buf_free(&in);
}

int main(void)
{
	test_run("basic verbs", test_basic_verbs);
	test_run("MAIL and RCPT with parameters", test_mail_rcpt);
	test_run("malformed commands", test_malformed);
	test_run("NUL, CR and LF in commands", test_nul_cr_lf);
	test_run("parameter count limit", test_too_many_params);
	test_run("line length limit", test_line_limit);
	test_run("one line per call", test_stops_after_line);
	test_run("AUTH", test_auth);
	test_run("AUTH response lines", test_feed_line);
	return test_done();
}
