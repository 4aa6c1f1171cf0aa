/* vacation - see vacation.h. */
#include "gateway/vacation.h"
#include "common/base64.h"
#include "gateway/command.h"
#include "gateway/deliver.h"
#include "gateway/submit/submit.h"
#include "common/address.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/mime.h"
#include "common/scram.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define VACATION_TIMEOUT_MS 30000

/* The value of the first header field called name, unfolded enough for a
 * token comparison (leading blanks skipped), or NULL. */
static const char *field(const char *hdr, size_t len, const char *name, size_t *vlen_r)
{
	size_t nl = strlen(name);

	for (size_t i = 0; i < len;) {
		const char *eol = memchr(hdr + i, '\n', len - i);
		size_t end = eol != NULL ? (size_t)(eol - hdr) : len;

		if (end - i > nl && strncasecmp(hdr + i, name, nl) == 0 && hdr[i + nl] == ':') {
			size_t v = i + nl + 1;

			while (v < end && (hdr[v] == ' ' || hdr[v] == '\t'))
				v++;
			*vlen_r = end > v && hdr[end - 1] == '\r' ? end - v - 1 : end - v;
			return hdr + v;
		}
		if (eol == NULL)
			break;
		i = end + 1;
	}
	return NULL;
}

static int starts(const char *v, size_t n, const char *word)
{
	size_t wl = strlen(word);

	return n >= wl && strncasecmp(v, word, wl) == 0;
}

int vacation_eligible(const char *mail_from, const char *hdr, size_t len)
{
	static const char *const list_fields[] = { "List-Id", "List-Post", "List-Unsubscribe",
						   "List-Help", "List-Subscribe", "List-Owner" };
	const char *at, *v;
	size_t n, local;

	/* RFC 3834 3.3: never to the null reverse path. */
	if (mail_from == NULL || mail_from[0] == '\0' || (at = strrchr(mail_from, '@')) == NULL)
		return 0;
	local = (size_t)(at - mail_from);
	/* RFC 5230 4.5: addresses of daemons and list software. */
	if ((local == 13 && strncasecmp(mail_from, "mailer-daemon", 13) == 0) ||
	    (local >= 6 && strncasecmp(mail_from, "owner-", 6) == 0) ||
	    (local >= 8 && strncasecmp(at - 8, "-request", 8) == 0) ||
	    (local == 8 && strncasecmp(mail_from, "listserv", 8) == 0) ||
	    (local == 8 && strncasecmp(mail_from, "majordom", 8) == 0))
		return 0;
	/* RFC 3834 5: anything automatic other than "no". */
	if ((v = field(hdr, len, "Auto-Submitted", &n)) != NULL && !(n == 2 && starts(v, n, "no")))
		return 0;
	if ((v = field(hdr, len, "Precedence", &n)) != NULL &&
	    (starts(v, n, "bulk") || starts(v, n, "list") || starts(v, n, "junk")))
		return 0;
	for (size_t i = 0; i < sizeof list_fields / sizeof list_fields[0]; i++)
		if (field(hdr, len, list_fields[i], &n) != NULL)
			return 0;
	return 1;
}

/* Whether address is among the message's To and Cc addresses. */
static int addressed_to(json_t *summary, const char *address)
{
	static const char *const kinds[] = { "to", "cc" };
	json_t *h = json_object_get(summary, "headers"), *a;
	size_t i;

	for (size_t k = 0; k < 2; k++)
		json_array_foreach(json_object_get(h, kinds[k]), i, a) {
			const char *e = json_string_value(json_object_get(a, "email"));

			if (e != NULL && strcasecmp(e, address) == 0)
				return 1;
		}
	return 0;
}

/* A reply in flight: what it needs after the log's decision. */
struct vreply {
	struct node *node;
	char account[EVM_ADDRESS_MAX + 1];
	char tenant[64];
	char sender[EVM_ADDRESS_MAX + 1];
	char subject[1000];
	char msgid[600];
	json_t *vac;
};

static void vreply_free(struct vreply *r)
{
	json_decref(r->vac);
	free(r);
}

