/* jmap_email_set_private - Email/set's run context and its checks in an
 * account shared by ACL (jmap_email_set_scope.c), for jmap_email_set.c. */
#ifndef EVM_JMAP_EMAIL_SET_PRIVATE_H
#define EVM_JMAP_EMAIL_SET_PRIVATE_H

#include <jansson.h>

#include "gateway/jmap/jmap_email_patch.h"
#include "gateway/jmap/jmap_set_run.h"

/* What one run works with (the run's context). */
struct eset_ctx {
	json_t *scope;        /* jmap_shared_scope: NULL in the user's own account */
	json_t *update;       /* an implicit run's update map (it owns it), or NULL */
};

void jmap_eset_ctx_free(void *ctx);
/* The run's scope (NULL: the user's own account). */
const json_t *jmap_eset_scope(struct jmap_setrun *sr);

/* 1 when every copy's mailbox ({mailbox id: uids}) grants bits in the
 * run's account, else 0 after recording forbidden for the object. */
int jmap_eset_allowed(struct jmap_setrun *sr, enum jmap_set_op op, const char *id, json_t *copies, unsigned bits);
/* In a shared account: 1 after recording the SetError when a mailbox
 * added (ids) is not shared (as if it did not exist) or lacks i, or one
 * removed lacks t and e; else 0. */
int jmap_eset_rights_refused(struct jmap_setrun *sr, const char *id, json_t *added, json_t *removed);
/* The rights a keyword change needs on each copy (RFC 4314 4; a whole
 * set is a "set" store, which the owner's projector checks for s, t and w). */
unsigned jmap_eset_keyword_rights(const struct jmap_email_patch *e);

#endif
