/* jmap_keywords - see jmap_keywords.h. */
#include "gateway/jmap/jmap_keywords.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *keyword, *flag;
} system_flags[] = {
	{ "$seen", "\\Seen" }, { "$flagged", "\\Flagged" }, { "$answered", "\\Answered" }, { "$draft", "\\Draft" },
};

int jmap_keyword_valid(const char *kw)
{
	size_t n = strlen(kw);

	if (n == 0 || n > JMAP_KEYWORD_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)kw; *p; p++)
		if (*p < 0x21 || *p > 0x7e || strchr("(){]%*\"\\", *p) != NULL)
			return 0;
	return 1;
}

void jmap_keyword_flag(const char *kw, char out[JMAP_KEYWORD_MAX + 1])
{
	size_t i;

	for (i = 0; kw[i] != '\0' && i < JMAP_KEYWORD_MAX; i++)
		out[i] = (char)(kw[i] >= 'A' && kw[i] <= 'Z' ? kw[i] + 32 : kw[i]);
	out[i] = '\0';
	for (i = 0; i < sizeof system_flags / sizeof system_flags[0]; i++) {
		if (strcmp(out, system_flags[i].keyword) == 0) {
			snprintf(out, JMAP_KEYWORD_MAX + 1, "%s", system_flags[i].flag);
			return;
		}
	}
}

json_t *jmap_keywords_flags(const json_t *keywords)
{
	json_t *out, *v;
	const char *k;
	char flag[JMAP_KEYWORD_MAX + 1];

	if (!json_is_object(keywords))
		return NULL;
	out = json_array();
	json_object_foreach((json_t *)keywords, k, v) {
		/* RFC 8621 4.1.1: the value of every keyword is true. */
		if (!json_is_true(v) || !jmap_keyword_valid(k)) {
			json_decref(out);
			return NULL;
		}
		jmap_keyword_flag(k, flag);
		json_array_append_new(out, json_string(flag));
	}
	return out;
}

void jmap_flags_split(const json_t *flags, json_t **system_r, json_t **keywords_r)
{
	const json_t *v;
	size_t i;

	*system_r = json_array();
	*keywords_r = json_array();
	json_array_foreach(flags, i, v)
		json_array_append(json_string_value(v)[0] == '\\' ? *system_r : *keywords_r, (json_t *)v);
}

/* RFC 8621 4.1.1: the IMAP system flags that are keywords, as JMAP
 * spells them; \Deleted and \Recent are not keywords. */
static const char *flag_keyword(const char *flag)
{
	static const char *const map[][2] = {
		{ "\\Seen", "$seen" }, { "\\Flagged", "$flagged" }, { "\\Answered", "$answered" },
		{ "\\Draft", "$draft" },
	};

	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(flag, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

void jmap_keywords_add(json_t *kw, const json_t *msg)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(msg, "flags"), i, v) {
		const char *k = json_is_string(v) ? flag_keyword(json_string_value(v)) : NULL;

		if (k != NULL)
			json_object_set_new(kw, k, json_true());
	}
	/* RFC 8621 4.1.1: keywords are case-insensitive and given lower-case. */
	json_array_foreach(json_object_get(msg, "keywords"), i, v) {
		char low[256];
		const char *s = json_string_value(v);
		size_t n;

		if (s == NULL || (n = strlen(s)) >= sizeof low)
			continue;
		for (size_t k = 0; k <= n; k++)
			low[k] = (char)(s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32 : s[k]);
		if (jmap_keyword_valid(low))
			json_object_set_new(kw, low, json_true());
	}
}
