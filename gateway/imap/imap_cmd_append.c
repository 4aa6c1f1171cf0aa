/* imap_cmd_append - APPEND (RFC 9051 6.3.12; RFC 4315 APPENDUID; RFC 7889
 * APPENDLIMIT): the message is stored as a blob first (gateway/deliver_blob.h,
 * the same chunks delivery writes), then one message.append event names
 * it with its MIME summary, submitted once the chunks are durable and
 * answered once both are applied locally; the tagged OK carries [APPENDUID uidvalidity
 * uid] from the projector's outcome. imap_append_one is shared with
 * REPLACE (imap_cmd_replace.c). */
#include "gateway/imap/imap_cmd_append.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_catenate.h"
#include "gateway/imap/imap_acl.h"
#include "gateway/deliver_blob.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/mime.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct append {
	struct imap_session *s;
	imap_write_cb *done;
	char mailbox_id[33];
	char owner[EVM_ADDRESS_MAX + 1];   /* the mailbox's account: the body's owner */
	char blob_id[DELIVER_BLOB_ID_LEN + 1];
	size_t size;
	int64_t date;
	json_t *flags, *keywords, *summary;
};

static void append_free(struct append *a)
{
	json_decref(a->flags);
	json_decref(a->keywords);
	json_decref(a->summary);
	free(a);
}

/* RFC 9051 9 date-time: "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d"). */
int imap_date_time_parse(const char *v, int64_t *ms_r)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	int d, y, h, mi, se, zone, m = -1;
	char ms[4], sign;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (strlen(v) != 26 || sscanf(v, "%2d-%3c-%4d %2d:%2d:%2d %c%4d", &d, ms, &y, &h, &mi, &se, &sign,
				      &zone) != 8 || (sign != '+' && sign != '-'))
		return -1;
	ms[3] = '\0';
	for (int i = 0; i < 12; i++) {
		if (strcasecmp(ms, mon[i]) == 0)
			m = i;
	}
	if (m < 0 || d < 1 || d > 31 || y < 1970 || h > 23 || mi > 59 || se > 60 || zone % 100 > 59)
		return -1;
	tm.tm_mday = d;
	tm.tm_mon = m;
	tm.tm_year = y - 1900;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	t -= (sign == '+' ? 1 : -1) * ((zone / 100) * 3600 + (zone % 100) * 60);
	if (t < 0)
		return -1;
	*ms_r = (int64_t)t * 1000;
	return 0;
}

static void append_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	if (!imap_outcome_ok(s, status, outcome, error, "APPEND"))
		return;
	imap_ok(s, "[APPENDUID %" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT "] APPEND completed",
		json_integer_value(json_object_get(outcome, "uidvalidity")),
		json_integer_value(json_object_get(outcome, "uid")));
}

static void blob_stored(void *ctx, int status, const char *error, int32_t partition,
			int64_t last_offset)
{
	struct append *a = ctx;
	struct imap_session *s = a->s;

	if (s->conn != NULL && !s->closing) {
		if (status < 0) {
			log_warn("imap[%s]: APPEND blob %s not stored: %s", s->id, a->blob_id, error);
			imap_no(s, "[UNAVAILABLE] Cannot store the message%s, try again later",
				imap_unavailable_why(s, error));
		} else {
			/* Submitted as soon as the blob is durable; answered when
			 * the append and the blob are both applied here, so a
			 * FETCH of the body right after the OK finds it. */
			imap_submit_after(s, "message.append",
				    json_pack("{s:s, s:s, s:I, s:s, s:O, s:O, s:I, s:O}", "mailbox_id",
					      a->mailbox_id, "blob_id", a->blob_id, "blob_size",
					      (json_int_t)a->size, "prefix", "", "flags", a->flags, "keywords",
					      a->keywords, "internal_date", (json_int_t)a->date, "summary",
					      a->summary),
				    EVM_TOPIC_BLOB, partition, last_offset, a->done);
		}
	}
	append_free(a);
	imap_session_unref(s);
}

/* Validates APPEND's arguments args[n] (mailbox [flags] [date-time]
 * message), stores the message as a blob, then submits message.append with
 * done as its callback. 0 when started, -1 after answering BAD or NO. */
