/* json_fast_private - shared only by json_fast.c (the parser) and
 * json_fast_lex.c (strings and numbers). */
#ifndef EVM_JSON_FAST_PRIVATE_H
#define EVM_JSON_FAST_PRIVATE_H

#include <jansson.h>
#include <stddef.h>

/* The decoder's state for one evm_json_loadb call. */
struct jf {
	const unsigned char *p, *start, *end;
	json_error_t *error;
	/* Decoded strings with escapes: the pending key at [0, key_len), then
	   the value string after it. */
	char *scratch;
	size_t scratch_len, scratch_cap;
	char scratch_inline[256];
};

/* The scratch offset a string without escapes reports (it points into the
   input instead). */
#define JF_IN_INPUT ((size_t)-1)

/* Records the error: text, code and byte position in j->error (if set). */
void jf_fail(struct jf *j, enum json_error_code code, const char *msg);

/* Scans the string whose opening quote is at j->p. The result points into
   the input when it had no escape (*scratch_off_r = JF_IN_INPUT), else it
   is at j->scratch + *scratch_off_r (the scratch may move until the caller
   uses it). -1 on error. */
int jf_scan_string(struct jf *j, const char **s_r, size_t *len_r, size_t *scratch_off_r);

/* Scans the number at j->p and makes its json_integer or json_real, as
   Jansson does; NULL on error. */
json_t *jf_scan_number(struct jf *j);

#endif
