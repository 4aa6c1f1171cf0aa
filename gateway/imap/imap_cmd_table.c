/* imap_cmd_table - THE command table (RFC 9051 6; RFC 3501 for LSUB and
 * CHECK; RFC 8437 UNAUTHENTICATE; RFC 8508 REPLACE; RFC 5464 METADATA;
 * RFC 4467 URLAUTH): name, handler, the states it is valid in and whether it has a
 * UID form or works by sequence numbers. */
#include "gateway/imap/imap_cmd_table.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_commands.h"

#include <string.h>

#define ANY (IMAP_CMD_NOAUTH | IMAP_CMD_AUTH)
#define AUTH IMAP_CMD_AUTH
#define SEL (IMAP_CMD_AUTH | IMAP_CMD_SELECTED)
#define NOARGS IMAP_CMD_NOARGS
#define MSN IMAP_CMD_MSN

static const struct imap_cmd_def cmds[] = {
	{ "CAPABILITY", imap_cmd_capability, ANY | NOARGS },
	{ "NOOP", imap_cmd_noop, ANY | NOARGS },
	{ "LOGOUT", imap_cmd_logout, ANY | NOARGS },
	{ "ID", imap_cmd_id, ANY },
	{ "STARTTLS", imap_cmd_starttls, IMAP_CMD_NOAUTH | NOARGS },
	{ "AUTHENTICATE", imap_cmd_authenticate, IMAP_CMD_NOAUTH },
	{ "LOGIN", imap_cmd_login, IMAP_CMD_NOAUTH },
	{ "UNAUTHENTICATE", imap_cmd_unauthenticate, AUTH | NOARGS },
	{ "ENABLE", imap_cmd_enable, AUTH },
	{ "NAMESPACE", imap_cmd_namespace, AUTH | NOARGS },
	{ "SELECT", imap_cmd_select, AUTH },
	{ "EXAMINE", imap_cmd_examine, AUTH },
	{ "CREATE", imap_cmd_create, AUTH },
	{ "DELETE", imap_cmd_delete, AUTH },
	{ "RENAME", imap_cmd_rename, AUTH },
	{ "SUBSCRIBE", imap_cmd_subscribe, AUTH },
	{ "UNSUBSCRIBE", imap_cmd_unsubscribe, AUTH },
	{ "LIST", imap_cmd_list, AUTH },
	{ "LSUB", imap_cmd_lsub, AUTH },
	{ "STATUS", imap_cmd_status, AUTH },
	{ "APPEND", imap_cmd_append, AUTH },
	{ "IDLE", imap_cmd_idle, AUTH | NOARGS },
	{ "COMPRESS", imap_cmd_compress, AUTH },
	{ "CHECK", imap_cmd_check, SEL | NOARGS },
	{ "CLOSE", imap_cmd_close, SEL | NOARGS },
	{ "UNSELECT", imap_cmd_unselect, SEL | NOARGS },
	{ "EXPUNGE", imap_cmd_expunge, SEL | IMAP_CMD_UIDOK | NOARGS },
	{ "SEARCH", imap_cmd_search, SEL | IMAP_CMD_UIDOK | IMAP_CMD_SEQ | MSN },
	{ "FETCH", imap_cmd_fetch, SEL | IMAP_CMD_UIDOK | IMAP_CMD_SEQ | MSN },
	{ "STORE", imap_cmd_store, SEL | IMAP_CMD_UIDOK | IMAP_CMD_SEQ | MSN },
	{ "COPY", imap_cmd_copy, SEL | IMAP_CMD_UIDOK | MSN },
	{ "MOVE", imap_cmd_move, SEL | IMAP_CMD_UIDOK | MSN },
	{ "REPLACE", imap_cmd_replace, SEL | IMAP_CMD_UIDOK | MSN },
	{ "SORT", imap_cmd_sort, SEL | IMAP_CMD_UIDOK | IMAP_CMD_SEQ | MSN },
	{ "THREAD", imap_cmd_thread, SEL | IMAP_CMD_UIDOK | IMAP_CMD_SEQ | MSN },
	{ "CANCELUPDATE", imap_cmd_cancelupdate, SEL },
	{ "GETQUOTAROOT", imap_cmd_getquotaroot, AUTH },
	{ "GETQUOTA", imap_cmd_getquota, AUTH },
	{ "SETQUOTA", imap_cmd_setquota, AUTH },
	{ "GETMETADATA", imap_cmd_getmetadata, AUTH },
	{ "SETMETADATA", imap_cmd_setmetadata, AUTH },
	{ "GENURLAUTH", imap_cmd_genurlauth, AUTH },
	{ "RESETKEY", imap_cmd_resetkey, AUTH },
	{ "URLFETCH", imap_cmd_urlfetch, AUTH },
	{ "SETACL", imap_cmd_setacl, AUTH },
	{ "DELETEACL", imap_cmd_deleteacl, AUTH },
	{ "GETACL", imap_cmd_getacl, AUTH },
	{ "LISTRIGHTS", imap_cmd_listrights, AUTH },
	{ "MYRIGHTS", imap_cmd_myrights, AUTH },
	{ "NOTIFY", imap_cmd_notify, AUTH },
};

const struct imap_cmd_def *imap_cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	}
	return NULL;
}

/* Why name cannot run in the session's state (the text of a BAD), or NULL. */
const char *imap_cmd_refused(const struct imap_session *s, const char *name, bool uid)
{
	const struct imap_cmd_def *def = imap_cmd_find(name);

	if (def == NULL)
		return "Unknown command";
	if (uid && !(def->flags & IMAP_CMD_UIDOK))
		return "UID form of a command that has none";
	if (s->state == IMAP_S_NOAUTH && !(def->flags & IMAP_CMD_NOAUTH))
		return "Log in first";
	if (s->state != IMAP_S_NOAUTH && !(def->flags & IMAP_CMD_AUTH))
		return "Already authenticated";
	if ((def->flags & IMAP_CMD_SELECTED) && s->mbox == NULL)
		return "No mailbox selected";
	return NULL;
}
