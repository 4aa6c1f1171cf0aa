/* test_pop3_parser - POP3 command and SASL lines fed whole, one byte and
 * seven bytes at a time must give identical transcripts; limits and
 * errors; the dot-stuffing renderer of RETR/TOP. */
#include "gateway/pop3/pop3_parser.h"
#include "gateway/pop3/pop3_render.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

/* Parses in with chunks of `step` bytes (0: all at once); a line starting
 * with "AUTH PLAIN" and no response makes the next line a SASL line. */
static char *run(const char *in, size_t len, size_t step)
{
	struct pop3_parser *p = pop3_parser_new();
	struct buf out = BUF_INIT;
	size_t off = 0;

	while (off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step, used = 0;
		const struct pop3_command *cmd = NULL;
		const char *error = NULL;
		enum pop3_parse_status st = pop3_parser_feed(p, (const unsigned char *)in + off, n, &used, &cmd, &error);

		if (used == 0 || used > n) {
			buf_puts(&out, "NO PROGRESS\n");
			break;
		}
		off += used;
		if (st == POP3_PARSE_ERROR) {
			buf_printf(&out, "ERR[%s]\n", error);
		} else if (st == POP3_PARSE_LINE) {
			buf_printf(&out, "LINE[%s]\n", cmd->rest);
		} else if (st == POP3_PARSE_COMMAND) {
			buf_printf(&out, "%s", cmd->name);
			for (size_t i = 0; i < cmd->nargs; i++)
				buf_printf(&out, " <%s>", cmd->args[i]);
			buf_printf(&out, " rest=<%s>\n", cmd->rest);
			if (strcmp(cmd->name, "AUTH") == 0 && cmd->nargs == 1)
				pop3_parser_expect_sasl(p);
		}
	}
	pop3_parser_free(&p);
	return buf_steal(&out);
}

/* Whole, 1 byte and 7 bytes at a time: the same transcript, equal to want. */
static int same(const char *in, size_t len, const char *want)
{
	char *a = run(in, len, 0), *b = run(in, len, 1), *c = run(in, len, 7);
	int ok = strcmp(a, want) == 0 && strcmp(b, want) == 0 && strcmp(c, want) == 0;

	if (!ok)
		fprintf(stderr, "want:\n%s\nwhole:\n%s\n1:\n%s\n7:\n%s\n", want, a, b, c);
	free(a);
	free(b);
	free(c);
	return ok;
}

#define SAME(in, want) CHECK(same(in, sizeof(in) - 1, want))

static void test_commands(void)
{
	SAME("capa\r\nUSER amy@acme.test\r\nPASS secret with  spaces \r\nstat\nLIST 1\r\nTop 2 10\r\n",
	     "CAPA rest=<>\n"
	     "USER <amy@acme.test> rest=<amy@acme.test>\n"
	     "PASS <secret> <with> <spaces> rest=<secret with  spaces >\n"
	     "STAT rest=<>\n"
	     "LIST <1> rest=<1>\n"
	     "TOP <2> <10> rest=<2 10>\n");
}

static void test_sasl_line(void)
{
	SAME("AUTH PLAIN\r\nAGFteQBzZWNyZXQ=\r\nAUTH PLAIN =\r\nAUTH LOGIN\r\n*\r\nNOOP\r\n",
	     "AUTH <PLAIN> rest=<PLAIN>\n"
	     "LINE[AGFteQBzZWNyZXQ=]\n"
	     "AUTH <PLAIN> <=> rest=<PLAIN =>\n"
	     "AUTH <LOGIN> rest=<LOGIN>\n"
	     "LINE[*]\n"
	     "NOOP rest=<>\n");
}

static void test_errors(void)
{
	SAME("\r\nXYZZY\r\nAB\r\nRE1R 1\r\nLIST 1 2 3 4 5\r\nRETR\r1\r\nNOOP\r\n",
	     "ERR[Empty command]\n"
	     "ERR[Unknown command]\n"
	     "ERR[Unknown command]\n"
	     "ERR[Unknown command]\n"
	     "ERR[Too many arguments]\n"
	     "ERR[Invalid character in line]\n"
	     "NOOP rest=<>\n");
	{
		char nul[] = "RETR \0 1\r\nQUIT\r\n";
		CHECK(same(nul, sizeof nul - 1, "ERR[Invalid character in line]\nQUIT rest=<>\n"));
	}
}

/* 510 octets + CRLF is the longest line; one more is reported once, and
 * the rest of that line is never a command. */
static void test_line_limit(void)
{
	struct buf in = BUF_INIT;

	buf_puts(&in, "PASS ");
	for (int i = 0; i < 505; i++)
		buf_puts(&in, "x");
	buf_puts(&in, "\r\nPASS ");
	for (int i = 0; i < 506; i++)
		buf_puts(&in, "y");
	buf_puts(&in, "\r\nQUIT\r\n");
	{
		char *a = run(in.data, in.len, 0), *b = run(in.data, in.len, 1), *c = run(in.data, in.len, 7);
		CHECK(strncmp(a, "PASS <xxx", 9) == 0);
		CHECK(strstr(a, "\nERR[Line too long]\nQUIT rest=<>\n") != NULL);
		CHECK_EQ_STR(a, b);
		CHECK_EQ_STR(a, c);
		free(a);
		free(b);
		free(c);
	}
	buf_free(&in);
}

static char *render(const char *msg, long lines)
{
	struct evbuffer *out = evbuffer_new();
	size_t n = evbuffer_get_length(out);
	char *s;

	pop3_render_message(out, msg, strlen(msg), lines);
	n = evbuffer_get_length(out);
	s = xmalloc(n + 1);
	evbuffer_remove(out, s, n);
	s[n] = '\0';
	evbuffer_free(out);
	return s;
}

#define RENDER(msg, lines, want) do { char *r_ = render(msg, lines); \
	int ok_ = strcmp(r_, want) == 0; if (!ok_) fprintf(stderr, "got [%s]\n", r_); free(r_); CHECK(ok_); } while (0)

static void test_render(void)
{
	const char *m = "Subject: x\r\nFrom: a@b\r\n\r\nline1\r\n.dot\r\n..two\r\nlast\r\n";

	RENDER(m, -1, "Subject: x\r\nFrom: a@b\r\n\r\nline1\r\n..dot\r\n...two\r\nlast\r\n.\r\n");
	RENDER(m, 0, "Subject: x\r\nFrom: a@b\r\n\r\n.\r\n");
	RENDER(m, 2, "Subject: x\r\nFrom: a@b\r\n\r\nline1\r\n..dot\r\n.\r\n");
	RENDER(m, 100, "Subject: x\r\nFrom: a@b\r\n\r\nline1\r\n..dot\r\n...two\r\nlast\r\n.\r\n");
	/* bare LF, a missing final line end, a lone "." line */
	RENDER("A: b\n\n.\nend", -1, "A: b\r\n\r\n..\r\nend\r\n.\r\n");
	/* no body at all */
	RENDER("A: b\r\n", 3, "A: b\r\n.\r\n");
	RENDER("", -1, ".\r\n");
}

int main(void)
{
	test_run("commands", test_commands);
	test_run("sasl_line", test_sasl_line);
	test_run("errors", test_errors);
	test_run("line_limit", test_line_limit);
	test_run("render", test_render);
	return test_done();
}
