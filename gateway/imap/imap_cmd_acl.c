/* imap_cmd_acl - SETACL, DELETEACL, GETACL, LISTRIGHTS and MYRIGHTS
 * (RFC 4314 3) on the session's own mailboxes and on those shared with it
 * (imap_acl.h). Identifiers (RFC 4314 2) are accounts of the session's
 * tenant, "anyone" (every account of the owner's tenant), and either with
 * a leading "-": a negative entry, taking its rights away (effective
 * rights, projector/mail_acl.h). The owner always holds every right and is
 * listed first. A change is one mailbox.acl event in the owner's
 * partition (projector/mail_acl.h). */
#include "gateway/imap/imap_acl.h"
#include "projector/directory.h"
#include "projector/mail.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* The mailbox argument, looked up with the rights need: 1, or 0 answered. */
static int acl_mailbox(struct imap_session *s, const struct imap_arg *a, unsigned need, json_t **box_r)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];

	if (imap_mailbox_arg_s(s, a, name, sizeof name) < 0) {
		imap_no(s, "[NONEXISTENT] No such mailbox");
		return 0;
	}
	return imap_acl_find(s, name, need, "NONEXISTENT", box_r);
}

/* The identifier argument (imap_acl_identifier_parse) for a change: an
 * account of the session's tenant, or anyone, negative or not, never the
 * mailbox's owner. 1, or 0 answered. */
static int acl_identifier(struct imap_session *s, const struct imap_arg *a, json_t *box,
			  char out[MAIL_ACL_ID_MAX + 1])
{
	char base[EVM_ADDRESS_MAX + 1];
	const char *who = imap_arg_str(a), *error = NULL, *tenant;
	json_t *acc = NULL;
	int r;

	if (who == NULL) {
		imap_bad(s, "%s needs an identifier", s->cur->name);
		return 0;
	}
	if (imap_acl_identifier_parse(who, out, base, &error) < 0) {
		imap_no(s, "[CANNOT] Rights are granted to accounts of this domain's tenant and anyone only");
		return 0;
	}
	if (strcmp(base, MAIL_ACL_ANYONE) == 0)
		return 1;   /* the owner's tenant: the applier records it */
	if (strcmp(base, imap_acl_box_owner(s, box)) == 0) {
		imap_no(s, "[CANNOT] The owner's rights cannot be changed");
		return 0;
	}
	if ((r = directory_account_get(s->node->view, base, &acc, &error)) < 0) {
		imap_no(s, "[SERVERBUG] Cannot read the directory: %s", error);
		return 0;
	}
	tenant = json_string_value(json_object_get(acc, "tenant"));
	r = r > 0 && tenant != NULL && strcmp(tenant, s->tenant) == 0;
	json_decref(acc);
	if (!r)
		imap_no(s, "[CANNOT] Rights are granted to accounts of this domain's tenant and anyone only");
	return r;
}

static void acl_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	if (imap_outcome_ok(s, status, outcome, error, s->cur->name))
		imap_ok(s, "%s completed", s->cur->name);
}

/* Submits mailbox.acl for the mailbox in box. */
static void acl_submit(struct imap_session *s, json_t *box, const char *who, const char *action,
		       const char *rights)
{
	json_t *data = json_pack("{s:O, s:s, s:s}", "mailbox_id", json_object_get(box, "id"), "identifier",
				 who, "action", action);

	if (rights != NULL)
		json_object_set_new(data, "rights", json_string(rights));
	imap_submit(s, "mailbox.acl", data, acl_done);
}

/* RFC 4314 3.1: SETACL mailbox identifier [+|-]rights. */
void imap_cmd_setacl(struct imap_session *s, const struct imap_command *cmd)
{
	char who[MAIL_ACL_ID_MAX + 1], canon[MAIL_RIGHTS_LEN];
	const char *rights, *action = "set";
	json_t *box = NULL;
	unsigned bits;

	if (cmd->nargs != 3 || (rights = imap_arg_str(&cmd->args[2])) == NULL || imap_arg_str(&cmd->args[1]) == NULL) {
		imap_bad(s, "SETACL needs a mailbox, an identifier and rights");
		return;
	}
	if (rights[0] == '+' || rights[0] == '-')
		action = *rights++ == '+' ? "add" : "remove";
	if (mail_rights_parse(rights, &bits) < 0) {
		imap_bad(s, "Unknown rights (RFC 4314 2.1: lrswipkxtea, c, d)");
		return;
	}
	if (!acl_mailbox(s, &cmd->args[0], MAIL_R_ADMIN, &box))
		return;
	if (acl_identifier(s, &cmd->args[1], box, who)) {
		mail_rights_string(bits, 0, canon);
		acl_submit(s, box, who, action, canon);
	}
	json_decref(box);
}

