/* pop3_maildrop - the maildrop of a POP3 session: the account's INBOX as
 * read from the view at login (message numbers, sizes and unique-ids fixed
 * for the session, RFC 1939 5), RETR/TOP read from the view, and UPDATE:
 * the DELE'd messages become one message.expunge through the log. */
#include "gateway/pop3/pop3_session_private.h"
#include "gateway/pop3/pop3_render.h"
#include "gateway/command.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/mail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void pop3_maildrop_free(struct pop3_session *s)
{
	free(s->msgs);
	s->msgs = NULL;
	s->nmsgs = 0;
}

int pop3_maildrop_load(struct pop3_session *s, const char **error_r)
{
	json_t *mbox = NULL, *list = NULL, *m;
	const char *id;
	size_t i;
	int ret;

	if (s->node == NULL || s->node->view == NULL) {
		*error_r = "no view";
		return -1;
	}
	ret = mail_mailbox_by_name(s->node->view, s->account, "INBOX", &mbox, error_r);
	if (ret == 0) {
		/* Never delivered to: the INBOX is provisioned with the first
		 * event, an empty maildrop until then. */
		s->uidvalidity = 0;
		s->mailbox_id[0] = '\0';
		return 0;
	}
	if (ret < 0)
		return -1;
	id = json_string_value(json_object_get(mbox, "id"));
	if (id == NULL || strlen(id) >= sizeof s->mailbox_id) {
		json_decref(mbox);
		*error_r = "INBOX record without an id";
		return -1;
	}
	snprintf(s->mailbox_id, sizeof s->mailbox_id, "%s", id);
	s->uidvalidity = (uint32_t)json_integer_value(json_object_get(mbox, "uidvalidity"));
	json_decref(mbox);
	if (mail_messages(s->node->view, s->account, s->mailbox_id, 0, &list, error_r) < 0)
		return -1;
	pop3_maildrop_free(s);
	s->msgs = xcalloc(json_array_size(list) + 1, sizeof *s->msgs);
	json_array_foreach(list, i, m) {
		s->msgs[i].uid = (uint32_t)json_integer_value(json_object_get(m, "uid"));
		s->msgs[i].size = (uint64_t)json_integer_value(json_object_get(m, "size"));
	}
	s->nmsgs = json_array_size(list);
	json_decref(list);
	return 0;
}

/* A decimal argument: 1 and *v_r, or 0 when not a number. */
static int parse_number(const char *arg, unsigned long *v_r)
{
	char *end;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		return 0;
	*v_r = strtoul(arg, &end, 10);
	return errno == 0 && *end == '\0';
}

/* RETR n / TOP n lines (RFC 1939 7). A message expunged by another session
 * since login is gone ("-ERR"); one whose body is not complete on this
 * node yet is a temporary failure. */
void pop3_cmd_retr_top(struct pop3_session *s, const struct pop3_command *cmd, int top)
{
	unsigned long n = 0, lines = 0;
	const char *error = NULL;
	struct evbuffer *out;
	char *data = NULL;
	size_t len = 0;
	int ret;

	if (cmd->nargs != (top ? 2u : 1u) || !parse_number(cmd->args[0], &n) ||
	    (top && (!parse_number(cmd->args[1], &lines) || lines > 0x7fffffffUL))) {
		pop3_err(s, top ? "TOP needs a message number and a line count" : "RETR needs a message number");
		return;
	}
	if (n == 0 || n > s->nmsgs || s->msgs[n - 1].deleted) {
		pop3_err(s, "No such message");
		return;
	}
	ret = mail_message_body(s->node->view, s->account, s->mailbox_id, s->msgs[n - 1].uid, &data, &len,
				&error);
	if (ret == 0) {
		json_t *msg = NULL;

		ret = mail_message_get(s->node->view, s->account, s->mailbox_id, s->msgs[n - 1].uid, &msg, &error);
		json_decref(msg);
		if (ret == 0)
			pop3_err(s, "Message %lu was removed by another session", n);
		else
			pop3_err(s, "[SYS/TEMP] Message %lu is not available yet, try again later", n);
		return;
	}
	if (ret < 0) {
		log_warn("pop3[%s]: reading message %u: %s", s->id, s->msgs[n - 1].uid, error);
		pop3_err(s, "[SYS/TEMP] Cannot read the message, try again later");
		return;
	}
	if ((out = pop3_output(s)) != NULL) {
		evbuffer_add_printf(out, "+OK %llu octets\r\n", (unsigned long long)s->msgs[n - 1].size);
		pop3_render_message(out, data, len, top ? (long)lines : -1);
	}
	free(data);
}

static void update_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct pop3_session *s = ctx;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;

	if (st != NULL && strcmp(st, "accepted") == 0) {
		pop3_ok(s, "evmail POP3 signing off, messages deleted");
	} else {
		log_warn("pop3[%s]: expunge for %s failed: %s", s->id, s->account,
			 error != NULL ? error : json_string_value(json_object_get(outcome, "reason")));
		/* RFC 2449 8.1.2; nothing was deleted or the log has it all */
		pop3_err(s, "[SYS/TEMP] Could not delete the messages, try again later");
	}
	pop3_close_after_flush(s, "quit");
	pop3_resume(s);
	pop3_session_unref(s);
}

/* Appends [lo, hi] to *ranges (created on first use). */
static void add_range(json_t **ranges, uint32_t lo, uint32_t hi)
{
	if (*ranges == NULL)
		*ranges = json_array();
	json_array_append_new(*ranges, json_pack("[I,I]", (json_int_t)lo, (json_int_t)hi));
}

/* The DELE'd UIDs as [[lo,hi]...] in UID order; NULL when none. */
static json_t *deleted_ranges(const struct pop3_session *s)
{
	json_t *ranges = NULL;
	uint32_t lo = 0, hi = 0;

	for (size_t i = 0; i < s->nmsgs; i++) {
		const struct pop3_msg *m = &s->msgs[i];

		if (m->deleted && lo != 0 && m->uid == hi + 1) {
			hi = m->uid;
			continue;
		}
		if (lo != 0)
			add_range(&ranges, lo, hi);
		lo = hi = m->deleted ? m->uid : 0;
	}
	if (lo != 0)
		add_range(&ranges, lo, hi);
	return ranges;
}

void pop3_update(struct pop3_session *s)
{
	json_t *ranges = deleted_ranges(s);
	struct evm_event ev;
	const char *error = NULL;

	s->state = POP3_S_UPDATE;
	if (ranges == NULL) {
		pop3_ok(s, "evmail POP3 signing off");
		pop3_close_after_flush(s, "quit");
		return;
	}
	if (evm_event_init(&ev, "message.expunge", s->tenant, s->account, s->actor,
			   json_pack("{s:s, s:o}", "mailbox_id", s->mailbox_id, "uids", ranges), &error) < 0) {
		log_error("pop3[%s]: cannot build message.expunge: %s", s->id, error);
		pop3_err(s, "[SYS/TEMP] Could not delete the messages");
		pop3_close_after_flush(s, "quit");
		return;
	}
	s->busy = 1;
	pop3_session_ref(s);
	command_submit(s->node, &ev, EVM_TOPIC_MAIL, s->account, POP3_COMMAND_TIMEOUT_MS, update_done, s);
}
