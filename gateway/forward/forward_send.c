/* forward_send - the forwarded copies (see forward.h): the SRS secret,
 * the message per forwarding domain (DKIM, ARC) and its queue items. */
#include "gateway/forward/forward.h"
#include "common/arc_seal.h"
#include "common/dkim.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/srs.h"
#include "gateway/submit/submit.h"
#include "projector/directory.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static unsigned char srs_secret[SRS_SECRET_MAX + 2];
static size_t srs_secret_len;

int forward_node_init(const struct evm_config *cfg, const char **error_r)
{
	static char err[600];
	FILE *f;
	size_t n;

	forward_node_free();
	if (cfg->forward_srs_secret_file[0] == '\0')
		return 0;
	f = fopen(cfg->forward_srs_secret_file, "r");
	if (f == NULL) {
		snprintf(err, sizeof err, "forward.srs_secret_file %s: %s", cfg->forward_srs_secret_file,
			 strerror(errno));
		*error_r = err;
		return -1;
	}
	if (fgets((char *)srs_secret, sizeof srs_secret, f) == NULL)
		srs_secret[0] = '\0';
	fclose(f);
	n = strcspn((char *)srs_secret, "\r\n");
	if (n < SRS_SECRET_MIN || n > SRS_SECRET_MAX) {
		forward_node_free();
		*error_r = "forward.srs_secret_file: the first line must hold 16 to 1024 octets";
		return -1;
	}
	srs_secret_len = n;
	return 0;
}

int forward_enabled(void)
{
	return srs_secret_len > 0;
}

void forward_node_free(void)
{
	OPENSSL_cleanse(srs_secret, sizeof srs_secret);
	srs_secret_len = 0;
}

int forward_srs_forward(const char *sender, const char *domain, int64_t now_s, char *out,
			const char **error_r)
{
	return srs_forward(srs_secret, srs_secret_len, sender, domain, now_s, out, error_r);
}

int forward_srs_reverse(const char *address, int64_t now_s, char *out, const char **error_r)
{
	return srs_reverse(srs_secret, srs_secret_len, address, now_s, out, error_r);
}

/* One ARC set on top of msg with domain's first RSA key (keys: the
 * directory_dkim_keys list), when it can be sealed honestly. */
static void arc_add(struct node *node, const char *domain, json_t *keys,
		    const struct forward_send_request *fr, struct buf *msg)
{
	const char *error = NULL, *cv = "none", *pem = NULL, *sel = NULL;
	const char *results = fr->auth_results != NULL && fr->auth_results[0] != '\0' ? fr->auth_results : "arc=none";
	struct arc_seal_request req = { 0 };
	EVP_PKEY *key = NULL;
	char *fields = NULL;
	json_t *k;
	size_t i;
	int n = 0, inst = 0;

	json_array_foreach(keys, i, k) {
		const char *alg = json_string_value(json_object_get(k, "algorithm"));
		if (alg != NULL && strcmp(alg, "rsa-sha256") == 0) {
			pem = json_string_value(json_object_get(k, "private_key"));
			sel = json_string_value(json_object_get(k, "selector"));
			break;
		}
	}
	if (pem == NULL || sel == NULL) {
		log_info("forward: %s has no RSA DKIM key: not ARC-sealed", domain);
		return;
	}
	if (arc_chain_instances(msg->data, msg->len, &n, &error) < 0) {
		log_info("forward: not ARC-sealed: %s", error);
		return;
	}
	if (n > 0 && fr->arc_cv != NULL && strcmp(fr->arc_cv, "none") != 0) {
		cv = strcmp(fr->arc_cv, "pass") == 0 ? "pass" : "fail";
	} else if (n > 0) {
		log_info("forward: the incoming ARC chain (%d sets) is not verified here: not sealed", n);
		return;
	}
	if (dkim_key_load(pem, &key, &error) < 0) {
		log_warn("forward: DKIM key %s of %s: %s", sel, domain, error);
		return;
	}
	req.msg = msg->data;
	req.len = msg->len;
	req.domain = domain;
	req.selector = sel;
	req.key = key;
	req.t = evm_now_ms() / 1000;
	req.authserv_id = node->cfg->smtp_hostname[0] != '\0' ? node->cfg->smtp_hostname : node->cfg->node_id;
	req.results = results;
	req.cv = cv;
	if (arc_seal(&req, &fields, &inst, &error) < 0) {
		log_warn("forward: ARC seal by %s failed: %s", domain, error);
	} else {
		struct buf sealed = BUF_INIT;
		buf_puts(&sealed, fields);
		buf_append(&sealed, msg->data, msg->len);
		buf_free(msg);
		*msg = sealed;
	}
	free(fields);
	EVP_PKEY_free(key);
}