/* RFC 4314 3.2: DELETEACL mailbox identifier. */
void imap_cmd_deleteacl(struct imap_session *s, const struct imap_command *cmd)
{
	char who[MAIL_ACL_ID_MAX + 1];
	json_t *box = NULL;

	if (cmd->nargs != 2 || imap_arg_str(&cmd->args[1]) == NULL) {
		imap_bad(s, "DELETEACL needs a mailbox and an identifier");
		return;
	}
	if (!acl_mailbox(s, &cmd->args[0], MAIL_R_ADMIN, &box))
		return;
	if (acl_identifier(s, &cmd->args[1], box, who))
		acl_submit(s, box, who, "delete", NULL);
	json_decref(box);
}

/* RFC 4314 3.3: GETACL mailbox -> "* ACL mailbox owner rights id rights...". */
void imap_cmd_getacl(struct imap_session *s, const struct imap_command *cmd)
{
	char out[MAIL_RIGHTS_LEN];
	const char *error = NULL, *who;
	json_t *box = NULL, *acl = NULL, *v;
	struct buf line = BUF_INIT;
	unsigned bits;

	if (cmd->nargs != 1) {
		imap_bad(s, "GETACL needs a mailbox");
		return;
	}
	if (!acl_mailbox(s, &cmd->args[0], MAIL_R_ADMIN, &box))
		return;
	if (mail_acl_list(s->node->view, imap_acl_box_owner(s, box), json_string_value(json_object_get(box, "id")),
			  &acl, &error) < 0) {
		json_decref(box);
		imap_no(s, "[SERVERBUG] Cannot read the ACL: %s", error);
		return;
	}
	buf_puts(&line, "* ACL ");
	imap_quote_mailbox(s, &line, json_string_value(json_object_get(box, "name")));
	buf_puts(&line, " ");
	imap_quote(&line, imap_acl_box_owner(s, box));
	mail_rights_string(MAIL_R_EVERY, 1, out);
	buf_printf(&line, " %s", out);
	json_object_foreach(acl, who, v) {
		if (mail_rights_parse(json_string_value(v), &bits) < 0)
			continue;
		mail_rights_string(bits, 1, out);
		buf_puts(&line, " ");
		imap_quote(&line, who);
		buf_printf(&line, " %s", out);
	}
	imap_line(s, "%s", line.data);
	buf_free(&line);
	json_decref(acl);
	json_decref(box);
	imap_ok(s, "GETACL completed");
}

/* RFC 4314 3.4: what may be granted to identifier: the owner (and its
 * negative entry) holds every right for good; anybody else, anyone and
 * negative entries may get each right on its own. */
void imap_cmd_listrights(struct imap_session *s, const struct imap_command *cmd)
{
	char who[MAIL_ACL_ID_MAX + 1], base[EVM_ADDRESS_MAX + 1], out[MAIL_RIGHTS_LEN];
	const char *arg, *error = NULL;
	struct buf line = BUF_INIT;
	json_t *box = NULL;

	if (cmd->nargs != 2 || (arg = imap_arg_str(&cmd->args[1])) == NULL) {
		imap_bad(s, "LISTRIGHTS needs a mailbox and an identifier");
		return;
	}
	if (!acl_mailbox(s, &cmd->args[0], MAIL_R_ADMIN, &box))
		return;
	buf_puts(&line, "* LISTRIGHTS ");
	imap_quote_mailbox(s, &line, json_string_value(json_object_get(box, "name")));
	buf_puts(&line, " ");
	imap_quote(&line, arg);
	if (imap_acl_identifier_parse(arg, who, base, &error) == 0 &&
	    strcmp(base, imap_acl_box_owner(s, box)) == 0) {
		mail_rights_string(MAIL_R_EVERY, 1, out);
		buf_printf(&line, " %s", who[0] == '-' ? "\"\"" : out);
	} else {
		buf_puts(&line, " \"\" l r s w i p k x t e a c d");
	}
	imap_line(s, "%s", line.data);
	buf_free(&line);
	json_decref(box);
	imap_ok(s, "LISTRIGHTS completed");
}

/* RFC 4314 3.5: the session's own rights (any right lets it ask). */
void imap_cmd_myrights(struct imap_session *s, const struct imap_command *cmd)
{
	char out[MAIL_RIGHTS_LEN];
	struct buf line = BUF_INIT;
	json_t *box = NULL;

	if (cmd->nargs != 1) {
		imap_bad(s, "MYRIGHTS needs a mailbox");
		return;
	}
	if (!acl_mailbox(s, &cmd->args[0], 0, &box))
		return;
	mail_rights_string(imap_acl_box_rights(box), 1, out);
	buf_puts(&line, "* MYRIGHTS ");
	imap_quote_mailbox(s, &line, json_string_value(json_object_get(box, "name")));
	buf_printf(&line, " %s", out);
	imap_line(s, "%s", line.data);
	buf_free(&line);
	json_decref(box);
	imap_ok(s, "MYRIGHTS completed");
}
