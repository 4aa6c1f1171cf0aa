/* jmap_email_patch - an Email/set update's PatchObject (RFC 8620 5.3)
 * over the two mutable Email properties (RFC 8621 4.6): keywords (whole
 * or "keywords/<kw>") as IMAP flags, and mailboxIds (whole or
 * "mailboxIds/<id>", "#cid" resolved) as existing mailbox ids. Any other
 * property is immutable: invalidProperties. A property and a path in it
 * together: invalidPatch. */
#ifndef EVM_JMAP_EMAIL_PATCH_H
#define EVM_JMAP_EMAIL_PATCH_H

#include <jansson.h>

#include "gateway/jmap/jmap_set_run.h"

struct jmap_email_patch {
	json_t *kw_whole;        /* IMAP flags, or NULL */
	json_t *kw_add, *kw_remove;
	json_t *mb_whole;        /* mailbox ids, or NULL */
	json_t *mb_add, *mb_remove;
};

/* Parses the patch of email id: 0 (free it with jmap_email_patch_free),
 * or -1 after recording the object's SetError (e is then empty; freeing
 * it again does nothing). */
int jmap_email_patch_parse(struct jmap_setrun *sr, const char *id, json_t *patch, struct jmap_email_patch *e);
void jmap_email_patch_free(struct jmap_email_patch *e);

#endif
