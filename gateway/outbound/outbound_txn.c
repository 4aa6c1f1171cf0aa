/* outbound_txn - one mail transaction on a ready connection: MAIL, RCPT,
 * then DATA (dot-stuffed) or BDAT (RFC 3030, used whenever CHUNKING is
 * offered), with PIPELINING (RFC 2920 3.1) when offered: MAIL, every RCPT
 * and DATA go out in one write and the replies are matched in order. */
#include "gateway/outbound/outbound_private.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

const char *ob_conn_phase(const struct ob_conn *c)
{
	static const char *const names[] = { "after MAIL FROM", "after RCPT TO", "after DATA",
					     "after end of data", "after BDAT", "after end of data" };

	if (c->state == CONN_TXN && c->expect_head < c->nexpect)
		return names[c->expect[c->expect_head]];
	return c->last_cmd;
}

static void expect(struct ob_conn *c, enum ob_expect kind, size_t rcpt)
{
	if (c->nexpect == c->expect_cap) {
		c->expect_cap = c->expect_cap ? c->expect_cap * 2 : 8;
		c->expect = xrealloc(c->expect, c->expect_cap * sizeof *c->expect);
		c->expect_rcpt = xrealloc(c->expect_rcpt, c->expect_cap * sizeof *c->expect_rcpt);
	}
	c->expect[c->nexpect] = kind;
	c->expect_rcpt[c->nexpect++] = rcpt;
}

static int pending(const struct ob_conn *c)
{
	return c->expect_head < c->nexpect;
}

/* Every reply answered: the connection goes back to the pool. Recipients
 * without a final result (none in a complete transaction) are deferred. */
static void finish(struct ob_conn *c)
{
	struct ob_send *s = c->send;
	char why[OB_ERR_MAX];

	snprintf(why, sizeof why, "%s: transaction ended without a final answer", c->remote);
	ob_conn_release(c, 1);
	ob_send_finish_open(s, OUTBOUND_DEFERRED, why, "4.4.2");
}

/* The result class of a reply: 2xx never reaches here for a refusal. */
static enum outbound_status refusal(const struct smtp_reply *r)
{
	return r->code / 100 == 5 ? OUTBOUND_FAILED : OUTBOUND_DEFERRED;
}

/* Next recipient without a result and not yet sent, or nrcpts. */
static size_t next_open(const struct ob_conn *c, size_t from)
{
	const struct ob_send *s = c->send;

	while (from < s->msg.nrcpts && s->final[from])
		from++;
	return from;
}

static void send_rcpt(struct ob_conn *c, size_t i)
{
	struct ob_send *s = c->send;
	struct buf line = BUF_INIT;
	int dsn = 0;

	ob_rcpt_line(&line, &s->rcpts[i], &c->ext, &dsn);
	s->results[i].dsn_passed = dsn;
	ob_conn_write(c, "%s", line.data);
	buf_free(&line);
	expect(c, EXP_RCPT, i);
	c->last_cmd = "after RCPT TO";
}

/* Starts the message: BDAT n LAST, or waits for 354 after DATA. */
static void send_bdat(struct ob_conn *c)
{
	c->last_cmd = "after BDAT";
	ob_conn_write(c, "BDAT %zu LAST", c->send->msg.len);
	c->body_raw = 1;
	c->body_pumping = 1;
	ob_txn_body_more(c);
}

void ob_txn_start(struct ob_conn *c)
{
	struct ob_send *s = c->send;
	struct buf line = BUF_INIT;

	c->state = CONN_TXN;
	c->nexpect = c->expect_head = 0;
	c->accepted = 0;
	c->mail_refused = 0;
	c->body_off = 0;
	c->body_bol = 1;
	c->body_raw = 0;
	c->body_pumping = 0;
	free(c->rcpt_ok);
	c->rcpt_ok = xcalloc(s->msg.nrcpts + 1, 1);
	c->messages++;
	if (s->msg.from[0] != '\0' && !ob_addr_ok(s->msg.from)) {
		ob_conn_release(c, 1);
		ob_send_finish_open(s, OUTBOUND_FAILED, "bad sender address syntax", "5.1.7");
		return;
	}
	for (size_t i = 0; i < s->msg.nrcpts; i++)
		if (!ob_addr_ok(s->rcpts[i].addr))
			ob_send_result(s, i, OUTBOUND_FAILED, NULL, "bad recipient address syntax", "5.1.3");
	if ((c->rcpt_next = next_open(c, 0)) >= s->msg.nrcpts) {
		finish(c);
		return;
	}
	ob_mail_line(&line, &s->msg, &c->ext);
	ob_conn_write(c, "%s", line.data);
	buf_free(&line);
	expect(c, EXP_MAIL, 0);
	c->last_cmd = "after MAIL FROM";
	if (!c->ext.pipelining)
		return;
	for (size_t i = c->rcpt_next; i < s->msg.nrcpts; i = next_open(c, i + 1))
		send_rcpt(c, i);
	c->rcpt_next = s->msg.nrcpts;
	if (!c->ext.chunking) {
		ob_conn_write(c, "DATA");
		expect(c, EXP_DATA, 0);
		c->last_cmd = "after DATA";
	}
}

