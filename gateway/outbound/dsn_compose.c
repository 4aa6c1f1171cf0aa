/* dsn_compose - builds the RFC 3464 multipart/report of a delivery status
 * notification (pure: no clock, no I/O; see dsn.h for the layout).
 *
 * When the report's addresses need UTF-8 (RFC 6533), the machine-readable
 * part is message/global-delivery-status with "utf-8" address types, the
 * report type global-delivery-status, and the returned original
 * message/global or message/global-headers; otherwise the classic RFC 3464
 * types with rfc822 addresses. Every line stays under 998 octets
 * (RFC 5322 2.1.1): an original with a longer line is returned as headers
 * only, and texts of ours are cut. */
#include "gateway/outbound/dsn.h"
#include "gateway/outbound/dsn_internal.h"
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DSN_TEXT_MAX 900          /* one field's value, well under 998 */

static const char *const dsn_subjects[] = {
	[DSN_FAILURE] = "Undelivered Mail Returned to Sender",
	[DSN_DELAY] = "Delayed Mail (still being retried)",
	[DSN_SUCCESS] = "Successful Mail Delivery Report",
	[DSN_RELAYED] = "Relayed Mail Delivery Report",
};
static const char *const dsn_actions[] = {
	[DSN_FAILURE] = "failed", [DSN_DELAY] = "delayed",
	[DSN_SUCCESS] = "delivered", [DSN_RELAYED] = "relayed",
};
static const char *const dsn_default_status[] = {
	[DSN_FAILURE] = "5.0.0", [DSN_DELAY] = "4.0.0",
	[DSN_SUCCESS] = "2.0.0", [DSN_RELAYED] = "2.0.0",
};
static const char *const dsn_intro[] = {
	[DSN_FAILURE] = "Your message could not be delivered to one or more recipients.\r\n"
			"It is attached below. The reasons are:\r\n",
	[DSN_DELAY] = "Your message could not be delivered yet to one or more recipients.\r\n"
		      "The mail system keeps trying; you do not need to send it again.\r\n",
	[DSN_SUCCESS] = "Your message was delivered to the following recipients:\r\n",
	[DSN_RELAYED] = "Your message was relayed to the following recipients; their mail\r\n"
			"systems do not report delivery, so no further notice will follow:\r\n",
};

void dsn_format_date(int64_t ms, char out[40])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 40, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int dsn_has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return 1;
	}
	return 0;
}

/* Appends s with controls (CR, LF, tabs...) as spaces and, unless utf8,
 * 8-bit octets as '?', at most max octets. */
static void put_clean(struct buf *b, const char *s, size_t max, int utf8)
{
	size_t n = 0;

	for (; *s != '\0' && n < max; s++, n++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			c = ' ';
		else if (c >= 0x80 && !utf8)
			c = '?';
		buf_append(b, &c, 1);
	}
}

/* RFC 3461 4: decodes xtext ("+HH") into out; printable ASCII and UTF-8
 * kept, anything else dropped. */
