/* jmap_email_header - see jmap_email_header.h. */
#include "gateway/jmap/jmap_email_header.h"

#include <string.h>
#include <strings.h>

int jmap_header_prop_parse(const char *prop, struct jmap_header_prop *p)
{
	const char *name, *rest, *c2;
	size_t nlen;

	if (strncmp(prop, "header:", 7) != 0)
		return 0;
	name = prop + 7;
	rest = strchr(name, ':');
	nlen = rest != NULL ? (size_t)(rest - name) : strlen(name);
	if (nlen == 0 || nlen > JMAP_HEADER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < nlen; i++)
		if ((unsigned char)name[i] <= 0x20 || (unsigned char)name[i] >= 0x7F)
			return 0;
	memcpy(p->name, name, nlen);
	p->name[nlen] = '\0';
	p->form = MIME_FORM_RAW;
	p->all = 0;
	if (rest == NULL)
		return 1;
	rest++;
	/* ":all" alone, or ":as<Form>" then optionally ":all". */
	if (strcmp(rest, "all") == 0) {
		p->all = 1;
		return 1;
	}
	c2 = strchr(rest, ':');
	if (c2 != NULL) {
		char form[32];
		size_t flen = (size_t)(c2 - rest);

		if (flen >= sizeof form || strcmp(c2 + 1, "all") != 0)
			return 0;
		memcpy(form, rest, flen);
		form[flen] = '\0';
		if (mime_form_parse(form, &p->form) < 0)
			return 0;
		p->all = 1;
	} else if (mime_form_parse(rest, &p->form) < 0) {
		return 0;
	}
	return mime_form_allowed(p->name, p->form);
}

json_t *jmap_header_prop_value(const struct jmap_header_prop *p, const char *block, size_t len)
{
	json_t *fields = mime_header_fields(block, len), *out = p->all ? json_array() : json_null(), *f;
	size_t i;

	json_array_foreach(fields, i, f) {
		json_t *v;
		const char *raw;

		if (strcasecmp(json_string_value(json_object_get(f, "name")), p->name) != 0)
			continue;
		v = json_object_get(f, "value");
		raw = json_string_value(v);
		if (p->all) {
			json_array_append_new(out, mime_header_form(raw, json_string_length(v), p->form));
		} else {
			json_decref(out);
			out = mime_header_form(raw, json_string_length(v), p->form);
		}
	}
	json_decref(fields);
	return out;
}
