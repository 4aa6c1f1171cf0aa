/* imap_cmd_auth - commands of any state and authentication: CAPABILITY,
 * NOOP, LOGOUT, ID, STARTTLS, AUTHENTICATE PLAIN (RFC 4616, SASL-IR RFC
 * 4959; LOGIN and SCRAM-SHA-256 are in imap_auth_ext.c), LOGIN, ENABLE
 * (RFC 9051 6.1, 6.2, 6.3.1; RFC 2971; UTF8=ACCEPT RFC 6855 3). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/node.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void imap_cmd_capability(struct imap_session *s, const struct imap_command *cmd)
{
	struct buf caps = BUF_INIT;

	imap_capability_string(s, &caps);
	imap_line(s, "* CAPABILITY %s", caps.data);
	buf_free(&caps);
	imap_ok(s, "CAPABILITY completed");
}

void imap_cmd_noop(struct imap_session *s, const struct imap_command *cmd)
{
	imap_ok(s, "NOOP completed");
}

/* RFC 9051 7.1.5: nothing about the mailbox follows the BYE, so the
 * mailbox is closed first (the tagged OK then reports no updates). */
void imap_cmd_logout(struct imap_session *s, const struct imap_command *cmd)
{
	imap_deselect(s);
	imap_line(s, "* BYE Logging out");
	s->state = IMAP_S_LOGOUT;
	imap_ok(s, "LOGOUT completed");
	imap_close_after_flush(s, "logout");
}

#define ID_PAIRS_MAX 30        /* RFC 2971 3.3: at most 30 field-value pairs */
#define ID_FIELD_MAX 30        /* field strings at most 30 octets */
#define ID_VALUE_MAX 1024      /* value strings at most 1024 octets */

/* RFC 2971 3.3: "(" field SP nstring pairs ")" or NIL within the limits. */
static bool id_params_valid(const struct imap_arg *a)
{
	if (a->type == IMAP_ARG_NIL)
		return true;
	if (a->type != IMAP_ARG_LIST || a->count % 2 != 0 || a->count / 2 > ID_PAIRS_MAX)
		return false;
	for (size_t i = 0; i < a->count; i += 2) {
		const struct imap_arg *f = &a->list[i], *v = &a->list[i + 1];

		if (f->type != IMAP_ARG_STRING || f->len > ID_FIELD_MAX)
			return false;
		if (v->type != IMAP_ARG_NIL && (v->type != IMAP_ARG_STRING || v->len > ID_VALUE_MAX))
			return false;
	}
	return true;
}

/* RFC 2971: the client's list is checked, then ignored. */
void imap_cmd_id(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 1 || !id_params_valid(&cmd->args[0])) {
		imap_bad(s, "ID needs NIL or a list of at most 30 field (30 octets) and value (1024) pairs");
		return;
	}
	imap_line(s, "* ID (\"name\" \"evmail\" \"version\" \"%s\")", EVMAIL_VERSION);
	imap_ok(s, "ID completed");
}

void imap_cmd_starttls(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(s, "STARTTLS takes no arguments");
		return;
	}
	if (s->set.tls == NULL || s->tls) {
		imap_bad(s, "STARTTLS not available");
		return;
	}
	imap_ok(s, "Begin TLS negotiation now");
	imap_starttls(s);
}

static int plaintext_refused(struct imap_session *s)
{
	if (s->tls || s->set.allow_plaintext_auth)
		return 0;
	imap_no(s, "[PRIVACYREQUIRED] Authentication needs TLS (use STARTTLS)");
	return 1;
}

void imap_cmd_login(struct imap_session *s, const struct imap_command *cmd)
{
	const char *user, *pass;

	if (cmd->nargs != 2 || (user = imap_arg_str(&cmd->args[0])) == NULL ||
	    (pass = imap_arg_str(&cmd->args[1])) == NULL) {
		imap_bad(s, "LOGIN needs a user name and a password");
		return;
	}
	if (plaintext_refused(s))
		return;
	imap_auth_verify(s, user, pass);
}

