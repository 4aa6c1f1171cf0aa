/* buf - a length-carrying, growable byte buffer.
 *
 * data is always NUL-terminated (not counted in len) so a buffer holding
 * text can be passed as a C string. Growth checks for size_t overflow and
 * aborts on allocation failure: a server out of memory cannot answer anyone
 * correctly, so it stops loudly instead of limping on. */
#ifndef EVM_BUF_H
#define EVM_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *data, size_t len);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_truncate(struct buf *b, size_t len);
/* Hand the storage to the caller (free() it); the buffer becomes empty. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

/* Allocation wrappers that abort on failure. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
