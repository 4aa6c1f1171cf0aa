/* mail_acl_rights - RFC 4314 rights arithmetic: letters, identifiers
 * ("anyone", "-identifier") and effective rights (projector/mail_acl.h). */
#include "projector/mail_acl.h"
#include "common/address.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int mail_rights_parse(const char *s, unsigned *bits_r)
{
	unsigned bits = 0;
	const char *p;

	for (; *s != '\0'; s++) {
		if (*s == 'c')
			bits |= MAIL_R_CREATE;
		else if (*s == 'd')
			bits |= MAIL_R_DELMBOX | MAIL_R_DELMSG | MAIL_R_EXPUNGE;
		else if ((p = strchr(MAIL_RIGHTS_ALL, *s)) != NULL)
			bits |= 1u << (p - MAIL_RIGHTS_ALL);
		else
			return -1;
	}
	*bits_r = bits;
	return 0;
}

void mail_rights_string(unsigned bits, int with_obsolete, char out[MAIL_RIGHTS_LEN])
{
	size_t n = 0;

	for (size_t i = 0; MAIL_RIGHTS_ALL[i] != '\0'; i++) {
		if (bits & (1u << i))
			out[n++] = MAIL_RIGHTS_ALL[i];
	}
	if (with_obsolete && (bits & MAIL_R_CREATE))
		out[n++] = 'c';
	if (with_obsolete && (bits & (MAIL_R_DELMBOX | MAIL_R_DELMSG | MAIL_R_EXPUNGE)))
		out[n++] = 'd';
	out[n] = '\0';
}

unsigned mail_acl_flag_rights(json_t *flags)
{
	unsigned need = 0;
	size_t i;
	json_t *f;

	json_array_foreach(flags, i, f) {
		const char *v = json_string_value(f);

		if (v != NULL && strcasecmp(v, "\\Seen") == 0)
			need |= MAIL_R_SEEN;
		else if (v != NULL && strcasecmp(v, "\\Deleted") == 0)
			need |= MAIL_R_DELMSG;
		else
			need |= MAIL_R_WRITE;
	}
	return need;
}

/* RFC 4314 2: the union of the positive entries (own and anyone) less the
 * union of the negative ones. */
unsigned mail_rights_effective(unsigned own, unsigned anyone, unsigned neg_own, unsigned neg_anyone)
{
	return (own | anyone) & ~(neg_own | neg_anyone) & MAIL_R_EVERY;
}

int mail_acl_identifier_kind(const char *who)
{
	char norm[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	int neg = who[0] == '-';
	const char *base = who + neg;

	if (strcmp(base, MAIL_ACL_ANYONE) == 0)
		return neg ? MAIL_ID_NEG_ANYONE : MAIL_ID_ANYONE;
	if (strlen(base) > EVM_ADDRESS_MAX || evm_address_normalize(base, norm, &error) < 0 ||
	    strcmp(norm, base) != 0)
		return -1;
	return neg ? MAIL_ID_NEG_USER : MAIL_ID_USER;
}

void mail_acl_negative(const char *who, char out[MAIL_ACL_ID_MAX + 1])
{
	snprintf(out, MAIL_ACL_ID_MAX + 1, "-%s", who);
}

void mail_acl_anyone_channel(struct buf *out, const char *tenant)
{
	buf_truncate(out, 0);
	buf_printf(out, MAIL_ACL_ANYONE " %s", tenant != NULL ? tenant : "");
}
