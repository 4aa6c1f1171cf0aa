/* imap_notify - parses NOTIFY (RFC 5465 8) from the generic command
 * arguments into struct imap_notify_spec and answers which events apply
 * to a mailbox. The rules checked: one selected / selected-delayed group
 * (6), MessageNew and MessageExpunge together, FlagChange only with them
 * (5), fetch attributes only for the selected mailbox (5.1), an event not
 * supported is NO [BADEVENT] (3.1), at most IMAP_NOTIFY_GROUPS_MAX groups
 * and IMAP_NOTIFY_NAMES_MAX mailbox names (NO [LIMIT]). */
#include "gateway/imap/imap_notify.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_acl.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct { const char *name; enum imap_notify_filter f; } filters[] = {
	{ "selected", IMAP_NF_SELECTED }, { "selected-delayed", IMAP_NF_SELECTED_DELAYED },
	{ "inboxes", IMAP_NF_INBOXES }, { "personal", IMAP_NF_PERSONAL },
	{ "subscribed", IMAP_NF_SUBSCRIBED }, { "subtree", IMAP_NF_SUBTREE },
	{ "mailboxes", IMAP_NF_MAILBOXES },
};

static const struct { const char *name; unsigned bit; } events[] = {
	{ "MessageNew", IMAP_NE_MESSAGE_NEW }, { "MessageExpunge", IMAP_NE_MESSAGE_EXPUNGE },
	{ "FlagChange", IMAP_NE_FLAG_CHANGE }, { "MailboxName", IMAP_NE_MAILBOX_NAME },
	{ "SubscriptionChange", IMAP_NE_SUBSCRIPTION },
	{ "MailboxMetadataChange", IMAP_NE_MAILBOX_METADATA },
	{ "ServerMetadataChange", IMAP_NE_SERVER_METADATA },
};

static const struct { const char *name; unsigned bit; } fetch_atts[] = {
	{ "UID", IMAP_NFA_UID }, { "FLAGS", IMAP_NFA_FLAGS }, { "MODSEQ", IMAP_NFA_MODSEQ },
	{ "RFC822.SIZE", IMAP_NFA_SIZE }, { "INTERNALDATE", IMAP_NFA_INTERNALDATE },
};

void imap_notify_spec_free(struct imap_notify_spec **spec)
{
	struct imap_notify_spec *sp = *spec;

	if (sp == NULL)
		return;
	for (size_t i = 0; i < sp->n; i++) {
		for (size_t j = 0; j < sp->groups[i].nnames; j++)
			free(sp->groups[i].names[j]);
		free(sp->groups[i].names);
	}
	free(sp->groups);
	free(sp);
	*spec = NULL;
}

/* One mailbox name into g (canonical, UTF-8). 0 or -1. */
static int add_name(struct imap_session *s, struct imap_notify_group *g, const struct imap_arg *a)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];

	if (a->type == IMAP_ARG_LIST)
		return -1;
	if ((s != NULL ? imap_mailbox_arg_s(s, a, name, sizeof name) : imap_mailbox_arg(a, name, sizeof name)) < 0)
		return -1;
	g->names = xrealloc(g->names, (g->nnames + 1) * sizeof *g->names);
	g->names[g->nnames++] = xstrdup(name);
	return 0;
}

/* The fetch attributes of MessageNew (RFC 5465 5.1, a parenthesised
 * list). 0 or -1. */
static int parse_fetch(const struct imap_arg *l, unsigned *bits)
{
	if (l->count == 0)
		return -1;
	for (size_t i = 0; i < l->count; i++) {
		size_t k;

		for (k = 0; k < sizeof fetch_atts / sizeof fetch_atts[0]; k++) {
			if (l->list[i].type == IMAP_ARG_ATOM && strcasecmp(l->list[i].str, fetch_atts[k].name) == 0)
				break;
		}
		if (k == sizeof fetch_atts / sizeof fetch_atts[0])
			return -1;
		*bits |= fetch_atts[k].bit;
	}
	return 0;
}

