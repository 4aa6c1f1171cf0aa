/* imap_auth_ext - AUTHENTICATE LOGIN and SCRAM-SHA-256 (imap_auth_ext.c) */
#ifndef EVM_IMAP_AUTH_EXT_H
#define EVM_IMAP_AUTH_EXT_H

#include "gateway/imap/imap_parser.h"

struct imap_session;
int imap_auth_ext_known(const char *mech);
/* Runs the exchange and answers (TLS policy checked by the caller). */
void imap_auth_ext_start(struct imap_session *s, const struct imap_command *cmd);

#endif
