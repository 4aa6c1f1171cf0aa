/* fuzz_smtp_parser - libFuzzer target for the SMTP command parser.
 *
 * Besides not crashing: every call makes progress and never consumes more
 * than it was given, every error reply is a well-formed "ddd d.d.d text"
 * line, and feeding the input in one piece, one byte at a time or in
 * chunks chosen by the input gives the same commands and errors. */
#include "gateway/smtp/smtp_parser.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void transcript(const uint8_t *data, size_t size, size_t step, struct buf *out)
{
	struct smtp_parser *p = smtp_parser_new(512);
	size_t off = 0;
	int raw = 0;                   /* after "AUTH mech": one response line */

	while (off < size) {
		size_t n = step == 0 || size - off < step ? size - off : step, used = 0, llen = 0;
		const struct smtp_command *cmd = NULL;
		const char *reply = NULL, *line = NULL;
		enum smtp_parse_status st;

		if (raw) {
			st = smtp_parser_feed_line(p, data + off, n, &used, &line, &llen, &reply);
			check(used > 0 && used <= n);
			off += used;
			if (st == SMTP_PARSE_COMMAND) {
				check(line != NULL && strlen(line) <= llen && llen < 512);
				buf_printf(out, "L%zu %.*s\n", llen, (int)llen, line);
				raw = 0;
			} else if (st == SMTP_PARSE_ERROR) {
				check(reply != NULL && strncmp(reply, "500 5.5.6 ", 10) == 0);
				buf_printf(out, "E%s\n", reply);
				raw = 0;
			} else {
				check(used == n);
			}
			continue;
		}
		st = smtp_parser_feed(p, data + off, n, &used, &cmd, &reply);

		check(used > 0 && used <= n);
		off += used;
		switch (st) {
		case SMTP_PARSE_MORE:
			check(used == n);
			break;
		case SMTP_PARSE_COMMAND:
			check(cmd != NULL && data[off - 1] == '\n');
			check(strlen(cmd->path) + 2 <= SMTP_PATH_MAX);
			check(cmd->nparams <= SMTP_MAX_PARAMS);
			buf_printf(out, "C%d %s|%s|%llu|%d", (int)cmd->verb, cmd->arg, cmd->path,
				   (unsigned long long)cmd->bdat_size, cmd->bdat_last);
			for (size_t i = 0; i < cmd->nparams; i++)
				buf_printf(out, " %s=%s", cmd->params[i].name, cmd->params[i].value ? cmd->params[i].value : "-");
			if (cmd->auth_ir != NULL)
				buf_printf(out, " IR=%s", cmd->auth_ir);
			buf_puts(out, "\n");
			raw = cmd->verb == SMTP_AUTH && cmd->auth_ir == NULL;
			break;
		case SMTP_PARSE_ERROR:
		case SMTP_PARSE_FATAL:
			check(reply != NULL && data[off - 1] == '\n');
			check(reply[0] >= '4' && reply[0] <= '5' && reply[3] == ' ' && reply[4] == reply[0] &&
			      strpbrk(reply, "\r\n") == NULL);
			buf_printf(out, "E%s\n", reply);
			break;
		}
	}
	smtp_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	size_t step = size > 0 ? (size_t)(data[0] % 13) + 1 : 1;

	transcript(data, size, 0, &a);
	transcript(data, size, 1, &b);
	transcript(data, size, step, &c);
	check(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
	check(a.len == c.len && (a.len == 0 || memcmp(a.data, c.data, a.len) == 0));
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