/* The events of a group: "NONE" or "(" event *(SP event) ")". */
static int parse_events(const struct imap_arg *a, struct imap_notify_group *g, unsigned *fetch,
			const char **error_r)
{
	bool selected = g->filter == IMAP_NF_SELECTED || g->filter == IMAP_NF_SELECTED_DELAYED;

	if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "NONE") == 0)
		return IMAP_NOTIFY_OK;
	if (a->type != IMAP_ARG_LIST || a->count == 0) {
		*error_r = "NOTIFY needs a list of events or NONE";
		return IMAP_NOTIFY_BAD;
	}
	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *e = &a->list[i];
		size_t k;

		if (e->type != IMAP_ARG_ATOM) {
			*error_r = "Invalid NOTIFY event";
			return IMAP_NOTIFY_BAD;
		}
		for (k = 0; k < sizeof events / sizeof events[0]; k++) {
			if (strcasecmp(e->str, events[k].name) == 0)
				break;
		}
		if (k == sizeof events / sizeof events[0]) {
			/* RFC 5465 3.1: an event the server does not support */
			*error_r = "[BADEVENT " IMAP_NOTIFY_SUPPORTED "] Unsupported event";
			return IMAP_NOTIFY_BADEVENT;
		}
		if (selected && !(events[k].bit & IMAP_NE_MESSAGE)) {
			/* RFC 5465 6.1: the selected filters take message events only */
			*error_r = "Only message events for the selected mailbox";
			return IMAP_NOTIFY_BAD;
		}
		g->events |= events[k].bit;
		if (events[k].bit == IMAP_NE_MESSAGE_NEW && i + 1 < a->count && a->list[i + 1].type == IMAP_ARG_LIST) {
			/* RFC 5465 5.1: fetch attributes only for the selected mailbox */
			if (!selected || parse_fetch(&a->list[i + 1], fetch) < 0) {
				*error_r = !selected ? "MessageNew fetch attributes need the selected filter" :
						       "Unsupported fetch attribute in MessageNew";
				return IMAP_NOTIFY_BAD;
			}
			i++;
		}
	}
	/* RFC 5465 5: MessageNew and MessageExpunge go together; FlagChange
	 * needs both. */
	if (!!(g->events & IMAP_NE_MESSAGE_NEW) != !!(g->events & IMAP_NE_MESSAGE_EXPUNGE) ||
	    ((g->events & IMAP_NE_FLAG_CHANGE) &&
	     (g->events & (IMAP_NE_MESSAGE_NEW | IMAP_NE_MESSAGE_EXPUNGE)) !=
		     (IMAP_NE_MESSAGE_NEW | IMAP_NE_MESSAGE_EXPUNGE))) {
		*error_r = "MessageNew and MessageExpunge go together, FlagChange needs both";
		return IMAP_NOTIFY_BAD;
	}
	return IMAP_NOTIFY_OK;
}

/* One event group "(" filter-mailboxes SP events ")". */
static int parse_group(struct imap_session *s, const struct imap_arg *a, struct imap_notify_spec *sp,
		       size_t *names, const char **error_r)
{
	struct imap_notify_group *g = &sp->groups[sp->n];
	const struct imap_arg *l = a->list;
	size_t k, at = 1;

	*error_r = "Invalid NOTIFY event group";
	if (a->type != IMAP_ARG_LIST || a->count < 2 || l[0].type != IMAP_ARG_ATOM)
		return IMAP_NOTIFY_BAD;
	for (k = 0; k < sizeof filters / sizeof filters[0]; k++) {
		if (strcasecmp(l[0].str, filters[k].name) == 0)
			break;
	}
	if (k == sizeof filters / sizeof filters[0]) {
		*error_r = "Unknown NOTIFY filter";
		return IMAP_NOTIFY_BAD;
	}
	memset(g, 0, sizeof *g);
	g->filter = filters[k].f;
	sp->n++;
	if (g->filter == IMAP_NF_SUBTREE || g->filter == IMAP_NF_MAILBOXES) {
		/* one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")" */
		const struct imap_arg *m = &l[1];
		size_t cnt = m->type == IMAP_ARG_LIST ? m->count : 1;

		if (a->count != 3 || cnt == 0) {
			*error_r = "subtree and mailboxes need mailbox names";
			return IMAP_NOTIFY_BAD;
		}
		if ((*names += cnt) > IMAP_NOTIFY_NAMES_MAX) {
			*error_r = "[LIMIT] Too many mailboxes in NOTIFY";
			return IMAP_NOTIFY_LIMIT;
		}
		for (size_t i = 0; i < cnt; i++) {
			if (add_name(s, g, m->type == IMAP_ARG_LIST ? &m->list[i] : m) < 0) {
				*error_r = "Invalid mailbox name in NOTIFY";
				return IMAP_NOTIFY_BAD;
			}
		}
		at = 2;
	} else if (a->count != 2) {
		return IMAP_NOTIFY_BAD;
	}
	return parse_events(&l[at], g, &sp->fetch, error_r);
}

