/* imap_cmd_quota - GETQUOTAROOT, GETQUOTA and SETQUOTA (RFC 9208). An
 * account has one quota root, "", holding every mailbox; its only
 * resource is STORAGE (RFC 9208 5.1, in units of 1024 octets) from the
 * mail state's quota and quota_used (projector/mail.h). An account without
 * a quota (0 = unlimited) has no quota root. Quotas are set by the
 * administrator (evmailctl), so SETQUOTA is refused. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <string.h>

/* The root's limit and usage in KiB: 1 with a quota, 0 unlimited, -1 after answering NO. */
static int read_quota(struct imap_session *s, uint64_t *used_kb, uint64_t *limit_kb)
{
	const char *error = NULL;
	json_t *usage = NULL;
	uint64_t quota = 0, used;

	if (mail_account_quota(s->node->view, s->account, &quota, &error) < 0 ||
	    mail_account_usage(s->node->view, s->account, &usage, &error) < 0) {
		imap_no(s, "[SERVERBUG] Cannot read the quota: %s", error ? error : "?");
		return -1;
	}
	used = (uint64_t)json_integer_value(json_object_get(usage, "quota_used"));
	json_decref(usage);
	if (quota == 0)
		return 0;
	*used_kb = (used + 1023) / 1024;
	*limit_kb = quota / 1024;
	return 1;
}

/* RFC 9208 4.1: "* QUOTA "" (STORAGE used limit)". */
static void quota_line(struct imap_session *s, uint64_t used_kb, uint64_t limit_kb)
{
	imap_line(s, "* QUOTA \"\" (STORAGE %llu %llu)", (unsigned long long)used_kb,
		  (unsigned long long)limit_kb);
}

/* RFC 9208 4.3: GETQUOTAROOT mailbox -> QUOTAROOT, then QUOTA per root. */
void imap_cmd_getquotaroot(struct imap_session *s, const struct imap_command *cmd)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];
	const char *error = NULL;
	uint64_t used = 0, limit = 0;
	struct buf out = BUF_INIT;
	json_t *box = NULL;
	int r;

	if (cmd->nargs != 1 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_bad(s, "GETQUOTAROOT needs a mailbox name");
		return;
	}
	if ((r = mail_mailbox_by_name(s->node->view, s->account, name, &box, &error)) <= 0) {
		if (r < 0)
			imap_no(s, "[SERVERBUG] Cannot read the mailbox list: %s", error);
		else
			imap_no(s, "[NONEXISTENT] No such mailbox");
		return;
	}
	json_decref(box);
	if ((r = read_quota(s, &used, &limit)) < 0)
		return;
	buf_puts(&out, "* QUOTAROOT ");
	imap_quote_mailbox(s, &out, name);
	if (r > 0)
		buf_puts(&out, " \"\"");
	imap_line(s, "%s", out.data);
	buf_free(&out);
	if (r > 0)
		quota_line(s, used, limit);
	imap_ok(s, "GETQUOTAROOT completed");
}

/* RFC 9208 4.2: GETQUOTA root; only "" exists (and only with a quota). */
void imap_cmd_getquota(struct imap_session *s, const struct imap_command *cmd)
{
	const char *root = cmd->nargs == 1 ? imap_arg_str(&cmd->args[0]) : NULL;
	uint64_t used = 0, limit = 0;
	int r;

	if (root == NULL) {
		imap_bad(s, "GETQUOTA needs a quota root");
		return;
	}
	if (root[0] != '\0') {
		imap_no(s, "[NONEXISTENT] No such quota root");
		return;
	}
	if ((r = read_quota(s, &used, &limit)) < 0)
		return;
	if (r == 0) {
		imap_no(s, "[NONEXISTENT] No quota on this account");
		return;
	}
	quota_line(s, used, limit);
	imap_ok(s, "GETQUOTA completed");
}

/* RFC 9208 4.4: SETQUOTA root (resource limit ...); refused (admin only). */
void imap_cmd_setquota(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 2 || imap_arg_str(&cmd->args[0]) == NULL || cmd->args[1].type != IMAP_ARG_LIST ||
	    cmd->args[1].count % 2 != 0) {
		imap_bad(s, "SETQUOTA needs a quota root and a list of resource limits");
		return;
	}
	imap_no(s, "[NOPERM] Quotas are set by the administrator");
}
