/* imap_auth - LOGIN and AUTHENTICATE PLAIN/LOGIN answered from the shared
 * password check (gateway/auth_password.h: worker threads, at most 4 at
 * once, FIFO, dummy hash for unknown users). A failure says
 * AUTHENTICATIONFAILED whatever the cause (RFC 9051 7.1; no user
 * enumeration). */
#include "gateway/imap/imap_auth.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_login.h"
#include "gateway/auth_gate.h"
#include "gateway/auth_password.h"
#include "common/log.h"
#include "gateway/node.h"

/* The check is done: log in or refuse, unless the session went away. */
static void verified(void *ctx, int ok, const char *account, const char *tenant)
{
	struct imap_session *s = ctx;
	struct buf caps = BUF_INIT;

	if (s->conn != NULL && !s->closing) {
		if (ok) {
			imap_logged_in(s, account, tenant);
			imap_capability_string(s, &caps);
			imap_ok(s, "[CAPABILITY %s] Logged in", caps.data);
			buf_free(&caps);
		} else {
			log_info("imap[%s]: authentication failed for %s from [%s]", s->id,
				 account[0] ? account : "(invalid name)", s->peer_ip);
			imap_no(s, "[AUTHENTICATIONFAILED] Authentication failed");
		}
	}
	imap_session_unref(s);
}

void imap_auth_verify(struct imap_session *s, const char *user, const char *password)
{
	imap_session_ref(s);
	auth_password_verify(s->base, s->node != NULL ? s->node->view : NULL, s->peer_ip, user, password,
			     verified, s);
}

/* A malformed exchange's delayed answer. */
struct malformed_answer {
	struct imap_session *s;
	int bad;
	const char *text;
};

static void malformed_answered(void *ctx)
{
	struct malformed_answer *m = ctx;
	struct imap_session *s = m->s;

	if (s->conn != NULL && !s->closing) {
		if (m->bad)
			imap_bad(s, "%s", m->text);
		else
			imap_no(s, "%s", m->text);
	}
	free(m);
	imap_session_unref(s);
}

void imap_auth_malformed(struct imap_session *s, int bad, const char *text)
{
	struct malformed_answer *m = xcalloc(1, sizeof *m);

	log_info("imap[%s]: malformed authentication from [%s]: %s", s->id, s->peer_ip, text);
	imap_session_ref(s);
	m->s = s;
	m->bad = bad;
	m->text = text;
	auth_gate_malformed(s->base, s->peer_ip, malformed_answered, m);
}

/* LOGIN and AUTHENTICATE without TLS when plain text is not allowed: answers
 * NO [PRIVACYREQUIRED] and returns 1; else 0. */
int imap_plaintext_refused(struct imap_session *s)
{
	if (s->tls || s->set.allow_plaintext_auth)
		return 0;
	imap_no(s, "[PRIVACYREQUIRED] Authentication needs TLS (use STARTTLS)");
	return 1;
}
