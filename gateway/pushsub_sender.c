/* pushsub_sender - see pushsub_sender.h. The loop side (who owns a user,
 * what changed, the queue with its coalescing) and the worker thread. */
#include "gateway/pushsub_sender.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_push.h"
#include "gateway/node.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/mail.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* How long the heartbeat table read for ownership is reused. */
#define NODES_CACHE_MS 1000

/* One POST waiting for the worker. */
struct job {
	struct job *next;
	char sub_id[33];
	char account_id[JMAP_ACCOUNT_ID_LEN + 1];
	char *url;
	char *body;        /* a PushVerification, or NULL for a StateChange */
	json_t *types;     /* a StateChange's type -> state, merged while queued */
	int encrypted;     /* RFC 8291 to keys */
	struct webpush_keys keys;
};

struct pushsub_sender {
	struct node *node;
	struct pushsub_transport t;
	struct pushsub_curl curl;
	struct projector_sub *sub;
	json_t *last;              /* loop: account -> {sub id -> [state per type]} last sent */
	json_t *nodes;             /* loop: the heartbeat table, read at nodes_at */
	int64_t nodes_at;
	pthread_t thread;
	int started;
	pthread_mutex_t mu;        /* the queue, stopping and the counters */
	pthread_cond_t cv;
	struct job *head, *tail;
	size_t queued;
	int stopping;
	struct pushsub_stats stats;
};

static void job_free(struct job *j)
{
	free(j->url);
	free(j->body);
	json_decref(j->types);
	free(j);
}

/* ---- rendezvous (which node sends for a user) ---- */

/* The first 8 octets of SHA-256(node id NUL user), big-endian. */
static uint64_t score(const char *node_id, const char *user)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	uint64_t v = 0;

	if (c == NULL || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(c, node_id, strlen(node_id) + 1) != 1 ||
	    EVP_DigestUpdate(c, user, strlen(user)) != 1 || EVP_DigestFinal_ex(c, md, &mdlen) != 1 || mdlen < 8)
		log_panic("pushsub: SHA-256 failed");
	EVP_MD_CTX_free(c);
	for (int i = 0; i < 8; i++)
		v = v << 8 | md[i];
	return v;
}

