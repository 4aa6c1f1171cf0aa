/* fts_casemap - RFC 5051 i;unicode-casemap (fts_casemap.c) */
#ifndef EVM_FTS_CASEMAP_H
#define EVM_FTS_CASEMAP_H

#include <stddef.h>

/* The casemapped form (titlecase, then NFKD) of UTF-8 text, malloc'ed;
 * invalid octets are kept as they are. Compare results octet by octet. */
char *fts_casemap(const char *s, size_t len);
struct buf;
/* The same appended to out, its length exact (NUL octets kept). */
void fts_casemap_append(const char *s, size_t len, struct buf *out);
/* 1 when the casemapped needle occurs in the casemapped text h[hl]. */
int fts_casemap_find(const char *h, size_t hl, const char *needle_mapped);

#endif
