/* outbound_dialog - from the greeting to a connection ready for MAIL:
 * EHLO (HELO fallback), STARTTLS per the host's TLS policy, AUTH. */
#include "gateway/outbound/outbound_private.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ob_dialog_connected(struct ob_conn *c)
{
	c->state = CONN_GREETING;
	c->last_cmd = "waiting for the greeting";
	ob_conn_arm(c, (int)c->ob->cfg->delivery_command_timeout_s);
}

static void send_ehlo(struct ob_conn *c)
{
	c->state = CONN_EHLO;
	c->last_cmd = "after EHLO";
	ob_conn_write(c, "EHLO %s", c->ob->helo);
}

static void ready(struct ob_conn *c)
{
	c->state = CONN_READY;
	ob_send_conn_ready(c->send, c);
}

/* Writes "AUTH ..." with base64 of in (RFC 4954 4). */
static void write_b64(struct ob_conn *c, const char *prefix, const unsigned char *in, size_t len)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	unsigned char *out = xmalloc(cap);

	EVP_EncodeBlock(out, in, (int)len);
	ob_conn_write(c, "%s%s", prefix, (const char *)out);
	OPENSSL_cleanse(out, cap);
	free(out);
}

/* AUTH toward a relay (RFC 4954; RFC 4616 PLAIN; LOGIN), only over TLS. */
static void start_auth(struct ob_conn *c)
{
	const char *user = c->ob->cfg->delivery_relay_user, *pass = c->ob->relay_password;

	if (!c->tls) {
		ob_conn_fail(c, "4.7.0", "%s: AUTH refused without TLS", c->remote);
		return;
	}
	if (user[0] == '\0' || pass == NULL) {
		ob_conn_fail(c, "4.7.0", "%s: AUTH needs delivery.relay_user and delivery.relay_password_file",
			     c->remote);
		return;
	}
	c->last_cmd = "after AUTH";
	if (c->ext.auth_plain) {
		size_t ulen = strlen(user), plen = strlen(pass), len = ulen + plen + 2;
		unsigned char *msg = xmalloc(len);
		msg[0] = '\0';
		memcpy(msg + 1, user, ulen);
		msg[ulen + 1] = '\0';
		memcpy(msg + ulen + 2, pass, plen);
		c->state = CONN_AUTH;
		write_b64(c, "AUTH PLAIN ", msg, len);
		OPENSSL_cleanse(msg, len);
		free(msg);
	} else if (c->ext.auth_login) {
		c->state = CONN_AUTH_USER;
		ob_conn_write(c, "AUTH LOGIN");
	} else {
		ob_conn_fail(c, "4.7.0", "%s: AUTH required but neither PLAIN nor LOGIN offered", c->remote);
	}
}

/* After EHLO/HELO: STARTTLS as the policy says, then AUTH, then ready. */
static void after_hello(struct ob_conn *c)
{
	enum route_tls t = c->host.tls;

	if (!c->tls && t != ROUTE_TLS_NONE) {
		if (c->ext.starttls) {
			c->state = CONN_STARTTLS;
			c->last_cmd = "after STARTTLS";
			ob_conn_write(c, "STARTTLS");
			return;
		}
		if (t != ROUTE_TLS_MAY) {
			/* never in clear where the route demands TLS */
			ob_conn_fail(c, "4.7.4", "%s: TLS required by %s but STARTTLS not offered", c->remote,
				     ob_tls_mode_name(t));
			return;
		}
	}
	if (c->host.auth) {
		start_auth(c);
		return;
	}
	ready(c);
}

