/* record_json - the stored bytes of a JSON view record, written straight
 * into a buffer.
 *
 * Every JSON record of the view (directory, mail, queue, outcomes) is
 * stored as json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) gives it, and
 * view digests compare those bytes between nodes and builds. Jansson's
 * dumper pays, per object, a loop-detection table keyed by the object's
 * address printed with snprintf, a heap array of keys and a hash lookup
 * per key, and a callback per fragment; this writer gives the same bytes
 * without those (test_record_json compares the two on every kind of
 * value). */
#ifndef EVM_RECORD_JSON_H
#define EVM_RECORD_JSON_H

#include <jansson.h>
#include <stddef.h>

struct buf;

/* Appends v as json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS |
 * JSON_ENCODE_ANY) writes it. Strings are valid UTF-8 (they come from a
 * json_t); a record nested deeper than RECORD_JSON_DEPTH goes through
 * Jansson itself. */
#define RECORD_JSON_DEPTH 32
void record_json_append(struct buf *out, json_t *v);
/* The same with JSON_ENSURE_ASCII added: the bytes of a logged event
 * (ingest/event.h), where Jansson's own dumper walks every code point of
 * a chunk's 5 KB of base64 once per event. */
void record_json_append_ascii(struct buf *out, json_t *v);

/* A JSON string's bytes as Jansson writes them (no JSON_ENSURE_ASCII, no
 * JSON_ESCAPE_SLASH): quotes, '"', '\\' and controls escaped. */
void record_json_string(struct buf *out, const char *s, size_t len);
/* An integer as Jansson writes it ("%lld"). */
void record_json_int(struct buf *out, json_int_t n);

#endif
