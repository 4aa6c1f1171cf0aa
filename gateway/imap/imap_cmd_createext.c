/* imap_cmd_createext - the CREATE extensions: the USE parameter (RFC 6154
 * 3, CREATE-SPECIAL-USE) and the MAILBOXID response code (RFC 8474 4.1). */
#include "gateway/imap/imap_session_private.h"

#include <string.h>
#include <strings.h>

/* The special uses the mail store accepts (projector/mail.h mailbox.create). */
static const char *const uses[] = { "\\Drafts", "\\Sent", "\\Junk", "\\Trash", "\\Archive", "\\All",
				    "\\Flagged", NULL };

/* RFC 6154 3 / RFC 4466 create-params: "(USE (\Sent))". */
int imap_create_params(const struct imap_arg *a, const char **use_r, const char **error_r)
{
	const struct imap_arg *l;

	*use_r = "";
	if (a->type != IMAP_ARG_LIST || a->count != 2 || a->list[0].type != IMAP_ARG_ATOM ||
	    strcasecmp(a->list[0].str, "USE") != 0 || a->list[1].type != IMAP_ARG_LIST) {
		*error_r = "BAD";
		return -1;
	}
	l = &a->list[1];
	if (l->count == 0)
		return 0;
	if (l->count > 1) {
		*error_r = "[USEATTR] Only one special use per mailbox";
		return -1;
	}
	for (size_t i = 0; uses[i] != NULL; i++) {
		if (l->list[0].type == IMAP_ARG_ATOM && strcasecmp(l->list[0].str, uses[i]) == 0) {
			*use_r = uses[i];
			return 0;
		}
	}
	*error_r = l->list[0].type == IMAP_ARG_ATOM && l->list[0].str[0] == '\\' ?
		"[USEATTR] Unsupported special use" : "BAD";
	return -1;
}

/* The outcome of mailbox.create: OK [MAILBOXID (id)] (RFC 8474 4.1). */
void imap_create_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *id;

	if (!imap_outcome_ok(s, status, outcome, error, "CREATE"))
		return;
	id = json_string_value(json_object_get(outcome, "mailbox_id"));
	if (id != NULL)
		imap_ok(s, "[MAILBOXID (%s)] CREATE completed", id);
	else
		imap_ok(s, "CREATE completed");
}
