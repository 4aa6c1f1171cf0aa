/* imap_cmd_urlauth - GENURLAUTH, RESETKEY and URLFETCH (RFC 4467) with
 * the "INTERNAL" mechanism (imap_urlauth.h). A URL naming another account,
 * or a mailbox that does not exist, gets the same NO [BADURL] in
 * GENURLAUTH; URLFETCH answers NIL for every URL it will not serve. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_urlauth.h"
#include "common/ids.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define URLAUTH_ARGS_MAX 100   /* URLs per GENURLAUTH or URLFETCH */

/* Frees the GENURLAUTH argument copy held in s->op. */
static void op_free(void *op)
{
	json_decref(op);
}

/* NO [BADURL url] with the url cut before any ']' or CR LF (RFC 4469 6). */
static void bad_url(struct imap_session *s, const char *url, const char *why)
{
	char *u = xstrndup(url, strcspn(url, "]\r\n"));

	imap_no(s, "[BADURL %s] %s", u, why);
	free(u);
}

/* The mailbox id of the URL's mailbox in this account (1), 0 after
 * answering NO [BADURL], -1 after answering NO on a view error. */
static int genurl_check(struct imap_session *s, const char *url, size_t len, const char *mech, char id[33])
{
	const char *error = NULL;
	struct imap_url u;
	json_t *box = NULL;
	int r;

	if (strcasecmp(mech, IMAP_URLAUTH_MECH) != 0) {
		bad_url(s, url, "Only the INTERNAL mechanism is supported");
		return 0;
	}
	if (imap_url_parse(url, len, &u, &error) < 0) {
		bad_url(s, url, "Not an absolute IMAP URL ending in ;URLAUTH=<access>");
		return 0;
	}
	if (u.user == NULL || u.access == NULL || u.mech != NULL) {
		imap_url_free(&u);
		bad_url(s, url, "Not an absolute IMAP URL ending in ;URLAUTH=<access>");
		return 0;
	}
	/* RFC 4467 5: the URL must name a mailbox this user may read; another
	 * account's is answered like a missing one. */
	r = strcasecmp(u.user, s->account) == 0 ?
		mail_mailbox_by_name(s->node->view, s->account, u.mailbox, &box, &error) : 0;
	if (r > 0 && u.uidvalidity != 0 &&
	    (json_int_t)u.uidvalidity != json_integer_value(json_object_get(box, "uidvalidity")))
		r = 0;
	if (r > 0)
		snprintf(id, 33, "%s", json_string_value(json_object_get(box, "id")));
	else if (r == 0)
		bad_url(s, url, "No such mailbox");
	else
		imap_no(s, "[SERVERBUG] Cannot read the mailbox list: %s", error);
	json_decref(box);
	imap_url_free(&u);
	return r;
}

/* Answers GENURLAUTH for the URLs in urls ([url, mech, ...]). */
static void genurl_answer(struct imap_session *s, json_t *urls)
{
	struct buf out = BUF_INIT;
	const char *error = NULL;
	char id[33], hex[65];
	size_t i;

	buf_puts(&out, "* GENURLAUTH");
	for (i = 0; i < json_array_size(urls); i += 2) {
		const char *url = json_string_value(json_array_get(urls, i));
		struct imap_url u;
		struct buf full = BUF_INIT;
		int r;

		if ((r = genurl_check(s, url, strlen(url), json_string_value(json_array_get(urls, i + 1)), id)) <= 0)
			goto out;
		if (imap_url_parse(url, strlen(url), &u, &error) < 0 ||
		    (r = imap_urlauth_verifier(s->node->view, s->account, id, url, u.rump_len, hex, &error)) <= 0) {
			imap_url_free(&u);
			imap_no(s, "[SERVERBUG] Cannot make the URL: %s", r == 0 ? "no access key" : error);
			goto out;
		}
		buf_printf(&full, "%.*s:%s:%s", (int)u.rump_len, url, IMAP_URLAUTH_MECH, hex);
		buf_puts(&out, " ");
		imap_quote(&out, full.data);
		buf_free(&full);
		imap_url_free(&u);
	}
	imap_line(s, "%s", out.data);
	imap_ok(s, "GENURLAUTH completed");
out:
	buf_free(&out);
}

/* The account's first base key is in the log: generate now. */
static void genurl_keyed(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	json_t *urls = s->op;

	s->op = NULL;
	s->op_free = NULL;
	if (imap_outcome_ok(s, status, outcome, error, "GENURLAUTH"))
		genurl_answer(s, urls);
	json_decref(urls);
}

