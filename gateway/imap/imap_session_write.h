/* imap_session_write - a command's write: one event submitted to the log,
 * its outcome mapped to the tagged reply (imap_session_write.c) */
#ifndef EVM_IMAP_SESSION_WRITE_H
#define EVM_IMAP_SESSION_WRITE_H

#include <jansson.h>

#include "ingest/evlog.h"
#include "gateway/imap/imap_session_private.h"

struct imap_session;
/* Writes: submits one mail event for the account; cb runs on the loop once
 * (not when the connection is gone), after the projector's outcome. data is
 * stolen. The session waits (no further input is processed). */
void imap_submit(struct imap_session *s, const char *type, json_t *data, imap_write_cb *cb);
/* imap_submit whose cb runs once the record (topic, partition, offset) is
 * applied locally too, e.g. the last chunk of an APPENDed blob, so a FETCH
 * right after the answer finds the body (imap_session_write.c). */
void imap_submit_after(struct imap_session *s, const char *type, json_t *data, enum evm_topic_id topic,
		       int32_t partition, int64_t offset, imap_write_cb *cb);
/* ", the server's disk is full" when a failed write's error says the log's
 * storage is full (EVLOG_ERR_STORAGE_FULL), else "": for NO [UNAVAILABLE]. */
const char *imap_unavailable_why(struct imap_session *s, const char *error);
/* 1 when the outcome is "accepted"; else answers NO with a response code
 * mapped from the projector's code (RFC 5530) and returns 0. */
int imap_outcome_ok(struct imap_session *s, int status, json_t *outcome, const char *error,
		    const char *what);
/* The outcome of a write whose success is "<command> completed". */
imap_write_cb imap_done_simple;

#endif
