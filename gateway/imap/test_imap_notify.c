/* test_imap_notify - NOTIFY (RFC 5465 8) and PARTIAL (RFC 9394 4)
 * arguments: every command is fed to the push parser whole, 1 octet and 7
 * octets at a time, and must give the same outcome (OK, BAD, NO
 * [BADEVENT], NO [LIMIT]) and the same parsed spec; PARTIAL ranges and
 * their windows over result lists; the FETCH modifier split. */
#include "gateway/imap/imap_notify.h"
#include "gateway/imap/imap_partial.h"
#include "gateway/imap/imap_parser.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses line (one command) feeding step octets at a time (0: whole) and
 * runs imap_notify_parse on it: the outcome, and a summary of the spec in
 * sum ("g<filter>:<events>[n<names>]... f<fetch> s<status>"). */
static int parse_notify(const char *line, size_t step, struct buf *sum)
{
	struct imap_parser *p = imap_parser_new(NULL);
	struct imap_command *cmd = NULL;
	struct imap_notify_spec *sp = NULL;
	const char *err = NULL;
	size_t len = strlen(line), off = 0;
	enum imap_parse_result pr = IMAP_PARSE_NEED_MORE;
	int r, bad = 0;

	while (off < len) {
		size_t n = step == 0 || step > len - off ? len - off : step, used = 0;

		pr = imap_parser_feed(p, line + off, n, &used, &cmd, &err);
		off += used;
		if (pr == IMAP_PARSE_COMMAND || pr == IMAP_PARSE_ERROR)
			break;
		if (used == 0 && pr == IMAP_PARSE_NEED_MORE && n == len - off)
			break;
	}
	if (pr != IMAP_PARSE_COMMAND) {
		imap_parser_free(&p);
		return 99;   /* the generic parser refused it */
	}
	if (strcmp(cmd->name, "NOTIFY") != 0)
		bad = 1;
	r = imap_notify_parse(NULL, cmd->args, cmd->nargs, &sp, &err);
	sum->len = 0;
	buf_puts(sum, "");
	if (r == IMAP_NOTIFY_OK) {
		bad |= sp == NULL;
		if (sp->none)
			buf_puts(sum, "none");
		for (size_t i = 0; i < sp->n; i++) {
			buf_printf(sum, "g%d:%u", (int)sp->groups[i].filter, sp->groups[i].events);
			for (size_t j = 0; j < sp->groups[i].nnames; j++)
				buf_printf(sum, "[%s]", sp->groups[i].names[j]);
			buf_puts(sum, " ");
		}
		buf_printf(sum, "f%u s%d", sp->fetch, sp->status);
	} else {
		bad |= sp != NULL || err == NULL;
		if (r == IMAP_NOTIFY_BADEVENT)
			bad |= strstr(err, "[BADEVENT (") != err;
		if (r == IMAP_NOTIFY_LIMIT)
			bad |= strstr(err, "[LIMIT]") != err;
	}
	imap_notify_spec_free(&sp);
	imap_parser_free(&p);
	return bad ? 98 : r;
}

struct ncase {
	const char *line;
	int want;
	const char *sum;   /* for IMAP_NOTIFY_OK */
};

