/* jmap_email_copy_private - what the two halves of Email/copy share:
 * the call in progress (jmap_email_copy.c) and the check of one creation
 * (jmap_email_copy_one.c). */
#ifndef EVM_JMAP_EMAIL_COPY_PRIVATE_H
#define EVM_JMAP_EMAIL_COPY_PRIVATE_H

#include <jansson.h>

#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_std.h"

struct copy_call {
	struct jmap_call *call;
	struct jmap_mail_req *req;
	const struct jmap_account *from, *to;
	const char *from_addr, *to_addr;
	json_t *from_scope, *to_scope;   /* NULL: the user's own account */
	json_t *create;                  /* borrowed from the arguments */
	void *iter;
	struct jmap_set_result r;
	char old_state[JMAP_STATE_MAX];
	int destroy_original;
	const char *destroy_if;          /* borrowed from the arguments */
	json_t *originals;               /* ids copied, to destroy */
	/* the creation in progress */
	json_t *boxes;
	char email_id[33];
	json_int_t uid, size;
	size_t next_box;
	json_t *pending;                 /* its message.append, while its body is stored again */
};

/* Records the SetError of the creation at cc->iter. */
void jmap_copy_not_created(struct copy_call *cc, const char *type, const char *desc, const char *prop);

/* Checks the creation obj at cc->iter: 1 with cc->boxes, cc->email_id,
 * cc->size and *data_r (the message.append of the copy), 0 when it failed
 * (recorded), -1 on a view error (*error_r). */
int jmap_copy_prepare(struct copy_call *cc, json_t *obj, json_t **data_r, const char **error_r);

#endif