/* After the last RCPT reply: the data command, or the end. */
static void after_rcpts(struct ob_conn *c)
{
	if (c->mail_refused || c->accepted == 0) {
		if (!pending(c))
			finish(c);
		return;
	}
	if (c->ext.chunking) {
		send_bdat(c);
	} else if (!c->ext.pipelining) {
		ob_conn_write(c, "DATA");
		expect(c, EXP_DATA, 0);
		c->last_cmd = "after DATA";
	}
}

/* The final reply to the message: every accepted recipient gets it. */
static void message_answered(struct ob_conn *c, const struct smtp_reply *r)
{
	struct ob_send *s = c->send;

	for (size_t i = 0; i < s->msg.nrcpts; i++)
		if (c->rcpt_ok[i])
			ob_send_result(s, i, r->code / 100 == 2 ? OUTBOUND_DELIVERED : refusal(r), r, NULL, NULL);
	finish(c);
}

void ob_txn_reply(struct ob_conn *c, const struct smtp_reply *r)
{
	struct ob_send *s = c->send;
	enum ob_expect kind;
	size_t i;
	int ok = r->code / 100 == 2;

	if (!pending(c)) {
		ob_conn_fail(c, "4.5.0", "%s: unexpected reply %s: %03d", c->remote, c->last_cmd, r->code);
		return;
	}
	kind = c->expect[c->expect_head];
	i = c->expect_rcpt[c->expect_head++];
	switch (kind) {
	case EXP_MAIL:
		if (!ok) {
			/* a refused MAIL refuses every open recipient */
			c->mail_refused = 1;
			for (size_t k = 0; k < s->msg.nrcpts; k++)
				ob_send_result(s, k, refusal(r), r, NULL, NULL);
			if (!pending(c))
				finish(c);
		} else if (!c->ext.pipelining) {
			send_rcpt(c, c->rcpt_next);
			c->rcpt_next = next_open(c, c->rcpt_next + 1);
		}
		return;
	case EXP_RCPT:
		if (!c->mail_refused && ok)
			c->rcpt_ok[i] = 1, c->accepted++;
		else if (!c->mail_refused)
			ob_send_result(s, i, refusal(r), r, NULL, NULL);
		if (!c->ext.pipelining && c->rcpt_next < s->msg.nrcpts) {
			send_rcpt(c, c->rcpt_next);
			c->rcpt_next = next_open(c, c->rcpt_next + 1);
		} else if (c->expect_head == c->nexpect || (c->ext.pipelining && c->expect[c->expect_head] != EXP_RCPT)) {
			after_rcpts(c);
		}
		return;
	case EXP_DATA:
		if (c->mail_refused || c->accepted == 0) {
			/* RFC 2920 3.1: no recipient, yet 354: send an empty message */
			if (r->code == 354) {
				evbuffer_add(bufferevent_get_output(c->bev), ".\r\n", 3);
				expect(c, EXP_IGNORE, 0);
			} else {
				finish(c);
			}
		} else if (r->code == 354) {
			c->body_pumping = 1;
			ob_txn_body_more(c);
		} else if (ok) {
			ob_conn_fail(c, "4.5.0", "%s: %03d to DATA instead of 354", c->remote, r->code);
		} else {
			message_answered(c, r);
		}
		return;
	case EXP_DOT:
	case EXP_BDAT:
		message_answered(c, r);
		return;
	case EXP_IGNORE:
		if (!pending(c))
			finish(c);
		return;
	}
}

/* Appends data dot-stuffed (RFC 5321 4.5.2): a line starting with "."
 * gets another; a line starts after every LF. */
static void stuff(struct ob_conn *c, struct evbuffer *out, const char *p, size_t n)
{
	size_t start = 0;

	for (size_t k = 0; k < n; k++) {
		if (c->body_bol && p[k] == '.') {
			evbuffer_add(out, p + start, k - start);
			evbuffer_add(out, ".", 1);
			start = k;
		}
		c->body_bol = p[k] == '\n';
	}
	evbuffer_add(out, p + start, n - start);
}

void ob_txn_body_more(struct ob_conn *c)
{
	const struct outbound_msg *m = &c->send->msg;
	struct evbuffer *out = bufferevent_get_output(c->bev);

	while (c->body_pumping && evbuffer_get_length(out) < OB_BODY_CHUNK) {
		size_t n = m->len - c->body_off;
		if (n > OB_BODY_CHUNK)
			n = OB_BODY_CHUNK;
		if (n == 0) {
			c->body_pumping = 0;
			if (c->body_raw) {
				expect(c, EXP_BDAT, 0);
				break;
			}
			if (m->len < 2 || memcmp(m->data + m->len - 2, "\r\n", 2) != 0)
				evbuffer_add(out, "\r\n", 2);
			evbuffer_add(out, ".\r\n", 3);
			expect(c, EXP_DOT, 0);
			c->last_cmd = "after end of data";
			break;
		}
		if (c->body_raw)
			evbuffer_add(out, m->data + c->body_off, n);
		else
			stuff(c, out, m->data + c->body_off, n);
		c->body_off += n;
	}
	ob_conn_arm(c, (int)c->ob->cfg->delivery_command_timeout_s);
}
