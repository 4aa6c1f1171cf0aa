/* jmap_push - see jmap_push.h. */
#include "gateway/jmap/jmap_push.h"
#include "gateway/jmap/jmap_submission.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* In the order of enum mail_jtype. */
static const char *const type_names[MAIL_J_TYPES] = { "Mailbox", "Email", "Thread", "VacationResponse",
								"EmailSubmission", "Identity" };

const char *jmap_push_type_name(enum mail_jtype t)
{
	return (unsigned)t < MAIL_J_TYPES ? type_names[t] : "?";
}

unsigned jmap_push_type_bit(const char *name)
{
	for (int t = 0; t < MAIL_J_TYPES; t++)
		if (strcmp(name, type_names[t]) == 0)
			return 1u << t;
	return 0;
}

int jmap_push_states(struct view *view, const char *address, int64_t now[MAIL_J_TYPES])
{
	const char *error = NULL;

	for (int t = 0; t < MAIL_J_TYPES; t++) {
		/* Identity's state covers the directory's defaults too. */
		if ((t == MAIL_J_IDENTITY ? jmap_identity_state(view, address, &now[t], &error) :
		     mail_jmap_state(view, address, (enum mail_jtype)t, &now[t], &error)) < 0) {
			log_error("jmap: push states of %s: %s", address, error);
			return -1;
		}
	}
	return 0;
}

json_t *jmap_push_state_change(const char *account_id, unsigned mask, const int64_t now[MAIL_J_TYPES],
			       int64_t last[MAIL_J_TYPES], int force)
{
	json_t *types = json_object();
	char s[32];

	for (int t = 0; t < MAIL_J_TYPES; t++) {
		if (!(mask & (1u << t)) || (!force && now[t] == last[t]))
			continue;
		/* A state string is the type's modseq (jmap_mail.h). */
		snprintf(s, sizeof s, "%" PRId64, now[t]);
		json_object_set_new(types, type_names[t], json_string(s));
		last[t] = now[t];
	}
	if (json_object_size(types) == 0) {
		json_decref(types);
		return NULL;
	}
	return json_pack("{s:s, s:{s:o}}", "@type", "StateChange", "changed", account_id, types);
}