int imap_notify_parse(struct imap_session *s, const struct imap_arg *args, size_t nargs,
		      struct imap_notify_spec **spec_r, const char **error_r)
{
	struct imap_notify_spec *sp = xcalloc(1, sizeof *sp);
	size_t i = 1, names = 0, nsel = 0;
	int r;

	*spec_r = NULL;
	*error_r = "NOTIFY needs SET or NONE";
	if (nargs == 1 && args[0].type == IMAP_ARG_ATOM && strcasecmp(args[0].str, "NONE") == 0) {
		sp->none = true;
		*spec_r = sp;
		return IMAP_NOTIFY_OK;
	}
	if (nargs < 2 || args[0].type != IMAP_ARG_ATOM || strcasecmp(args[0].str, "SET") != 0) {
		free(sp);
		return IMAP_NOTIFY_BAD;
	}
	if (args[1].type == IMAP_ARG_ATOM && strcasecmp(args[1].str, "STATUS") == 0) {
		sp->status = true;
		i = 2;
	}
	if (i >= nargs) {
		free(sp);
		*error_r = "NOTIFY SET needs event groups";
		return IMAP_NOTIFY_BAD;
	}
	if (nargs - i > IMAP_NOTIFY_GROUPS_MAX) {
		free(sp);
		*error_r = "[LIMIT] Too many NOTIFY event groups";
		return IMAP_NOTIFY_LIMIT;
	}
	sp->groups = xcalloc(nargs - i, sizeof *sp->groups);
	for (; i < nargs; i++) {
		if ((r = parse_group(s, &args[i], sp, &names, error_r)) != IMAP_NOTIFY_OK) {
			imap_notify_spec_free(&sp);
			return r;
		}
		if (sp->groups[sp->n - 1].filter <= IMAP_NF_SELECTED_DELAYED && ++nsel > 1) {
			imap_notify_spec_free(&sp);
			*error_r = "Only one selected or selected-delayed filter";   /* RFC 5465 6 */
			return IMAP_NOTIFY_BAD;
		}
	}
	*spec_r = sp;
	return IMAP_NOTIFY_OK;
}

/* name is base or below it. */
static bool in_subtree(const char *base, const char *name)
{
	size_t n = strlen(base);

	return strncmp(base, name, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

/* RFC 5465 6: whether group g's filter takes the mailbox name. */
static bool takes(const struct imap_notify_group *g, const char *name, bool subscribed)
{
	switch (g->filter) {
	case IMAP_NF_SELECTED:
	case IMAP_NF_SELECTED_DELAYED:
		return false;
	case IMAP_NF_INBOXES:   /* 6.1: where mail is delivered: INBOX here */
		return strcmp(name, "INBOX") == 0;
	case IMAP_NF_PERSONAL:  /* 6.1: the personal namespace */
		return !imap_acl_is_other(name);
	case IMAP_NF_SUBSCRIBED:
		return subscribed;
	case IMAP_NF_SUBTREE:
	case IMAP_NF_MAILBOXES:
		for (size_t i = 0; i < g->nnames; i++) {
			if (g->filter == IMAP_NF_SUBTREE ? in_subtree(g->names[i], name) :
							   strcmp(g->names[i], name) == 0)
				return true;
		}
		return false;
	}
	return false;
}

unsigned imap_notify_events_for(const struct imap_notify_spec *sp, const char *name, bool subscribed)
{
	if (sp == NULL)
		return 0;
	for (size_t i = 0; i < sp->n; i++) {
		if (takes(&sp->groups[i], name, subscribed))
			return sp->groups[i].events;
	}
	return 0;
}

unsigned imap_notify_selected_events(const struct imap_notify_spec *sp, bool *delayed_r)
{
	*delayed_r = false;
	for (size_t i = 0; sp != NULL && i < sp->n; i++) {
		if (sp->groups[i].filter <= IMAP_NF_SELECTED_DELAYED) {
			*delayed_r = sp->groups[i].filter == IMAP_NF_SELECTED_DELAYED;
			return sp->groups[i].events;
		}
	}
	return 0;
}

unsigned imap_notify_all_events(const struct imap_notify_spec *sp)
{
	unsigned ev = 0;

	for (size_t i = 0; sp != NULL && i < sp->n; i++)
		ev |= sp->groups[i].events;
	return ev;
}