static void xtext_decode(const char *in, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; in[i] != '\0' && o + 1 < size; i++) {
		unsigned c = (unsigned char)in[i];
		unsigned hi, lo;
		if (c == '+' && sscanf(in + i + 1, "%1x%1x", &hi, &lo) == 2) {
			c = hi * 16 + lo;
			i += 2;
		}
		if (c > 0x20 && c != 0x7f)
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* RFC 3464 2.3.1: "Original-Recipient: type;addr" from the ORCPT value. */
static void put_orcpt(struct buf *b, const char *orcpt, int utf8)
{
	const char *semi = strchr(orcpt, ';');
	char addr[1024], type[33];

	xtext_decode(semi != NULL ? semi + 1 : orcpt, addr, sizeof addr);
	snprintf(type, sizeof type, "%.*s", semi != NULL ? (int)(semi - orcpt) : 0, orcpt);
	buf_puts(b, "Original-Recipient: ");
	put_clean(b, type[0] != '\0' ? type : "rfc822", 32, 0);
	buf_puts(b, ";");
	put_clean(b, addr, DSN_TEXT_MAX, utf8);
	buf_puts(b, "\r\n");
}

/* The host name of "mx.example [192.0.2.1]". */
static void put_remote(struct buf *b, const char *remote)
{
	const char *sp = strchr(remote, ' ');
	size_t n = sp != NULL ? (size_t)(sp - remote) : strlen(remote);
	char host[256];

	snprintf(host, sizeof host, "%.*s", (int)(n < 255 ? n : 255), remote);
	buf_puts(b, "Remote-MTA: dns; ");
	put_clean(b, host, 255, 0);
	buf_puts(b, "\r\n");
}

/* The per-message and per-recipient fields (RFC 3464 2.2, 2.3). */
static void put_status_part(struct buf *b, const struct dsn_request *req, int utf8)
{
	const char *atype = utf8 ? "utf-8" : "rfc822";
	char date[40], envid[256];

	buf_puts(b, "Reporting-MTA: dns; ");
	put_clean(b, req->hostname, 255, 0);
	buf_puts(b, "\r\n");
	if (req->envid != NULL && req->envid[0] != '\0') {
		xtext_decode(req->envid, envid, sizeof envid);
		buf_puts(b, "Original-Envelope-Id: ");
		put_clean(b, envid, 100, 0);
		buf_puts(b, "\r\n");
	}
	dsn_format_date(req->arrival_ms, date);
	buf_printf(b, "Arrival-Date: %s\r\n", date);
	for (size_t i = 0; i < req->nrcpts; i++) {
		const struct dsn_rcpt *r = &req->rcpts[i];
		const char *status = r->status != NULL && r->status[0] != '\0' ?
			r->status : dsn_default_status[req->kind];

		buf_puts(b, "\r\n");
		if (r->orcpt != NULL && r->orcpt[0] != '\0')
			put_orcpt(b, r->orcpt, utf8);
		buf_printf(b, "Final-Recipient: %s;", atype);
		put_clean(b, r->addr, DSN_TEXT_MAX, utf8);
		buf_printf(b, "\r\nAction: %s\r\nStatus: ", dsn_actions[req->kind]);
		put_clean(b, status, 11, 0);
		buf_puts(b, "\r\n");
		if (r->remote != NULL && r->remote[0] != '\0')
			put_remote(b, r->remote);
		if (r->reply != NULL && r->reply[0] != '\0') {
			buf_puts(b, "Diagnostic-Code: smtp; ");
			put_clean(b, r->reply, DSN_TEXT_MAX, utf8);
			buf_puts(b, "\r\n");
		}
		if (req->last_attempt_ms > 0) {
			dsn_format_date(req->last_attempt_ms, date);
			buf_printf(b, "Last-Attempt-Date: %s\r\n", date);
		}
		if (req->kind == DSN_DELAY && req->retry_until_ms > 0) {
			dsn_format_date(req->retry_until_ms, date);
			buf_printf(b, "Will-Retry-Until: %s\r\n", date);
		}
	}
}

/* The human-readable part: what happened, one line per recipient. */
static void put_human_part(struct buf *b, const struct dsn_request *req, int utf8)
{
	buf_puts(b, "This is the mail system at host ");
	put_clean(b, req->hostname, 255, 0);
	buf_puts(b, ".\r\n\r\n");
	buf_puts(b, dsn_intro[req->kind]);
	buf_puts(b, "\r\n");
	for (size_t i = 0; i < req->nrcpts; i++) {
		buf_puts(b, "<");
		put_clean(b, req->rcpts[i].addr, DSN_TEXT_MAX, utf8);
		buf_puts(b, ">");
		if (req->rcpts[i].reply != NULL && req->rcpts[i].reply[0] != '\0') {
			buf_puts(b, ":\r\n    ");
			put_clean(b, req->rcpts[i].reply, DSN_TEXT_MAX, utf8);
		}
		buf_puts(b, "\r\n");
	}
}

/* True when msg can travel as a MIME entity whole: every line ends in CRLF
 * and is at most 998 octets (RFC 5322 2.1.1, RFC 2046 5.2.1). */
static int original_lines_ok(const char *msg, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			return 0;
		if (msg[i] == '\r' && (i + 1 >= len || msg[i + 1] != '\n'))
			return 0;
		if (msg[i] == '\n')
			line = 0;
		else if (++line > 999)   /* 998 octets plus the CR */
			return 0;
	}
	return 1;
}

size_t dsn_header_len(const char *msg, size_t len)
{
	for (size_t i = 0; i + 3 < len; i++) {
		if (memcmp(msg + i, "\r\n\r\n", 4) == 0)
			return i + 2;
	}
	if (len >= 2 && memcmp(msg, "\r\n", 2) == 0)
		return 0;
	return len;
}

int dsn_wants_full(const struct dsn_request *req)
{
	if (req->kind != DSN_FAILURE)
		return 0;
	/* RFC 3461 4.3: without RET the MTA chooses; failures carry the
	 * message, as most MTAs do. */
	return req->ret == NULL || strcmp(req->ret, "HDRS") != 0;
}

