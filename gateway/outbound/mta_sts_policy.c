/* mta_sts_policy - the MTA-STS policy push parser (RFC 8461 3.2). */
#include "gateway/outbound/mta_sts_policy.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void mta_sts_parser_init(struct mta_sts_parser *p)
{
	memset(p, 0, sizeof *p);
}

static int fail(struct mta_sts_parser *p, const char *fmt, unsigned line)
{
	p->failed = 1;
	snprintf(p->error, sizeof p->error, fmt, line);
	return -1;
}

/* "*." then an LDH name, or an LDH name (RFC 8461 3.2 sts-policy-mx-value). */
static int mx_pattern_valid(const char *v)
{
	size_t label = 0, len = strlen(v);

	if (strncmp(v, "*.", 2) == 0)
		v += 2, len -= 2;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == '.') {
			if (label == 0 || (i + 1 == len))
				return 0;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

static int field(struct mta_sts_parser *p, const char *name, char *value)
{
	struct mta_sts_policy *pol = &p->policy;

	if (strcasecmp(name, "version") == 0) {
		if (p->have_version)
			return 0;
		if (strcmp(value, "STSv1") != 0)
			return fail(p, "line %u: version is not STSv1", p->lines);
		p->have_version = 1;
	} else if (strcasecmp(name, "mode") == 0) {
		if (p->have_mode)
			return 0;
		if (strcmp(value, "enforce") == 0)
			pol->mode = MTA_STS_MODE_ENFORCE;
		else if (strcmp(value, "testing") == 0)
			pol->mode = MTA_STS_MODE_TESTING;
		else if (strcmp(value, "none") == 0)
			pol->mode = MTA_STS_MODE_NONE;
		else
			return fail(p, "line %u: mode is not enforce, testing or none", p->lines);
		p->have_mode = 1;
	} else if (strcasecmp(name, "max_age") == 0) {
		int64_t v = 0;
		size_t n = strlen(value);

		if (p->have_max_age)
			return 0;
		if (n == 0 || n > 10)
			return fail(p, "line %u: max_age is not 1 to 10 digits", p->lines);
		for (size_t i = 0; i < n; i++) {
			if (!isdigit((unsigned char)value[i]))
				return fail(p, "line %u: max_age is not a number", p->lines);
			v = v * 10 + (value[i] - '0');
		}
		if (v > MTA_STS_MAX_AGE)
			return fail(p, "line %u: max_age above 31557600", p->lines);
		pol->max_age = v;
		p->have_max_age = 1;
	} else if (strcasecmp(name, "mx") == 0) {
		size_t n = strlen(value);

		if (n > 0 && value[n - 1] == '.')
			value[--n] = '\0';
		if (!mx_pattern_valid(value))
			return fail(p, "line %u: bad mx pattern", p->lines);
		if (pol->nmx == MTA_STS_MAX_MX)
			return fail(p, "line %u: too many mx patterns", p->lines);
		for (size_t i = 0; i <= n; i++)
			pol->mx[pol->nmx][i] = (char)tolower((unsigned char)value[i]);
		pol->nmx++;
	}
	/* Unknown keys are ignored (RFC 8461 3.2). */
	return 0;
}

/* One complete line (without its LF and a CR before it). */
static int line(struct mta_sts_parser *p)
{
	char *l = p->line, *colon, *v, *end;

	p->line[p->linelen] = '\0';
	if (++p->lines > MTA_STS_MAX_LINES)
		return fail(p, "more than %u lines", MTA_STS_MAX_LINES);
	if (p->linelen > 0 && l[p->linelen - 1] == '\r')
		l[--p->linelen] = '\0';
	if (p->linelen == 0)
		return 0;
	colon = strchr(l, ':');
	if (colon == NULL || colon == l)
		return fail(p, "line %u: not key: value", p->lines);
	*colon = '\0';
	for (char *c = l; *c; c++) {
		if (!isalnum((unsigned char)*c) && *c != '_' && *c != '-' && *c != '.')
			return fail(p, "line %u: bad key", p->lines);
	}
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return field(p, l, v);
}

int mta_sts_parser_feed(struct mta_sts_parser *p, const void *data, size_t len, const char **error_r)
{
	const unsigned char *d = data;

	for (size_t i = 0; i < len && !p->failed; i++) {
		unsigned char c = d[i];

		if (c == '\n') {
			line(p);
			p->linelen = 0;
		} else if (c == '\0' || (c < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
			fail(p, "line %u: control character", p->lines + 1);
		} else if (p->linelen > 0 && p->line[p->linelen - 1] == '\r') {
			fail(p, "line %u: CR not followed by LF", p->lines + 1);
		} else if (p->linelen == MTA_STS_MAX_LINE) {
			fail(p, "line %u: longer than 1000 octets", p->lines + 1);
		} else {
			p->line[p->linelen++] = (char)c;
		}
	}
	if (p->failed) {
		*error_r = p->error;
		return -1;
	}
	return 0;
}

int mta_sts_parser_finish(struct mta_sts_parser *p, struct mta_sts_policy *policy_r, const char **error_r)
{
	if (!p->failed && p->linelen > 0) {
		line(p);
		p->linelen = 0;
	}
	if (!p->failed && !p->have_version)
		fail(p, "no version (%u lines)", p->lines);
	if (!p->failed && !p->have_mode)
		fail(p, "no mode (%u lines)", p->lines);
	if (!p->failed && !p->have_max_age)
		fail(p, "no max_age (%u lines)", p->lines);
	if (!p->failed && p->policy.mode != MTA_STS_MODE_NONE && p->policy.nmx == 0)
		fail(p, "no mx (%u lines)", p->lines);
	if (p->failed) {
		*error_r = p->error;
		return -1;
	}
	*policy_r = p->policy;
	return 0;
}

const char *mta_sts_mode_name(enum mta_sts_mode mode)
{
	switch (mode) {
	case MTA_STS_MODE_NONE: return "none";
	case MTA_STS_MODE_TESTING: return "testing";
	case MTA_STS_MODE_ENFORCE: return "enforce";
	}
	return "?";
}
