/* imap_cmd_authenticate - AUTHENTICATE PLAIN (RFC 9051 6.2.2, RFC 4616,
 * SASL-IR RFC 4959); LOGIN and SCRAM-SHA-256 are in imap_auth_ext.c. */
#include "gateway/imap/imap_session_private.h"
#include "common/base64.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_auth.h"
#include "gateway/imap/imap_auth_ext.h"
#include "gateway/imap/imap_commands.h"
#include "common/scram.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Base64 (RFC 4648) into a malloc'ed NUL-terminated buffer; -1 if invalid. */
static int b64_decode(const char *in, size_t len, char **out_r, size_t *len_r)
{
	char *out = xmalloc(len / 4 * 3 + 1);

	if (evm_b64_decode(in, len, (unsigned char *)out, len_r) < 0) {
		free(out);
		return -1;
	}
	*out_r = out;
	return 0;
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. A malformed response is
 * a failure of the client, counted and delayed (imap_auth_malformed). */
static void auth_plain(struct imap_session *s, const char *b64, size_t len)
{
	char *dec = NULL, *authcid, *pass;
	size_t n = 0, l1, l2;

	if (len == 1 && b64[0] == '=')
		len = 0;
	if (b64_decode(b64, len, &dec, &n) < 0) {
		imap_auth_malformed(s, 1, "Invalid base64");
		return;
	}
	l1 = strnlen(dec, n);
	authcid = l1 < n ? dec + l1 + 1 : NULL;
	l2 = authcid != NULL ? strnlen(authcid, n - l1 - 1) : 0;
	pass = authcid != NULL && l1 + 1 + l2 < n ? authcid + l2 + 1 : NULL;
	if (authcid == NULL || pass == NULL || strlen(pass) != n - l1 - l2 - 2) {
		explicit_bzero(dec, n);
		free(dec);
		imap_auth_malformed(s, 0, "[AUTHENTICATIONFAILED] Malformed PLAIN response");
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
		if (!imap_plaintext_refused(s))
			imap_auth_ext_start(s, cmd);
		return;
	}
	if (strcasecmp(mech, "PLAIN") != 0) {
		imap_no(s, "Unsupported authentication mechanism");
		return;
	}
	if (imap_plaintext_refused(s))
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