static const struct ncase ncases[] = {
	{ "a NOTIFY NONE\r\n", IMAP_NOTIFY_OK, "nonef0 s0" },
	{ "a NOTIFY SET (personal (MessageNew MessageExpunge FlagChange MailboxName))\r\n", IMAP_NOTIFY_OK,
	  "g3:15 f0 s0" },
	{ "a notify set status (selected (MessageNew (UID FLAGS) MessageExpunge)) (inboxes (MessageNew MessageExpunge))\r\n",
	  IMAP_NOTIFY_OK, "g0:3 g2:3 f3 s1" },
	{ "a NOTIFY SET (selected-delayed (MessageNew MessageExpunge FlagChange)) (subscribed NONE)\r\n",
	  IMAP_NOTIFY_OK, "g1:7 g4:0 f0 s0" },
	{ "a NOTIFY SET (subtree (Lists \"Work/x\") (MailboxName SubscriptionChange))\r\n", IMAP_NOTIFY_OK,
	  "g5:24[Lists][Work/x] f0 s0" },
	{ "a NOTIFY SET (mailboxes inbox (MessageNew MessageExpunge MailboxMetadataChange ServerMetadataChange))\r\n",
	  IMAP_NOTIFY_OK, "g6:99[INBOX] f0 s0" },
	{ "a NOTIFY SET (mailboxes {4}\r\nabcd (MailboxName))\r\n", IMAP_NOTIFY_OK, "g6:8[abcd] f0 s0" },
	/* RFC 5465 3.1: an unsupported event is NO [BADEVENT] */
	{ "a NOTIFY SET (personal (MessageNew MessageExpunge AnnotationChange))\r\n", IMAP_NOTIFY_BADEVENT, NULL },
	{ "a NOTIFY SET (personal (Whatever))\r\n", IMAP_NOTIFY_BADEVENT, NULL },
	/* RFC 5465 5: MessageNew and MessageExpunge together; FlagChange needs both */
	{ "a NOTIFY SET (personal (MessageNew))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (personal (MessageExpunge))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (personal (FlagChange))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (personal (MessageNew MessageExpunge FlagChange))\r\n", IMAP_NOTIFY_OK, "g3:7 f0 s0" },
	/* fetch attributes only with the selected filters */
	{ "a NOTIFY SET (personal (MessageNew (UID) MessageExpunge))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (selected (MessageNew (BODY[]) MessageExpunge))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (selected (MessageNew () MessageExpunge))\r\n", IMAP_NOTIFY_BAD, NULL },
	/* one selected filter */
	{ "a NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))\r\n",
	  IMAP_NOTIFY_BAD, NULL },
	/* forms */
	{ "a NOTIFY\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET STATUS\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY NONE extra\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY GET (personal NONE)\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET personal\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET ()\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (personal)\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (personal ())\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (personal (MailboxName) extra)\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (elsewhere (MailboxName))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (subtree (MailboxName))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (mailboxes () (MailboxName))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (mailboxes (a (b)) (MailboxName))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (personal (\"MailboxName\"))\r\n", IMAP_NOTIFY_BAD, NULL },
	{ "a NOTIFY SET (personal NIL)\r\n", IMAP_NOTIFY_BAD, NULL },
};

static void test_notify_cases(void)
{
	struct buf whole = BUF_INIT, part = BUF_INIT;

	for (size_t i = 0; i < sizeof ncases / sizeof ncases[0]; i++) {
		int r = parse_notify(ncases[i].line, 0, &whole);

		if (r != ncases[i].want)
			fprintf(stderr, "case %zu: %s -> %d\n", i, ncases[i].line, r);
		CHECK_EQ_INT(r, ncases[i].want);
		if (ncases[i].sum != NULL)
			CHECK_EQ_STR(whole.data, ncases[i].sum);
		for (size_t step = 1; step <= 7; step += 6) {
			CHECK_EQ_INT(parse_notify(ncases[i].line, step, &part), r);
			if (r == IMAP_NOTIFY_OK)
				CHECK_EQ_STR(part.data, whole.data);
		}
	}
	buf_free(&whole);
	buf_free(&part);
}

/* Limits: IMAP_NOTIFY_GROUPS_MAX groups and IMAP_NOTIFY_NAMES_MAX names. */
static void test_notify_limits(void)
{
	struct buf line = BUF_INIT, sum = BUF_INIT;

	buf_puts(&line, "a NOTIFY SET");
	for (int i = 0; i < IMAP_NOTIFY_GROUPS_MAX; i++)
		buf_puts(&line, " (personal (MailboxName))");
	buf_puts(&line, "\r\n");
	CHECK_EQ_INT(parse_notify(line.data, 0, &sum), IMAP_NOTIFY_OK);
	line.len -= 2;
	buf_puts(&line, " (personal (MailboxName))\r\n");
	CHECK_EQ_INT(parse_notify(line.data, 0, &sum), IMAP_NOTIFY_LIMIT);
	CHECK_EQ_INT(parse_notify(line.data, 7, &sum), IMAP_NOTIFY_LIMIT);
	line.len = 0;
	buf_puts(&line, "a NOTIFY SET (mailboxes (");
	for (int i = 0; i < IMAP_NOTIFY_NAMES_MAX; i++)
		buf_printf(&line, "%sm%d", i ? " " : "", i);
	buf_puts(&line, ") (MailboxName))\r\n");
	CHECK_EQ_INT(parse_notify(line.data, 0, &sum), IMAP_NOTIFY_OK);
	line.len = 0;
	buf_puts(&line, "a NOTIFY SET (mailboxes (");
	for (int i = 0; i <= IMAP_NOTIFY_NAMES_MAX; i++)
		buf_printf(&line, "%sm%d", i ? " " : "", i);
	buf_puts(&line, ") (MailboxName))\r\n");
	CHECK_EQ_INT(parse_notify(line.data, 1, &sum), IMAP_NOTIFY_LIMIT);
	buf_free(&line);
	buf_free(&sum);
}

