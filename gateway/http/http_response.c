/* http_response - see http_response.h */
#include "gateway/http/http_response.h"
#include "gateway/http/http_parser.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const struct {
	int status;
	const char *reason;
} reasons[] = {
	{ 100, "Continue" }, { 101, "Switching Protocols" },
	{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
	{ 206, "Partial Content" }, { 207, "Multi-Status" },
	{ 301, "Moved Permanently" }, { 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
	{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" }, { 408, "Request Timeout" },
	{ 409, "Conflict" }, { 410, "Gone" }, { 411, "Length Required" }, { 412, "Precondition Failed" },
	{ 413, "Content Too Large" }, { 414, "URI Too Long" }, { 415, "Unsupported Media Type" },
	{ 416, "Range Not Satisfiable" }, { 417, "Expectation Failed" }, { 422, "Unprocessable Content" },
	{ 423, "Locked" }, { 426, "Upgrade Required" }, { 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" }, { 502, "Bad Gateway" },
	{ 503, "Service Unavailable" }, { 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
	{ 507, "Insufficient Storage" },
};

/* Fields the writer sets itself from the framing. */
static const char *const owned[] = { "content-length", "transfer-encoding", "connection", "date" };

const char *http_status_reason(int status)
{
	for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
		if (reasons[i].status == status)
			return reasons[i].reason;
	return "Unknown";
}

int http_status_bodyless(int status)
{
	return (status >= 100 && status < 200) || status == 204 || status == 304;
}

void http_response_init(struct http_response *r, int status)
{
	r->status = status;
	r->fields = (struct buf)BUF_INIT;
}

void http_response_clear(struct http_response *r)
{
	buf_free(&r->fields);
}

int http_response_field(struct http_response *r, const char *name, const char *value, const char **error_r)
{
	if (!http_is_token(name, strlen(name))) {
		*error_r = "field name is not a token";
		return -1;
	}
	for (const unsigned char *v = (const unsigned char *)value; *v != '\0'; v++)
		if ((*v < 0x20 && *v != '\t') || *v == 0x7f) {
			*error_r = "control character in field value";
			return -1;
		}
	for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
		if (strcasecmp(name, owned[i]) == 0) {
			*error_r = "field is set by the server";
			return -1;
		}
	buf_printf(&r->fields, "%s: %s\r\n", name, value);
	return 0;
}

void http_date(int64_t t, char *out, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		memset(&tm, 0, sizeof tm);
	/* Names by table: strftime's would follow the locale. */
	snprintf(out, size, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void http_response_write_head(struct evbuffer *out, const struct http_response *r,
			      const struct http_framing *f, int64_t length, int *chunked_r,
			      int *close_r)
{
	char date[64];
	int bodyless = http_status_bodyless(r->status);

	*chunked_r = 0;
	*close_r = f->close;
	http_date((int64_t)time(NULL), date, sizeof date);
	evbuffer_add_printf(out, "HTTP/1.1 %03d %s\r\nDate: %s\r\n", r->status, http_status_reason(r->status), date);
	if (r->fields.len > 0)
		evbuffer_add(out, r->fields.data, r->fields.len);
	if (bodyless) {
		/* RFC 9110 8.6: no Content-Length in 1xx and 204 */
	} else if (length >= 0) {
		evbuffer_add_printf(out, "Content-Length: %" PRId64 "\r\n", length);
	} else if (f->head) {
		/* RFC 9110 9.3.2: the length is unknown and no body follows */
	} else if (f->minor >= 1) {
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
		*chunked_r = 1;
	} else {
		*close_r = 1;              /* RFC 9112 6.3 item 8: the close ends the body */
	}
	if (r->status == 101) {
		evbuffer_add_printf(out, "Connection: Upgrade\r\n");   /* RFC 9110 7.8 */
	} else if (r->status >= 200) {
		if (*close_r)
			evbuffer_add_printf(out, "Connection: close\r\n");
		else if (f->minor == 0)
			evbuffer_add_printf(out, "Connection: keep-alive\r\n");
	}
	evbuffer_add(out, "\r\n", 2);
}

void http_write_chunk(struct evbuffer *out, const void *data, size_t len)
{
	if (len == 0)
		return;
	evbuffer_add_printf(out, "%zx\r\n", len);
	evbuffer_add(out, data, len);
	evbuffer_add(out, "\r\n", 2);
}

void http_write_last_chunk(struct evbuffer *out)
{
	evbuffer_add(out, "0\r\n\r\n", 5);
}

void http_write_continue(struct evbuffer *out)
{
	evbuffer_add_printf(out, "HTTP/1.1 100 Continue\r\n\r\n");
}