/* Base64 (RFC 4648) into a malloc'ed NUL-terminated buffer; -1 if invalid. */
static int b64_decode(const char *in, size_t len, char **out_r, size_t *len_r)
{
	char *out;
	int n;
	size_t pad = 0;

	if (len % 4 != 0)
		return -1;
	out = xmalloc(len / 4 * 3 + 1);
	n = len == 0 ? 0 : EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in, (int)len);
	if (n < 0) {
		free(out);
		return -1;
	}
	while (pad < 2 && len > pad && in[len - 1 - pad] == '=')
		pad++;
	*len_r = (size_t)n - pad;
	out[*len_r] = '\0';
	*out_r = out;
	return 0;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static void auth_plain(struct imap_session *s, const char *b64, size_t len)
{
	char *dec = NULL, *authcid, *pass;
	size_t n = 0, l1, l2;

	if (len == 1 && b64[0] == '=')
		len = 0;
	if (b64_decode(b64, len, &dec, &n) < 0) {
		imap_bad(s, "Invalid base64");
		return;
	}
	l1 = strnlen(dec, n);
	authcid = l1 < n ? dec + l1 + 1 : NULL;
	l2 = authcid != NULL ? strnlen(authcid, n - l1 - 1) : 0;
	pass = authcid != NULL && l1 + 1 + l2 < n ? authcid + l2 + 1 : NULL;
	if (authcid == NULL || pass == NULL || strlen(pass) != n - l1 - l2 - 2) {
		explicit_bzero(dec, n);
		free(dec);
		imap_no(s, "[AUTHENTICATIONFAILED] Malformed PLAIN response");
		return;
	}
	if (l1 > 0 && strcasecmp(dec, authcid) != 0) {
		explicit_bzero(dec, n);
		free(dec);
		imap_no(s, "[AUTHORIZATIONFAILED] Cannot act as another user");
		return;
	}
	imap_auth_verify(s, authcid, pass);
	explicit_bzero(dec, n);
	free(dec);
}

static void auth_continued(struct imap_session *s, const char *line, size_t len)
{
	s->line_fn = NULL;
	if (len == 1 && line[0] == '*') {
		imap_bad(s, "Authentication cancelled");
		return;
	}
	auth_plain(s, line, len);
}

void imap_cmd_authenticate(struct imap_session *s, const struct imap_command *cmd)
{
	const char *mech, *ir;

	if (cmd->nargs < 1 || cmd->nargs > 2 || (mech = imap_arg_str(&cmd->args[0])) == NULL) {
		imap_bad(s, "AUTHENTICATE needs a mechanism");
		return;
	}
	if (imap_auth_ext_known(mech)) {
		if (!plaintext_refused(s))
			imap_auth_ext_start(s, cmd);
		return;
	}
	if (strcasecmp(mech, "PLAIN") != 0) {
		imap_no(s, "Unsupported authentication mechanism");
		return;
	}
	if (plaintext_refused(s))
		return;
	if (cmd->nargs == 2) {
		if ((ir = imap_arg_str(&cmd->args[1])) == NULL) {
			imap_bad(s, "Invalid initial response");
			return;
		}
		auth_plain(s, ir, cmd->args[1].len);
		return;
	}
	imap_line(s, "+ ");
	s->line_fn = auth_continued;
}

/* RFC 9051 6.3.1 (RFC 5161): only IMAP4rev2 is known. */
void imap_cmd_enable(struct imap_session *s, const struct imap_command *cmd)
{
	struct buf on = BUF_INIT;

	if (cmd->nargs == 0) {
		imap_bad(s, "ENABLE needs capability names");
		return;
	}
	for (size_t i = 0; i < cmd->nargs; i++) {
		const char *c = imap_arg_str(&cmd->args[i]);

		if (cmd->args[i].type != IMAP_ARG_ATOM || c == NULL) {
			buf_free(&on);
			imap_bad(s, "ENABLE takes capability names");
			return;
		}
		if (strcasecmp(c, "IMAP4rev2") == 0 && !s->rev2) {
			s->rev2 = 1;
			if (s->mbox != NULL) {
				/* RFC 9051 has no \Recent (imap_recent.c) */
				s->mbox->claim = 0;
				s->mbox->nrecent = 0;
			}
			buf_puts(&on, " IMAP4rev2");
		}
		/* RFC 6855 3: UTF-8 quoted strings and mailbox names. */
		if (strcasecmp(c, "UTF8=ACCEPT") == 0 && !s->utf8) {
			s->utf8 = 1;
			buf_puts(&on, " UTF8=ACCEPT");
		}
		/* RFC 7162 3.1, 3.2.3: QRESYNC implies CONDSTORE. */
		if (strcasecmp(c, "CONDSTORE") == 0 && !s->condstore) {
			imap_condstore_enable(s);
			buf_puts(&on, " CONDSTORE");
		}
		if (strcasecmp(c, "QRESYNC") == 0 && !s->qresync) {
			imap_condstore_enable(s);
			s->qresync = 1;
			buf_puts(&on, " QRESYNC");
		}
	}
	imap_line(s, "* ENABLED%s", on.len ? on.data : "");
	buf_free(&on);
	imap_ok(s, "ENABLE completed");
}