/* roles (a comma list) names the gateway role. */
static int has_gateway(const char *roles)
{
	size_t n = strlen("gateway");

	for (const char *p = roles; p != NULL && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, "gateway", n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
	return 0;
}

const char *pushsub_rendezvous(const json_t *nodes, const char *user, int64_t now_ms, int64_t alive_ms)
{
	const char *id, *best = NULL;
	uint64_t best_score = 0;
	json_t *n;

	json_object_foreach((json_t *)nodes, id, n) {
		json_t *ts = json_object_get(n, "ts");
		uint64_t sc;

		if (!json_is_integer(ts) || now_ms - json_integer_value(ts) > alive_ms ||
		    !has_gateway(json_string_value(json_object_get(n, "roles"))) ||
		    json_is_true(json_object_get(n, "draining")))
			continue;
		sc = score(id, user);
		/* Ties (never in practice) go to the smaller id: the same
		 * answer whatever the table's order. */
		if (best == NULL || sc > best_score || (sc == best_score && strcmp(id, best) < 0)) {
			best = id;
			best_score = sc;
		}
	}
	return best;
}

/* Whether this node sends the StateChanges of user now. */
static int is_owner(struct pushsub_sender *s, const char *user)
{
	const struct evm_config *cfg = s->node->cfg;
	const char *chosen;

	if (s->nodes == NULL || evm_mono_ms() - s->nodes_at >= NODES_CACHE_MS) {
		json_t *st = projector_status(s->node->projector);

		json_decref(s->nodes);
		s->nodes = json_incref(json_object_get(st, "nodes"));
		s->nodes_at = evm_mono_ms();
		json_decref(st);
	}
	chosen = pushsub_rendezvous(s->nodes, user, evm_now_ms(),
				    (int64_t)PUSHSUB_ALIVE_BEATS * cfg->projector_heartbeat_ms);
	return chosen == NULL || strcmp(chosen, cfg->node_id) == 0;
}

/* ---- the queue ---- */

/* Queues j (taken); a StateChange of a subscription already waiting is
 * merged into that one instead. 0, or -1 when full (j freed). */
static int enqueue(struct pushsub_sender *s, struct job *j)
{
	pthread_mutex_lock(&s->mu);
	if (j->body == NULL) {
		for (struct job *q = s->head; q != NULL; q = q->next) {
			if (q->body == NULL && strcmp(q->sub_id, j->sub_id) == 0) {
				json_object_update(q->types, j->types);
				pthread_mutex_unlock(&s->mu);
				job_free(j);
				return 0;
			}
		}
	}
	if (s->queued >= PUSHSUB_QUEUE_MAX || s->stopping) {
		s->stats.dropped++;
		pthread_mutex_unlock(&s->mu);
		log_warn("pushsub: queue full, push to subscription %s dropped", j->sub_id);
		job_free(j);
		return -1;
	}
	if (s->tail != NULL)
		s->tail->next = j;
	else
		s->head = j;
	s->tail = j;
	s->queued++;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int pushsub_sender_verify(struct pushsub_sender *s, const char *id, const char *url,
			  const struct webpush_keys *keys, const char *code)
{
	struct job *j = xcalloc(1, sizeof *j);
	json_t *v = json_pack("{s:s, s:s, s:s}", "@type", "PushVerification", "pushSubscriptionId", id,
			      "verificationCode", code);

	snprintf(j->sub_id, sizeof j->sub_id, "%s", id);
	j->url = xstrdup(url);
	if (keys != NULL) {
		j->encrypted = 1;
		j->keys = *keys;
	}
	j->body = json_dumps(v, JSON_COMPACT);
	json_decref(v);
	if (j->body == NULL)
		log_panic("pushsub: cannot encode a PushVerification");
	return enqueue(s, j);
}

/* Sends the JSON body of j, encrypted when j has keys (RFC 8620 7.2:
 * "MUST"; RFC 8291). 0, or -1 with a message in err. */
static int post_job(struct pushsub_sender *s, const struct job *j, const char *body, char *err, size_t errsize)
{
	struct pushsub_post p = { j->url, body, strlen(body), 0 };
	struct buf enc = BUF_INIT;
	const char *error = NULL;
	int r;

	if (!j->encrypted)
		return s->t.post(s->t.ctx, &p, err, errsize);
	if (webpush_encrypt(&j->keys, NULL, NULL, body, strlen(body), &enc, &error) < 0) {
		snprintf(err, errsize, "not encrypted: %s", error);
		return -1;
	}
	p.body = enc.data;
	p.len = enc.len;
	p.encrypted = 1;
	r = s->t.post(s->t.ctx, &p, err, errsize);
	buf_free(&enc);
	return r;
}

/* The worker: one POST at a time until stopped. */
static void *worker(void *arg)
{
	struct pushsub_sender *s = arg;
	char err[256];

	for (;;) {
		struct job *j;
		char *body;
		int r;

		pthread_mutex_lock(&s->mu);
		while (!s->stopping && s->head == NULL)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stopping) {
			pthread_mutex_unlock(&s->mu);
			return NULL;
		}
		j = s->head;
		s->head = j->next;
		if (s->head == NULL)
			s->tail = NULL;
		s->queued--;
		pthread_mutex_unlock(&s->mu);
		if (j->body != NULL) {
			body = xstrdup(j->body);
		} else {
			/* RFC 8620 7.1: the latest state of every type that moved. */
			json_t *sc = json_pack("{s:s, s:{s:O}}", "@type", "StateChange", "changed", j->account_id,
					       j->types);

			body = json_dumps(sc, JSON_COMPACT);
			json_decref(sc);
		}
		err[0] = '\0';
		r = body != NULL ? post_job(s, j, body, err, sizeof err) : -1;
		pthread_mutex_lock(&s->mu);
		if (r == 0)
			s->stats.sent++;
		else
			s->stats.failed++;
		pthread_mutex_unlock(&s->mu);
		if (r < 0)
			log_warn("pushsub: %s to subscription %s not delivered: %s",
				 j->body != NULL ? "PushVerification" : "StateChange", j->sub_id, err);
		free(body);
		job_free(j);
	}
}

/* ---- what changed ---- */

/* The types a subscription asks for (RFC 8620 7.2 "types": null = all). */
static unsigned types_mask(json_t *types)
{
	unsigned mask = 0;
	json_t *v;
	size_t i;

	if (!json_is_array(types))
		return JMAP_PUSH_ALL;
	json_array_foreach(types, i, v)
		mask |= jmap_push_type_bit(json_string_value(v));
	return mask;
}

/* The keys of a subscription record (RFC 8620 7.2 "keys", stored as the
 * client gave them): 1 with *k, 0 when it has none, -1 with *error_r. */
static int record_keys(json_t *rec, struct webpush_keys *k, const char **error_r)
{
	json_t *keys = json_object_get(rec, "keys");
	const char *p256dh = json_string_value(json_object_get(keys, "p256dh"));
	const char *auth = json_string_value(json_object_get(keys, "auth"));

	if (keys == NULL || json_is_null(keys))
		return 0;
	if (p256dh == NULL || auth == NULL) {
		*error_r = "keys: {p256dh, auth} expected";
		return -1;
	}
	return webpush_keys_parse(p256dh, auth, k, error_r) < 0 ? -1 : 1;
}

/* A subscription of a user: queues its StateChange when an asked type
 * moved since the states sent last (all asked types when none were). */
static void consider(struct pushsub_sender *s, json_t *rec, const char *account_id,
		     const int64_t now[MAIL_J_TYPES], json_t *prev, json_t *next)
{
	const char *id = json_string_value(json_object_get(rec, "id"));
	json_t *seen = json_object_get(prev, id), *change, *arr = json_array();
	int64_t last[MAIL_J_TYPES] = { 0 };
	struct webpush_keys wk = { { 0 }, { 0 } };
	const char *error = NULL;
	struct job *j;
	int enc;

	/* Keys that do not parse (the writer checked them) get nothing: a
	 * subscription that asked for encryption never hears in clear. */
	if ((enc = record_keys(rec, &wk, &error)) < 0) {
		log_warn("pushsub: subscription %s not pushed: %s", id, error);
		json_decref(arr);
		return;
	}
	for (int t = 0; t < MAIL_J_TYPES; t++)
		last[t] = json_integer_value(json_array_get(seen, (size_t)t));
	change = jmap_push_state_change(account_id, types_mask(json_object_get(rec, "types")), now, last,
					seen == NULL);
	for (int t = 0; t < MAIL_J_TYPES; t++)
		json_array_append_new(arr, json_integer(last[t]));
	json_object_set_new(next, id, arr);
	if (change == NULL)
		return;
	j = xcalloc(1, sizeof *j);
	snprintf(j->sub_id, sizeof j->sub_id, "%s", id);
	snprintf(j->account_id, sizeof j->account_id, "%s", account_id);
	j->url = xstrdup(json_string_value(json_object_get(rec, "url")));
	j->encrypted = enc;
	j->keys = wk;
	j->types = json_deep_copy(json_object_get(json_object_get(change, "changed"), account_id));
	json_decref(change);
	(void)enqueue(s, j);
}

/* Projector: something of account changed (loop thread). */
static void on_change(void *ctx, const char *account)
{
	struct pushsub_sender *s = ctx;
	char account_id[JMAP_ACCOUNT_ID_LEN + 1];
	int64_t now[MAIL_J_TYPES], now_ms = evm_now_ms();
	json_t *list = NULL, *rec, *prev, *next = json_object();
	const char *error = NULL;
	int have_states = 0;
	size_t i;

	if (account == NULL || !is_owner(s, account)) {
		json_decref(next);
		return;
	}
	if (mail_pushsub_list(s->node->view, account, &list, &error) < 0) {
		log_error("pushsub: subscriptions of %s: %s", account, error);
		json_decref(next);
		return;
	}
	jmap_account_id(account, account_id);
	prev = json_object_get(s->last, account);
	json_array_foreach(list, i, rec) {
		json_t *exp = json_object_get(rec, "expires");

		/* RFC 8620 7.2.2: nothing but the verification until verified;
		 * 7.2 "expires": nothing after it. */
		if (!json_is_true(json_object_get(rec, "verified")) ||
		    (json_is_integer(exp) && json_integer_value(exp) <= now_ms))
			continue;
		if (!have_states && jmap_push_states(s->node->view, account, now) < 0)
			break;
		have_states = 1;
		consider(s, rec, account_id, now, prev, next);
	}
	if (json_object_size(next) > 0)
		json_object_set_new(s->last, account, next);
	else {
		json_object_del(s->last, account);
		json_decref(next);
	}
	json_decref(list);
}

int pushsub_sender_start(struct node *node, const struct pushsub_transport *transport,
			 struct pushsub_sender **s_r, const char **error_r)
{
	struct pushsub_sender *s = xcalloc(1, sizeof *s);

	s->node = node;
	pushsub_curl_settings(node->cfg, &s->curl);
	if (transport != NULL) {
		s->t = *transport;
	} else {
		s->t.post = pushsub_curl_post;
		s->t.ctx = &s->curl;
	}
	s->last = json_object();
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (pthread_create(&s->thread, NULL, worker, s) != 0) {
		*error_r = "cannot start the push sender thread";
		pushsub_sender_stop(&s);
		return -1;
	}
	s->started = 1;
	s->sub = projector_subscribe(node->projector, NULL, on_change, s);
	*s_r = s;
	return 0;
}

void pushsub_sender_stop(struct pushsub_sender **sp)
{
	struct pushsub_sender *s = *sp;

	if (s == NULL)
		return;
	*sp = NULL;
	projector_unsubscribe(&s->sub);
	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	if (s->started)
		pthread_join(s->thread, NULL);
	while (s->head != NULL) {
		struct job *j = s->head;

		s->head = j->next;
		job_free(j);
	}
	curl_global_cleanup();
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	json_decref(s->last);
	json_decref(s->nodes);
	free(s);
}

void pushsub_sender_stats(struct pushsub_sender *s, struct pushsub_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->stats;
	pthread_mutex_unlock(&s->mu);
}