/* Which group's events apply to a mailbox: the first that takes it. */
static void test_notify_filters(void)
{
	struct imap_parser *p = imap_parser_new(NULL);
	struct imap_command *cmd = NULL;
	struct imap_notify_spec *sp = NULL;
	const char *err = NULL, *line = "a NOTIFY SET (selected (MessageNew MessageExpunge)) "
		"(mailboxes Archive NONE) (subtree Work (MailboxName)) (inboxes (MessageNew MessageExpunge)) "
		"(subscribed (SubscriptionChange)) (personal (MessageNew MessageExpunge FlagChange))\r\n";
	size_t used = 0;
	bool delayed = true;

	CHECK_EQ_INT(imap_parser_feed(p, line, strlen(line), &used, &cmd, &err), IMAP_PARSE_COMMAND);
	CHECK_EQ_INT(imap_notify_parse(NULL, cmd->args, cmd->nargs, &sp, &err), IMAP_NOTIFY_OK);
	CHECK_EQ_INT((int)imap_notify_events_for(sp, "Archive", false), 0);
	CHECK_EQ_INT((int)imap_notify_events_for(sp, "Work", false), IMAP_NE_MAILBOX_NAME);
	CHECK_EQ_INT((int)imap_notify_events_for(sp, "Work/a/b", true), IMAP_NE_MAILBOX_NAME);
	CHECK_EQ_INT((int)imap_notify_events_for(sp, "Workshop", false), IMAP_NE_MESSAGE);
	CHECK_EQ_INT((int)imap_notify_events_for(sp, "INBOX", false), IMAP_NE_MESSAGE_NEW | IMAP_NE_MESSAGE_EXPUNGE);
	CHECK_EQ_INT((int)imap_notify_events_for(sp, "Lists", true), IMAP_NE_SUBSCRIPTION);
	CHECK_EQ_INT((int)imap_notify_events_for(sp, "Other Users/bob/INBOX", false), 0);
	CHECK_EQ_INT((int)imap_notify_selected_events(sp, &delayed), IMAP_NE_MESSAGE_NEW | IMAP_NE_MESSAGE_EXPUNGE);
	CHECK(!delayed);
	CHECK_EQ_INT((int)imap_notify_all_events(sp), IMAP_NE_MESSAGE | IMAP_NE_MAILBOX_NAME | IMAP_NE_SUBSCRIPTION);
	imap_notify_spec_free(&sp);
	imap_parser_free(&p);
}

struct pcase {
	const char *in;
	int ok;
	uint32_t lo, hi;
	bool last;
};

static const struct pcase pcases[] = {
	{ "1:100", 1, 1, 100, false },
	{ "500:400", 1, 400, 500, false },
	{ "-1:-100", 1, 1, 100, true },
	{ "-100:-1", 1, 1, 100, true },
	{ "7:7", 1, 7, 7, false },
	{ "1:4294967295", 1, 1, 4294967295u, false },
	{ "-4294967295:-1", 1, 1, 4294967295u, true },
	{ "1:4294967296", 0, 0, 0, false },
	{ "0:5", 0, 0, 0, false },
	{ "1:0", 0, 0, 0, false },
	{ "-0:-5", 0, 0, 0, false },
	{ "1:*", 0, 0, 0, false },
	{ "*:1", 0, 0, 0, false },
	{ "-1:5", 0, 0, 0, false },
	{ "1:-5", 0, 0, 0, false },
	{ "--1:-5", 0, 0, 0, false },
	{ "5", 0, 0, 0, false },
	{ "-5", 0, 0, 0, false },
	{ "01:5", 0, 0, 0, false },
	{ "1:5,7", 0, 0, 0, false },
	{ "1:5 ", 0, 0, 0, false },
	{ ":5", 0, 0, 0, false },
	{ "", 0, 0, 0, false },
};

static void test_partial_ranges(void)
{
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < sizeof pcases / sizeof pcases[0]; i++) {
		struct imap_partial p = { 0 };
		int r = imap_partial_parse_text(pcases[i].in, strlen(pcases[i].in), &p);

		if ((r == 0) != pcases[i].ok)
			fprintf(stderr, "partial %s -> %d\n", pcases[i].in, r);
		CHECK_EQ_INT(r == 0, pcases[i].ok);
		if (r == 0) {
			struct imap_partial again;

			CHECK_EQ_INT((int)(p.lo == pcases[i].lo && p.hi == pcases[i].hi && p.last == pcases[i].last), 1);
			out.len = 0;
			buf_puts(&out, "");
			imap_partial_string(&p, &out);
			CHECK_EQ_INT(imap_partial_parse_text(out.data, out.len, &again), 0);
			CHECK(again.lo == p.lo && again.hi == p.hi && again.last == p.last);
		}
	}
	{
		struct imap_arg q = { .type = IMAP_ARG_STRING, .str = "1:5", .len = 3 };
		struct imap_partial p;

		CHECK_EQ_INT(imap_partial_parse(&q, &p), -1);   /* a quoted range is not an atom */
	}
	buf_free(&out);
}

