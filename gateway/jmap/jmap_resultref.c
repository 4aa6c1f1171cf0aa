/* jmap_resultref - see jmap_resultref.h */
#include "gateway/jmap/jmap_resultref.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char resultref_msg[200];

/* The next reference token of p (just after a '/'), unescaped (RFC 6901 4)
 * into a new string; *end_r points after it. NULL on a bad "~" escape. */
static char *next_token(const char *p, const char **end_r)
{
	size_t n = strcspn(p, "/"), o = 0;
	char *tok = xmalloc(n + 1);

	for (size_t i = 0; i < n; i++) {
		if (p[i] != '~') {
			tok[o++] = p[i];
		} else if (i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
			tok[o++] = p[i + 1] == '0' ? '~' : '/';
			i++;
		} else {
			free(tok);
			return NULL;
		}
	}
	tok[o] = '\0';
	*end_r = p + n;
	return tok;
}

/* An array index (RFC 6901 4): "0" or digits not starting with "0". */
static int parse_index(const char *tok, size_t *idx_r)
{
	size_t v = 0;

	if (tok[0] == '\0' || (tok[0] == '0' && tok[1] != '\0'))
		return -1;
	for (const char *c = tok; *c != '\0'; c++) {
		if (*c < '0' || *c > '9' || v > (SIZE_MAX - 9) / 10)
			return -1;
		v = v * 10 + (size_t)(*c - '0');
	}
	*idx_r = v;
	return 0;
}

/* Applies path (empty or starting with '/') to v; NULL when it does not
 * resolve. Recurses only at a "*", once per array level of v. */
static json_t *eval(json_t *v, const char *path, const char **error_r)
{
	while (*path != '\0') {
		const char *end;
		char *tok;
		size_t idx;

		if (*path != '/') {
			*error_r = "a path must be empty or start with \"/\"";
			return NULL;
		}
		tok = next_token(path + 1, &end);
		if (tok == NULL) {
			*error_r = "a \"~\" in the path is not \"~0\" or \"~1\"";
			return NULL;
		}
		if (json_is_array(v) && strcmp(tok, "*") == 0) {
			/* RFC 8620 3.7: map the rest of the path over every item,
			 * flattening results that are arrays. */
			json_t *out = json_array(), *item, *r;
			size_t i;

			free(tok);
			json_array_foreach(v, i, item) {
				r = eval(item, end, error_r);
				if (r == NULL) {
					json_decref(out);
					return NULL;
				}
				if (json_is_array(r))
					json_array_extend(out, r);
				else
					json_array_append(out, r);
				json_decref(r);
			}
			return out;
		}
		if (json_is_object(v)) {
			v = json_object_get(v, tok);
			*error_r = "the path names a property the result does not have";
		} else if (json_is_array(v)) {
			v = parse_index(tok, &idx) == 0 ? json_array_get(v, idx) : NULL;
			*error_r = "the path names an array item the result does not have";
		} else {
			v = NULL;
			*error_r = "the path goes below a value that is neither object nor array";
		}
		free(tok);
		if (v == NULL)
			return NULL;
		path = end;
	}
	return json_incref(v);
}

int jmap_pointer_eval(json_t *doc, const char *path, json_t **value_r, const char **error_r)
{
	json_t *v = eval(doc, path, error_r);

	if (v == NULL)
		return -1;
	*value_r = v;
	return 0;
}

/* The value a ResultReference refers to (RFC 8620 3.7 steps 1-3), a deep
 * copy so the handler may not change an earlier response through it;
 * key is the argument's name with its '#'. */
static int resolve_one(const json_t *responses, const char *key, json_t *ref, json_t **value_r,
		       const char **type_r, const char **error_r)
{
	const char *of, *name, *path, *why = NULL;
	json_t *resp = NULL, *r, *v;
	size_t i;

	if (json_unpack(ref, "{s:s, s:s, s:s}", "resultOf", &of, "name", &name, "path", &path) != 0) {
		snprintf(resultref_msg, sizeof resultref_msg,
			 "\"%.80s\" is not a ResultReference {resultOf, name, path}", key);
		*type_r = "invalidArguments";
		*error_r = resultref_msg;
		return -1;
	}
	/* 1. The first response whose method call id is resultOf. */
	json_array_foreach(responses, i, r) {
		if (strcmp(json_string_value(json_array_get(r, 2)), of) == 0) {
			resp = r;
			break;
		}
	}
	if (resp == NULL)
		why = "no earlier response has that call id";
	/* 2. Its name must be the one the reference names. */
	else if (strcmp(json_string_value(json_array_get(resp, 0)), name) != 0)
		why = "the response with that call id has another name";
	/* 3. The path applied to its arguments. */
	else if (jmap_pointer_eval(json_array_get(resp, 1), path, &v, &why) == 0) {
		*value_r = json_deep_copy(v);
		json_decref(v);
		return 0;
	}
	snprintf(resultref_msg, sizeof resultref_msg, "\"%.80s\": %s", key, why);
	*type_r = "invalidResultReference";
	*error_r = resultref_msg;
	return -1;
}

int jmap_resultref_resolve(const json_t *responses, const json_t *args, json_t **args_r,
			   const char **type_r, const char **error_r)
{
	json_t *out = json_object(), *v, *value;
	const char *key;

	/* Plain arguments first, so "foo" beside "#foo" is seen whatever the order. */
	json_object_foreach((json_t *)args, key, v) {
		if (key[0] != '#')
			json_object_set(out, key, v);
	}
	json_object_foreach((json_t *)args, key, v) {
		if (key[0] != '#')
			continue;
		if (json_object_get(out, key + 1) != NULL) {
			snprintf(resultref_msg, sizeof resultref_msg,
				 "\"%.80s\" is given both directly and as a result reference", key + 1);
			*type_r = "invalidArguments";
			*error_r = resultref_msg;
			json_decref(out);
			return -1;
		}
		if (resolve_one(responses, key, v, &value, type_r, error_r) < 0) {
			json_decref(out);
			return -1;
		}
		json_object_set_new(out, key + 1, value);
	}
	*args_r = out;
	return 0;
}
