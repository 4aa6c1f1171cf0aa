/* imap_cmd_append - APPEND (imap_cmd_append.c) and its forms with several
 * messages or CATENATE (imap_cmd_multiappend.c), for the commands that
 * append (REPLACE) */
#ifndef EVM_IMAP_CMD_APPEND_H
#define EVM_IMAP_CMD_APPEND_H

#include <stdint.h>
#include <stddef.h>

#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_session_write.h"

struct imap_session;
/* imap_cmd_append.c: APPEND's arguments args[n] (mailbox [flags]
 * [date-time] message): the message is stored, then one message.append
 * is submitted with done as its callback. 0 when started, -1 after
 * answering BAD or NO (REPLACE uses it too). */
int imap_append_one(struct imap_session *s, const struct imap_arg *args, size_t nargs, imap_write_cb *done);
/* imap_cmd_append.c: RFC 9051 9 date-time to ms. 0 or -1. */
int imap_date_time_parse(const char *v, int64_t *ms_r);
/* imap_cmd_multiappend.c: handles APPEND with several messages (RFC 3502)
 * or CATENATE (RFC 4469) and returns 1; 0 for a plain APPEND. */
int imap_append_multi(struct imap_session *s, const struct imap_command *cmd);

#endif
