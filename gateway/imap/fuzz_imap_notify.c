/* fuzz_imap_notify - libFuzzer target for the arguments of NOTIFY (RFC
 * 5465 8) and the PARTIAL ranges (RFC 9394 4).
 *
 * The input is one command line (a "t NOTIFY " prefix is added when the
 * input does not start with a tag) fed to the push parser; a parsed
 * command goes through imap_notify_parse and, argument by argument,
 * through imap_partial_parse and imap_partial_modifier. Besides not
 * crashing: a parsed spec keeps its limits and rules (groups, names, one
 * selected filter, MessageNew with MessageExpunge), a failure has an
 * error text, and a valid range prints and parses back to itself with a
 * window inside the result list. */
#include "gateway/imap/imap_notify.h"
#include "gateway/imap/imap_partial.h"
#include "gateway/imap/imap_parser.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* A valid range round-trips and its windows stay inside the list. */
static void check_range(const struct imap_arg *a)
{
	struct imap_partial p, q;
	struct buf out = BUF_INIT;

	if (imap_partial_parse(a, &p) < 0)
		return;
	check(p.lo >= 1 && p.lo <= p.hi);
	imap_partial_string(&p, &out);
	check(imap_partial_parse_text(out.data, out.len, &q) == 0);
	check(q.lo == p.lo && q.hi == p.hi && q.last == p.last);
	for (size_t n = 0; n < 70; n += 7) {
		size_t from, cnt;

		imap_partial_window(&p, n, &from, &cnt);
		check(cnt == 0 || (from + cnt <= n && cnt <= (size_t)(p.hi - p.lo) + 1));
	}
	buf_free(&out);
}

static void check_spec(const struct imap_notify_spec *sp)
{
	size_t names = 0, sel = 0;

	if (sp->none)
		return;
	check(sp->n >= 1 && sp->n <= IMAP_NOTIFY_GROUPS_MAX);
	for (size_t i = 0; i < sp->n; i++) {
		unsigned ev = sp->groups[i].events;

		names += sp->groups[i].nnames;
		sel += sp->groups[i].filter <= IMAP_NF_SELECTED_DELAYED;
		check(!!(ev & IMAP_NE_MESSAGE_NEW) == !!(ev & IMAP_NE_MESSAGE_EXPUNGE));
		check(!(ev & IMAP_NE_FLAG_CHANGE) || (ev & IMAP_NE_MESSAGE_NEW));
	}
	check(names <= IMAP_NOTIFY_NAMES_MAX && sel <= 1);
	check(sp->fetch == 0 || sel == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = { .max_line = 8192, .max_literal = 1024, .max_args = 1000, .max_depth = 8 };
	struct imap_parser *p = imap_parser_new(&lim);
	struct buf in = BUF_INIT;
	struct imap_command *cmd = NULL;
	const char *err = NULL;
	size_t used = 0, off = 0;
	enum imap_parse_result r = IMAP_PARSE_NEED_MORE;

	if (size == 0 || data[0] != 't')
		buf_puts(&in, "t NOTIFY ");
	buf_append(&in, data, size);
	buf_puts(&in, "\r\n");
	while (off < in.len) {
		r = imap_parser_feed(p, in.data + off, in.len - off, &used, &cmd, &err);
		off += used;
		if (r != IMAP_PARSE_CONTINUE)
			break;
	}
	if (r == IMAP_PARSE_COMMAND) {
		struct imap_notify_spec *sp = NULL;
		int nr = imap_notify_parse(NULL, cmd->args, cmd->nargs, &sp, &err);

		if (nr == IMAP_NOTIFY_OK) {
			check(sp != NULL);
			check_spec(sp);
		} else {
			check(sp == NULL && err != NULL);
		}
		imap_notify_spec_free(&sp);
		for (size_t i = 0; i < cmd->nargs; i++) {
			struct imap_arg rest;
			struct imap_partial part;
			bool has = false;

			check_range(&cmd->args[i]);
			if (cmd->args[i].type != IMAP_ARG_LIST)
				continue;
			for (size_t j = 0; j < cmd->args[i].count; j++)
				check_range(&cmd->args[i].list[j]);
			if (imap_partial_modifier(&cmd->args[i], &rest, &part, &has, &err) == 0) {
				check(rest.count + (has ? 2 : 0) == cmd->args[i].count);
				free(rest.list);
			} else {
				check(rest.list == NULL || rest.count <= cmd->args[i].count);
				free(rest.list);
			}
		}
	}
	imap_parser_free(&p);
	buf_free(&in);
	return 0;
}
