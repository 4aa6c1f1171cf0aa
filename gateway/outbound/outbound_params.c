/* outbound_params - the MAIL FROM and RCPT TO lines with their ESMTP
 * parameters (RFC 1870 SIZE, RFC 6152 BODY, RFC 6531 SMTPUTF8, RFC 3461
 * DSN, RFC 8689 REQUIRETLS). */
#include "gateway/outbound/outbound_private.h"

#include <stdio.h>
#include <string.h>

static int is_hex_upper(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

/* RFC 3461 4: xchar is "!" to "~" except "+" and "="; others as "+HH".
 * A "+HH" already there is kept (values arrive xtext-encoded from SMTP). */
void ob_xtext(struct buf *out, const char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;
		if (c == '+' && is_hex_upper(v[1]) && is_hex_upper(v[2])) {
			buf_append(out, v, 3);
			v += 2;
		} else if (c < 33 || c > 126 || c == '+' || c == '=') {
			buf_printf(out, "+%02X", c);
		} else {
			buf_append(out, v, 1);
		}
	}
}

int ob_addr_ok(const char *addr)
{
	for (const unsigned char *p = (const unsigned char *)addr; *p != '\0'; p++)
		if (*p < 0x21 || *p == 0x7f || *p == '<' || *p == '>')
			return 0;
	return strlen(addr) <= 254;
}

void ob_mail_line(struct buf *out, const struct outbound_msg *msg, const struct smtp_ext *ext)
{
	buf_printf(out, "MAIL FROM:<%s>", msg->from);
	if (ext->size)
		buf_printf(out, " SIZE=%zu", msg->len);
	if (msg->body8bit && ext->eightbitmime)
		buf_puts(out, " BODY=8BITMIME");
	if (msg->smtputf8 && ext->smtputf8)
		buf_puts(out, " SMTPUTF8");
	if (ext->dsn && (strcmp(msg->ret, "FULL") == 0 || strcmp(msg->ret, "HDRS") == 0))
		buf_printf(out, " RET=%s", msg->ret);
	if (ext->dsn && msg->envid[0] != '\0') {
		buf_puts(out, " ENVID=");
		ob_xtext(out, msg->envid);
	}
	if (msg->requiretls && ext->requiretls)
		buf_puts(out, " REQUIRETLS");
}

/* NOTIFY is "NEVER" or a comma list of SUCCESS, FAILURE, DELAY. */
static int notify_ok(const char *v)
{
	if (v[0] == '\0')
		return 0;
	for (; *v != '\0'; v++)
		if (!(*v >= 'A' && *v <= 'Z') && !(*v >= 'a' && *v <= 'z') && *v != ',')
			return 0;
	return 1;
}

void ob_rcpt_line(struct buf *out, const struct outbound_rcpt *r, const struct smtp_ext *ext, int *dsn_r)
{
	const char *semi = strchr(r->orcpt, ';');

	*dsn_r = 0;
	buf_printf(out, "RCPT TO:<%s>", r->addr);
	if (!ext->dsn)
		return;
	if (notify_ok(r->notify)) {
		buf_printf(out, " NOTIFY=%s", r->notify);
		*dsn_r = 1;
	}
	/* RFC 3461 4.2: ORCPT=addr-type ";" xtext */
	if (semi != NULL && semi > r->orcpt && semi - r->orcpt < 20 &&
	    strspn(r->orcpt, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") ==
		    (size_t)(semi - r->orcpt)) {
		buf_printf(out, " ORCPT=%.*s;", (int)(semi - r->orcpt), r->orcpt);
		ob_xtext(out, semi + 1);
		*dsn_r = 1;
	}
}