/* Appends a header field with a UTF-8 value, RFC 2047 B-encoded when it
 * is not plain ASCII (RFC 2047 5(1), words of at most 75 octets). */
static void put_text_field(struct buf *b, const char *name, const char *value)
{
	int ascii = 1;

	for (const char *p = value; *p; p++)
		if ((unsigned char)*p >= 0x80 || *p == '\r' || *p == '\n')
			ascii = 0;
	if (ascii) {
		buf_printf(b, "%s: %s\r\n", name, value);
		return;
	}
	buf_printf(b, "%s:", name);
	for (size_t i = 0, len = strlen(value); i < len;) {
		size_t n = len - i > 36 ? 36 : len - i;
		char *enc;

		/* Do not split a UTF-8 sequence between two words. */
		while (n > 1 && i + n < len && ((unsigned char)value[i + n] & 0xC0) == 0x80)
			n--;
		enc = evm_b64_encode((const unsigned char *)value + i, n);
		buf_printf(b, " =?UTF-8?B?%s?=\r\n", enc);
		free(enc);
		i += n;
	}
	buf_truncate(b, b->len - 2);
	buf_puts(b, "\r\n");
}

/* A body part in base64 lines of 76 (RFC 2045 6.8). */
static void put_b64_body(struct buf *b, const char *text)
{
	char *enc = evm_b64_encode((const unsigned char *)text, strlen(text));

	for (size_t i = 0, len = strlen(enc); i < len; i += 76)
		buf_printf(b, "%.*s\r\n", (int)(len - i > 76 ? 76 : len - i), enc + i);
	free(enc);
}

/* The reply (RFC 3834 3): From the account, To the sender, the subject
 * asked for or "Auto: " + the original's, In-Reply-To/References,
 * Auto-Submitted: auto-replied, the text and/or HTML body. */
static void compose(const struct vreply *r, const char *hostname, struct buf *msg)
{
	const char *subj = json_string_value(json_object_get(r->vac, "subject"));
	const char *text = json_string_value(json_object_get(r->vac, "text_body"));
	const char *html = json_string_value(json_object_get(r->vac, "html_body"));
	char subject[1100], boundary[48], rid[EVM_ID_HEX_LEN + 1];
	struct buf tmp = BUF_INIT;

	if (subj != NULL && subj[0] != '\0')
		snprintf(subject, sizeof subject, "%s", subj);
	else
		snprintf(subject, sizeof subject, "Auto: %s", r->subject[0] ? r->subject : "(no subject)");
	if (text == NULL && html == NULL)
		text = "I am away and will read your message later.";
	buf_printf(&tmp, "From: <%s>\r\nTo: <%s>\r\n", r->account, r->sender);
	put_text_field(&tmp, "Subject", subject);
	if (r->msgid[0] != '\0')
		buf_printf(&tmp, "In-Reply-To: <%s>\r\nReferences: <%s>\r\n", r->msgid, r->msgid);
	buf_puts(&tmp, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	if (text != NULL && html != NULL) {
		evm_random_id(rid);
		snprintf(boundary, sizeof boundary, "=_%s", rid);
		buf_printf(&tmp, "Content-Type: multipart/alternative; boundary=\"%s\"\r\n\r\n", boundary);
		buf_printf(&tmp, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n", boundary);
		put_b64_body(&tmp, text);
		buf_printf(&tmp, "--%s\r\nContent-Type: text/html; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n", boundary);
		put_b64_body(&tmp, html);
		buf_printf(&tmp, "--%s--\r\n", boundary);
	} else {
		buf_printf(&tmp, "Content-Type: text/%s; charset=utf-8\r\n"
			   "Content-Transfer-Encoding: base64\r\n\r\n", text != NULL ? "plain" : "html");
		put_b64_body(&tmp, text != NULL ? text : html);
	}
	submit_fix_message(tmp.data, tmp.len, hostname, msg);
	buf_free(&tmp);
}

static void sent(void *ctx, const struct submit_result *res)
{
	struct vreply *r = ctx;

	log_info("vacation: reply from %s to %s %s%s%s", r->account, r->sender,
		 res->ok ? "sent" : "failed", res->queue_id[0] ? " queue=" : "", res->queue_id);
	vreply_free(r);
}

static void decided(void *ctx, int status, json_t *outcome, const char *error)
{
	struct vreply *r = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));
	struct submit_lookups lookups;
	struct submit_ops ops;
	struct submit_send_request req = { 0 };
	struct deliver_target *targets = NULL;
	struct outbound_rcpt remote = { 0 };
	struct buf msg = BUF_INIT;
	const char *at = strrchr(r->account, '@');
	size_t nt = 0;

	if (status < 0 || st == NULL || strcmp(st, "accepted") != 0) {
		if (status < 0)
			log_warn("vacation: reply of %s to %s not decided: %s", r->account, r->sender, error);
		vreply_free(r);
		return;
	}
	compose(r, r->node->cfg->smtp_hostname[0] != '\0' ? r->node->cfg->smtp_hostname : r->node->cfg->node_id,
		&msg);
	submit_node_lookups(r->node, &lookups);
	if (at != NULL)
		submit_dkim_sign(&lookups, at + 1, &msg, "vacation");
	req.actor = "vacation";
	req.tenant = r->tenant;
	req.account = r->account;
	req.mail_from = "";   /* RFC 3834 3.3 */
	req.data = msg.data;
	req.len = msg.len;
	if (deliver_resolve(r->node->view, r->sender, &targets, &nt) == RCPT_OK) {
		req.targets = targets;
		req.ntargets = nt;
	} else {
		remote.addr = r->sender;
		remote.orcpt = "";
		remote.notify = "";
		req.remote = &remote;
		req.nremote = 1;
	}
	submit_node_ops(r->node, &ops);
	submit_send(&ops, &req, sent, r);
	free(targets);
	buf_free(&msg);
}

