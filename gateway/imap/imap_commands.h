/* imap_commands - the command handlers (imap_cmd_*.c), used only by the
 * command table (imap_cmd_table.c) */
#ifndef EVM_IMAP_COMMANDS_H
#define EVM_IMAP_COMMANDS_H

#include "gateway/imap/imap_session_private.h"

/* RFC 4978 COMPRESS DEFLATE (imap_cmd_compress.c). */
imap_cmd_fn imap_cmd_compress;
imap_cmd_fn imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_starttls,
	imap_cmd_authenticate, imap_cmd_login, imap_cmd_enable, imap_cmd_id, imap_cmd_namespace,
	imap_cmd_create, imap_cmd_delete, imap_cmd_rename, imap_cmd_subscribe, imap_cmd_unsubscribe,
	imap_cmd_list, imap_cmd_lsub, imap_cmd_status, imap_cmd_append, imap_cmd_select,
	imap_cmd_examine, imap_cmd_close, imap_cmd_unselect, imap_cmd_expunge, imap_cmd_check,
	imap_cmd_search, imap_cmd_fetch, imap_cmd_store, imap_cmd_copy, imap_cmd_move,
	imap_cmd_idle;
/* RFC 5256 SORT / THREAD, RFC 5267 ESORT (imap_cmd_sort.c, imap_cmd_thread.c). */
imap_cmd_fn imap_cmd_sort, imap_cmd_thread;
/* RFC 9208 QUOTA (imap_cmd_quota.c). */
imap_cmd_fn imap_cmd_getquotaroot, imap_cmd_getquota, imap_cmd_setquota;
/* RFC 4314 ACL (imap_cmd_acl.c). */
imap_cmd_fn imap_cmd_setacl, imap_cmd_deleteacl, imap_cmd_getacl, imap_cmd_listrights, imap_cmd_myrights;
/* RFC 8437 UNAUTHENTICATE (imap_cmd_unauthenticate.c); RFC 8508 REPLACE (imap_cmd_replace.c). */
imap_cmd_fn imap_cmd_unauthenticate, imap_cmd_replace;
/* RFC 5464 METADATA (imap_cmd_metadata.c); RFC 4467 URLAUTH (imap_cmd_urlauth.c). */
imap_cmd_fn imap_cmd_getmetadata, imap_cmd_setmetadata;
imap_cmd_fn imap_cmd_genurlauth, imap_cmd_resetkey, imap_cmd_urlfetch;
/* RFC 5465 NOTIFY (imap_cmd_notify.c). */
imap_cmd_fn imap_cmd_notify;
/* EXPUNGE's pieces (imap_mbox_deleted_pieces), one message.expunge after
 * another, then done with the last outcome or the first failure; shared
 * by EXPUNGE and CLOSE (imap_cmd_expunge.c). Takes pieces. */
void imap_expunge_run(struct imap_session *s, json_t *pieces, imap_write_cb *done);
/* RFC 5267 4.3.1 CANCELUPDATE (imap_cmd_cancelupdate.c). */
imap_cmd_fn imap_cmd_cancelupdate;

#endif
