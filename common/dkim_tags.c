/* dkim_tags - see dkim_tags.h. */
#include "common/dkim_tags.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

enum { T_PRE_NAME, T_NAME, T_POST_NAME, T_PRE_VALUE, T_VALUE };

static int is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ALPHA / DIGIT / "_" (RFC 6376 3.2 ALNUMPUNC); a name starts with ALPHA. */
static int name_char(char c, int first)
{
	int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');

	return first ? alpha : alpha || (c >= '0' && c <= '9') || c == '_';
}

void dkim_tags_init(struct dkim_tags *t)
{
	memset(t, 0, sizeof *t);
	t->state = T_PRE_NAME;
}

static int fail(struct dkim_tags *t, const char *why)
{
	t->error = why;
	free(t->value);
	t->value = NULL;
	return -1;
}

/* The current tag is complete: keep it (duplicates refused). */
static int end_tag(struct dkim_tags *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->tag[i].name, t->name) == 0)
			return fail(t, "duplicate tag");
	if (t->n == DKIM_TAGS_MAX)
		return fail(t, "too many tags");
	while (t->value_len > 0 && is_fws(t->value[t->value_len - 1]))
		t->value[--t->value_len] = '\0';
	memcpy(t->tag[t->n].name, t->name, t->name_len + 1);
	t->tag[t->n].value = t->value != NULL ? t->value : xcalloc(1, 1);
	t->n++;
	t->value = NULL;
	t->value_len = 0;
	t->name_len = 0;
	t->state = T_PRE_NAME;
	return 0;
}

/* Appends c to the value (whitespace too: trailing FWS is trimmed at the
 * end of the tag, so the result does not depend on how input was split). */
static int value_add(struct dkim_tags *t, char c)
{
	if (t->value_len + 2 > DKIM_TAG_VALUE_MAX)
		return fail(t, "tag value too long");
	t->value = xrealloc(t->value, t->value_len + 2);
	t->value[t->value_len++] = c;
	t->value[t->value_len] = '\0';
	return 0;
}

int dkim_tags_feed(struct dkim_tags *t, const char *p, size_t len)
{
	for (size_t i = 0; i < len && t->error == NULL; i++) {
		char c = p[i];

		if ((unsigned char)c < 0x20 && !is_fws(c))
			return fail(t, "control character in tag list");
		if (c == 0x7f)
			return fail(t, "control character in tag list");
		switch (t->state) {
		case T_PRE_NAME:
			if (is_fws(c) || c == ';')   /* empty tag-specs are tolerated */
				break;
			if (!name_char(c, 1))
				return fail(t, "bad tag name");
			t->name[0] = c;
			t->name_len = 1;
			t->state = T_NAME;
			break;
		case T_NAME:
			if (c == '=' || is_fws(c)) {
				t->name[t->name_len] = '\0';
				t->state = c == '=' ? T_PRE_VALUE : T_POST_NAME;
			} else if (!name_char(c, 0) || t->name_len == DKIM_TAG_NAME_MAX) {
				return fail(t, "bad tag name");
			} else {
				t->name[t->name_len++] = c;
			}
			break;
		case T_POST_NAME:
			if (c == '=')
				t->state = T_PRE_VALUE;
			else if (!is_fws(c))
				return fail(t, "tag without '='");
			break;
		case T_PRE_VALUE:
		case T_VALUE:
			if (c == ';') {
				if (end_tag(t) < 0)
					return -1;
			} else if (is_fws(c) && t->state == T_PRE_VALUE) {
				break;
			} else {
				t->state = T_VALUE;
				if (value_add(t, c) < 0)
					return -1;
			}
			break;
		}
	}
	return t->error != NULL ? -1 : 0;
}

int dkim_tags_finish(struct dkim_tags *t, const char **error_r)
{
	if (t->error == NULL) {
		if (t->state == T_NAME || t->state == T_POST_NAME)
			fail(t, "tag without '='");
		else if (t->state == T_PRE_VALUE || t->state == T_VALUE)
			end_tag(t);
	}
	if (t->error != NULL) {
		*error_r = t->error;
		return -1;
	}
	return 0;
}

int dkim_tags_parse(struct dkim_tags *t, const char *p, size_t len, const char **error_r)
{
	dkim_tags_init(t);
	dkim_tags_feed(t, p, len);
	return dkim_tags_finish(t, error_r);
}

const char *dkim_tags_get(const struct dkim_tags *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->tag[i].name, name) == 0)
			return t->tag[i].value;
	return NULL;
}

void dkim_tags_free(struct dkim_tags *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->tag[i].value);
	free(t->value);
	memset(t, 0, sizeof *t);
}
