/* jmap_mime_date - RFC 3339 date-times (JMAP's Date and UTCDate, RFC
 * 8620 1.4) read, and written as RFC 5322 3.3 dates; see
 * jmap_mime_write.h. */
#include "gateway/jmap/jmap_mime_write.h"
#include "common/mime.h"

#include <stdio.h>
#include <string.h>

static void civil_from_days(int64_t z, int64_t *y_r, int *m_r, int *d_r)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m_r = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = yoe + era * 400 + (*m_r <= 2);
}

/* n digits at s into *v; 0 or -1. */
static int digits(const char *s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int jmap_mime_parse_date(const char *s, int64_t *ms_r, int *offset_min_r)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 1;
	const char *p;

	if (strlen(s) < 20 || digits(s, 4, &y) < 0 || s[4] != '-' || digits(s + 5, 2, &mo) < 0 || s[7] != '-' ||
	    digits(s + 8, 2, &d) < 0 || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) < 0 ||
	    s[13] != ':' || digits(s + 14, 2, &mi) < 0 || s[16] != ':' || digits(s + 17, 2, &sec) < 0)
		return -1;
	p = s + 19;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (digits(p + 1, 2, &oh) < 0 || p[3] != ':' || digits(p + 4, 2, &om) < 0 || oh > 23 || om > 59)
			return -1;
		p += 6;
	} else {
		return -1;
	}
	if (*p != '\0' || y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    sec > 60 || (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))))
		return -1;
	if (sec == 60)
		sec = 59;   /* a leap second: RFC 5322 3.3 allows 60, we keep it in range */
	*offset_min_r = sign * (oh * 60 + om);
	*ms_r = ((mime_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) - *offset_min_r * 60) * 1000;
	return 0;
}

void jmap_mime_format_date(int64_t ms, int offset_min, char out[40])
{
	static const char *const wd[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
	static const char *const mn[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t t = (ms >= 0 ? ms / 1000 : (ms - 999) / 1000) + offset_min * 60, days, secs, y;
	int m, d, off = offset_min < 0 ? -offset_min : offset_min;

	days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	secs = t - days * 86400;
	civil_from_days(days, &y, &m, &d);
	snprintf(out, 40, "%s, %02d %s %04lld %02d:%02d:%02d %c%02d%02d", wd[((days % 7) + 7) % 7], d, mn[m - 1],
		 (long long)y, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60),
		 offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

