/* pop3_render - see pop3_render.h */
#include "gateway/pop3/pop3_render.h"

#include <string.h>

void pop3_render_message(struct evbuffer *out, const char *data, size_t len, long body_lines)
{
	size_t off = 0;
	int in_body = 0;
	long body_seen = 0;

	while (off < len) {
		const char *lf = memchr(data + off, '\n', len - off);
		size_t end = lf != NULL ? (size_t)(lf - data) : len, text = end - off;

		if (in_body && body_lines >= 0 && body_seen++ >= body_lines)
			break;
		if (text > 0 && data[end - 1] == '\r')
			text--;
		/* RFC 1939 3: a line starting with the termination octet gets
		 * another one in front. */
		if (text > 0 && data[off] == '.')
			evbuffer_add(out, ".", 1);
		evbuffer_add(out, data + off, text);
		evbuffer_add(out, "\r\n", 2);
		if (!in_body && text == 0)
			in_body = 1;     /* the empty line ends the header */
		off = lf != NULL ? end + 1 : len;
	}
	evbuffer_add(out, ".\r\n", 3);
}