/* RFC 4467 5: GENURLAUTH url mechanism [url mechanism ...]. */
void imap_cmd_genurlauth(struct imap_session *s, const struct imap_command *cmd)
{
	const char *error = NULL;
	char id[33], hex[65];
	json_t *urls;
	int r;

	if (cmd->nargs == 0 || cmd->nargs % 2 != 0 || cmd->nargs > 2 * URLAUTH_ARGS_MAX) {
		imap_bad(s, "GENURLAUTH needs pairs of URL and mechanism");
		return;
	}
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (imap_arg_str(&cmd->args[i]) == NULL || (i % 2 == 1 && cmd->args[i].type != IMAP_ARG_ATOM)) {
			imap_bad(s, "GENURLAUTH needs pairs of URL and mechanism");
			return;
		}
	}
	urls = json_array();
	for (size_t i = 0; i < cmd->nargs; i += 2) {
		if (genurl_check(s, cmd->args[i].str, cmd->args[i].len, cmd->args[i + 1].str, id) <= 0) {
			json_decref(urls);
			return;
		}
		json_array_append_new(urls, json_stringn(cmd->args[i].str, cmd->args[i].len));
		json_array_append_new(urls, json_string(cmd->args[i + 1].str));
	}
	if ((r = mail_urlauth_key(s->node->view, s->account, "", hex, &error)) != 0) {
		if (r > 0)
			genurl_answer(s, urls);
		else
			imap_no(s, "[SERVERBUG] Cannot read the access key: %s", error);
		json_decref(urls);
		return;
	}
	/* No key yet: make the account's base key first (RFC 4467 3). */
	if (imap_urlauth_new_key(hex) < 0) {
		json_decref(urls);
		imap_no(s, "[SERVERBUG] No randomness for a key");
		return;
	}
	s->op = urls;
	s->op_free = op_free;
	imap_submit(s, "mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", "", "key", hex), genurl_keyed);
}

static void resetkey_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	if (!imap_outcome_ok(s, status, outcome, error, "RESETKEY"))
		return;
	imap_ok(s, "[URLMECH INTERNAL] RESETKEY completed");
}

/* RFC 4467 4: RESETKEY [mailbox [mechanism ...]]: a new access key for
 * the mailbox, or for every mailbox; URLs made with the old one stop
 * working. */
void imap_cmd_resetkey(struct imap_session *s, const struct imap_command *cmd)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1], hex[65], id[33] = "";
	const char *error = NULL;
	json_t *box = NULL;
	int r;

	if (cmd->nargs > 0 && imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_bad(s, "RESETKEY needs a mailbox name");
		return;
	}
	for (size_t i = 1; i < cmd->nargs; i++) {
		if (cmd->args[i].type != IMAP_ARG_ATOM || strcasecmp(cmd->args[i].str, IMAP_URLAUTH_MECH) != 0) {
			imap_no(s, "Only the INTERNAL mechanism is supported");
			return;
		}
	}
	if (cmd->nargs > 0) {
		if ((r = mail_mailbox_by_name(s->node->view, s->account, name, &box, &error)) <= 0) {
			if (r < 0)
				imap_no(s, "[SERVERBUG] Cannot read the mailbox list: %s", error);
			else
				imap_no(s, "[NONEXISTENT] No such mailbox");
			return;
		}
		snprintf(id, sizeof id, "%s", json_string_value(json_object_get(box, "id")));
		json_decref(box);
	}
	if (imap_urlauth_new_key(hex) < 0) {
		imap_no(s, "[SERVERBUG] No randomness for a key");
		return;
	}
	imap_submit(s, "mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", id, "key", hex), resetkey_done);
}

/* RFC 4467 6: URLFETCH url [url ...]: "* URLFETCH url data|NIL ...". */
void imap_cmd_urlfetch(struct imap_session *s, const struct imap_command *cmd)
{
	struct buf out = BUF_INIT, data = BUF_INIT;
	int64_t now = evm_now_ms();

	if (cmd->nargs == 0 || cmd->nargs > URLAUTH_ARGS_MAX) {
		imap_bad(s, "URLFETCH needs 1 to %d URLs", URLAUTH_ARGS_MAX);
		return;
	}
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (imap_arg_str(&cmd->args[i]) == NULL) {
			imap_bad(s, "URLFETCH needs URLs");
			return;
		}
	}
	buf_puts(&out, "* URLFETCH");
	for (size_t i = 0; i < cmd->nargs; i++) {
		const struct imap_arg *a = &cmd->args[i];
		char *url = xstrndup(a->str, a->len);

		buf_puts(&out, " ");
		imap_quote(&out, url);
		free(url);
		buf_truncate(&data, 0);
		if (imap_urlauth_fetch(s->node->view, s->account, 0, now, a->str, a->len, &data) < 0) {
			buf_puts(&out, " NIL");
		} else {
			buf_printf(&out, " {%zu}\r\n", data.len);
			buf_append(&out, data.data != NULL ? data.data : "", data.len);
		}
		if (out.len > s->set.max_literal * 2) {
			buf_free(&out);
			buf_free(&data);
			imap_no(s, "[TOOBIG] URLFETCH result too large");
			return;
		}
	}
	buf_puts(&out, "\r\n");
	imap_write(s, out.data, out.len);
	buf_free(&out);
	buf_free(&data);
	imap_ok(s, "URLFETCH completed");
}
