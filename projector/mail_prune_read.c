/* mail_prune_read - how far pruning has gone (projector/mail_prune.c),
 * for readers that must not answer from an incomplete history: IMAP
 * QRESYNC (mail.h mail_mailbox_pruned) and JMAP /changes (mail_jmap.h
 * mail_jmap_horizon). */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "common/log.h"

#include <stdlib.h>

int mail_mailbox_pruned(struct view *view, const char *account, const char *mailbox_id, uint64_t *pruned_r,
			const char **error_r)
{
	json_t *mbox = NULL;
	json_int_t v;
	int r;

	*pruned_r = 0;
	if ((r = mail_mailbox_get(view, account, mailbox_id, &mbox, error_r)) <= 0)
		return r;
	v = json_integer_value(json_object_get(mbox, "pruned_modseq"));
	json_decref(mbox);
	*pruned_r = v > 0 ? (uint64_t)v : 0;
	return 1;
}

int mail_jmap_horizon(struct view *view, const char *account, enum mail_jtype t, int64_t *horizon_r,
		      const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], *val = NULL;
	const char *ignored;
	struct buf key = BUF_INIT;
	size_t vlen = 0;
	int r;

	*horizon_r = 0;
	if ((unsigned)t >= MAIL_J_TYPES || account == NULL || evm_address_normalize(account, acct, &ignored) < 0)
		return 0;
	mail_key(&key, acct, MAIL_K_JPRN, mail_jtype_name(t));
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	if (r == 1 && mail_jprn_pruned(val, vlen, horizon_r) < 0) {
		log_error("mail: JMAP pruning record %s is corrupt", key.data);
		*error_r = MAIL_CORRUPT;
		r = -1;
	}
	free(val);
	buf_free(&key);
	return r < 0 ? -1 : 0;
}
