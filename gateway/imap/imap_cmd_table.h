/* imap_cmd_table - the command table (imap_cmd_table.c): what the session's
 * dispatcher looks commands up in */
#ifndef EVM_IMAP_CMD_TABLE_H
#define EVM_IMAP_CMD_TABLE_H

#include <stdbool.h>

#include "gateway/imap/imap_session_private.h"

const struct imap_cmd_def *imap_cmd_find(const char *name);
/* Why the command name (UID form when uid) cannot run in the session's
 * state (the text of a BAD), or NULL when it can. */
const char *imap_cmd_refused(const struct imap_session *s, const char *name, bool uid);

#endif
