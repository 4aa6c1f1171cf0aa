/* mta_sts_txt - the _mta-sts TXT record (RFC 8461 3.1) and MX pattern
 * matching (RFC 8461 4.1). */
#include "gateway/outbound/mta_sts_policy.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* sts-text-record = sts-version 1*(*WSP %x3B *WSP sts-field) [%x3B]
 * sts-version = %s"v=STSv1"; fields "id=1*32(ALPHA / DIGIT)" and
 * extensions "name=value"; the first field must be v=STSv1. */
int mta_sts_txt_parse(const char *txt, size_t len, char id[33])
{
	size_t i = 7;
	int have_id = 0;

	if (len < 7 || memcmp(txt, "v=STSv1", 7) != 0)
		return 0;
	if (len > 7 && txt[7] != ';' && txt[7] != ' ' && txt[7] != '\t')
		return 0;       /* "v=STSv10" is another version */
	while (i < len) {
		size_t start, eq;

		while (i < len && (txt[i] == ' ' || txt[i] == '\t'))
			i++;
		if (i == len)
			break;
		if (txt[i] != ';')
			return -1;
		i++;
		while (i < len && (txt[i] == ' ' || txt[i] == '\t'))
			i++;
		if (i == len)
			break;          /* a trailing ';' */
		start = i;
		while (i < len && txt[i] != '=' && txt[i] != ';' && txt[i] != ' ' && txt[i] != '\t') {
			if (!isalnum((unsigned char)txt[i]) && txt[i] != '_' && txt[i] != '-' && txt[i] != '.')
				return -1;
			i++;
		}
		if (i == len || txt[i] != '=' || i == start)
			return -1;
		eq = i++;
		if (eq - start == 2 && memcmp(txt + start, "id", 2) == 0) {
			size_t n = 0;

			while (i < len && isalnum((unsigned char)txt[i])) {
				if (n == 32)
					return -1;
				id[n++] = txt[i++];
			}
			if (n == 0 || have_id)
				return -1;
			id[n] = '\0';
			have_id = 1;
		} else {
			size_t vs = i;

			while (i < len && txt[i] > 0x20 && txt[i] < 0x7f && txt[i] != ';' && txt[i] != '=')
				i++;
			if (i == vs)
				return -1;
		}
	}
	return have_id ? 1 : -1;
}

int mta_sts_mx_match(const char *pattern, const char *host)
{
	const char *dot;

	if (strncmp(pattern, "*.", 2) != 0)
		return strcasecmp(pattern, host) == 0;
	dot = strchr(host, '.');
	if (dot == NULL || dot == host)
		return 0;
	/* The wildcard is exactly one label (RFC 8461 4.1). */
	return strcasecmp(dot + 1, pattern + 2) == 0;
}
