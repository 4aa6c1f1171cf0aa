/* json_fast - a JSON decoder that builds the same Jansson trees as
 * json_loadb, lexed in bulk.
 *
 * evm_json_loadb(buf, len, flags, error) returns NULL exactly when Jansson
 * 2.14's json_loadb(buf, len, flags, error) returns NULL, and otherwise a
 * tree that is identical to Jansson's: the same types (an integer stays a
 * json_integer, anything with '.', 'e' or 'E' is a json_real), the same
 * values (integers through the json_int_t range, reals through strtod,
 * overflow rejected, underflow accepted), the same object key order (keys in
 * insertion order; a repeated key without JSON_REJECT_DUPLICATES replaces
 * the earlier value in place) and the same string bytes. The trees are made
 * with Jansson's own constructors, so every json_t function works on them.
 *
 * Why: Jansson's lexer reads one code point at a time through a callback
 * stream into a growing buffer. Here a string without escapes is scanned
 * eight bytes at a time (UTF-8 is checked only where a byte >= 0x80
 * appears) and handed to json_stringn_nocheck straight from the input; no
 * allocation is made besides the json_t nodes (and a scratch buffer for
 * strings with escapes or very long numbers).
 *
 * The rules mirrored from Jansson 2.14 (src/load.c, src/utf.c,
 * src/strconv.c), RFC 8259 except where Jansson differs:
 *   - the top level is an object or an array (JSON_DECODE_ANY is not
 *     supported), followed only by space, \t, \n or \r up to the end;
 *   - strings: raw bytes below 0x20 are rejected; escapes \" \\ \/ \b \f \n
 *     \r \t and \u with four hex digits; a high surrogate escape must be
 *     followed at once by a low one (RFC 8259 section 7), any other
 *     surrogate escape is rejected;
 *     \u0000 is rejected (in keys and values; JSON_ALLOW_NUL is not
 *     supported); UTF-8 is strict (RFC 3629 section 4: no overlongs, no
 *     encoded surrogates, nothing above U+10FFFF);
 *   - numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; without a
 *     fraction or exponent it is a json_int_t (out of range: rejected),
 *     otherwise a double from strtod (±HUGE_VAL with ERANGE: rejected);
 *   - a value nested deeper than JSON_PARSER_MAX_DEPTH (2048) levels is
 *     rejected; Jansson counts every value, scalars included: the root is
 *     level 1, so a scalar inside 2048 nested arrays is one too many;
 *   - Jansson's one quirk kept: a single NUL byte right after a number or
 *     true/false/null is skipped (its stream loses a NUL it pushes back), so
 *     "[1\0]" is [1]; a NUL anywhere else is an error.
 *
 * flags: only 0 and JSON_REJECT_DUPLICATES; anything else returns NULL with
 * an "unsupported flags" error. error may be NULL; when set, its text says
 * what was wrong (not Jansson's wording), position is the byte offset,
 * line and column are -1.
 *
 * No recursion: nesting uses an explicit stack (64 levels inline, the rest
 * on the heap), so any thread stack is enough. Thread-safe; no globals
 * besides a C locale made once for strtod_l.
 */
#ifndef EVM_JSON_FAST_H
#define EVM_JSON_FAST_H

#include <jansson.h>
#include <stddef.h>

json_t *evm_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error);

#endif