/* Windows over 50 results: first 1:10, 11:20, last -1:-10, beyond the end. */
static void test_partial_windows(void)
{
	static const struct { const char *r; size_t n, from, count; } w[] = {
		{ "1:10", 50, 0, 10 }, { "11:20", 50, 10, 10 }, { "-1:-10", 50, 40, 10 },
		{ "-11:-20", 50, 30, 10 }, { "45:60", 50, 44, 6 }, { "51:60", 50, 0, 0 },
		{ "-45:-60", 50, 0, 6 }, { "-51:-60", 50, 0, 0 }, { "1:4294967295", 3, 0, 3 },
		{ "-1:-1", 1, 0, 1 }, { "1:1", 0, 0, 0 }, { "-1:-1", 0, 0, 0 },
	};

	for (size_t i = 0; i < sizeof w / sizeof w[0]; i++) {
		struct imap_partial p;
		size_t from = 99, cnt = 99;

		CHECK_EQ_INT(imap_partial_parse_text(w[i].r, strlen(w[i].r), &p), 0);
		imap_partial_window(&p, w[i].n, &from, &cnt);
		CHECK_EQ_INT((int)cnt, (int)w[i].count);
		if (cnt > 0)
			CHECK_EQ_INT((int)from, (int)w[i].from);
	}
}

/* The FETCH modifier list: PARTIAL taken out, others kept; one PARTIAL. */
static void test_partial_modifier(void)
{
	static const struct { const char *line; int ok; int has; size_t rest; } m[] = {
		{ "a UID FETCH 1:* (FLAGS) (PARTIAL -1:-30)\r\n", 0, 1, 0 },
		{ "a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 5 PARTIAL 1:2)\r\n", 0, 1, 2 },
		{ "a UID FETCH 1:* (FLAGS) (PARTIAL 1:2 CHANGEDSINCE 5 VANISHED)\r\n", 0, 1, 3 },
		{ "a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 5)\r\n", 0, 0, 2 },
		{ "a UID FETCH 1:* (FLAGS) (PARTIAL 1:5 PARTIAL 1:2)\r\n", -1, 0, 0 },
		{ "a UID FETCH 1:* (FLAGS) (PARTIAL)\r\n", -1, 0, 0 },
		{ "a UID FETCH 1:* (FLAGS) (PARTIAL 0:1)\r\n", -1, 0, 0 },
		{ "a UID FETCH 1:* (FLAGS) (PARTIAL -1:2)\r\n", -1, 0, 0 },
		{ "a UID FETCH 1:* (FLAGS) ()\r\n", -1, 0, 0 },
	};

	for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
		for (size_t step = 0; step <= 7; step += step == 1 ? 6 : 1) {   /* 0, 1, 7 */
			struct imap_parser *p = imap_parser_new(NULL);
			struct imap_command *cmd = NULL;
			const char *err = NULL;
			size_t len = strlen(m[i].line), off = 0;
			struct imap_arg rest;
			struct imap_partial part;
			bool has = false;
			enum imap_parse_result pr = IMAP_PARSE_NEED_MORE;

			while (off < len && pr != IMAP_PARSE_COMMAND) {
				size_t n = step == 0 || step > len - off ? len - off : step, used = 0;

				pr = imap_parser_feed(p, m[i].line + off, n, &used, &cmd, &err);
				off += used;
				CHECK(pr != IMAP_PARSE_ERROR);
				if (pr == IMAP_PARSE_ERROR)
					break;
			}
			CHECK_EQ_INT(pr, IMAP_PARSE_COMMAND);
			if (pr == IMAP_PARSE_COMMAND) {
				CHECK_EQ_INT(imap_partial_modifier(&cmd->args[2], &rest, &part, &has, &err), m[i].ok);
				if (m[i].ok == 0) {
					CHECK_EQ_INT(has, m[i].has);
					CHECK_EQ_INT((int)rest.count, (int)m[i].rest);
				}
				free(rest.list);
			}
			imap_parser_free(&p);
		}
	}
}

int main(void)
{
	test_run("notify cases (whole, 1 and 7 octets)", test_notify_cases);
	test_run("notify limits", test_notify_limits);
	test_run("notify filters", test_notify_filters);
	test_run("partial ranges", test_partial_ranges);
	test_run("partial windows", test_partial_windows);
	test_run("partial fetch modifier", test_partial_modifier);
	return test_done();
}