void vacation_consider(struct node *node, const char *account, const char *tenant, const char *rcpt,
		       const char *mail_from, json_t *summary)
{
	json_t *vac = NULL, *ids;
	const char *error = NULL, *subj;
	struct vreply *r;
	struct evm_event ev;
	char sender[EVM_ADDRESS_MAX + 1];
	int64_t now = evm_now_ms();

	if (mail_vacation_get(node->view, account, &vac, &error) <= 0) {
		if (error != NULL)
			log_warn("vacation: %s: %s", account, error);
		return;
	}
	/* A cheap look first; the log's decision is the one that counts. */
	if (!json_is_true(json_object_get(vac, "enabled")) ||
	    (json_is_integer(json_object_get(vac, "to_date")) &&
	     now >= json_integer_value(json_object_get(vac, "to_date"))) ||
	    evm_address_normalize(mail_from, sender, &error) < 0 || strcmp(sender, account) == 0 ||
	    !(addressed_to(summary, account) || (rcpt != NULL && addressed_to(summary, rcpt)))) {
		json_decref(vac);
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->node = node;
	r->vac = vac;
	snprintf(r->account, sizeof r->account, "%s", account);
	snprintf(r->tenant, sizeof r->tenant, "%s", tenant);
	snprintf(r->sender, sizeof r->sender, "%s", sender);
	subj = json_string_value(json_object_get(json_object_get(summary, "headers"), "subject"));
	snprintf(r->subject, sizeof r->subject, "%s", subj != NULL ? subj : "");
	ids = json_object_get(json_object_get(summary, "headers"), "message_id");
	if (json_is_string(json_array_get(ids, 0)) && strlen(json_string_value(json_array_get(ids, 0))) < sizeof r->msgid &&
	    strpbrk(json_string_value(json_array_get(ids, 0)), "\r\n<>") == NULL)
		snprintf(r->msgid, sizeof r->msgid, "%s", json_string_value(json_array_get(ids, 0)));
	if (evm_event_init(&ev, "vacation.reply", tenant, account, "vacation",
			   json_pack("{s:s}", "sender", sender), &error) < 0) {
		log_warn("vacation: cannot build the event: %s", error);
		vreply_free(r);
		return;
	}
	command_submit(node, &ev, EVM_TOPIC_MAIL, account, VACATION_TIMEOUT_MS, decided, r);
}
