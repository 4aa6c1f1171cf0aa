/* imap_capability - the CAPABILITY list (RFC 9051 7.2.2): the extensions
 * advertised in every state, and those of the session's state. */
#include "gateway/imap/imap_session_private.h"

/* The capabilities advertised in every state, one per line: an extension
 * is listed only once it is complete (issue 4). */
static const char *const imap_capabilities[] = {
	"IMAP4rev1",
	"IMAP4rev2",
	"SASL-IR",
	"COMPRESS=DEFLATE",
	"UTF8=ACCEPT",
	"ID",
	"ENABLE",
	"IDLE",
	"NAMESPACE",
	"UNSELECT",
	"UIDPLUS",
	"ESEARCH",
	"SEARCHRES",
	"SORT",
	"SORT=DISPLAY",
	"ESORT",
	"THREAD=ORDEREDSUBJECT",
	"THREAD=REFERENCES",
	"WITHIN",
	"CONTEXT=SEARCH",
	"CONTEXT=SORT",
	"MOVE",
	"CONDSTORE",
	"QRESYNC",
	"UIDONLY",
	"BINARY",
	"CHILDREN",
	"SPECIAL-USE",
	"LIST-EXTENDED",
	"LIST-STATUS",
	"STATUS=SIZE",
	"CREATE-SPECIAL-USE",
	"QUOTA",
	"QUOTA=RES-STORAGE",
	"MULTIAPPEND",
	"CATENATE",
	"PREVIEW",
	"SAVEDATE",
	"OBJECTID",
	"UNAUTHENTICATE",
	"REPLACE",
	"METADATA",
	"METADATA-SERVER",
	"URLAUTH",
	"ACL",
	"RIGHTS=texk",
	"PARTIAL",
	"NOTIFY",
	NULL
};

void imap_capability_string(struct imap_session *s, struct buf *out)
{
	for (size_t i = 0; imap_capabilities[i] != NULL; i++)
		buf_printf(out, "%s%s", i ? " " : "", imap_capabilities[i]);
	/* RFC 7888 4: non-synchronising literals of any size (up to
	 * APPENDLIMIT) once authenticated, at most 4096 octets before; never
	 * both capabilities at once. */
	buf_puts(out, s->state == IMAP_S_NOAUTH ? " LITERAL-" : " LITERAL+");
	if (s->state == IMAP_S_NOAUTH) {
		if (s->set.tls != NULL && !s->tls)
			buf_puts(out, " STARTTLS");
		if (s->tls || s->set.allow_plaintext_auth)
			buf_puts(out, " AUTH=PLAIN AUTH=SCRAM-SHA-256 AUTH=LOGIN");
		else
			buf_puts(out, " LOGINDISABLED");
	}
	buf_printf(out, " APPENDLIMIT=%zu", s->set.max_literal);
}
