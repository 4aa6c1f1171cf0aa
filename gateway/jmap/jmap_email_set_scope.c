/* jmap_email_set_scope - Email/set in an account shared by ACL: the
 * rights each change needs on the mailboxes it touches (RFC 4314 2.1, 4),
 * checked before the owner's projector checks them again. See
 * jmap_email_set_private.h. */
#include "gateway/jmap/jmap_email_set_private.h"
#include "gateway/jmap/jmap_shared.h"
#include "projector/mail_acl.h"

#include <stdlib.h>

void jmap_eset_ctx_free(void *ctx)
{
	struct eset_ctx *c = ctx;

	json_decref(c->scope);
	json_decref(c->update);
	free(c);
}

const json_t *jmap_eset_scope(struct jmap_setrun *sr)
{
	return ((struct eset_ctx *)jmap_setrun_ctx(sr))->scope;
}

int jmap_eset_allowed(struct jmap_setrun *sr, enum jmap_set_op op, const char *id, json_t *copies, unsigned bits)
{
	const char *mb;
	json_t *uids;

	json_object_foreach(copies, mb, uids) {
		if (!jmap_shared_allows(jmap_eset_scope(sr), mb, bits)) {
			jmap_setrun_fail(sr, op, id, jmap_set_error("forbidden", "the mailbox's owner did not grant "
								    "this right (RFC 4314)", NULL));
			return 0;
		}
	}
	return 1;
}

int jmap_eset_rights_refused(struct jmap_setrun *sr, const char *id, json_t *added, json_t *removed)
{
	const json_t *scope = jmap_eset_scope(sr);
	json_t *v;
	size_t i;

	if (scope == NULL)
		return 0;
	json_array_foreach(added, i, v) {
		if (json_object_get(scope, json_string_value(v)) == NULL) {
			jmap_setrun_fail(sr, JMAP_OP_UPDATE, id,
					 jmap_set_error("invalidProperties", "not existing mailboxes of this account",
							json_pack("[s]", "mailboxIds")));
			return 1;
		}
	}
	json_array_foreach(added, i, v)
		if (!jmap_shared_allows(scope, json_string_value(v), MAIL_R_INSERT))
			goto forbidden;
	json_array_foreach(removed, i, v)
		if (!jmap_shared_allows(scope, json_string_value(v), MAIL_R_DELMSG | MAIL_R_EXPUNGE))
			goto forbidden;
	return 0;
forbidden:
	jmap_setrun_fail(sr, JMAP_OP_UPDATE, id,
			 jmap_set_error("forbidden", "the mailbox's owner did not grant this right (RFC 4314)", NULL));
	return 1;
}

unsigned jmap_eset_keyword_rights(const struct jmap_email_patch *e)
{
	if (e->kw_whole != NULL)
		return MAIL_R_SEEN | MAIL_R_WRITE | MAIL_R_DELMSG;
	return mail_acl_flag_rights(e->kw_add) | mail_acl_flag_rights(e->kw_remove);
}

