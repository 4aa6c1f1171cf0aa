/* imap_auth - checks a user name and password (imap_auth.c) */
#ifndef EVM_IMAP_AUTH_H
#define EVM_IMAP_AUTH_H

struct imap_session;
/* Checks a user name and password on a worker thread (yescrypt is slow),
 * then answers the command (OK with capabilities, or NO
 * [AUTHENTICATIONFAILED]). user and password are copied and wiped. */
void imap_auth_verify(struct imap_session *s, const char *user, const char *password);
/* A malformed AUTHENTICATE exchange (bad base64, a PLAIN response without
 * its NULs, an unparsable SCRAM message): counted as a failure of the
 * client (gateway/auth_gate.h auth_gate_malformed) and answered after the
 * failure delay with BAD text (bad) or NO text. text: a constant. */
void imap_auth_malformed(struct imap_session *s, int bad, const char *text);
/* LOGIN and AUTHENTICATE without TLS when plain text is not allowed: answers
 * NO [PRIVACYREQUIRED] and returns 1; else 0. */
int imap_plaintext_refused(struct imap_session *s);

#endif
