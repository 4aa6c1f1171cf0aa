/* jmap_email_header - "header:<name>[:as<Form>][:all]" properties of
 * Email and EmailBodyPart (RFC 8621 4.1.3) over a raw header block. */
#ifndef EVM_JMAP_EMAIL_HEADER_H
#define EVM_JMAP_EMAIL_HEADER_H

#include <jansson.h>
#include <stddef.h>

#include "common/mime_forms.h"

#define JMAP_HEADER_NAME_MAX 200

struct jmap_header_prop {
	char name[JMAP_HEADER_NAME_MAX + 1];  /* as asked; matched case-insensitively */
	enum mime_form form;
	int all;
};

/* Parses a property name; 1 when it is a valid header property (the
 * field name printable ASCII without ':', the form known and allowed for
 * that field, 4.1.2), 0 when it is no header property or invalid. */
int jmap_header_prop_parse(const char *prop, struct jmap_header_prop *p);

/* The value of the property over block[len]: with :all an array of every
 * instance in order, else the last instance (4.1.3), or null (no
 * instance; [] with :all). New reference. */
json_t *jmap_header_prop_value(const struct jmap_header_prop *p, const char *block, size_t len);

#endif
