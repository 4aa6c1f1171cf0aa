/* jmap_blob_private - what the modules of the BLOB work share, and only
 * they: jmap_blob.c, jmap_blob_args.c, jmap_blob_methods.c,
 * jmap_email_import.c, jmap_email_parse.c and jmap_quota.c. */
#ifndef EVM_JMAP_BLOB_PRIVATE_H
#define EVM_JMAP_BLOB_PRIVATE_H

#include <jansson.h>

#include "gateway/jmap/jmap_api.h"
#include "gateway/jmap/jmap_blob.h"

/* How many "_<part>" steps a blob id may take ("m<id>_2_1": the part 1 of
 * the message attached as part 2). */
#define JMAP_BLOB_DEPTH_MAX 4
/* RFC 9404 3 maxDataSources: data sources in one Blob/upload creation. */
#define JMAP_BLOB_MAX_SOURCES 64

/* The head of a blob id: an upload or an email, before any "_<part>". */
struct jmap_blob_ref {
	int upload;          /* 1: "b<64 hex blob id>", 0: "m<32 hex email id>" */
	char hex[65];        /* that blob id or email id */
	int part;            /* 1 when "_<part>" follows */
};

/* Parses blob_id's head: 0, or -1 when it is none of ours. */
int jmap_blob_ref_parse(const char *blob_id, struct jmap_blob_ref *ref);

/* The email id of a message stored as blob_hex with prefix: the first 32
 * hex digits of SHA-256(blob id + prefix) (projector/mail.h). */
void jmap_blob_email_id(const char *blob_hex, const char *prefix, char out[33]);

/* An EmailImport object (RFC 8621 4.8), checked (jmap_email_import_args.c). */
struct jmap_import_args {
	const char *blob_id;          /* "#cid" resolved; borrowed */
	json_t *mailboxes;            /* resolved existing mailbox ids, in order */
	json_t *flags, *keywords;     /* IMAP system flags and keywords (RFC 8621 4.1.1) */
	int64_t received;             /* receivedAt, ms; the time of the import by default */
};

/* 1 valid; 0 invalid with *prop_r (the property at fault, NULL for the
 * object) and *desc_r; -1 on a view error (*error_r). Free a with
 * jmap_import_args_free whatever the result. */
int jmap_import_args_parse(struct jmap_call *call, json_t *obj, struct jmap_import_args *a,
			   const char **prop_r, const char **desc_r, const char **error_r);
void jmap_import_args_free(struct jmap_import_args *a);

/* The registrations jmap_blob_register() (jmap_blob_methods.c) calls. */
void jmap_blob_upload_register(struct jmap_api *api);
void jmap_email_import_register(struct jmap_api *api);
void jmap_email_parse_register(struct jmap_api *api);
void jmap_quota_register(struct jmap_api *api);

#endif
