/* ctl_time - see ctl_time.h */
#include "admin/ctl_time.h"
#include "common/mime.h"

#include <ctype.h>
#include <string.h>

/* n digits at *p as a number, advancing *p; -1 when not digits. */
static int digits(const char **p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	return v;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* "-<n><unit>": unit s, m, h or d. */
static int parse_relative(const char *s, int64_t now_ms, int64_t *ms_r, const char **error_r)
{
	int64_t n = 0, unit;
	const char *p = s + 1;

	if (!isdigit((unsigned char)*p))
		goto bad;
	while (isdigit((unsigned char)*p)) {
		if (n > 100000000)
			goto bad;
		n = n * 10 + (*p++ - '0');
	}
	switch (*p) {
	case 's': unit = 1000; break;
	case 'm': unit = 60 * 1000; break;
	case 'h': unit = 3600 * 1000; break;
	case 'd': unit = 86400 * 1000; break;
	default: goto bad;
	}
	if (p[1] != '\0')
		goto bad;
	*ms_r = now_ms - n * unit;
	return 0;
bad:
	*error_r = "a relative time is -<number><s|m|h|d>, e.g. -2h";
	return -1;
}

int ctl_time_parse(const char *s, int64_t now_ms, int64_t *ms_r, const char **error_r)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, ms = 0, off = 0;

	if (s[0] == '-')
		return parse_relative(s, now_ms, ms_r, error_r);
	/* RFC 3339 5.6: full-date "T" full-time */
	if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' ||
	    (d = digits(&p, 2)) < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y)) ||
	    (*p != 'T' && *p != 't' && *p != ' ') || (p++, (h = digits(&p, 2)) < 0) || h > 23 ||
	    *p++ != ':' || (mi = digits(&p, 2)) < 0 || mi > 59 || *p++ != ':' ||
	    (sec = digits(&p, 2)) < 0 || sec > 60)
		goto bad;
	if (*p == '.') {   /* time-secfrac: milliseconds kept, the rest ignored */
		int scale = 100, any = 0;
		for (p++; isdigit((unsigned char)*p); p++, any = 1) {
			ms += (*p - '0') * scale;
			scale /= 10;
		}
		if (!any)
			goto bad;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p++ == '-' ? -1 : 1, oh, om;
		if ((oh = digits(&p, 2)) < 0 || oh > 23 || *p++ != ':' || (om = digits(&p, 2)) < 0 || om > 59)
			goto bad;
		off = sign * (oh * 60 + om);
	} else {
		goto bad;
	}
	if (*p != '\0')
		goto bad;
	if (sec == 60)   /* a leap second is the next second's start */
		sec = 59, ms = 999;
	*ms_r = ((mime_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - (int64_t)off * 60) * 1000 + ms;
	return 0;
bad:
	*error_r = "not an RFC 3339 time (2026-12-07T07:00:00Z) nor a relative one (-2h)";
	return -1;
}
