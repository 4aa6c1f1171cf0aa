/* mime_date - RFC 5322 3.3 date-time, with the obsolete forms of 4.3. */
#include "common/mime_internal.h"

#include <string.h>
#include <strings.h>

struct dlex {
	const char *s;
	size_t len, i;
};

/* Skips CFWS and, leniently, stray commas between items. */
static void dskip(struct dlex *l)
{
	l->i = mime_skip_cfws(l->s, l->len, l->i);
}

/* Reads 1..maxd digits; returns the count read (0: none). */
static int dnum(struct dlex *l, int maxd, int *v_r)
{
	int n = 0, v = 0;

	while (l->i < l->len && n < maxd && l->s[l->i] >= '0' && l->s[l->i] <= '9') {
		v = v * 10 + (l->s[l->i++] - '0');
		n++;
	}
	*v_r = v;
	return n;
}

/* Reads an alphabetic word into w (lower case); returns its length. */
static size_t dword(struct dlex *l, char *w, size_t wsz)
{
	size_t n = 0;

	while (l->i < l->len && ((l->s[l->i] | 0x20) >= 'a' && (l->s[l->i] | 0x20) <= 'z')) {
		if (n + 1 < wsz)
			w[n] = (char)mime_lower((unsigned char)l->s[l->i]);
		n++;
		l->i++;
	}
	w[n < wsz ? n : wsz - 1] = '\0';
	return n;
}

int64_t mime_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Zone offset in minutes: +hhmm / -hhmm or obs-zone names (RFC 5322 4.3;
 * military letters are treated as -0000, as that section advises). */
static int dzone(struct dlex *l, int *off_r)
{
	static const struct { const char *name; int off; } zones[] = {
		{ "ut", 0 }, { "utc", 0 }, { "gmt", 0 }, { "z", 0 },
		{ "est", -300 }, { "edt", -240 }, { "cst", -360 }, { "cdt", -300 },
		{ "mst", -420 }, { "mdt", -360 }, { "pst", -480 }, { "pdt", -420 },
	};
	char w[8];
	int v, sign;

	*off_r = 0;
	if (l->i >= l->len)
		return 0;   /* missing zone: taken as UTC */
	if (l->s[l->i] == '+' || l->s[l->i] == '-') {
		sign = l->s[l->i++] == '-' ? -1 : 1;
		if (dnum(l, 4, &v) != 4 || v % 100 > 59)
			return -1;
		*off_r = sign * ((v / 100) * 60 + v % 100);
		return 0;
	}
	if (dword(l, w, sizeof w) == 0)
		return 0;
	for (size_t k = 0; k < sizeof zones / sizeof zones[0]; k++) {
		if (strcmp(w, zones[k].name) == 0) {
			*off_r = zones[k].off;
			return 0;
		}
	}
	return strlen(w) == 1 && w[0] != 'j' ? 0 : -1;
}

/* Parses date-time into ms since the epoch; -1 if it is no date. */
int mime_date_parse(const char *s, size_t len, int64_t *ms_r)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct dlex l = { s, len, 0 };
	int day, year, hour, min, sec = 0, mon = -1, off, yd;
	char w[16];

	dskip(&l);
	if (dword(&l, w, sizeof w) > 0) {   /* day-of-week, not checked */
		dskip(&l);
		if (l.i < len && s[l.i] == ',')
			l.i++;
		dskip(&l);
	}
	if (dnum(&l, 2, &day) == 0)
		return -1;
	dskip(&l);
	if (dword(&l, w, sizeof w) < 3)
		return -1;
	for (int k = 0; k < 12; k++) {
		if (strncmp(w, months + 3 * k, 3) == 0)
			mon = k;
	}
	dskip(&l);
	if (mon < 0 || (yd = dnum(&l, 9, &year)) < 2)
		return -1;
	if (yd == 2)   /* RFC 5322 4.3: 00-49 -> 20xx, 50-99 -> 19xx */
		year += year < 50 ? 2000 : 1900;
	else if (yd == 3)
		year += 1900;
	dskip(&l);
	if (dnum(&l, 2, &hour) == 0)
		return -1;
	dskip(&l);
	if (l.i >= len || s[l.i++] != ':')
		return -1;
	dskip(&l);
	if (dnum(&l, 2, &min) == 0)
		return -1;
	dskip(&l);
	if (l.i < len && s[l.i] == ':') {   /* seconds are optional */
		l.i++;
		dskip(&l);
		if (dnum(&l, 2, &sec) == 0)
			return -1;
		dskip(&l);
	}
	if (dzone(&l, &off) < 0)
		return -1;
	if (day < 1 || day > mdays[mon] || hour > 23 || min > 59 || sec > 60 || year > 9999 ||
	    (mon == 1 && day == 29 && (year % 4 != 0 || (year % 100 == 0 && year % 400 != 0))))
		return -1;
	*ms_r = ((mime_days_from_civil(year, mon + 1, day) * 86400 + hour * 3600 + min * 60 + sec) -
		 (int64_t)off * 60) * 1000;
	return 0;
}