/* RFC 3207 4: the 220 to STARTTLS; nothing may follow it in clear. */
static void start_tls(struct ob_conn *c)
{
	struct bufferevent *nbev;
	char err[256];
	SSL *ssl;

	if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
		ob_conn_fail(c, "4.7.5", "%s: data after the STARTTLS reply (injection?)", c->remote);
		return;
	}
	if ((ssl = ob_tls_new(c->ob->ssl_ctx, &c->host, err, sizeof err)) == NULL) {
		ob_conn_fail(c, "4.7.5", "%s: %s", c->remote, err);
		return;
	}
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	nbev = bufferevent_openssl_filter_new(c->ob->base, c->bev, ssl, BUFFEREVENT_SSL_CONNECTING,
					      BEV_OPT_CLOSE_ON_FREE);
	if (nbev == NULL) {
		SSL_free(ssl);
		ob_conn_fail(c, "4.7.5", "%s: cannot start TLS", c->remote);
		return;
	}
	ob_conn_set_bev(c, nbev);
	c->state = CONN_HANDSHAKE;
	c->last_cmd = "during the TLS handshake";
	ob_conn_arm(c, (int)c->ob->cfg->delivery_command_timeout_s);
}

void ob_dialog_tls_done(struct ob_conn *c)
{
	char err[300];

	if (ob_tls_check(bufferevent_openssl_get_ssl(c->bev), &c->host, err, sizeof err) < 0) {
		ob_conn_fail(c, "4.7.5", "%s: %s", c->remote, err);
		return;
	}
	c->tls = 1;
	memset(&c->ext, 0, sizeof c->ext);
	smtp_reply_parser_reset(c->parser);
	send_ehlo(c);   /* RFC 3207 4.2: forget what was learnt in clear */
}

void ob_dialog_reply(struct ob_conn *c, const struct smtp_reply *r)
{
	int ok = r->code / 100 == 2;
	char line[OB_ERR_MAX];

	smtp_reply_format(r, line, sizeof line);
	switch (c->state) {
	case CONN_GREETING:
		if (ok)
			send_ehlo(c);
		else
			ob_conn_fail(c, r->enhanced[0] ? r->enhanced : "4.4.2", "%s: greeting: %s", c->remote, line);
		return;
	case CONN_EHLO:
		if (ok) {
			smtp_reply_ehlo(r, &c->ext);
			after_hello(c);
		} else if (r->code / 100 == 5 && !c->tls) {
			c->state = CONN_HELO;   /* RFC 5321 3.2: fall back to HELO */
			c->last_cmd = "after HELO";
			ob_conn_write(c, "HELO %s", c->ob->helo);
		} else {
			ob_conn_fail(c, r->enhanced[0] ? r->enhanced : "4.4.2", "%s: EHLO: %s", c->remote, line);
		}
		return;
	case CONN_HELO:
		if (!ok) {
			ob_conn_fail(c, r->enhanced[0] ? r->enhanced : "4.4.2", "%s: HELO: %s", c->remote, line);
			return;
		}
		memset(&c->ext, 0, sizeof c->ext);
		after_hello(c);
		return;
	case CONN_STARTTLS:
		if (r->code == 220)
			start_tls(c);
		else if (c->host.tls == ROUTE_TLS_MAY)
			c->host.tls = ROUTE_TLS_NONE, after_hello(c);
		else
			ob_conn_fail(c, "4.7.4", "%s: TLS required by %s but STARTTLS refused: %s", c->remote,
				     ob_tls_mode_name(c->host.tls), line);
		return;
	case CONN_AUTH_USER:
	case CONN_AUTH_PASS:
		if (r->code != 334) {
			ob_conn_fail(c, r->enhanced[0] ? r->enhanced : "4.7.0", "%s: AUTH LOGIN: %s", c->remote, line);
			return;
		}
		if (c->state == CONN_AUTH_USER) {
			c->state = CONN_AUTH_PASS;
			write_b64(c, "", (const unsigned char *)c->ob->cfg->delivery_relay_user,
				  strlen(c->ob->cfg->delivery_relay_user));
		} else {
			c->state = CONN_AUTH;
			write_b64(c, "", (const unsigned char *)c->ob->relay_password, strlen(c->ob->relay_password));
		}
		return;
	case CONN_AUTH:
		if (r->code == 235)
			ready(c);
		else
			ob_conn_fail(c, r->enhanced[0] ? r->enhanced : "4.7.0", "%s: AUTH failed: %s", c->remote, line);
		return;
	default:
		ob_conn_fail(c, "4.5.0", "%s: unexpected reply %s: %s", c->remote, c->last_cmd, line);
	}
}
