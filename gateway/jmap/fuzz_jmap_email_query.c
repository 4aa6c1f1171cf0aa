/* fuzz_jmap_email_query - libFuzzer target: arbitrary bytes as the
 * arguments of Email/query, Email/get, Email/queryChanges and
 * SearchSnippet/get, run through the whole engine against a small fixed
 * view (a multipart message with an attachment, a reply in its thread,
 * copies in two mailboxes with flags, a message whose body is not here).
 *
 * Bytes that are a JSON object are the arguments as they are (with the
 * account's id added when they name none, so the methods get past the
 * account check); any other bytes go in as a JSON string, which the
 * engine must refuse. Besides not crashing: the callback runs exactly
 * once, with 200 and one well-formed response per call, each the call's
 * own name or "error". */
#include "gateway/jmap/test_jmap_email_util.h"

#include <stdint.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static const char *const methods[] = { "Email/query", "Email/get", "Email/queryChanges", "SearchSnippet/get" };
#define NMETHODS (sizeof methods / sizeof methods[0])

/* The fixed view, made once. */
static void init(void)
{
	static char dir[] = "/tmp/fuzz_jmap_email_query.XXXXXX";
	const char *work = "66666666666666666666666666666666";

	if (mkdtemp(dir) == NULL)
		abort();
	email_setup(dir, 20);
	deliver_flags("INBOX",
		      "From: Ann <ann@x.test>\r\nTo: bob@acme.test\r\nSubject: =?utf-8?q?Caf=C3=A9?=\r\n"
		      "Date: Tue, 14 Nov 2023 10:00:00 +0200\r\nMessage-ID: <1@x>\r\n"
		      "Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\n"
		      "hello world\r\n--X\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		      "aGVsbG8=\r\n--X--\r\n", 1000, "\\Seen", 0);
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", work, "name", "Work"));
	deliver_flags(work, "From: b@y.test\r\nSubject: Re: x\r\nIn-Reply-To: <1@x>\r\n\r\nreply\r\n", 2000, "\\Flagged", 0);
	run("message.copy", json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", work, "uids", 1, 1, "to_mailbox_id",
				      mailbox_id("INBOX")));
	store(work, 1, "add", "[\"$Label\"]");
	deliver_flags("INBOX", "Subject: later\r\n\r\nnot here\r\n", 3000, NULL, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jmap_run_params p = { .user = &user, .session_state = "s", .request_ctx = &req };
	json_t *args = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL), *request, *calls, *inv;
	char *body;
	size_t i;

	if (api == NULL)
		init();
	if (!json_is_object(args)) {
		json_decref(args);
		args = json_stringn_nocheck((const char *)data, size);
	} else if (json_object_get(args, "accountId") == NULL) {
		json_object_set_new(args, "accountId", json_string(req.account_id));
	}
	calls = json_array();
	for (i = 0; i < NMETHODS; i++)
		json_array_append_new(calls, json_pack("[s,O,s]", methods[i], args, "c"));
	request = json_pack("{s:[s,s], s:o}", "using", JMAP_CAP_CORE, JMAP_CAP_MAIL, "methodCalls", calls);
	body = json_dumps(request, JSON_COMPACT);
	json_decref(request);
	json_decref(args);
	if (body == NULL)   /* bytes that are not UTF-8 cannot be a JSON string */
		return 0;
	json_decref(last.body);
	memset(&last, 0, sizeof last);
	jmap_api_run(api, &p, "application/json", body, strlen(body), done_cb, &last);
	check(last.done == 0);
	event_base_dispatch(base);
	free(body);
	check(last.done == 1);
	if (last.status != 200) {   /* a string where an object belongs */
		check(last.status == 400);
		return 0;
	}
	check(json_array_size(json_object_get(last.body, "methodResponses")) == NMETHODS);
	json_array_foreach(json_object_get(last.body, "methodResponses"), i, inv) {
		const char *name = json_string_value(json_array_get(inv, 0));

		check(json_array_size(inv) == 3 && name != NULL && json_is_object(json_array_get(inv, 1)));
		check(strcmp(name, methods[i]) == 0 || strcmp(name, "error") == 0);
	}
	return 0;
}
