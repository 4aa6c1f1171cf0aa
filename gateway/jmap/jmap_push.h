/* jmap_push - what both push channels of a node share: EventSource
 * (RFC 8620 7.3, jmap_events.c) and JMAP over WebSocket (RFC 8887 4.3.5,
 * jmap_ws.c). The data type names, an account's current states from the
 * view, and the StateChange object (RFC 8620 7.1) of the types that moved.
 * Loop thread only (it reads the view). */
#ifndef EVM_JMAP_PUSH_H
#define EVM_JMAP_PUSH_H

#include <jansson.h>
#include <stdint.h>

#include "projector/mail_jmap.h"

struct view;

/* Every type a push can carry: a bit per enum mail_jtype. */
#define JMAP_PUSH_ALL ((1u << MAIL_J_TYPES) - 1)

/* The JMAP name of type t ("Mailbox", "Email", "Thread"). */
const char *jmap_push_type_name(enum mail_jtype t);
/* The bit of a JMAP type name, 0 for a type this server does not push
 * (a client may ask for types it does not know). */
unsigned jmap_push_type_bit(const char *name);

/* The states of every type of the account at address. 0, or -1 (logged). */
int jmap_push_states(struct view *view, const char *address, int64_t now[MAIL_J_TYPES]);

/* A StateChange {"@type":"StateChange","changed":{account_id:{type:state}}}
 * with the types of mask whose state in now differs from last (all of
 * mask when force); last takes those states. NULL when none moved. New
 * reference. */
json_t *jmap_push_state_change(const char *account_id, unsigned mask, const int64_t now[MAIL_J_TYPES],
			       int64_t last[MAIL_J_TYPES], int force);

#endif
