/* fuzz_pop3_parser - libFuzzer target for the POP3 command parser.
 *
 * Besides not crashing: every call makes progress and never consumes more
 * than it was given, commands respect the limits, and feeding the input in
 * one piece, one byte at a time or in chunks chosen by the input gives the
 * same commands, SASL lines and errors. */
#include "gateway/pop3/pop3_parser.h"
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
	struct pop3_parser *p = pop3_parser_new();
	size_t off = 0;

	while (off < size) {
		size_t n = step == 0 || size - off < step ? size - off : step, used = 0;
		const struct pop3_command *cmd = NULL;
		const char *error = NULL;
		enum pop3_parse_status st = pop3_parser_feed(p, data + off, n, &used, &cmd, &error);

		check(used > 0 && used <= n);
		off += used;
		switch (st) {
		case POP3_PARSE_MORE:
			check(used == n && cmd == NULL);
			break;
		case POP3_PARSE_LINE:
			check(cmd != NULL && data[off - 1] == '\n' && strlen(cmd->rest) < POP3_LINE_MAX);
			buf_printf(out, "L%s\n", cmd->rest);
			break;
		case POP3_PARSE_COMMAND:
			check(cmd != NULL && data[off - 1] == '\n');
			check(strlen(cmd->name) >= 3 && strlen(cmd->name) <= 4 && cmd->nargs <= POP3_ARGS_MAX);
			check(strlen(cmd->rest) < POP3_LINE_MAX);
			buf_printf(out, "C%s|%s", cmd->name, cmd->rest);
			for (size_t i = 0; i < cmd->nargs; i++) {
				check(cmd->args[i][0] != '\0' && strchr(cmd->args[i], ' ') == NULL);
				buf_printf(out, " %s", cmd->args[i]);
			}
			buf_puts(out, "\n");
			/* "AUTH mech" alone: the next line is a SASL response */
			if (strcmp(cmd->name, "AUTH") == 0 && cmd->nargs == 1)
				pop3_parser_expect_sasl(p);
			break;
		case POP3_PARSE_ERROR:
			check(error != NULL && data[off - 1] == '\n' && strpbrk(error, "\r\n") == NULL);
			buf_printf(out, "E%s\n", error);
			break;
		}
	}
	pop3_parser_free(&p);
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
