/* fuzz_msgauth_headers - libFuzzer target for what msgauth reads from a
 * received message's header without DNS: Authentication-Results
 * authserv-ids and their removal (msgauth_ar.c), ARC-Authentication-
 * Results instances, and the ARC and DKIM checks over a message whose
 * every lookup fails (msgauth_arc.c, msgauth_dkim.c), the From
 * addresses DMARC evaluates (msgauth_dmarc.c), and Received-SPF built with
 * the input as envelope sender and HELO (msgauth_ar.c).
 *
 * Besides not crashing: the rewritten message starts with our field, is
 * never longer than field + input, and rewriting it again changes nothing
 * after that field (no copy of ours survives); DMARC without DNS never
 * passes nor rejects; Received-SPF has no line break but its folds. */
#include "gateway/msgauth/msgauth.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static enum msgauth_dns_status no_dns(void *ctx, const char *name, int rrtype, struct msgauth_rr **rrs_r,
				      size_t *n_r)
{
	(void)ctx;
	(void)name;
	(void)rrtype;
	*rrs_r = NULL;
	*n_r = 0;
	return MSGAUTH_DNS_TEMPFAIL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char field[] = "Authentication-Results: mx.test; spf=none\r\n";
	const struct msgauth_dns dns = { .query = no_dns };
	const char *msg = (const char *)data;
	struct buf once = BUF_INIT, twice = BUF_INIT;
	struct msgauth_result res;
	const char *arc;

	static int init;
	const char *error = NULL;
	char *text;

	if (size > 64 * 1024)
		return 0;
	if (!init && msgauth_init("/usr/share/publicsuffix/public_suffix_list.dat", &error) < 0)
		abort();
	init = 1;
	(void)msgauth_ar_is_ours(msg, size, "mx.test");
	(void)msgauth_arc_instance(msg, size);
	msgauth_rewrite(msg, size, "mx.test", field, &once);
	check(once.len >= sizeof field - 1 && once.len <= sizeof field - 1 + size);
	check(memcmp(once.data, field, sizeof field - 1) == 0);
	msgauth_rewrite(once.data + sizeof field - 1, once.len - (sizeof field - 1), "mx.test", field, &twice);
	check(twice.len == once.len && memcmp(twice.data, once.data, once.len) == 0);
	arc = msgauth_arc_check(&dns, msg, size);
	check(strcmp(arc, "pass") != 0);
	memset(&res, 0, sizeof res);
	msgauth_dkim_check(&dns, msg, size, 0, &res);
	for (size_t i = 0; i < res.ndkim; i++)
		check(strcmp(res.dkim[i].result, "pass") != 0);
	{
		struct msgauth_request req = { .authserv_id = "mx.test", .peer_ip = "192.0.2.1", .helo = "h",
					       .mail_from = "", .msg = msg, .len = size };
		struct buf f = BUF_INIT;

		memset(&res, 0, sizeof res);
		snprintf(res.spf, sizeof res.spf, "none");
		msgauth_dmarc_check(&dns, &req, &res);
		check(strcmp(res.dmarc, "pass") != 0 && res.action == MSGAUTH_ACCEPT);
		text = strndup(msg, size);
		req.mail_from = text;
		req.helo = text;
		snprintf(res.spf_domain, sizeof res.spf_domain, "%s", text);
		msgauth_received_spf(&req, &res, &f);
		for (size_t i = 0; i < f.len; i++)
			if (f.data[i] == '\r')
				check(i + 1 < f.len && f.data[i + 1] == '\n' && (i + 2 == f.len || f.data[i + 2] == '\t'));
			else if (f.data[i] == '\n')
				check(i > 0 && f.data[i - 1] == '\r');
		free(text);
		buf_free(&f);
	}
	buf_free(&once);
	buf_free(&twice);
	return 0;
}
