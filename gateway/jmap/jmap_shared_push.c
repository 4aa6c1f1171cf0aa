/* jmap_shared_push - see jmap_shared_push.h: the shared accounts' states
 * in a user's push. */
#include "gateway/jmap/jmap_shared_push.h"
#include "gateway/jmap/jmap_push.h"
#include "gateway/jmap/jmap_shared.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/mail_acl.h"

#include <stdlib.h>
#include <string.h>

/* The types a shared account has: its mailboxes and their messages. */
#define SHARED_TYPES ((1u << MAIL_J_MAILBOX) | (1u << MAIL_J_EMAIL) | (1u << MAIL_J_THREAD))

struct shared_owner {
	char *address;
	char id[JMAP_ACCOUNT_ID_LEN + 1];
	struct projector_sub *sub;
	int64_t last[MAIL_J_TYPES];
	int fresh;                      /* found again by the last refresh */
};

struct jmap_shared_push {
	struct jmap_mail_req *req;
	unsigned mask;
	projector_change_cb *cb;
	void *ctx;
	struct shared_owner *owners;
	size_t n;
	struct projector_sub *anyone_sub;   /* the tenant's grants to anyone */
};

static void owner_clear(struct shared_owner *o)
{
	projector_unsubscribe(&o->sub);
	free(o->address);
}

/* Re-reads the owners sharing with the user: new ones are subscribed to
 * with their states as the baseline (reported at once when report_new),
 * gone ones dropped. Keeps the list as it was when the view fails. */
static void refresh(struct jmap_shared_push *sp)
{
	struct jmap_mail_user u;
	const char *error = NULL;
	size_t i, k;

	if (jmap_mail_user_build(sp->req, &u, &error) < 0) {
		log_error("jmap: push: shares of %s: %s", sp->req->address, error);
		return;
	}
	for (i = 0; i < sp->n; i++)
		sp->owners[i].fresh = 0;
	/* accounts[0] is the user's own. */
	for (k = 1; k < u.user.naccounts; k++) {
		const struct jmap_account *a = &u.user.accounts[k];

		for (i = 0; i < sp->n && strcmp(sp->owners[i].address, a->owner) != 0; i++)
			;
		if (i == sp->n) {
			struct shared_owner *o;

			sp->owners = xrealloc(sp->owners, (sp->n + 1) * sizeof *sp->owners);
			o = &sp->owners[sp->n++];
			memset(o, 0, sizeof *o);
			o->address = xstrdup(a->owner);
			snprintf(o->id, sizeof o->id, "%s", a->id);
			/* Subscribe before reading the states: no change falls between. */
			o->sub = projector_subscribe(sp->req->node->projector, o->address, sp->cb, sp->ctx);
			/* -1 (never a state) until read: a new account is reported. */
			for (int t = 0; t < MAIL_J_TYPES; t++)
				o->last[t] = -1;
		}
		sp->owners[i].fresh = 1;
	}
	jmap_mail_user_clear(&u);
	for (i = k = 0; i < sp->n; i++) {
		if (sp->owners[i].fresh)
			sp->owners[k++] = sp->owners[i];
		else
			owner_clear(&sp->owners[i]);
	}
	sp->n = k;
}

struct jmap_shared_push *jmap_shared_push_new(struct jmap_mail_req *req, unsigned mask, int from_now,
					      projector_change_cb *cb, void *ctx)
{
	struct jmap_shared_push *sp = xcalloc(1, sizeof *sp);
	struct buf channel = BUF_INIT;

	jmap_mail_req_ref(req);
	sp->req = req;
	sp->mask = mask & SHARED_TYPES;
	sp->cb = cb;
	sp->ctx = ctx;
	/* A mailbox shared with anyone of the tenant reports no sharee's
	 * account changed, but this (projector/mail_acl.h). */
	mail_acl_anyone_channel(&channel, req->tenant);
	sp->anyone_sub = projector_subscribe(req->node->projector, channel.data, cb, ctx);
	buf_free(&channel);
	refresh(sp);
	/* The states now are what the client is told first (or compares with). */
	for (size_t i = 0; from_now && i < sp->n; i++)
		if (jmap_push_states(req->node->view, sp->owners[i].address, sp->owners[i].last) < 0)
			memset(sp->owners[i].last, 0, sizeof sp->owners[i].last);
	return sp;
}

void jmap_shared_push_free(struct jmap_shared_push **spp)
{
	struct jmap_shared_push *sp = *spp;

	if (sp == NULL)
		return;
	for (size_t i = 0; i < sp->n; i++)
		owner_clear(&sp->owners[i]);
	projector_unsubscribe(&sp->anyone_sub);
	free(sp->owners);
	jmap_mail_req_unref(&sp->req);
	free(sp);
	*spp = NULL;
}

json_t *jmap_shared_push_join(struct jmap_shared_push *sp, json_t *change, int force)
{
	int64_t now[MAIL_J_TYPES];

	if (sp->mask == 0)
		return change;
	refresh(sp);
	for (size_t i = 0; i < sp->n; i++) {
		struct shared_owner *o = &sp->owners[i];
		json_t *one;

		if (jmap_push_states(sp->req->node->view, o->address, now) < 0)
			continue;
		one = jmap_push_state_change(o->id, sp->mask, now, o->last, force);
		if (one == NULL)
			continue;
		if (change == NULL)
			change = json_pack("{s:s, s:{}}", "@type", "StateChange", "changed");
		json_object_update(json_object_get(change, "changed"), json_object_get(one, "changed"));
		json_decref(one);
	}
	return change;
}