/* The boundary: seeded by the time and request, unique against the original. */
static void make_boundary(const struct dsn_request *req, char out[80])
{
	uint32_t h = 2166136261u;

	for (const char *s = req->sender; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	for (size_t i = 0; i < req->nrcpts; i++) {
		for (const char *s = req->rcpts[i].addr; *s != '\0'; s++)
			h = (h ^ (unsigned char)*s) * 16777619u;
	}
	h = (h ^ (uint32_t)req->kind) * 16777619u;
	h = (h ^ (uint32_t)req->original_len) * 16777619u;
	for (unsigned n = 0;; n++) {
		snprintf(out, 80, "=_evmail-dsn-%llx-%08x-%u", (unsigned long long)req->now_ms, h, n);
		if (req->original == NULL || memmem(req->original, req->original_len, out, strlen(out)) == NULL)
			return;
	}
}

int dsn_needs_utf8(const struct dsn_request *req)
{
	if (dsn_has_8bit(req->sender, strlen(req->sender)))
		return 1;
	for (size_t i = 0; i < req->nrcpts; i++) {
		if (dsn_has_8bit(req->rcpts[i].addr, strlen(req->rcpts[i].addr)) ||
		    (req->rcpts[i].orcpt != NULL && dsn_has_8bit(req->rcpts[i].orcpt, strlen(req->rcpts[i].orcpt))))
			return 1;
	}
	return 0;
}

/* Rejects what cannot be reported. */
static int check_request(const struct dsn_request *req, const char **error_r)
{
	if ((unsigned)req->kind > DSN_RELAYED) {
		*error_r = "dsn: unknown kind";
		return -1;
	}
	if (req->sender == NULL || req->sender[0] == '\0') {
		*error_r = "dsn: never to the null sender";
		return -1;
	}
	if (strpbrk(req->sender, "\r\n<> ") != NULL || strlen(req->sender) > 512) {
		*error_r = "dsn: bad sender address";
		return -1;
	}
	if (req->hostname == NULL || req->hostname[0] == '\0' || req->nrcpts == 0 || req->rcpts == NULL) {
		*error_r = "dsn: no hostname or no recipients";
		return -1;
	}
	for (size_t i = 0; i < req->nrcpts; i++) {
		if (req->rcpts[i].addr == NULL || req->rcpts[i].addr[0] == '\0') {
			*error_r = "dsn: a recipient without an address";
			return -1;
		}
	}
	return 0;
}

int dsn_compose(const struct dsn_request *req, char **msg_r, size_t *len_r, const char **error_r)
{
	struct buf b = BUF_INIT;
	int utf8, full;
	char date[40], boundary[80];
	size_t hlen;

	if (check_request(req, error_r) < 0)
		return -1;
	utf8 = dsn_needs_utf8(req);
	full = dsn_wants_full(req) && req->original != NULL &&
	       original_lines_ok(req->original, req->original_len);
	make_boundary(req, boundary);
	dsn_format_date(req->now_ms, date);
	buf_puts(&b, "From: Mail Delivery System <MAILER-DAEMON@");
	put_clean(&b, req->hostname, 255, 0);
	buf_printf(&b, ">\r\nTo: <%s>\r\nSubject: %s\r\nDate: %s\r\n", req->sender,
		   dsn_subjects[req->kind], date);
	buf_printf(&b, "Message-ID: <%s@", boundary + 2);
	put_clean(&b, req->hostname, 255, 0);
	buf_puts(&b, ">\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	buf_printf(&b, "Content-Type: multipart/report; report-type=%sdelivery-status;\r\n"
		   "\tboundary=\"%s\"\r\n\r\n", utf8 ? "global-" : "", boundary);
	buf_puts(&b, "This is a MIME-encapsulated message.\r\n\r\n");

	buf_printf(&b, "--%s\r\nContent-Description: Notification\r\n"
		   "Content-Type: text/plain; charset=%s\r\n\r\n", boundary, utf8 ? "utf-8" : "us-ascii");
	put_human_part(&b, req, utf8);

	buf_printf(&b, "\r\n--%s\r\nContent-Description: Delivery report\r\n"
		   "Content-Type: message/%sdelivery-status\r\n\r\n", boundary, utf8 ? "global-" : "");
	put_status_part(&b, req, utf8);

	if (req->original != NULL && req->original_len > 0) {
		hlen = full ? req->original_len : dsn_header_len(req->original, req->original_len);
		if (full)
			buf_printf(&b, "\r\n--%s\r\nContent-Description: Undelivered Message\r\n"
				   "Content-Type: message/%s\r\n", boundary, utf8 ? "global" : "rfc822");
		else
			buf_printf(&b, "\r\n--%s\r\nContent-Description: Message Headers\r\n"
				   "Content-Type: %s\r\n", boundary,
				   utf8 ? "message/global-headers" : "text/rfc822-headers");
		if (dsn_has_8bit(req->original, hlen))
			buf_puts(&b, "Content-Transfer-Encoding: 8bit\r\n");
		buf_puts(&b, "\r\n");
		if (!full && !original_lines_ok(req->original, hlen)) {
			buf_puts(&b, "X-Evmail-Note: the original header block could not be returned\r\n");
		} else {
			buf_append(&b, req->original, hlen);
			if (hlen < 2 || memcmp(req->original + hlen - 2, "\r\n", 2) != 0)
				buf_puts(&b, "\r\n");
		}
	}
	buf_printf(&b, "\r\n--%s--\r\n", boundary);
	*len_r = b.len;
	*msg_r = buf_steal(&b);
	return 0;
}
