/* mail_appliers - the mail aggregate's applier table (projector/mail.h). */
#include "projector/mail_internal.h"

const struct applier mail_appliers[] = {
	{ "mailbox.provision", EVM_TOPIC_MAIL, mail_apply_provision },
	{ "account.quota", EVM_TOPIC_MAIL, mail_apply_quota },
	{ "mailbox.create", EVM_TOPIC_MAIL, mail_apply_mailbox_create },
	{ "mailbox.rename", EVM_TOPIC_MAIL, mail_apply_mailbox_rename },
	{ "mailbox.delete", EVM_TOPIC_MAIL, mail_apply_mailbox_delete },
	{ "mailbox.subscribe", EVM_TOPIC_MAIL, mail_apply_subscribe },
	{ "message.append", EVM_TOPIC_MAIL, mail_apply_append },
	{ "message.store", EVM_TOPIC_MAIL, mail_apply_store },
	{ "message.copy", EVM_TOPIC_MAIL, mail_apply_copy },
	{ "message.move", EVM_TOPIC_MAIL, mail_apply_move },
	{ "message.expunge", EVM_TOPIC_MAIL, mail_apply_expunge },
	{ "mailbox.claim_recent", EVM_TOPIC_MAIL, mail_apply_claim_recent },
	{ "mailbox.metadata", EVM_TOPIC_MAIL, mail_apply_metadata },
	{ "mailbox.urlauth_key", EVM_TOPIC_MAIL, mail_apply_urlauth_key },
	{ "mailbox.acl", EVM_TOPIC_MAIL, mail_apply_acl },
	{ "vacation.set", EVM_TOPIC_MAIL, mail_apply_vacation_set },
	{ "vacation.reply", EVM_TOPIC_MAIL, mail_apply_vacation_reply },
	{ "blob.upload", EVM_TOPIC_MAIL, mail_apply_upload },
	{ "pushsub.set", EVM_TOPIC_MAIL, mail_apply_pushsub_set },
	{ "pushsub.destroy", EVM_TOPIC_MAIL, mail_apply_pushsub_destroy },
	{ "submission.record", EVM_TOPIC_MAIL, mail_apply_submission_record },
	{ "submission.destroy", EVM_TOPIC_MAIL, mail_apply_submission_destroy },
	{ NULL, EVM_TOPIC_MAIL, NULL },
};
