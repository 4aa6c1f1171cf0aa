/* jmap_pushsub_private - what PushSubscription/get (jmap_pushsub.c) and
 * /set (jmap_pushsub_set.c) share. */
#ifndef EVM_JMAP_PUSHSUB_PRIVATE_H
#define EVM_JMAP_PUSHSUB_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "gateway/jmap/jmap_api.h"

/* The longest life of a subscription: a client's expires is clamped to
 * now + this, and none is now + this (RFC 8620 7.2 lets the server
 * shorten it). 7 days; a client extends it by updating expires. */
#define JMAP_PUSHSUB_LIFE_MAX_MS (7LL * 24 * 3600 * 1000)

/* The subscription record (projector/mail.h pushsub.set) as a JMAP
 * PushSubscription (RFC 8620 7.2) without the write-only url and keys;
 * verificationCode is the code only once the client proved it has it. */
json_t *jmap_pushsub_object(json_t *rec);
/* 1 when rec lapsed by now_ms (its expires is at or before it). */
int jmap_pushsub_lapsed(json_t *rec, int64_t now_ms);
/* The call's user's live subscription id: 1 with *rec_r, 0 none (absent
 * or lapsed), -1 after finishing the call with serverFail. */
int jmap_pushsub_load(struct jmap_call *call, const char *id, json_t **rec_r);

void jmap_pushsub_set(struct jmap_call *call, json_t *args, void *ctx);

#endif
