/* jmap_resultref - result references (RFC 8620 3.7): an argument "#foo"
 * whose value is a ResultReference {resultOf, name, path} takes its value
 * from the response of an earlier call in the same request, through a JSON
 * Pointer (RFC 6901) that may also hold "*" to map over an array, arrays of
 * arrays being flattened.
 *
 * Errors are method-level: a reference that does not resolve is
 * invalidResultReference; "foo" and "#foo" both present, or a "#foo" that
 * is not a ResultReference object, is invalidArguments. Descriptions point
 * to static or thread-local storage, valid until the next call. */
#ifndef EVM_JMAP_RESULTREF_H
#define EVM_JMAP_RESULTREF_H

#include <jansson.h>

/* Resolves every "#name" member of args against responses (the
 * methodResponses array so far: [name, arguments, callId] triples). 0 with
 * *args_r (new reference: a copy of args with each "#name" replaced by
 * "name" and a deep copy of the value it refers to), or -1 with *type_r (the
 * error type) and *error_r (a description). */
int jmap_resultref_resolve(const json_t *responses, const json_t *args, json_t **args_r,
			   const char **type_r, const char **error_r);

/* Applies a JSON Pointer with the "*" extension to doc: 0 with *value_r
 * (new reference), or -1 with *error_r. "" is doc itself; "~0" and "~1"
 * escape "~" and "/"; an array index is "0" or digits without a leading 0. */
int jmap_pointer_eval(json_t *doc, const char *path, json_t **value_r, const char **error_r);

#endif
