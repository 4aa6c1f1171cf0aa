/* jmap_email_build_private - shared by jmap_email_build.c (the Email and
 * its header properties) and jmap_email_build_part.c (body parts). */
#ifndef EVM_JMAP_EMAIL_BUILD_PRIVATE_H
#define EVM_JMAP_EMAIL_BUILD_PRIVATE_H

#include <jansson.h>

#include "gateway/jmap/jmap_email_build.h"

struct jmap_build {
	const struct jmap_email_build_params *p;
	const json_t *body_values;
	json_t *bad;              /* invalid property names */
	json_t *not_found;        /* blob ids */
	const char *fail;         /* a blob could not be read */
	unsigned nparts;
	size_t total;             /* octets of content so far */
	int too_large;
};


/* 1 when list (NULL-terminated) has s, ASCII case-insensitively. */
int jmap_build_listed(const char *const *list, const char *s);
/* Records prop as invalid (once). */
void jmap_build_bad(struct jmap_build *b, const char *prop);
/* A header property of an Email (part NULL) or of a body part (part:
 * the Email property it is under): its fields added to fields, its name
 * to seen. 1 when prop is one (valid or marked bad), 0 when it is not. */
int jmap_build_header_prop(struct jmap_build *b, const char *prop, const json_t *v, const char *part,
			   json_t *fields, json_t *seen);
/* An EmailBodyPart for creation (RFC 8621 4.6) as a part of the writer's
 * tree (jmap_mime_write.h), or NULL after marking what is wrong; prop
 * names it in errors. */
json_t *jmap_build_part(struct jmap_build *b, const json_t *bp, unsigned depth, const char *prop);

#endif
