/* imap_login - the session logs in and out (imap_login.c) */
#ifndef EVM_IMAP_LOGIN_H
#define EVM_IMAP_LOGIN_H

struct imap_session;
/* Authentication succeeded: state, limits, push subscription. */
void imap_logged_in(struct imap_session *s, const char *account, const char *tenant);
/* UNAUTHENTICATE (RFC 8437): undoes imap_logged_in and every ENABLE; TLS
 * and COMPRESS stay. */
void imap_logged_out(struct imap_session *s);

#endif
