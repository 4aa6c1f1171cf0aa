/* admin_mail - read-only views of an account's mail store for operators
 * and tests (the protocols come through IMAP/JMAP):
 *
 *   GET /admin/mail/ADDRESS/mailboxes
 *   GET /admin/mail/ADDRESS/mailboxes/MAILBOX_ID/messages
 *   GET /admin/mail/ADDRESS/mailboxes/MAILBOX_ID/messages/UID
 *       the message record plus its MIME summary
 *   GET /admin/mail/ADDRESS/mailboxes/MAILBOX_ID/messages/UID/raw
 *       the stored bytes (404 while the blob is incomplete on this node)
 *   GET /admin/mail/ADDRESS/usage      {"messages", "quota_used"}
 *
 * ADDRESS is URL-encoded. Every read answers from this node's view. */
#include "gateway/mgmt_http.h"
#include "gateway/http/http_util.h"
#include "common/address.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/mail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_MAIL_MAX_PARTS 6

/* Splits "a/b/c" into at most max URL-decoded components (each decoded
 * after the split, so "%2F" stays inside its component). The count, or -1
 * (empty or malformed component, too many). */
static int split_path(const char *path, char **parts, int max)
{
	int n = 0;
	const char *p = path;

	while (*p != '\0') {
		const char *e = strchr(p, '/');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *error = NULL;

		if (n == max || len == 0 || http_percent_decode(p, len, 0, &parts[n], NULL, &error) < 0)
			goto fail;
		n++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return n;
fail:
	while (n > 0) {   /* the caller frees parts[] too: leave no pointer behind */
		free(parts[--n]);
		parts[n] = NULL;
	}
	return -1;
}

static int parse_uid(const char *s, uint32_t *uid_r)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v == 0 || v > UINT32_MAX)
		return -1;
	*uid_r = (uint32_t)v;
	return 0;
}

/* 200 with the stored message. */
static void reply_raw(struct http_request *req, const char *data, size_t len)
{
	struct http_response resp;
	const char *error;

	http_response_init(&resp, 200);
	if (http_response_field(&resp, "Content-Type", "message/rfc822", &error) < 0)
		log_panic("admin: %s", error);
	http_respond(req, &resp, data, len);
	http_response_clear(&resp);
}

/* The message record with its summary. */
static int message_with_summary(struct node *node, const char *acct, const char *mbox, uint32_t uid,
				json_t **msg_r, const char **error_r)
{
	json_t *summary = NULL;
	const char *email_id;
	int ret = mail_message_get(node->view, acct, mbox, uid, msg_r, error_r);

	if (ret <= 0)
		return ret;
	email_id = json_string_value(json_object_get(*msg_r, "email_id"));
	if (email_id != NULL && mail_summary_get(node->view, acct, email_id, &summary, error_r) > 0)
		json_object_set_new(*msg_r, "summary", summary);
	return 1;
}

void admin_mail_handle(struct node *node, struct http_request *req, const char *path)
{
	char *parts[ADMIN_MAIL_MAX_PARTS] = { NULL };
	char acct[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	json_t *out = NULL;
	uint32_t uid = 0;
	int n = split_path(path, parts, ADMIN_MAIL_MAX_PARTS), ret;

	if (n < 2 || evm_address_normalize(parts[0], acct, &error) < 0) {
		mgmt_reply_error(req, 404, "no such mail path");
		goto out;
	}
	if (n == 2 && strcmp(parts[1], "usage") == 0) {
		ret = mail_account_usage(node->view, acct, &out, &error);
		if (ret < 0)
			mgmt_reply_error(req, 500, error);
		else
			mgmt_reply_json(req, 200, ret > 0 ? out : json_pack("{s:i,s:i}", "messages", 0, "quota_used", 0));
	} else if (n == 2 && strcmp(parts[1], "mailboxes") == 0) {
		if (mail_mailboxes(node->view, acct, &out, &error) < 0)
			mgmt_reply_error(req, 500, error);
		else
			mgmt_reply_json(req, 200, out);
	} else if (n == 4 && strcmp(parts[1], "mailboxes") == 0 && strcmp(parts[3], "messages") == 0) {
		if (mail_messages(node->view, acct, parts[2], 0, &out, &error) < 0)
			mgmt_reply_error(req, 500, error);
		else
			mgmt_reply_json(req, 200, out);
	} else if ((n == 5 || (n == 6 && strcmp(parts[5], "raw") == 0)) &&
		   strcmp(parts[1], "mailboxes") == 0 && strcmp(parts[3], "messages") == 0 &&
		   parse_uid(parts[4], &uid) == 0) {
		if (n == 5) {
			ret = message_with_summary(node, acct, parts[2], uid, &out, &error);
			if (ret < 0)
				mgmt_reply_error(req, 500, error);
			else if (ret == 0)
				mgmt_reply_error(req, 404, "no such message");
			else
				mgmt_reply_json(req, 200, out);
		} else {
			char *data = NULL;
			size_t len = 0;
			ret = mail_message_body(node->view, acct, parts[2], uid, &data, &len, &error);
			if (ret < 0)
				mgmt_reply_error(req, 500, error);
			else if (ret == 0)
				mgmt_reply_error(req, 404, "no such message, or its body is not complete here yet");
			else
				reply_raw(req, data, len);
			free(data);
		}
	} else {
		mgmt_reply_error(req, 404, "no such mail path");
	}
out:
	for (int i = 0; i < ADMIN_MAIL_MAX_PARTS; i++)
		free(parts[i]);
}
