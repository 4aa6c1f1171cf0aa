/* imap_fetch_ext - FETCH data items of the extensions that read only the
 * message record or its summary: EMAILID and THREADID (RFC 8474 5.1; no
 * threads are computed, so THREADID is NIL, 5.2), SAVEDATE (RFC 8514 4)
 * and PREVIEW (RFC 8970 3, from the summary's "preview"). */
#include "gateway/imap/imap_fetch_ext.h"
#include "gateway/imap/imap_render.h"

#include <string.h>
#include <time.h>

/* A date-time string (RFC 9051 9) of a time in ms, in UTC. */
static void date_time(struct buf *out, int64_t ms)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	buf_printf(out, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday, mon[tm.tm_mon],
		   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void imap_fetch_ext_render(struct buf *out, enum imap_fetch_ext which, json_t *rec, json_t *summary)
{
	const char *v;
	json_t *sd;

	switch (which) {
	case IMAP_FX_EMAILID:
		v = json_string_value(json_object_get(rec, "email_id"));
		buf_printf(out, "EMAILID (%s)", v != NULL ? v : "");
		break;
	case IMAP_FX_THREADID:
		buf_puts(out, "THREADID NIL");
		break;
	case IMAP_FX_SAVEDATE:
		/* RFC 8514 4: NIL when the save date is not known. */
		buf_puts(out, "SAVEDATE ");
		if (json_is_integer(sd = json_object_get(rec, "savedate")))
			date_time(out, json_integer_value(sd));
		else
			buf_puts(out, "NIL");
		break;
	case IMAP_FX_PREVIEW:
		v = json_string_value(json_object_get(summary, "preview"));
		buf_puts(out, "PREVIEW ");
		if (v != NULL)
			imap_render_string(out, v, strlen(v));
		else
			buf_puts(out, "NIL");
		break;
	}
}
