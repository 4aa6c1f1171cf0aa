/* msgauth - see msgauth.h: the order of the checks and the library setup. */
#include "gateway/msgauth/msgauth.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <opendmarc/dmarc.h>

static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int init_done;

int msgauth_init(const char *public_suffix_file, const char **error_r)
{
	OPENDMARC_LIB_T lib;
	int r = 0;

	pthread_mutex_lock(&init_lock);
	if (!init_done) {
		memset(&lib, 0, sizeof lib);
		lib.tld_type = OPENDMARC_TLD_TYPE_MOZILLA;
		if (access(public_suffix_file, R_OK) != 0 ||
		    (size_t)snprintf((char *)lib.tld_source_file, sizeof lib.tld_source_file, "%s",
				     public_suffix_file) >= sizeof lib.tld_source_file ||
		    opendmarc_policy_library_init(&lib) != DMARC_PARSE_OKAY) {
			*error_r = "msgauth: cannot read the public suffix list";
			r = -1;
		} else {
			init_done = 1;
		}
	}
	pthread_mutex_unlock(&init_lock);
	return r;
}

void msgauth_check(const struct msgauth_request *req, const struct msgauth_dns *dns,
		   struct msgauth_result *res)
{
	struct msgauth_arc arc;

	memset(res, 0, sizeof *res);
	msgauth_spf_check(dns, req->peer_ip, req->helo, req->mail_from, res);
	msgauth_dkim_check(dns, req->msg, req->len, req->now, res);
	msgauth_arc_evaluate(dns, req->msg, req->len, req->arc_trusted_sealers, &arc);
	snprintf(res->arc, sizeof res->arc, "%s", arc.result);
	res->arc_instances = arc.instances;
	res->arc_oldest_pass = arc.oldest_pass;
	msgauth_dmarc_check(dns, req, res);
	/* RFC 7489 7.2 (local policy) with RFC 8617 7.2: an intermediary we
	 * trust (every sealer of a valid chain) vouches for what it received,
	 * so a DMARC failure caused by its changes is accepted; the result
	 * stays dmarc=fail and the field says why it was not enforced. */
	if (strcmp(res->dmarc, "fail") == 0 && res->action != MSGAUTH_ACCEPT && strcmp(arc.result, "pass") == 0 &&
	    arc.trusted) {
		res->action = MSGAUTH_ACCEPT;
		res->dmarc_override = 1;
	}
}