int imap_append_one(struct imap_session *s, const struct imap_arg *args, size_t nargs, imap_write_cb *done)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];
	const char *what = s->cur != NULL ? s->cur->name : "APPEND";
	const struct imap_arg *msg;
	struct imap_arg built;
	struct buf cat = BUF_INIT;
	struct append *a;
	json_t *box = NULL, *all, *v;
	size_t i, next = 1, end;
	int catenate = 0;

	if (nargs < 2 || nargs > 5 || imap_mailbox_arg_s(s, &args[0], name, sizeof name) < 0) {
		imap_bad(s, "%s needs a mailbox name and a message", what);
		return -1;
	}
	/* RFC 6855 4: after ENABLE UTF8=ACCEPT the message may come as
	 * "UTF8 (~{n}...)"; RFC 4469 5 (and RFC 8508 4.2 for REPLACE): as
	 * "CATENATE (parts)". Both take two arguments. */
	end = nargs - 1;
	if (nargs >= 3 && args[end].type == IMAP_ARG_LIST && args[end - 1].type == IMAP_ARG_ATOM) {
		if (s->utf8 && args[end].count == 1 && args[end].list[0].literal8 &&
		    strcasecmp(args[end - 1].str, "UTF8") == 0)
			end--;
		else if (strcasecmp(args[end - 1].str, "CATENATE") == 0)
			end--, catenate = 1;
	}
	if (nargs == 5 && end == nargs - 1) {
		imap_bad(s, "Invalid %s arguments", what);
		return -1;
	}
	a = xcalloc(1, sizeof *a);
	a->s = s;
	a->done = done;
	a->flags = json_array();
	a->keywords = json_array();
	a->date = evm_now_ms();
	all = json_array();
	if (next < end && args[next].type == IMAP_ARG_LIST) {
		if (imap_flag_list(&args[next], all) < 0)
			goto bad;
		next++;
	}
	if (next < end) {
		if (args[next].type != IMAP_ARG_STRING || imap_date_time_parse(args[next].str, &a->date) < 0)
			goto bad;
		next++;
	}
	/* RFC 9051 9: append-data = literal / literal8 / append-data-ext: a
	 * quoted string is not a message. */
	if (next != end || (end == nargs - 1 && (args[next].type != IMAP_ARG_STRING || !args[next].literal)))
		goto bad;
	json_array_foreach(all, i, v)
		json_array_append(json_string_value(v)[0] == '\\' ? a->flags : a->keywords, v);
	json_decref(all);
	if (catenate) {
		if (imap_catenate(s, &args[end + 1], &cat) < 0) {
			buf_free(&cat);
			append_free(a);
			return -1;   /* answered */
		}
		memset(&built, 0, sizeof built);
		built.type = IMAP_ARG_STRING;
		built.str = cat.data != NULL ? cat.data : "";
		built.len = cat.len;
		msg = &built;
	} else {
		msg = end == nargs - 1 ? &args[next] : &args[end + 1].list[0];
	}
	if (msg->len == 0) {
		buf_free(&cat);
		append_free(a);
		imap_no(s, "[CANNOT] Empty message");
		return -1;
	}
	if (msg->len > s->set.max_literal) {
		buf_free(&cat);
		append_free(a);
		imap_no(s, "[TOOBIG] Message larger than APPENDLIMIT");
		return -1;
	}
	/* Own or shared (RFC 4314 4: i; flags without their right dropped). */
	if (!imap_acl_find(s, name, MAIL_R_INSERT, "TRYCREATE", &box)) {
		buf_free(&cat);
		append_free(a);
		return -1;
	}
	imap_acl_filter_flags(imap_acl_box_rights(box), a->flags, a->keywords);
	snprintf(a->mailbox_id, sizeof a->mailbox_id, "%s", json_string_value(json_object_get(box, "id")));
	snprintf(a->owner, sizeof a->owner, "%s", imap_acl_box_owner(s, box));
	json_decref(box);
	a->size = msg->len;
	deliver_blob_id(msg->str, msg->len, a->blob_id);
	a->summary = mime_parse(msg->str, msg->len, NULL);
	imap_session_ref(s);
	deliver_blob_store(s->node, s->actor, a->owner, a->blob_id, msg->str, msg->len, blob_stored, a);
	buf_free(&cat);   /* the log copied the payload */
	return 0;
bad:
	json_decref(all);
	append_free(a);
	imap_bad(s, "Invalid %s arguments", what);
	return -1;
}

void imap_cmd_append(struct imap_session *s, const struct imap_command *cmd)
{
	if (imap_append_multi(s, cmd))
		return;   /* MULTIAPPEND or CATENATE: imap_cmd_multiappend.c */
	imap_append_one(s, cmd->args, cmd->nargs, append_done);
}
