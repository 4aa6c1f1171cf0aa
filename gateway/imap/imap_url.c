/* imap_url - see imap_url.h (the parser; imap_url_read.c reads the view) */
#include "gateway/imap/imap_url.h"
#include "common/ids.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* RFC 3986 percent-decoding of s[0..len) into a new string; NULL when a
 * '%' is not followed by two hex digits, decodes to NUL, or a raw octet is
 * a control, a space or non-ASCII (RFC 5092 9: URLs are US-ASCII). */
static char *pct_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len || (hi = evm_hex_value((unsigned char)s[i + 1])) < 0 || (lo = evm_hex_value((unsigned char)s[i + 2])) < 0 ||
			    hi + lo == 0)
				goto bad;
			*o++ = (char)(hi * 16 + lo);
			i += 2;
		} else if (c <= 0x20 || c >= 0x7f) {
			goto bad;
		} else {
			*o++ = (char)c;
		}
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* nz-number (or number when zero_ok) at *p, no leading zeros, <= 2^32-1. */
static int number(const char **p, const char *end, int zero_ok, uint32_t *v_r)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9' || (*s == '0' && (!zero_ok || (s + 1 < end && s[1] >= '0' && s[1] <= '9'))))
		return -1;
	for (; s < end && *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*v_r = (uint32_t)v;
	*p = s;
	return 0;
}

/* 1 and advances *p past kw when it starts there (case-insensitive). */
static int keyword(const char **p, const char *end, const char *kw)
{
	size_t n = strlen(kw);

	if ((size_t)(end - *p) < n || strncasecmp(*p, kw, n) != 0)
		return 0;
	*p += n;
	return 1;
}

/* The end of a component: the next ';' (or end). */
static const char *comp_end(const char *p, const char *end)
{
	const char *q = memchr(p, ';', (size_t)(end - p));

	return q != NULL ? q : end;
}

/* Two decimal digits at s into *v within [lo, hi]. */
static int digits(const char *s, int n, int lo, int hi, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return *v < lo || *v > hi ? -1 : 0;
}

/* RFC 3339 5.6 date-time "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)". */
static int date_time(const char *s, size_t len, int64_t *ms_r)
{
	struct tm tm;
	int y, mo, d, h, mi, se, zh = 0, zm = 0, sign = 0;
	size_t i = 19;
	time_t t;

	if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' ||
	    s[16] != ':' || digits(s, 4, 1970, 9999, &y) < 0 || digits(s + 5, 2, 1, 12, &mo) < 0 ||
	    digits(s + 8, 2, 1, 31, &d) < 0 || digits(s + 11, 2, 0, 23, &h) < 0 ||
	    digits(s + 14, 2, 0, 59, &mi) < 0 || digits(s + 17, 2, 0, 60, &se) < 0)
		return -1;
	if (s[i] == '.') {
		for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == 20 || i > 29)
			return -1;
	}
	if (i + 1 == len && (s[i] == 'Z' || s[i] == 'z')) {
		sign = 0;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
		   digits(s + i + 1, 2, 0, 23, &zh) == 0 && digits(s + i + 4, 2, 0, 59, &zm) == 0) {
		sign = s[i] == '+' ? 1 : -1;
	} else {
		return -1;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm) - (time_t)sign * (zh * 3600 + zm * 60);
	*ms_r = (int64_t)t * 1000;
	return 0;
}

/* "imap://" iuserinfo "@" host [":" port] "/": u->user, *p at the '/'. */
static int authority(const char **p, const char *end, struct imap_url *u, const char **error_r)
{
	const char *auth = *p + 7, *slash = memchr(auth, '/', (size_t)(end - auth)), *at, *uend;

	if (slash == NULL) {
		*error_r = "no path in the URL";
		return -1;
	}
	for (at = slash; at > auth && at[-1] != '@'; at--)
		;
	if (at == auth) {
		*error_r = "no user in the URL";
		return -1;
	}
	at--;   /* the last '@' before the path: a host has none */
	if (at == auth || memchr(at + 1, '@', (size_t)(slash - at - 1)) != NULL || slash == at + 1) {
		*error_r = "no user or host in the URL";
		return -1;
	}
	uend = memchr(auth, ';', (size_t)(at - auth));
	if (uend == NULL)
		uend = at;
	else if (strncasecmp(uend, ";AUTH=", 6) != 0 || uend + 6 == at) {
		*error_r = "bad ;AUTH= in the URL";
		return -1;
	}
	if (uend == auth || (u->user = pct_decode(auth, (size_t)(uend - auth))) == NULL) {
		*error_r = "bad user in the URL";
		return -1;
	}
	*p = slash;
	return 0;
}

