/* jmap_session - the Session resource (RFC 8620 2) that a client fetches
 * from /.well-known/jmap: capabilities (core with the limits of
 * jmap_settings, plus every capability added to the api), the user's
 * accounts with their accountCapabilities, primaryAccounts, username, the
 * URL templates, and state.
 *
 * Built from plain inputs only. state is derived from them (a SHA-256 of
 * the canonical JSON of everything else), so identical inputs give the
 * same state on every node, with no clock and no randomness, and any
 * change of accounts, capabilities, limits or URLs changes it.
 *
 * primaryAccounts: for each capability some account has, the first
 * personal account in the list that has it, else the first that has it. */
#ifndef EVM_JMAP_SESSION_H
#define EVM_JMAP_SESSION_H

#include <jansson.h>

#include "gateway/jmap/jmap_api.h"

/* Hex digits of a session state, plus the NUL. */
#define JMAP_SESSION_STATE_SIZE 17

/* URL templates (RFC 6570 level 1) of RFC 8620 2; borrowed. */
struct jmap_session_urls {
	const char *api;            /* apiUrl */
	const char *download;       /* downloadUrl: {accountId} {blobId} {type} {name} */
	const char *upload;         /* uploadUrl: {accountId} */
	const char *event_source;   /* eventSourceUrl: {types} {closeafter} {ping} */
};

/* The Session object of user: 0 with *session_r (new reference), or -1
 * with *error_r when a URL lacks a variable RFC 8620 2 requires, an
 * account id is not an Id, an account lists a capability the api does not
 * have, or two accounts share an id. */
int jmap_session_build(const struct jmap_api *api, const struct jmap_user *user,
		       const struct jmap_session_urls *urls, json_t **session_r, const char **error_r);

/* Only the state of that Session (for a Response's sessionState). */
int jmap_session_state(const struct jmap_api *api, const struct jmap_user *user,
		       const struct jmap_session_urls *urls, char state[JMAP_SESSION_STATE_SIZE],
		       const char **error_r);

#endif
