/* jmap_user - a run's own copy of the user and accounts it was started
 * with, so a handler still finishing after jmap_run_cancel() never reads
 * the caller's memory. */
#include "gateway/jmap/jmap_private.h"
#include "common/buf.h"

#include <stdlib.h>

/* A NULL-terminated copy of a NULL-terminated list of strings (or NULL). */
static const char *const *dup_list(const char *const *list)
{
	size_t n = 0;
	char **out;

	if (list == NULL)
		return NULL;
	while (list[n] != NULL)
		n++;
	out = xcalloc(n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(list[i]);
	return (const char *const *)out;
}

static void free_list(const char *const *list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		free((char *)list[i]);
	free((void *)list);
}

struct jmap_user *jmap_user_dup(const struct jmap_user *u)
{
	struct jmap_user *c = xcalloc(1, sizeof *c);
	struct jmap_account *accts;

	if (u == NULL)
		return c;
	c->username = u->username != NULL ? xstrdup(u->username) : NULL;
	c->naccounts = u->naccounts;
	accts = xcalloc(u->naccounts + 1, sizeof *accts);
	for (size_t i = 0; i < u->naccounts; i++) {
		accts[i] = u->accounts[i];
		accts[i].id = xstrdup(u->accounts[i].id);
		accts[i].name = u->accounts[i].name != NULL ? xstrdup(u->accounts[i].name) : NULL;
		accts[i].owner = u->accounts[i].owner != NULL ? xstrdup(u->accounts[i].owner) : NULL;
		accts[i].capabilities = dup_list(u->accounts[i].capabilities);
	}
	c->accounts = accts;
	return c;
}

void jmap_user_free(struct jmap_user **u)
{
	struct jmap_user *c = *u;

	if (c == NULL)
		return;
	for (size_t i = 0; i < c->naccounts; i++) {
		free((char *)c->accounts[i].id);
		free((char *)c->accounts[i].name);
		free((char *)c->accounts[i].owner);
		free_list(c->accounts[i].capabilities);
	}
	free((void *)c->accounts);
	free((char *)c->username);
	free(c);
	*u = NULL;
}
