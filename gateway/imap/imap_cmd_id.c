/* imap_cmd_id - ID (RFC 2971). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/node.h"

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
