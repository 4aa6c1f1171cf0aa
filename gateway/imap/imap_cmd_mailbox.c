/* imap_cmd_mailbox - CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE,
 * STATUS and NAMESPACE (RFC 9051 6.3.4-6.3.11). LIST and LSUB are in
 * imap_cmd_list.c. Every change is a mail event (projector/mail.h) and is
 * answered with the projector's outcome. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_acl.h"
#include "common/ids.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_SIZE (MAIL_MAILBOX_NAME_MAX + 1)

/* The mailbox record of name: 1, or 0 after answering NO. */
static int find_mailbox(struct imap_session *s, const char *name, json_t **box_r, const char *nocode)
{
	const char *error = NULL;
	int r = mail_mailbox_by_name(s->node->view, s->account, name, box_r, &error);

	if (r < 0)
		imap_no(s, "[SERVERBUG] Cannot read the mailbox list: %s", error);
	else if (r == 0)
		imap_no(s, "[%s] No such mailbox", nocode);
	return r > 0;
}

static void done_simple(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *what = s->cur != NULL ? s->cur->name : "command";

	if (imap_outcome_ok(s, status, outcome, error, what))
		imap_ok(s, "%s completed", what);
}

void imap_cmd_create(struct imap_session *s, const struct imap_command *cmd)
{
	char name[NAME_SIZE], id[EVM_ID_HEX_LEN + 1];
	const char *use = "", *uerr = NULL;

	if (cmd->nargs < 1 || cmd->nargs > 2 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_bad(s, "CREATE needs a valid mailbox name");
		return;
	}
	if (cmd->nargs == 2 && imap_create_params(&cmd->args[1], &use, &uerr) < 0) {
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
	if (imap_acl_is_other(name)) {   /* RFC 2342: other users' namespace */
		imap_no(s, "[NOPERM] Mailboxes under \"" IMAP_OTHER_USERS "\" belong to their owners");
		return;
	}
	evm_random_id(id);
	imap_submit(s, "mailbox.create",
		    json_pack("{s:s, s:s, s:s}", "mailbox_id", id, "name", name, "special_use", use),
		    imap_create_done);
}

void imap_cmd_delete(struct imap_session *s, const struct imap_command *cmd)
{
	char name[NAME_SIZE];
	json_t *box = NULL;

	if (cmd->nargs != 1 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_bad(s, "DELETE needs a valid mailbox name");
		return;
	}
	if (strcmp(name, "INBOX") == 0) {
		imap_no(s, "[CANNOT] INBOX cannot be deleted");
		return;
	}
	if (!find_mailbox(s, name, &box, "NONEXISTENT"))
		return;
	imap_submit(s, "mailbox.delete",
		    json_pack("{s:O}", "mailbox_id", json_object_get(box, "id")), done_simple);
	json_decref(box);
}

void imap_cmd_rename(struct imap_session *s, const struct imap_command *cmd)
{
	char from[NAME_SIZE], to[NAME_SIZE];
	json_t *box = NULL;

	if (cmd->nargs != 2 || imap_mailbox_arg_s(s, &cmd->args[0], from, sizeof from) < 0 ||
	    imap_mailbox_arg_s(s, &cmd->args[1], to, sizeof to) < 0) {
		imap_bad(s, "RENAME needs two valid mailbox names");
		return;
	}
	if (strcmp(to, "INBOX") == 0) {
		imap_no(s, "[ALREADYEXISTS] INBOX always exists");
		return;
	}
	if (imap_acl_is_other(to)) {   /* RFC 2342: other users' namespace */
		imap_no(s, "[NOPERM] Mailboxes under \"" IMAP_OTHER_USERS "\" belong to their owners");
		return;
	}
	if (strcmp(from, "INBOX") == 0) {
		imap_no(s, "[CANNOT] Renaming INBOX is not supported");
		return;
	}
	if (!find_mailbox(s, from, &box, "NONEXISTENT"))
		return;
	imap_submit(s, "mailbox.rename",
		    json_pack("{s:O, s:s}", "mailbox_id", json_object_get(box, "id"), "name", to),
		    done_simple);
	json_decref(box);
}

static void subscribe(struct imap_session *s, const struct imap_command *cmd, int on)
{
	char name[NAME_SIZE];

	if (cmd->nargs != 1 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_bad(s, "%s needs a valid mailbox name", cmd->name);
		return;
	}
	imap_submit(s, "mailbox.subscribe", json_pack("{s:s, s:b}", "name", name, "subscribed", on),
		    done_simple);
}

void imap_cmd_subscribe(struct imap_session *s, const struct imap_command *cmd)
{
	subscribe(s, cmd, 1);
}

void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *cmd)
{
	subscribe(s, cmd, 0);
}

/* RFC 9051 6.3.11; the items are rendered by imap_status.c. */
void imap_cmd_status(struct imap_session *s, const struct imap_command *cmd)
{
	char name[NAME_SIZE];
	json_t *box = NULL;

	if (cmd->nargs != 2 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0 ||
	    cmd->args[1].type != IMAP_ARG_LIST || cmd->args[1].count == 0) {
		imap_bad(s, "STATUS needs a mailbox name and a list of items");
		return;
	}
	if (imap_status_check(cmd->args[1].list, cmd->args[1].count) < 0) {
		imap_bad(s, "Unknown STATUS item");
		return;
	}
	/* Own or shared: RFC 4314 4 STATUS needs r. */
	if (!imap_acl_find(s, name, MAIL_R_READ, "NONEXISTENT", &box))
		return;
	imap_status_line(s, box, cmd->args[1].list, cmd->args[1].count);
	json_decref(box);
	imap_ok(s, "STATUS completed");
}

/* RFC 2342 / RFC 9051 6.3.10: one personal namespace, '/' separated. */
void imap_cmd_namespace(struct imap_session *s, const struct imap_command *cmd)
{
	/* RFC 2342 5: mailboxes shared with us are under "Other Users/". */
	imap_line(s, "* NAMESPACE ((\"\" \"/\")) ((\"" IMAP_OTHER_USERS "/\" \"/\")) NIL");
	imap_ok(s, "NAMESPACE completed");
}