/* [;EXPIRE=..] [;URLAUTH=access[:mech:hex]] at *p to the end. */
static int urlauth(const char *url, const char *p, const char *end, struct imap_url *u, const char **error_r)
{
	const char *e, *colon;
	size_t n;

	*error_r = "bad ;EXPIRE= or ;URLAUTH= in the URL";
	if (keyword(&p, end, ";EXPIRE=")) {
		e = comp_end(p, end);
		if (date_time(p, (size_t)(e - p), &u->expire_ms) < 0)
			return -1;
		u->expire = true;
		p = e;
	}
	if (p == end)
		return u->expire ? -1 : 0;   /* RFC 4467 2: EXPIRE only in an URLAUTH URL */
	if (u->user == NULL || !keyword(&p, end, ";URLAUTH="))
		return -1;
	colon = memchr(p, ':', (size_t)(end - p));
	e = colon != NULL ? colon : end;
	if ((u->access = pct_decode(p, (size_t)(e - p))) == NULL)
		return -1;
	if (strcasecmp(u->access, "anonymous") != 0 && strcasecmp(u->access, "authuser") != 0 &&
	    !((strncasecmp(u->access, "user+", 5) == 0 && u->access[5] != '\0') ||
	      (strncasecmp(u->access, "submit+", 7) == 0 && u->access[7] != '\0')))
		return -1;
	u->rump_len = (size_t)(e - url);
	if (colon == NULL)
		return 0;
	p = colon + 1;
	if ((colon = memchr(p, ':', (size_t)(end - p))) == NULL || colon == p)
		return -1;
	u->mech = xstrndup(p, (size_t)(colon - p));
	for (char *c = u->mech; *c != '\0'; c++) {
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '.'))
			return -1;
	}
	p = colon + 1;
	n = (size_t)(end - p);
	if (n < 32 || n > IMAP_URLAUTH_TOKEN_MAX)
		return -1;
	u->token = xstrndup(p, n);
	for (char *c = u->token; *c != '\0'; c++) {
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
		else if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return -1;
	}
	return 0;
}

int imap_url_parse(const char *url, size_t len, struct imap_url *u, const char **error_r)
{
	const char *p = url, *end = url + len, *e;

	memset(u, 0, sizeof *u);
	*error_r = "not an IMAP URL naming a message";
	if (len == 0 || len > IMAP_URL_MAX || memchr(url, '\0', len) != NULL)
		goto bad;
	if (strncasecmp(url, "imap://", len < 7 ? len : 7) == 0 && len >= 7 &&
	    authority(&p, end, u, error_r) < 0)
		goto bad;
	if (p == end || *p++ != '/')
		goto bad;
	/* RFC 5092: enc-mailbox [";UIDVALIDITY=" nz-number] "/;UID=" nz-number;
	 * a mailbox has no raw ';', so it ends at the first one. */
	e = comp_end(p, end);
	if (e == end || e == p)
		goto bad;
	if (e[-1] == '/') {
		u->mailbox = pct_decode(p, (size_t)(e - 1 - p));
		p = e;
	} else {
		u->mailbox = pct_decode(p, (size_t)(e - p));
		p = e;
		if (!keyword(&p, end, ";UIDVALIDITY=") || number(&p, end, 0, &u->uidvalidity) < 0 ||
		    !keyword(&p, end, "/"))
			goto bad;
	}
	if (u->mailbox == NULL || u->mailbox[0] == '\0' || !keyword(&p, end, ";UID=") ||
	    number(&p, end, 0, &u->uid) < 0)
		goto bad;
	if (strcasecmp(u->mailbox, "INBOX") == 0)
		memcpy(u->mailbox, "INBOX", 5);
	if (keyword(&p, end, "/;SECTION=")) {
		e = comp_end(p, end);
		if (e < end && e[-1] == '/')
			e--;    /* "/;PARTIAL=" follows */
		if (e == p || (u->section = pct_decode(p, (size_t)(e - p))) == NULL)
			goto bad;
		p = e;
	}
	if (keyword(&p, end, "/;PARTIAL=")) {
		u->partial = true;
		if (number(&p, end, 1, &u->partial_off) < 0)
			goto bad;
		if (keyword(&p, end, ".") && number(&p, end, 0, &u->partial_len) < 0)
			goto bad;
	}
	if (urlauth(url, p, end, u, error_r) < 0)
		goto bad;
	return 0;
bad:
	imap_url_free(u);
	return -1;
}

void imap_url_free(struct imap_url *u)
{
	free(u->user);
	free(u->mailbox);
	free(u->section);
	free(u->access);
	free(u->mech);
	free(u->token);
	memset(u, 0, sizeof *u);
}
