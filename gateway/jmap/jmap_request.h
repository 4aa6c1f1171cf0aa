/* jmap_request - the JMAP Request object (RFC 8620 3.3) read from an API
 * request body, and the request-level errors of RFC 8620 3.6.1 as RFC 7807
 * "problem details" objects.
 *
 * Reading is a push parser: jmap_reader_feed() takes the body in whatever
 * pieces arrive and refuses as soon as a limit is crossed (maxSizeRequest;
 * nesting deeper than max_depth, a parser limit RFC 8259 9 allows), so an
 * oversized or hostile body is never buffered or parsed whole.
 * jmap_reader_finish() then parses the body as I-JSON (RFC 7493: UTF-8, no
 * duplicate member names, no NUL in strings) and checks the type signature
 * of a Request. Properties other than using, methodCalls and createdIds
 * are ignored (RFC 8887 adds "@type" and "id" to the same object).
 *
 * Errors (all status 400, problem details as in RFC 8620 3.6.1):
 *   notJSON           not I-JSON, or too deeply nested
 *   notRequest        JSON, but not a Request (types, call shapes, Ids)
 *   limit             "limit": maxSizeRequest or maxCallsInRequest
 *   unknownCapability a capability in "using" the server does not have
 * The same settings struct feeds the core capability of the Session
 * resource (jmap_session.h). */
#ifndef EVM_JMAP_REQUEST_H
#define EVM_JMAP_REQUEST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define JMAP_CAP_CORE "urn:ietf:params:jmap:core"

#define JMAP_PROBLEM_UNKNOWN_CAPABILITY "urn:ietf:params:jmap:error:unknownCapability"
#define JMAP_PROBLEM_NOT_JSON "urn:ietf:params:jmap:error:notJSON"
#define JMAP_PROBLEM_NOT_REQUEST "urn:ietf:params:jmap:error:notRequest"
#define JMAP_PROBLEM_LIMIT "urn:ietf:params:jmap:error:limit"

/* The limits of the core capability (RFC 8620 2), plus max_depth. */
struct jmap_settings {
	uint64_t max_size_upload;          /* maxSizeUpload, octets */
	uint32_t max_concurrent_upload;    /* maxConcurrentUpload */
	uint64_t max_size_request;         /* maxSizeRequest, octets of the body */
	uint32_t max_concurrent_requests;  /* maxConcurrentRequests, per user */
	uint32_t max_calls_in_request;     /* maxCallsInRequest */
	uint32_t max_objects_in_get;       /* maxObjectsInGet */
	uint32_t max_objects_in_set;       /* maxObjectsInSet */
	uint32_t max_depth;                /* JSON nesting of a request (not advertised) */
	const char *const *collation_algorithms; /* NULL-terminated; NULL = none */
};

/* A Request that passed every check. root is owned; the rest are borrowed
 * from it. */
struct jmap_request {
	json_t *root;
	json_t *using;           /* array of capability URI strings */
	json_t *method_calls;    /* array of [String name, Object args, String callId] */
	json_t *created_ids;     /* object creation id -> Id, or NULL when absent */
};

struct jmap_reader;

/* Fills s with the defaults (the values evmail advertises unless
 * configured otherwise). */
void jmap_settings_default(struct jmap_settings *s);

/* A reader for one body; s is borrowed and must outlive the reader. */
struct jmap_reader *jmap_reader_new(const struct jmap_settings *s);
void jmap_reader_free(struct jmap_reader **r);
/* Takes the next len octets of the body: 0, or -1 with *problem_r (a new
 * reference) when a limit is crossed; after -1 every call returns -1. */
int jmap_reader_feed(struct jmap_reader *r, const void *data, size_t len, json_t **problem_r);
/* The body is complete: 0 with *req_r (free with jmap_request_free), or -1
 * with *problem_r (new reference). known_caps is an object whose keys are
 * the capability URIs the server supports. The reader is spent after. */
int jmap_reader_finish(struct jmap_reader *r, const json_t *known_caps, struct jmap_request **req_r,
		       json_t **problem_r);

/* The reader in one go, for a body already in memory. */
int jmap_request_parse(const struct jmap_settings *s, const json_t *known_caps, const void *body,
		       size_t len, struct jmap_request **req_r, json_t **problem_r);
void jmap_request_free(struct jmap_request **req);

/* 1 when a Content-Type header value is application/json (any parameters,
 * case-insensitive), else 0: anything else is notJSON (RFC 8620 3.6.1). */
int jmap_content_type_is_json(const char *content_type);

/* A problem details object (RFC 7807) of status 400: type, status, detail,
 * and "limit" when limit is not NULL. New reference. */
json_t *jmap_problem(const char *type, const char *limit, const char *detail);

/* 1 when s is an Id (RFC 8620 1.2): 1-255 octets of A-Z a-z 0-9 - _. */
int jmap_is_id(const char *s);

#endif
