/* pop3_render - a stored message as a POP3 multi-line response body
 * (RFC 1939 3): CRLF line ends, lines starting with "." dot-stuffed, and
 * the terminating ".CRLF". Pure functions over memory, no I/O. */
#ifndef EVM_POP3_RENDER_H
#define EVM_POP3_RENDER_H

#include <event2/buffer.h>
#include <stddef.h>

/* Appends data to out for RETR (body_lines < 0: the whole message) or
 * TOP (RFC 1939 7: the header, the blank line after it and at most
 * body_lines lines of the body), then ".\r\n". A bare LF becomes CRLF; a
 * missing final line end is added. */
void pop3_render_message(struct evbuffer *out, const char *data, size_t len, long body_lines);

#endif
