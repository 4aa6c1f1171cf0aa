/* http_ws_handshake - the server's side of the WebSocket opening
 * handshake (RFC 6455 4.2): the checks of the client's request, the
 * subprotocol, Sec-WebSocket-Accept, and the hand-over of the connection
 * (see http_ws.h). */
#include "gateway/http/http_ws_private.h"
#include "common/log.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 6455 1.3: appended to the key before hashing. */
static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int http_ws_accept_key(const char *key, char out[HTTP_WS_ACCEPT_SIZE], const char **error_r)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned char raw[24], md[EVP_MAX_MD_SIZE];
	char input[24 + sizeof ws_guid];
	unsigned int mdlen = 0;

	/* RFC 6455 4.1: base64 of a 16-octet nonce is 22 characters and "==". */
	if (strlen(key) != 24 || strspn(key, alphabet) != 22 || strcmp(key + 22, "==") != 0 ||
	    EVP_DecodeBlock(raw, (const unsigned char *)key, 24) != 18) {
		*error_r = "Sec-WebSocket-Key is not base64 of 16 octets";
		return -1;
	}
	snprintf(input, sizeof input, "%s%s", key, ws_guid);
	if (EVP_Digest(input, strlen(input), md, &mdlen, EVP_sha1(), NULL) != 1 || mdlen != 20) {
		*error_r = "SHA-1 failed";
		return -1;
	}
	if (EVP_EncodeBlock((unsigned char *)out, md, 20) != HTTP_WS_ACCEPT_SIZE - 1) {
		*error_r = "base64 failed";
		return -1;
	}
	return 0;
}

/* 1 when the comma-separated list holds token (case-insensitive). */
static int list_has(const char *list, const char *token)
{
	size_t n = strlen(token);

	for (const char *p = list; *p != '\0';) {
		size_t len;

		p += strspn(p, " \t,");
		len = strcspn(p, ",");
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(p, token, n) == 0)
			return 1;
		p += strcspn(p, ",");
	}
	return 0;
}

/* The first subprotocol of the client's offer (every Sec-WebSocket-
 * Protocol field, in order) that the caller speaks, or NULL. */
static const char *choose_protocol(const struct http_head *h, const char *const *ours)
{
	for (size_t i = 0; i < h->nfields; i++) {
		const char *v = h->fields[i].value;

		if (strcasecmp(h->fields[i].name, "Sec-WebSocket-Protocol") != 0)
			continue;
		for (const char *p = v; *p != '\0';) {
			size_t len;

			p += strspn(p, " \t,");
			len = strcspn(p, ", \t");
			/* Subprotocol names are tokens compared exactly (4.1). */
			for (size_t k = 0; len > 0 && ours[k] != NULL; k++) {
				if (strlen(ours[k]) == len && strncmp(p, ours[k], len) == 0)
					return ours[k];
			}
			p += len;
		}
	}
	return NULL;
}

/* The number of fields named name. */
static size_t count_fields(const struct http_head *h, const char *name)
{
	size_t n = 0;

	for (size_t i = 0; i < h->nfields; i++)
		n += strcasecmp(h->fields[i].name, name) == 0;
	return n;
}

/* A refusal with one extra field (NULL: none). Finishes req. */
static void refuse(struct http_request *req, int status, const char *field, const char *value,
		   const char *text)
{
	struct http_response resp;
	const char *error;

	http_response_init(&resp, status);
	(void)http_response_field(&resp, "Content-Type", "text/plain; charset=utf-8", &error);
	if (field != NULL)
		(void)http_response_field(&resp, field, value, &error);
	http_respond(req, &resp, text, strlen(text));
	http_response_clear(&resp);
}

struct http_ws *http_ws_accept(struct http_request *req, const struct http_ws_settings *set,
			       const struct http_ws_handler *h, void *ctx)
{
	const struct http_head *head = http_request_head(req);
	const char *upgrade = http_request_upgrade_wanted(req);
	const char *version = http_request_header(req, "Sec-WebSocket-Version");
	const char *key = http_request_header(req, "Sec-WebSocket-Key");
	const char *protocol = NULL, *error = NULL;
	char accept[HTTP_WS_ACCEPT_SIZE];
	struct http_response resp;
	struct http_ws *ws;
	struct conn *c;

	/* RFC 6455 4.2.1 items 1, 3, 4 (Host is the parser's); RFC 9110
	 * 15.5.22: a 426 names the protocol to upgrade to. */
	if (strcmp(http_request_method(req), "GET") != 0 || upgrade == NULL || !list_has(upgrade, "websocket")) {
		refuse(req, 426, "Upgrade", "websocket", "a WebSocket upgrade is required here\n");
		return NULL;
	}
	/* 4.2.1 item 6, 4.4: the version we speak. */
	if (version == NULL || count_fields(head, "Sec-WebSocket-Version") != 1 || strcmp(version, "13") != 0) {
		refuse(req, 426, "Sec-WebSocket-Version", "13", "WebSocket version 13 is required\n");
		return NULL;
	}
	/* 4.2.1 item 5. */
	if (key == NULL || count_fields(head, "Sec-WebSocket-Key") != 1 ||
	    http_ws_accept_key(key, accept, &error) < 0) {
		refuse(req, 400, NULL, NULL, "a Sec-WebSocket-Key of 16 octets in base64 is required\n");
		return NULL;
	}
	if (set->protocols != NULL && (protocol = choose_protocol(head, set->protocols)) == NULL) {
		char text[200];

		snprintf(text, sizeof text, "the WebSocket subprotocol \"%s\" is required\n", set->protocols[0]);
		refuse(req, 400, NULL, NULL, text);
		return NULL;
	}
	http_response_init(&resp, 101);
	if (http_response_field(&resp, "Upgrade", "websocket", &error) < 0 ||
	    http_response_field(&resp, "Sec-WebSocket-Accept", accept, &error) < 0 ||
	    (protocol != NULL && http_response_field(&resp, "Sec-WebSocket-Protocol", protocol, &error) < 0))
		log_panic("http: websocket answer: %s", error);
	ws = http_ws_alloc(set, h, ctx, protocol);
	c = http_upgrade(req, &resp, &http_ws_takeover, ws);
	http_response_clear(&resp);
	if (c == NULL) {
		http_ws_discard(&ws);
		return NULL;
	}
	http_ws_attach(ws, c);
	return ws;
}
