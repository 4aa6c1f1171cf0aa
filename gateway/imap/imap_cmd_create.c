/* imap_cmd_create - CREATE (RFC 9051 6.3.4) with the USE parameter (RFC 6154
 * 3, CREATE-SPECIAL-USE) and the MAILBOXID response code (RFC 8474 4.1):
 * one mailbox.create event; under "Other Users" in the owner's partition
 * (imap_acl_mbox.c). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "common/ids.h"
#include "projector/mail.h"
#include "gateway/imap/imap_acl.h"

#include <string.h>
#include <strings.h>

/* The special uses the mail store accepts (projector/mail.h mailbox.create). */
static const char *const uses[] = { "\\Drafts", "\\Sent", "\\Junk", "\\Trash", "\\Archive", "\\All",
				    "\\Flagged", NULL };

/* RFC 6154 3 / RFC 4466 create-params: "(USE (\Sent))". */
static int create_params(const struct imap_arg *a, const char **use_r, const char **error_r)
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
static void create_done(struct imap_session *s, int status, json_t *outcome, const char *error)
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

/* CREATE under "Other Users/<owner>/": k on the parent, then one
 * mailbox.create in the owner's partition with "as" (RFC 4314 4). */
static void create_shared(struct imap_session *s, const char *name, const char *id, const char *use)
{
	char owner[EVM_ADDRESS_MAX + 1];
	const char *rest;
	json_t *parent = NULL;

	if (!imap_acl_split(name, owner, &rest)) {
		imap_no(s, "[NOPERM] Mailboxes under \"" IMAP_OTHER_USERS "\" belong to their owners");
		return;
	}
	if (!imap_acl_parent(s, name, owner, &parent))
		return;
	/* The parent's record names the owner in normal form. */
	imap_acl_submit(s, imap_acl_box_owner(s, parent), "mailbox.create",
			json_pack("{s:s, s:s, s:s}", "mailbox_id", id, "name", rest, "special_use", use),
			create_done);
	json_decref(parent);
}

void imap_cmd_create(struct imap_session *s, const struct imap_command *cmd)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1], id[EVM_ID_HEX_LEN + 1];
	const char *use = "", *uerr = NULL;

	if (cmd->nargs < 1 || cmd->nargs > 2 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_bad(s, "CREATE needs a valid mailbox name");
		return;
	}
	if (cmd->nargs == 2 && create_params(&cmd->args[1], &use, &uerr) < 0) {
		if (strcmp(uerr, "BAD") == 0)
			imap_bad(s, "Invalid CREATE parameters");
		else
			imap_no(s, "%s", uerr);
		return;
	}
	if (strcmp(name, "INBOX") == 0) {
		imap_no(s, "[ALREADYEXISTS] INBOX always exists");
		return;
	}
	evm_random_id(id);
	if (imap_acl_is_other(name)) {   /* RFC 4314 4: k on the owner's parent */
		create_shared(s, name, id, use);
		return;
	}
	imap_submit(s, "mailbox.create",
		    json_pack("{s:s, s:s, s:s}", "mailbox_id", id, "name", name, "special_use", use),
		    create_done);
}