/* The message for domain: Received + data, DKIM-signed, ARC-sealed; the
 * envelope sender (SRS0 at domain, "" for the null sender) in from_r. */
static void build(struct node *node, const char *domain, const struct forward_send_request *req,
		  struct buf *out, char *from_r)
{
	struct submit_lookups l;
	const char *error = NULL;
	json_t *keys;

	buf_puts(out, req->received);
	buf_append(out, req->data, req->len);
	submit_node_lookups(node, &l);
	if (node->cfg->dkim_sign)
		submit_dkim_sign(&l, domain, out, "forward");
	keys = submit_node_dkim_keys(node, domain);
	arc_add(node, domain, keys, req, out);
	json_decref(keys);
	from_r[0] = '\0';
	if (req->mail_from[0] != '\0' &&
	    forward_srs_forward(req->mail_from, domain, evm_now_ms() / 1000, from_r, &error) < 0) {
		log_info("forward: sender <%s> kept: %s", req->mail_from, error);
		snprintf(from_r, EVM_ADDRESS_MAX + 1, "%s", req->mail_from);
	}
}

/* The queue items in flight; the last answer calls back. */
struct sending {
	unsigned pending;
	int failed;
	char id[40];
	char error[200];
	enqueue_done_cb *cb;
	void *ctx;
};

static void finish(struct sending *s)
{
	if (--s->pending > 0)
		return;
	s->cb(s->ctx, s->failed ? -1 : 0, s->id, s->failed ? s->error : NULL);
	free(s);
}

static void queued(void *ctx, int status, const char *id, const char *error)
{
	struct sending *s = ctx;

	if (status < 0) {
		s->failed = 1;
		snprintf(s->error, sizeof s->error, "%s", error != NULL ? error : "not queued");
	} else if (s->id[0] == '\0' && id != NULL) {
		snprintf(s->id, sizeof s->id, "%s", id);
	}
	finish(s);
}

void forward_send(struct node *node, const struct forward_send_request *req, enqueue_done_cb *cb,
		  void *ctx)
{
	struct sending *s = xcalloc(1, sizeof *s);
	struct outbound_rcpt *rcpts = xcalloc(req->ntargets + 1, sizeof *rcpts);

	s->cb = cb;
	s->ctx = ctx;
	s->pending = 1;
	for (size_t i = 0; i < req->ntargets; i++) {
		const char *domain = req->targets[i].domain;
		struct enqueue_request q = { 0 };
		struct buf msg = BUF_INIT;
		char from[EVM_ADDRESS_MAX + 1];
		size_t n = 0, j;

		for (j = 0; j < i && strcmp(req->targets[j].domain, domain) != 0; j++)
			;
		if (j < i)
			continue;     /* this domain's copy is queued already */
		for (j = i; j < req->ntargets; j++) {
			if (strcmp(req->targets[j].domain, domain) == 0)
				rcpts[n++] = (struct outbound_rcpt){ req->targets[j].addr, "", "" };
		}
		build(node, domain, req, &msg, from);
		q.actor = "forward";
		q.tenant = req->targets[i].tenant;
		q.account = "";
		q.from = from;
		q.data = msg.data;
		q.len = msg.len;
		q.rcpts = rcpts;
		q.nrcpts = n;
		q.ret = "";
		q.envid = "";
		q.smtputf8 = req->smtputf8;
		q.body8bit = req->body8bit || submit_has_8bit(msg.data, msg.len);
		log_info("forward: queueing for %zu remote recipient(s) via %s, from=<%s>", n, domain, from);
		s->pending++;
		outbound_enqueue(node, &q, queued, s);
		buf_free(&msg);
	}
	free(rcpts);
	finish(s);
}
